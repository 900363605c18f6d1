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
     * Writes the model this source serves, as currently fitted, into {@code dir} so that the host
     * can log it and register it as a model version (MLflow Model Registry). The model file must be
     * in a non-executable format the host accepts ({@code .onnx}, XGBoost {@code .json}/{@code
     * .ubj}, LightGBM {@code .txt}, CatBoost {@code .cbm}); the sidecar JSON describes it: {@code
     * model_file}, {@code model_sha256}, {@code schema} ({@code name}, {@code version}, {@code
     * hash}), {@code features}, {@code horizon_bars} and {@code training} ({@code series}, {@code
     * first_bar}, {@code last_bar}, {@code rows}). A source configured with such a sidecar (plugin
     * key {@code <name>.model}) serves that model and is not refitted.
     *
     * <p>The default exports nothing: fixed rules and sources without a model of their own.
     *
     * @param dir an existing folder the files are written into (flat, no sub-folders)
     * @return the files written: the model file first, then its sidecar JSON
     * @throws UnsupportedOperationException if this source has no exportable model (the default)
     * @throws IllegalStateException if it has not been fitted yet, or is closed
     * @throws java.io.UncheckedIOException if a file cannot be written
     * @since 1.2.0
     */
    default List<java.nio.file.Path> exportModel(java.nio.file.Path dir) {
        throw new UnsupportedOperationException(
                "prediction '" + descriptor().name() + "' has no model to export");
    }

    /**
     * Releases native resources. Idempotent; calls to {@link #forecast} after it fail with {@link
     * IllegalStateException}.
     */
    @Override
    default void close() {}
}
