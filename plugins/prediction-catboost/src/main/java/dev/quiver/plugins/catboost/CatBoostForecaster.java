package dev.quiver.plugins.catboost;

import ai.catboost.CatBoostError;
import ai.catboost.CatBoostModel;
import ai.catboost.CatBoostPredictions;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.PluginContext;
import dev.quiver.api.error.CapabilityException;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/**
 * The CatBoost source: a gradient-boosted-trees direction classifier trained by {@code
 * mlflow/train/catboost_model.py} (catboost 1.2.7, BTC-USD 4h 2016-05-28..2018-12-31) and served
 * with catboost-prediction 1.2.7, the Java reader of that file version. Input: the decision bar's
 * scale-free features {@code log_return_1, rsi_14, macd_hist_pct, bb_percent_b_20_2, bb_width_20_2,
 * atr_pct_14, volume_ratio_20} as {@code float[7]} (CatBoost evaluates in float, as Python does);
 * output {@code p_up = 1 / (1 + exp(-raw))}, horizon 1 bar.
 *
 * <p>Validated before the first call: the {@code .cbm}'s sha256 against the sidecar {@code
 * model/catboost.json}, CatBoost's own parse, one prediction dimension and the model's feature
 * names against the sidecar; every frame's schema hash against the sidecar's. Bars of the training
 * series inside the training span are refused ({@link CapabilityException}), so no score includes a
 * bar the model was fitted on. Stateless per bar: point-in-time by construction.
 *
 * <p>Thread-safe: calls are serialised with {@link #close()}, which frees the native model once no
 * call is in flight. Idempotent.
 *
 * @since 1.0.0
 */
@Extension
public final class CatBoostForecaster implements PredictionCapability {

    private static final String NAME = "catboost";
    private static final String BASE = "classpath:dev/quiver/plugins/catboost/model/";
    private static final int BATCH_SIZE = 256;

    private final CatBoostModel model;
    private final CatBoostPredictions prediction = new CatBoostPredictions(1, 1);
    private final List<String> features;
    private final String schemaHash;
    private final String schemaLabel;
    private final String trainingSeries;
    private final Instant trainingFirst;
    private final Instant trainingLast;
    private final CapabilityDescriptor descriptor;
    private final float[] row;
    private final String[] noCategories = new String[0];
    private FeatureSchema acceptedSchema;
    private int[] featureIndex;
    private boolean closed;

    /**
     * Creates the source with the bundled model, or with the model whose sidecar the plugin
     * configuration names: {@code prediction-catboost.catboost.model=/path/catboost.json} (the
     * {@code <capability>.model} convention of {@code PredictionCapability.exportModel}); the model
     * file is the sidecar's {@code model_file}, beside it.
     *
     * @param context the plugin's context; reads {@code catboost.model}
     * @throws IllegalArgumentException {@code [Quiver/MODEL_REFUSED]} naming the file if the model
     *     or its sidecar is refused (unreadable, not beside the sidecar, checksum mismatch, ...)
     */
    @Inject
    public CatBoostForecaster(PluginContext context) {
        this(configured(context.config(NAME + ".model")));
    }

    private CatBoostForecaster(ModelFiles files) {
        this(files.sidecar(), files.sidecarName(), files.cbm(), files.cbmName());
    }

    /** Sidecar bytes and name, model bytes (null: the bundled file) and name. */
    private record ModelFiles(byte[] sidecar, String sidecarName, byte[] cbm, String cbmName) {}

    private static ModelFiles configured(java.util.Optional<String> sidecar) {
        if (sidecar.isEmpty()) {
            return new ModelFiles(resource("catboost.json"), BASE + "catboost.json", null, null);
        }
        java.nio.file.Path file = java.nio.file.Path.of(sidecar.get());
        byte[] json = read(file);
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (IOException e) {
            throw refused(file.toString(), "is not valid JSON: " + e.getMessage(), e);
        }
        String model = root == null ? "" : root.path("model_file").asText();
        if (model.isEmpty()
                || !model.equals(java.nio.file.Path.of(model).getFileName().toString())) {
            throw refused(
                    file.toString(),
                    "model_file '" + model + "' must be a plain file name beside the sidecar",
                    null);
        }
        java.nio.file.Path cbm = file.resolveSibling(model);
        return new ModelFiles(json, file.toString(), read(cbm), cbm.toString());
    }

    private static byte[] read(java.nio.file.Path file) {
        try {
            return java.nio.file.Files.readAllBytes(file);
        } catch (IOException e) {
            throw refused(file.toString(), "cannot be read: " + e, e);
        }
    }

    /**
     * Creates the source from a sidecar and model bytes (tests, other locations).
     *
     * @param sidecarJson the sidecar
     * @param sidecarName its name for messages
     * @param cbm the model bytes, or null to read the bundled file the sidecar names
     * @param cbmName the model's name for messages, or null with {@code cbm}
     */
    CatBoostForecaster(byte[] sidecarJson, String sidecarName, byte[] cbm, String cbmName) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(sidecarJson);
        } catch (IOException e) {
            throw refused(sidecarName, "is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null
                || !"quiver-catboost-sidecar/1".equals(text(root, "format", sidecarName))) {
            throw refused(sidecarName, "format is not quiver-catboost-sidecar/1", null);
        }
        String file = text(root, "model_file", sidecarName);
        if (cbm == null) {
            cbmName = BASE + file;
            cbm = resource(file);
        }
        List<String> names = new ArrayList<>();
        for (JsonNode f : node(root, "features", sidecarName)) {
            names.add(f.asText());
        }
        this.features = List.copyOf(names);
        JsonNode schema = node(root, "schema", sidecarName);
        this.schemaHash = text(schema, "hash", sidecarName);
        this.schemaLabel =
                text(schema, "name", sidecarName) + " v" + text(schema, "version", sidecarName);
        JsonNode training = node(root, "training", sidecarName);
        this.trainingSeries = text(training, "series", sidecarName);
        this.trainingFirst = Instant.parse(text(training, "first_bar", sidecarName));
        this.trainingLast = Instant.parse(text(training, "last_bar", sidecarName));
        String want = text(root, "model_sha256", sidecarName);
        String sha = sha256(cbm);
        if (!sha.equals(want)) {
            throw refused(
                    cbmName,
                    "sha256 "
                            + sha
                            + " ("
                            + cbm.length
                            + " bytes) differs from the sidecar's "
                            + want
                            + ": the file is truncated, corrupted or not the model the sidecar"
                            + " describes",
                    null);
        }
        CatBoostModel loaded;
        try {
            loaded = CatBoostModel.loadModel(cbm, "cbm");
        } catch (CatBoostError | RuntimeException e) {
            throw refused(
                    cbmName,
                    "CatBoost cannot load it ("
                            + cbm.length
                            + " bytes; expected a catboost 1.2.7 .cbm classifier over "
                            + features.size()
                            + " numeric features): "
                            + e.getMessage(),
                    e);
        }
        String[] modelNames = loaded.getFeatureNames();
        if (loaded.getPredictionDimension() != 1
                || loaded.getUsedCategoricFeatureCount() != 0
                || !Arrays.asList(modelNames).equals(features)) {
            String found =
                    "prediction dimension "
                            + loaded.getPredictionDimension()
                            + ", "
                            + loaded.getUsedCategoricFeatureCount()
                            + " categorical features, feature names "
                            + Arrays.toString(modelNames);
            close(loaded);
            throw refused(
                    cbmName,
                    found
                            + " differ from the expected binary classifier over the sidecar's"
                            + " features "
                            + features,
                    null);
        }
        this.model = loaded;
        this.row = new float[features.size()];
        this.descriptor =
                new CapabilityDescriptor(
                        NAME,
                        "1.0.0",
                        Map.of(
                                "horizon",
                                "1",
                                "calibrated",
                                "false",
                                "trees",
                                String.valueOf(loaded.getTreeCount()),
                                "schema_hash",
                                schemaHash,
                                "trained_on",
                                trainingSeries,
                                "trained_from",
                                trainingFirst.toString(),
                                "trained_through",
                                trainingLast.toString()));
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return descriptor;
    }

    /**
     * Forecasts the decision bar of {@code frame}.
     *
     * @param frame features of the decision bar (schema {@code quiver-core} v1)
     * @return {@code probabilityUp} in [0, 1], horizon 1, detail {@code raw} (the log-odds)
     * @throws QuiverInputException with code {@code SCHEMA_MISMATCH} if the frame's schema hash
     *     differs from the model's
     * @throws QuiverInputException with code {@code IN_TRAINING_SPAN} if the bar lies inside the
     *     model's training span of its training series, or CatBoost fails
     * @throws IllegalStateException after {@link #close()}
     */
    @Override
    public synchronized Forecast forecast(FeatureFrame frame) {
        check(frame);
        fill(frame, row);
        double raw = raw(row);
        return new Forecast(NAME, frame.bar().start(), 1, probabilityUp(raw), Map.of("raw", raw));
    }

    /**
     * Rows per CatBoost call of {@link #forecastBatch}: {@value #BATCH_SIZE}, enough for a fold of
     * the walk-forward (about 500 test bars on the bundled series) in two calls.
     */
    @Override
    public int forecastBatchSize() {
        return BATCH_SIZE;
    }

    /**
     * Forecasts the decision bars of {@code frames} with CatBoost's batch predict ({@code
     * predict(float[][], String[][], CatBoostPredictions)}), one call per {@link
     * #forecastBatchSize()} rows, each row built exactly as {@link #forecast} builds it ({@code
     * CatBoostBatchTest} checks the two to 1e-6 on real bars). Every frame is checked, in order,
     * before its chunk runs; nothing is kept between calls, so a call that throws leaves no trace.
     *
     * @param frames features of the decision bars (schema {@code quiver-core} v1)
     * @return one forecast per frame, in order, as {@link #forecast}
     * @throws QuiverInputException as {@link #forecast}, for the first frame it refuses
     * @throws CapabilityException if CatBoost fails
     * @throws IllegalStateException after {@link #close()}
     */
    @Override
    public synchronized List<Forecast> forecastBatch(List<FeatureFrame> frames) {
        if (closed) {
            throw new IllegalStateException(
                    "[Quiver/CAPABILITY_CLOSED] capability 'catboost' was closed; create a new"
                            + " instance to forecast "
                            + frames.size()
                            + " bars");
        }
        List<Forecast> out = new ArrayList<>(frames.size());
        for (int first = 0; first < frames.size(); first += BATCH_SIZE) {
            int n = Math.min(BATCH_SIZE, frames.size() - first);
            float[][] rows = new float[n][features.size()];
            for (int r = 0; r < n; r++) {
                FeatureFrame frame = frames.get(first + r);
                check(frame);
                fill(frame, rows[r]);
            }
            CatBoostPredictions p;
            try {
                p = model.predict(rows, new String[n][0]);
            } catch (CatBoostError e) {
                throw new CapabilityException(
                        NAME, "CatBoost failed on a batch of " + n + ": " + e.getMessage(), e);
            }
            for (int r = 0; r < n; r++) {
                double raw = p.get(r, 0);
                out.add(
                        new Forecast(
                                NAME,
                                frames.get(first + r).bar().start(),
                                1,
                                probabilityUp(raw),
                                Map.of("raw", raw)));
            }
        }
        return out;
    }

    /** Refuses a closed source, another schema, a bar of the training span. */
    private void check(FeatureFrame frame) {
        if (closed) {
            throw new IllegalStateException(
                    "[Quiver/CAPABILITY_CLOSED] capability 'catboost' was closed; create a new"
                            + " instance to forecast bar "
                            + frame.bar().start());
        }
        accept(frame.schema());
        Instant barTime = frame.bar().start();
        if (frame.history().symbol().equalsIgnoreCase(trainingSeries)
                && !barTime.isBefore(trainingFirst)
                && !barTime.isAfter(trainingLast)) {
            // Declined input, not a failure: the model is never scored on bars it was fitted on.
            throw new QuiverInputException(
                    "IN_TRAINING_SPAN",
                    "bar",
                    "capability 'catboost' on " + frame.history().symbol(),
                    barTime,
                    "lies inside the model's training span "
                            + trainingFirst
                            + ".."
                            + trainingLast
                            + "; it is not forecast, so no score includes a bar the model was"
                            + " fitted on");
        }
    }

    /** The frame's features in sidecar order, as float (CatBoost evaluates in float). */
    private void fill(FeatureFrame frame, float[] out) {
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) frame.get(featureIndex[i]);
        }
    }

    /** The model's log-odds of an up move for one float row in sidecar feature order. */
    double raw(float[] features) {
        try {
            model.predict(features, noCategories, prediction);
        } catch (CatBoostError e) {
            throw new CapabilityException(NAME, "CatBoost failed: " + e.getMessage(), e);
        }
        return prediction.get(0, 0);
    }

    /** {@code 1 / (1 + exp(-raw))}, CatBoost's probability for Logloss. */
    static double probabilityUp(double raw) {
        return 1.0 / (1.0 + Math.exp(-raw));
    }

    List<String> features() {
        return features;
    }

    private void accept(FeatureSchema schema) {
        if (schema == acceptedSchema) {
            return;
        }
        String hash = schema.hash();
        if (!hash.equals(schemaHash)) {
            throw new QuiverInputException(
                    "SCHEMA_MISMATCH",
                    "schema",
                    "capability 'catboost'",
                    schema.name() + " v" + schema.version() + " sha256=" + hash,
                    "differs from the schema the model was trained on, "
                            + schemaLabel
                            + " sha256="
                            + schemaHash
                            + "; retrain the model (mlflow/train/catboost_model.py)");
        }
        int[] index = new int[features.size()];
        for (int i = 0; i < index.length; i++) {
            index[i] = schema.indexOf(features.get(i));
        }
        featureIndex = index;
        acceptedSchema = schema;
    }

    /** Frees the native model once no call is in flight. Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            close(model);
        }
    }

    private static void close(CatBoostModel m) {
        try {
            m.close();
        } catch (CatBoostError e) {
            throw new IllegalStateException("closing the CatBoost model", e);
        }
    }

    private static IllegalArgumentException refused(String file, String problem, Throwable cause) {
        return new IllegalArgumentException(
                "[Quiver/MODEL_REFUSED] " + file + ": " + problem, cause);
    }

    private static JsonNode node(JsonNode parent, String field, String file) {
        JsonNode n = parent.get(field);
        if (n == null || n.isNull()) {
            throw refused(file, "field '" + field + "' is missing", null);
        }
        return n;
    }

    private static String text(JsonNode parent, String field, String file) {
        return node(parent, field, file).asText();
    }

    private static byte[] resource(String name) {
        try (InputStream in = CatBoostForecaster.class.getResourceAsStream("model/" + name)) {
            if (in == null) {
                throw refused(BASE + name, "is missing from the plugin", null);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw refused(BASE + name, "cannot be read: " + e.getMessage(), e);
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }
}
