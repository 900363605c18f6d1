package dev.quiver.plugins.lstm;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.PluginContext;
import dev.quiver.api.error.CapabilityException;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.onnxmodels.ModelRefusedException;
import dev.quiver.onnxmodels.WindowSidecar;
import jakarta.inject.Inject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/**
 * The LSTM source: a Keras LSTM direction classifier served with ONNX Runtime. Input {@code
 * float[1][32][7]}: the z-scored scale-free features ({@code log_return_1, rsi_14, macd_hist_pct,
 * bb_percent_b_20_2, bb_width_20_2, atr_pct_14, volume_ratio_20}) of the 32 bars ending at the
 * decision bar; output {@code [p_down, p_up]}, horizon 1 bar. Trained by {@code
 * mlflow/train/lstm.py} on BTC-USD 4h 2016-05-28..2018-12-31 (the sidecar {@code model/lstm.json}
 * says so, with the normalisation statistics fitted on that span).
 *
 * <p>Point-in-time window: the input is {@link FeatureFrame#window(int)} of the decision bar, the
 * feature rows of the last 32 bars chained by the host, oldest first. The source keeps no state
 * between calls, so the forecast for bar t is the same whether the series ends at t or goes on,
 * called in sequence or alone. A frame with fewer than 32 chained rows (the start of a series) is
 * refused with {@code SHORT_HISTORY}: no coin-flip stand-in is ever reported as a forecast.
 *
 * <p>Refusals: a frame whose schema hash differs from the model's ({@code SCHEMA_MISMATCH}, naming
 * both); a bar of the training series inside the training span ({@link CapabilityException}: the
 * model is never scored on bars it was fitted on); a model file that is truncated, altered or of
 * the wrong shape ({@link ModelRefusedException} at construction, naming the file and what was
 * expected).
 *
 * <p>Thread-safe: calls are serialised (one reused input buffer); {@link #close()} waits for a call
 * in flight, then closes the session. Idempotent.
 *
 * @since 1.0.0
 */
@Extension
public final class LstmForecaster implements PredictionCapability {

    private static final String NAME = "lstm";

    /**
     * Windows per ONNX run in {@link #forecastBatch} unless {@code prediction-lstm.lstm.batch-size}
     * says otherwise: 256 windows are 229 KB of input, and a fold of the walk-forward (about 500
     * test bars on the bundled series) takes two runs.
     */
    static final int DEFAULT_BATCH_SIZE = 256;

    private final LstmModel model;
    private final CapabilityDescriptor descriptor;
    private final int timesteps;
    private final int features;
    private final int batchSize;
    private FloatBuffer batch; // float[batchSize][timesteps][features], made on first batch
    private FeatureSchema acceptedSchema;
    private int[] featureIndex;
    private boolean closed;

    /**
     * Creates the source with the bundled model, or with the model whose sidecar the plugin
     * configuration names: {@code prediction-lstm.lstm.model=/path/lstm.json} (the {@code
     * <capability>.model} convention of {@code PredictionCapability.exportModel}), or the older
     * {@code prediction-lstm.model}.
     *
     * @param context the plugin's context
     * @throws ModelRefusedException if the model or its sidecar is refused
     */
    @Inject
    public LstmForecaster(PluginContext context) {
        this(
                context.config("lstm.model")
                        .or(() -> context.config("model"))
                        .map(p -> LstmModel.fromFiles(Path.of(p)))
                        .orElseGet(LstmModel::bundled),
                batchSize(context.config("lstm.batch-size").orElse(null)));
    }

    LstmForecaster(LstmModel model) {
        this(model, DEFAULT_BATCH_SIZE);
    }

    /**
     * @param model the model
     * @param batchSize windows per ONNX run in {@link #forecastBatch}, {@code >= 1}
     */
    LstmForecaster(LstmModel model, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_CONFIG] prediction-lstm.lstm.batch-size must be >= 1, was "
                            + batchSize);
        }
        this.model = model;
        WindowSidecar s = model.sidecar();
        this.timesteps = s.timesteps();
        this.features = s.features().size();
        this.batchSize = model.batchable() ? batchSize : 1;
        Map<String, String> attributes = s.descriptorAttributes();
        attributes.put("horizon", "1");
        attributes.put("calibrated", "false");
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
     * @return {@code probabilityUp} in [0, 1], horizon 1, detail {@code p_down}
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
        check(frame);
        model.fill(frame, featureIndex, model.input(), 0);
        float[] p = model.predict();
        return forecastOf(frame.bar().start(), p[0], p[1]);
    }

    /**
     * The windows per ONNX run of {@link #forecastBatch}: {@code prediction-lstm.lstm.batch-size}
     * (default {@value #DEFAULT_BATCH_SIZE}), or 1 if the model was exported with a fixed batch of
     * 1.
     */
    @Override
    public int forecastBatchSize() {
        return batchSize;
    }

    /**
     * Forecasts the decision bars of {@code frames} with one ONNX run per {@link
     * #forecastBatchSize()} windows, input {@code float[batch][timesteps][features]}: each frame's
     * window normalised exactly as {@link #forecast} does it, so the forecasts are {@link
     * #forecast}'s up to ONNX Runtime's batched arithmetic ({@code LstmBatchTest} checks them to
     * 1e-6 on real bars). Every frame is checked, in order, before its chunk runs; nothing is kept
     * between calls, so a call that throws leaves no trace.
     *
     * @param frames features of the decision bars (schema {@code quiver-core} v1) and histories
     * @return one forecast per frame, in order
     * @throws QuiverInputException as {@link #forecast}, for the first frame it refuses
     * @throws CapabilityException if the model's output is not a probability
     * @throws IllegalStateException after {@link #close()}
     */
    @Override
    public synchronized List<Forecast> forecastBatch(List<FeatureFrame> frames) {
        if (batchSize == 1) {
            return PredictionCapability.super.forecastBatch(frames);
        }
        if (closed) {
            throw new IllegalStateException(
                    "[Quiver/CAPABILITY_CLOSED] capability 'lstm' was closed; create a new instance"
                            + " to forecast "
                            + frames.size()
                            + " bars");
        }
        if (batch == null && !frames.isEmpty()) {
            batch =
                    ByteBuffer.allocateDirect(batchSize * timesteps * features * Float.BYTES)
                            .order(ByteOrder.nativeOrder())
                            .asFloatBuffer();
        }
        List<Forecast> out = new ArrayList<>(frames.size());
        for (int first = 0; first < frames.size(); first += batchSize) {
            int n = Math.min(batchSize, frames.size() - first);
            for (int r = 0; r < n; r++) {
                FeatureFrame frame = frames.get(first + r);
                check(frame);
                model.fill(frame, featureIndex, batch, r * timesteps * features);
            }
            float[] p = model.predict(batch, n);
            for (int r = 0; r < n; r++) {
                out.add(forecastOf(frames.get(first + r).bar().start(), p[2 * r], p[2 * r + 1]));
            }
        }
        return out;
    }

    /** Refuses a closed source, another schema, a bar of the training span. */
    private void check(FeatureFrame frame) {
        if (closed) {
            throw new IllegalStateException(
                    "[Quiver/CAPABILITY_CLOSED] capability 'lstm' was closed; create a new instance"
                            + " to forecast bar "
                            + frame.bar().start());
        }
        accept(frame.schema());
        model.refuseTrainingSpan(frame, NAME);
    }

    private static Forecast forecastOf(Instant barTime, float pDown, float pUp) {
        // Softmax output; float rounding may step past [0, 1] by a few ulps, anything more is a
        // broken model and is refused rather than clamped.
        if (!(pUp >= -1e-6f && pUp <= 1 + 1e-6f)) {
            throw new CapabilityException(
                    NAME,
                    "model output p_up " + pUp + " at bar " + barTime + " is not a probability",
                    null);
        }
        double up = Math.max(0.0, Math.min(1.0, pUp));
        return new Forecast(NAME, barTime, 1, up, Map.of("p_down", (double) pDown));
    }

    private static int batchSize(String configured) {
        if (configured == null) {
            return DEFAULT_BATCH_SIZE;
        }
        try {
            return Integer.parseInt(configured.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_CONFIG] prediction-lstm.lstm.batch-size '"
                            + configured
                            + "' is not an integer",
                    e);
        }
    }

    private void accept(FeatureSchema schema) {
        if (schema == acceptedSchema) {
            return;
        }
        featureIndex = model.featureIndex(schema, "lstm", "mlflow/train/lstm.py");
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
