package dev.quiver.engine.fusion;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.SourceContribution;
import dev.quiver.api.error.CapabilityException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import java.util.List;

/**
 * One source's forecast passed through unchanged: no fitting, no calibration. For the benchmark,
 * where Quiver must trade exactly the rule a reference library trades.
 */
public final class PassThroughEnsemble implements EnsembleCapability {

    private static final CapabilityDescriptor DESCRIPTOR = CapabilityDescriptor.of("raw", "1.0.0");

    @Override
    public CapabilityDescriptor descriptor() {
        return DESCRIPTOR;
    }

    /**
     * @throws CapabilityException unless exactly one forecast is given
     */
    @Override
    public FusedSignal fuse(List<Forecast> forecasts, FeatureFrame frame) {
        if (forecasts.size() != 1) {
            throw new CapabilityException(
                    "raw", "passes exactly one source through, got " + forecasts.size(), null);
        }
        Forecast f = forecasts.get(0);
        double p = f.probabilityUp();
        return new FusedSignal(
                f.barTime(),
                p,
                Math.abs(2 * p - 1),
                1.0,
                List.of(new SourceContribution(f.source(), p, 1.0)));
    }
}
