package dev.quiver.api.prediction;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.Stable;
import dev.quiver.api.error.CapabilityException;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.LabeledFrame;
import java.util.List;
import org.pf4j.ExtensionPoint;

/**
 * A source of direction forecasts: given the features of the decision bar, the probability of an up
 * move over the next {@code horizon} bars.
 *
 * <p>Contract: point-in-time (the forecast for bar t depends only on bars up to t, so it is the
 * same whether the series ends at t or goes on); deterministic for the same input and model; called
 * from one thread at a time per instance unless the implementation documents otherwise.
 *
 * <p>Implemented by plugins: adding an abstract method is a major change.
 *
 * @since 1.0.0
 */
@Stable(since = "1.0.0")
public interface PredictionCapability extends ExtensionPoint, AutoCloseable {

    /**
     * What this source is: its name (used in reports), version and attributes.
     *
     * @return the descriptor, the same on every call
     */
    CapabilityDescriptor descriptor();

    /**
     * Forecasts the decision bar of {@code frame}.
     *
     * @param frame features of the decision bar and its history
     * @return a forecast whose {@code barTime} is {@code frame.bar().start()}
     * @throws QuiverInputException if the frame lacks a feature this source needs (naming it)
     * @throws CapabilityException if the source cannot forecast for another reason
     */
    Forecast forecast(FeatureFrame frame);

    /**
     * Fits the source (a model's weights, a calibration) on a past training window. Walk-forward
     * calls it before each test fold with rows whose labels were known before the fold's first bar
     * minus the embargo; forecasts of the fold's bars then come from this fit only. The default
     * keeps the source as it is (rule-based and pre-trained sources).
     *
     * @param trainingWindow labelled frames in time order, possibly empty
     * @throws CapabilityException if fitting fails; the host then leaves the source out of the fold
     * @since 1.1.0
     */
    default void fit(List<LabeledFrame> trainingWindow) {}

    /**
     * Releases native resources. Idempotent; calls to {@link #forecast} after it fail with {@link
     * IllegalStateException}.
     */
    @Override
    default void close() {}
}
