package dev.quiver.plugins.lstm3;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.PluginContext;
import dev.quiver.api.error.CapabilityException;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.api.prediction.DirectionForecast;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.prediction.SidewaysBand;
import dev.quiver.onnxmodels.ModelRefusedException;
import dev.quiver.onnxmodels.WindowSidecar;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.pf4j.Extension;

/**
 * The three-class LSTM source: a Keras LSTM classifying the next bar's move as DOWN, SIDEWAYS or
 * UP, served with ONNX Runtime. A move is SIDEWAYS when {@code |ln(close[t+1] / close[t])| < k *
 * atr_pct_14[t]} ({@link SidewaysBand}; {@code k} is declared in the sidecar, 0.25 for the bundled
 * model). Input {@code float[1][32][7]}: the z-scored scale-free features ({@code log_return_1,
 * rsi_14, macd_hist_pct, bb_percent_b_20_2, bb_width_20_2, atr_pct_14, volume_ratio_20}) of the 32
 * bars ending at the decision bar; output {@code [p_down, p_sideways, p_up]}, horizon 1 bar.
 * Trained by {@code mlflow/train/lstm3.py} on BTC-USD 4h 2016-05-28..2018-12-31 (the sidecar {@code
 * model/lstm3.json} says so, with the normalisation statistics fitted on that span).
 *
 * <p>What it answers: a {@link Forecast} whose {@code probabilityUp} is the probability of an up
 * close, what the ensemble fuses and sizing reads, {@code P(UP) + P(SIDEWAYS) * s} with {@code s}
 * the share of the training span's SIDEWAYS bars that closed up (sidecar {@code
 * p_up_close.sideways_up_share}); the three class probabilities and {@code k} ride in its details
 * ({@link DirectionForecast#toForecast}), so the host scores the classes (per-class accuracy,
 * confusion matrix) with the same band.
 *
 * <p>Point-in-time window: the input is {@link FeatureFrame#window(int)} of the decision bar, the
 * feature rows of the last 32 bars chained by the host, oldest first. The source keeps no state
 * between calls. A frame with fewer than 32 chained rows is refused with {@code SHORT_HISTORY}.
 *
 * <p>Refusals: a frame whose schema hash differs from the model's ({@code SCHEMA_MISMATCH}); a bar
 * of the training series inside the training span ({@code IN_TRAINING_SPAN}: the model is never
 * scored on bars it was fitted on); a model file that is truncated, altered or of the wrong shape
 * ({@link ModelRefusedException} at construction).
 *
 * <p>Thread-safe: calls are serialised; {@link #close()} waits for a call in flight. Idempotent.
 *
 * @since 1.0.0
 */
@Extension
public final class Lstm3Forecaster implements PredictionCapability {

    private static final String NAME = "lstm3";

    private final Lstm3Model model;
    private final CapabilityDescriptor descriptor;
    private final SidewaysBand band;
    private final double sidewaysUpShare;
    private FeatureSchema acceptedSchema;
    private int[] featureIndex;
    private boolean closed;

    /**
     * Creates the source with the bundled model, or with the model whose sidecar the plugin
     * configuration names: {@code prediction-lstm3.lstm3.model=/path/lstm3.json} (the {@code
     * <capability>.model} convention of {@code PredictionCapability.exportModel}).
     *
     * @param context the plugin's context
     * @throws ModelRefusedException if the model or its sidecar is refused
     */
    @Inject
    public Lstm3Forecaster(PluginContext context) {
        this(
                context.config("lstm3.model")
                        .map(p -> Lstm3Model.fromFiles(Path.of(p)))
                        .orElseGet(Lstm3Model::bundled));
    }

    Lstm3Forecaster(Lstm3Model model) {
        this.model = model;
        WindowSidecar s = model.sidecar();
        this.band = new SidewaysBand(model.sidewaysAtrMultiple());
        this.sidewaysUpShare = model.sidewaysUpShare();
        Map<String, String> attributes = s.descriptorAttributes();
        attributes.put("horizon", "1");
        attributes.put("calibrated", "false");
        attributes.put("classes", "down,sideways,up");
        attributes.put("sideways_band_atr_multiple", String.valueOf(band.atrMultiple()));
        this.descriptor = new CapabilityDescriptor(NAME, "1.0.0", attributes);
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return descriptor;
    }

    /**
     * Forecasts the decision bar of {@code frame}.
     *
     * @param frame features of the decision bar (schema {@code quiver-core} v1) and its history
     * @return {@code probabilityUp} = {@code P(UP) + P(SIDEWAYS) * s} in [0, 1], horizon 1, the
     *     class probabilities in the details ({@link DirectionForecast#of(Forecast)} reads them)
     * @throws QuiverInputException with code {@code SCHEMA_MISMATCH} if the frame's schema hash
     *     differs from the model's, or {@code SHORT_HISTORY} if fewer than {@code timesteps}
     *     chained feature rows end at the frame's bar
     * @throws CapabilityException if the model's output is not a probability
     * @throws QuiverInputException with code {@code IN_TRAINING_SPAN} if the bar lies inside the
     *     model's training span of its training series
     * @throws IllegalStateException after {@link #close()}
     */
    @Override
    public synchronized Forecast forecast(FeatureFrame frame) {
        if (closed) {
            throw new IllegalStateException(
                    "[Quiver/CAPABILITY_CLOSED] capability 'lstm3' was closed; create a new instance"
                            + " to forecast bar "
                            + frame.bar().start());
        }
        accept(frame.schema());
        model.refuseTrainingSpan(frame, NAME);
        model.fill(frame, featureIndex, model.input(), 0);
        Instant barTime = frame.bar().start();
        float[] p = model.predict();
        // Softmax output; float rounding may step past [0, 1] by a few ulps, anything more is a
        // broken model and is refused rather than clamped.
        double[] q = new double[3];
        for (int c = 0; c < 3; c++) {
            if (!(p[c] >= -1e-6f && p[c] <= 1 + 1e-6f)) {
                throw new CapabilityException(
                        NAME,
                        "model output "
                                + c
                                + " = "
                                + p[c]
                                + " at bar "
                                + barTime
                                + " is not a probability",
                        null);
            }
            q[c] = Math.max(0.0, Math.min(1.0, p[c]));
        }
        DirectionForecast classes = new DirectionForecast(q[0], q[1], q[2], band);
        double up = Math.min(1.0, q[2] + q[1] * sidewaysUpShare);
        return classes.toForecast(NAME, barTime, 1, up, Map.of());
    }

    private void accept(FeatureSchema schema) {
        if (schema == acceptedSchema) {
            return;
        }
        featureIndex = model.featureIndex(schema, "lstm3", "mlflow/train/lstm3.py");
        acceptedSchema = schema;
    }

    /** Closes the ONNX session once no call is in flight. Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            model.close();
        }
    }
}
