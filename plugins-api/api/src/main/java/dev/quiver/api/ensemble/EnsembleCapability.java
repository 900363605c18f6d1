package dev.quiver.api.ensemble;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.Stable;
import dev.quiver.api.error.CapabilityException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import java.util.List;
import org.pf4j.ExtensionPoint;

/**
 * Fuses the sources' forecasts for one bar into one calibrated signal.
 *
 * <p>Walk-forward: before each test fold the host calls {@link #fit} with labelled forecasts of
 * bars that end (outcome included) before the fold's first bar minus the embargo, never with the
 * bars being scored.
 *
 * <p>Implemented by plugins: adding an abstract method is a major change.
 *
 * @since 1.0.0
 */
@Stable(since = "1.0.0")
public interface EnsembleCapability extends ExtensionPoint, AutoCloseable {

    /**
     * What this ensemble is.
     *
     * @return the descriptor, the same on every call
     */
    CapabilityDescriptor descriptor();

    /**
     * Fits the fusion (weights, calibration) on past, labelled forecasts. The default keeps the
     * current fit.
     *
     * @param trainingWindow bars in time order, all strictly before the next bars to be fused
     */
    default void fit(List<LabeledForecasts> trainingWindow) {}

    /**
     * Fuses the available forecasts of the decision bar. Sources that failed for this bar are
     * absent from the list.
     *
     * @param forecasts the available sources' forecasts, at least one
     * @param frame features of the decision bar
     * @return the fused signal, with one contribution per forecast
     * @throws CapabilityException if the ensemble cannot fuse
     */
    FusedSignal fuse(List<Forecast> forecasts, FeatureFrame frame);

    /** Releases resources. Idempotent. */
    @Override
    default void close() {}
}
