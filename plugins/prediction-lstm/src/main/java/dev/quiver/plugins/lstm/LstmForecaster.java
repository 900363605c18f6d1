package dev.quiver.plugins.lstm;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.PluginContext;
import dev.quiver.api.error.CapabilityException;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.api.market.BarSeries;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import jakarta.inject.Inject;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
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
 * <p>Point-in-time window: a {@link FeatureFrame} carries only its own bar's features, so the
 * source remembers the rows of the frames it was given, keyed by bar start time, and builds the
 * window from the 31 bars before the decision bar as the frame's history names them. A window with
 * a bar this instance was never shown (the first 31 frames of a run, or a gap) is not guessed: the
 * forecast is then {@code 0.5} with detail {@code window_rows} < 32. Called bar by bar from the
 * same first bar, the forecast for bar t is therefore the same whether the series ends at t or goes
 * on, and the same on a fresh instance.
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
    private static final int MAX_REMEMBERED_ROWS = 8192;

    private final LstmModel model;
    private final CapabilityDescriptor descriptor;
    private final int timesteps;
    private final int features;
    private final Map<Long, float[]> rows =
            new LinkedHashMap<>(1024, 0.75f, false) {
                private static final long serialVersionUID = 1L;

                @Override
                protected boolean removeEldestEntry(Map.Entry<Long, float[]> eldest) {
                    return size() > MAX_REMEMBERED_ROWS;
                }
            };
    private final double[] raw;
    private FeatureSchema acceptedSchema;
    private int[] featureIndex;
    private String seriesSymbol;
    private boolean closed;

    /**
     * Creates the source with the bundled model, or with the model whose sidecar the plugin
     * configuration names ({@code prediction-lstm.model=/path/lstm.json}).
     *
     * @param context the plugin's context
     * @throws ModelRefusedException if the model or its sidecar is refused
     */
    @Inject
    public LstmForecaster(PluginContext context) {
        this(
                context.config("model")
                        .map(p -> LstmModel.fromFiles(Path.of(p)))
                        .orElseGet(LstmModel::bundled));
    }

    LstmForecaster(LstmModel model) {
        this.model = model;
        Sidecar s = model.sidecar();
        this.timesteps = s.timesteps();
        this.features = s.features().size();
        this.raw = new double[features];
        this.descriptor =
                new CapabilityDescriptor(
                        NAME,
                        "1.0.0",
                        Map.of(
                                "horizon", "1",
                                "calibrated", "false",
                                "timesteps", String.valueOf(timesteps),
                                "schema_hash", s.schemaHash(),
                                "trained_on", s.trainingSeries(),
                                "trained_from", s.trainingFirstBar().toString(),
                                "trained_through", s.trainingLastBar().toString()));
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return descriptor;
    }

    /**
     * Forecasts the decision bar of {@code frame}.
     *
     * @param frame features of the decision bar (schema {@code quiver-core} v1) and its history
     * @return {@code probabilityUp} in [0, 1], horizon 1, details {@code window_rows} (rows of the
     *     window this instance has seen; the model runs only when it is {@code timesteps}) and,
     *     when it runs, {@code p_down}
     * @throws QuiverInputException with code {@code SCHEMA_MISMATCH} if the frame's schema hash
     *     differs from the model's
     * @throws CapabilityException if the bar lies inside the model's training span of its training
     *     series
     * @throws IllegalStateException after {@link #close()}
     */
    @Override
    public synchronized Forecast forecast(FeatureFrame frame) {
        if (closed) {
            throw new IllegalStateException(
                    "[Quiver/CAPABILITY_CLOSED] capability 'lstm' was closed; create a new instance"
                            + " to forecast bar "
                            + frame.bar().start());
        }
        accept(frame.schema());
        BarSeries history = frame.history();
        Instant barTime = frame.bar().start();
        Sidecar s = model.sidecar();
        // Remember the row first: a training-span bar is a legitimate input to later windows.
        if (!history.symbol().equals(seriesSymbol)) {
            rows.clear();
            seriesSymbol = history.symbol();
        }
        for (int i = 0; i < features; i++) {
            raw[i] = frame.get(featureIndex[i]);
        }
        float[] row = new float[features];
        model.normalise(raw, row);
        rows.put(barTime.toEpochMilli(), row);

        if (history.symbol().equalsIgnoreCase(s.trainingSeries())
                && !barTime.isBefore(s.trainingFirstBar())
                && !barTime.isAfter(s.trainingLastBar())) {
            throw new CapabilityException(
                    NAME,
                    "bar "
                            + barTime
                            + " of "
                            + history.symbol()
                            + " lies inside the model's training span "
                            + s.trainingFirstBar()
                            + ".."
                            + s.trainingLastBar()
                            + "; it is not forecast, so no score includes a bar the model was"
                            + " fitted on",
                    null);
        }
        int n = history.size();
        int found = 0;
        FloatBuffer in = model.input();
        if (n >= timesteps) {
            for (int k = 0; k < timesteps; k++) {
                float[] r =
                        k == timesteps - 1
                                ? row
                                : rows.get(history.get(n - timesteps + k).start().toEpochMilli());
                if (r != null) {
                    in.put(k * features, r);
                    found++;
                }
            }
        } else {
            found = 1;
        }
        if (found < timesteps) {
            return new Forecast(NAME, barTime, 1, 0.5, Map.of("window_rows", (double) found));
        }
        float[] p = model.predict();
        double up = Math.max(0.0, Math.min(1.0, p[1]));
        return new Forecast(
                NAME,
                barTime,
                1,
                up,
                Map.of("window_rows", (double) found, "p_down", (double) p[0]));
    }

    private void accept(FeatureSchema schema) {
        if (schema == acceptedSchema) {
            return;
        }
        Sidecar s = model.sidecar();
        String hash = schema.hash();
        if (!hash.equals(s.schemaHash())) {
            throw new QuiverInputException(
                    "SCHEMA_MISMATCH",
                    "schema",
                    "capability 'lstm' (" + model.modelName() + ")",
                    schema.name() + " v" + schema.version() + " sha256=" + hash,
                    "differs from the schema the model was trained on, "
                            + s.schemaName()
                            + " v"
                            + s.schemaVersion()
                            + " sha256="
                            + s.schemaHash()
                            + "; retrain the model (mlflow/train/lstm.py) on the host's features");
        }
        List<String> names = s.features();
        int[] index = new int[names.size()];
        for (int i = 0; i < index.length; i++) {
            index[i] = schema.indexOf(names.get(i));
        }
        featureIndex = index;
        acceptedSchema = schema;
    }

    /** Closes the ONNX session once no call is in flight. Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            rows.clear();
            model.close();
        }
    }
}
