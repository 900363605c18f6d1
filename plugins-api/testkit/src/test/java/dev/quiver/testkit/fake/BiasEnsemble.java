package dev.quiver.testkit.fake;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.LabeledForecasts;
import dev.quiver.api.ensemble.SourceContribution;
import dev.quiver.api.error.CapabilityException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A fitted ensemble for the kit's own tests: the mean of the sources' probabilities plus a bias,
 * the training window's up rate minus 0.5. Exports and restores its bias and row count; a {@link
 * Flaw} makes it get that wrong on purpose.
 */
public class BiasEnsemble implements EnsembleCapability {

    /** What it gets wrong. */
    public enum Flaw {
        /** Nothing. */
        NONE,
        /** Restore reads the file and keeps its own state. */
        FORGETS_ON_RESTORE,
        /**
         * Restore resets to the unfitted state before reading, so a bad file leaves it unfitted.
         */
        RESETS_BEFORE_READING
    }

    static final String NAME = "bias";
    private final Flaw flaw;
    private double bias;
    private int rows;
    private boolean closed;

    /** Without a flaw (the packaged plugin's extension). */
    public BiasEnsemble() {
        this(Flaw.NONE);
    }

    /**
     * @param flaw what to get wrong
     */
    public BiasEnsemble(Flaw flaw) {
        this.flaw = flaw;
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return CapabilityDescriptor.of(NAME, "1.0.0");
    }

    @Override
    public void fit(List<LabeledForecasts> trainingWindow) {
        int up = 0;
        for (LabeledForecasts r : trainingWindow) {
            up += r.up() ? 1 : 0;
        }
        rows = trainingWindow.size();
        bias = rows == 0 ? 0 : (double) up / rows - 0.5;
    }

    @Override
    public FusedSignal fuse(List<Forecast> forecasts, FeatureFrame frame) {
        if (forecasts.isEmpty()) {
            throw new CapabilityException(
                    NAME, "nothing to fuse at bar " + frame.bar().start(), null);
        }
        double p = 0;
        var contributions = new ArrayList<SourceContribution>();
        for (Forecast f : forecasts) {
            p += f.probabilityUp() / forecasts.size();
            contributions.add(
                    new SourceContribution(f.source(), f.probabilityUp(), 1.0 / forecasts.size()));
        }
        p = Math.min(1, Math.max(0, p + bias));
        return new FusedSignal(frame.bar().start(), p, Math.abs(2 * p - 1), 1, contributions);
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
                        "{\"format\": \"bias-state/1\", \"capability\": \"bias\", \"version\":"
                                + " \"1.0.0\", \"bias\": "
                                + bias
                                + ", \"rows\": "
                                + rows
                                + "}"));
    }

    @Override
    public void restoreState(Path dir) {
        checkOpen();
        if (flaw == Flaw.RESETS_BEFORE_READING) {
            bias = 0;
            rows = 0;
        }
        Path file = dir.resolve(NAME + ".state.json");
        String json = StateText.read(dir, NAME);
        double b = StateText.number(json, "bias", file);
        int n = (int) StateText.number(json, "rows", file);
        if (flaw != Flaw.FORGETS_ON_RESTORE) {
            bias = b;
            rows = n;
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("ensemble '" + NAME + "' is closed");
        }
    }

    @Override
    public void close() {
        closed = true;
    }
}
