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
     * How many frames this source scores in one library call of {@link #forecastBatch}. Above 1, a
     * caller that has many frames to forecast at once (the walk-forward's test bars of a fold) asks
     * {@link #forecastBatch} instead of {@link #forecast} frame by frame. The default, 1, says this
     * source has no batch path: callers then ask frame by frame, exactly as before this method.
     *
     * @return {@code >= 1}, the same on every call
     * @since 1.4.0
     */
    default int forecastBatchSize() {
        return 1;
    }

    /**
     * Forecasts the decision bar of each of {@code frames}: one forecast per frame, in the frames'
     * order, each the forecast {@link #forecast} gives for that frame (up to the rounding of the
     * library's batched arithmetic: probabilities within 1e-6). Any number of frames is accepted;
     * an implementation splits them into library calls of at most {@link #forecastBatchSize}
     * frames.
     *
     * <p>A source that overrides this (and declares {@link #forecastBatchSize} above 1) keeps no
     * state between forecasts and checks every frame before it scores any: if it would refuse one,
     * it throws what {@link #forecast} throws for the first such frame, having forecast none, and
     * the caller may then ask frame by frame (to learn which frames fail). The default calls {@link
     * #forecast} on each frame in order and throws what the first failing call throws.
     *
     * @param frames features of the decision bars and their histories, typically consecutive bars
     *     of one series in time order
     * @return the forecasts, {@code frames.size()} of them, none null
     * @throws QuiverInputException as {@link #forecast} for the first frame it refuses
     * @throws CapabilityException if the source cannot forecast for another reason
     * @throws IllegalStateException after {@link #close()}
     * @since 1.4.0
     */
    default List<Forecast> forecastBatch(List<FeatureFrame> frames) {
        java.util.ArrayList<Forecast> out = new java.util.ArrayList<>(frames.size());
        for (FeatureFrame frame : frames) {
            out.add(forecast(frame));
        }
        return out;
    }

    /**
     * Releases native resources. Idempotent; calls to {@link #forecast} after it fail with {@link
     * IllegalStateException}.
     */
    @Override
    default void close() {}
}
