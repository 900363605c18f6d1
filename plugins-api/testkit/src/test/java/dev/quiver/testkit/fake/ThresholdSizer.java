package dev.quiver.testkit.fake;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.api.sizing.SizingOutcome;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A fitted sizing policy for the kit's own tests: 10% of equity (capped) when p is above a
 * threshold, the mean fused p of the winning outcomes it was fitted on (at least 0.5); the
 * threshold and the number of outcomes are in every decision's inputs.
 */
public final class ThresholdSizer implements SizingCapability {

    static final String NAME = "threshold";
    private final boolean forgetful;
    private double threshold = 0.5;
    private int rows;
    private boolean closed;

    /** A correct one. */
    public ThresholdSizer() {
        this(false);
    }

    /**
     * @param forgetful whether restore keeps its own state
     */
    public ThresholdSizer(boolean forgetful) {
        this.forgetful = forgetful;
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return CapabilityDescriptor.of(NAME, "1.0.0");
    }

    @Override
    public void fit(List<SizingOutcome> history) {
        double sum = 0;
        int wins = 0;
        for (SizingOutcome o : history) {
            if (o.won()) {
                sum += o.context().signal().probabilityUp();
                wins++;
            }
        }
        threshold = Math.max(0.5, wins == 0 ? 0.5 : sum / wins);
        rows = history.size();
    }

    @Override
    public SizingDecision size(SizingContext context) {
        double p = context.signal().probabilityUp();
        double f = p > threshold ? Math.min(0.1, context.maxFraction()) : 0;
        return new SizingDecision(
                f,
                "p above the fitted threshold?",
                Map.of("threshold", threshold, "rows", (double) rows));
    }

    @Override
    public boolean hasFittedState() {
        return true;
    }

    @Override
    public List<Path> exportState(Path dir) {
        checkOpen();
        return List.of(
                StateText.write(
                        dir,
                        NAME,
                        "{\"format\": \"threshold-state/1\", \"capability\": \"threshold\","
                                + " \"version\": \"1.0.0\", \"threshold\": "
                                + threshold
                                + ", \"rows\": "
                                + rows
                                + "}"));
    }

    @Override
    public void restoreState(Path dir) {
        checkOpen();
        String json = StateText.read(dir, NAME);
        Path file = dir.resolve(NAME + ".state.json");
        double t = StateText.number(json, "threshold", file);
        int n = (int) StateText.number(json, "rows", file);
        if (!forgetful) {
            threshold = t;
            rows = n;
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("sizing '" + NAME + "' is closed");
        }
    }

    @Override
    public void close() {
        closed = true;
    }
}
