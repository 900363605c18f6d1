package dev.quiver.plugins.gbm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.PluginContext;
import dev.quiver.api.error.CapabilityException;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.api.feature.LabeledFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.gbmtrees.ModelRefusedException;
import dev.quiver.gbmtrees.TreeEnsemble;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A gradient-boosted-trees direction classifier trained in Java by {@link #fit} on a walk-forward
 * training window and served by evaluating its trees in Java ({@link TreeEnsemble}).
 *
 * <p>Training: the window's rows in time order; the first {@value #FIT_SHARE_PERCENT}% fit the
 * trees, the last part picks the number of rounds (early stopping on its log-loss, patience {@value
 * #PATIENCE} rounds, at most {@value #MAX_ROUNDS}); fixed seed, one thread, so the same window
 * gives the same model. Serving is stateless per bar (the decision bar's features only), so
 * point-in-time by construction.
 *
 * <p>Registered models: {@link #exportModel} writes the fitted model in the library's own
 * non-executable format (XGBoost JSON, LightGBM text) with a sidecar ({@value #SIDECAR_FORMAT}).
 * Configured with such a sidecar ({@code <plugin-id>.<name>.model=PATH}), the source serves that
 * model instead: it is <em>pinned</em>, {@code fit} leaves it as it is, and it declines (code
 * {@code IN_TRAINING_SPAN}) every bar of its training series up to the last bar it was trained on,
 * so no score includes a bar the model saw or one before it.
 *
 * <p>Thread-safe: {@code fit}, {@code forecast} and {@code close} are serialised.
 */
abstract class GbmSource implements PredictionCapability {

    static final int MIN_TRAINING_ROWS = 300;
    static final int FIT_SHARE_PERCENT = 80;
    static final int MAX_ROUNDS = 300;
    static final int PATIENCE = 30;
    static final int SEED = 42;

    /** The sidecar's {@code format}. */
    static final String SIDECAR_FORMAT = "quiver-gbm-sidecar/1";

    private static final ObjectMapper JSON =
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final String name;
    private final GbmFeatures features = new GbmFeatures();
    private final double[] row = new double[GbmFeatures.NAMES.size()];
    private TreeEnsemble trees;
    private Fitted fitted;

    /** The last schema whose hash matched {@link #matchedFitted}'s (under the lock). */
    private FeatureSchema matchedSchema;

    private Fitted matchedFitted;
    private final boolean pinned;
    private CapabilityDescriptor descriptor;
    private boolean closed;
    int fixedRounds; // > 0: no early stopping (parity tests want many trees)

    /**
     * @param name capability name
     * @param context reads {@code <name>.model}, a sidecar of a registered model to serve pinned
     * @throws ModelRefusedException if the configured model cannot be served (named file, reason)
     */
    GbmSource(String name, PluginContext context) {
        this.name = name;
        Map<String, String> none = Map.of("fitted", "false");
        this.descriptor = describe(none);
        var model = context.config(name + ".model");
        this.pinned = model.isPresent();
        if (pinned) {
            Fitted f = load(Path.of(model.get()));
            this.trees = f.trees();
            this.fitted = f;
            this.descriptor = describeFitted(f, "registered");
        }
    }

    /** The trained model, its dump parsed; {@code rounds} is the number of trees kept. */
    record Trained(TreeEnsemble trees, int rounds, double validLogLoss, byte[] model) {}

    /** What the served model is and was trained on. */
    private record Fitted(
            TreeEnsemble trees,
            byte[] model,
            int rounds,
            double validLogLoss,
            String series,
            Instant first,
            Instant last,
            int rows,
            String schemaName,
            String schemaVersion,
            String schemaHash) {}

    /** File extension of the library's model format: {@code json} or {@code txt}. */
    abstract String modelExtension();

    /**
     * Parses a model file of this library.
     *
     * @throws ModelRefusedException naming {@code file} if it cannot be served
     */
    abstract TreeEnsemble parse(byte[] model, String file);

    /**
     * Trains on {@code fit} rows with early stopping on {@code valid} rows.
     *
     * @throws RuntimeException if the library fails
     */
    abstract Trained train(GbmFeatures.Matrix m, int fitRows);

    /** Library version for the descriptor. */
    abstract String library();

    @Override
    public synchronized CapabilityDescriptor descriptor() {
        return descriptor;
    }

    private CapabilityDescriptor describe(Map<String, String> extra) {
        Map<String, String> a = new TreeMap<>(extra);
        a.put("horizon", "1");
        a.put("calibrated", "false");
        a.put("library", library());
        a.put("training", pinned ? "registered" : "per-fold");
        a.put("features", String.join(",", GbmFeatures.NAMES));
        return new CapabilityDescriptor(name, "1.0.0", a);
    }

    private CapabilityDescriptor describeFitted(Fitted f, String how) {
        return describe(
                Map.of(
                        "fitted",
                        "true",
                        "trained_on",
                        f.series(),
                        "trained_from",
                        f.first().toString(),
                        "trained_through",
                        f.last().toString(),
                        "rounds",
                        Integer.toString(f.rounds()),
                        "model",
                        how));
    }

    @Override
    public synchronized void fit(List<LabeledFrame> trainingWindow) {
        checkOpen("fit");
        if (pinned) {
            // Serves a registered model: fitting is what produced it, not what serving does.
            return;
        }
        if (trainingWindow.size() < MIN_TRAINING_ROWS) {
            throw new CapabilityException(
                    name,
                    "training window has "
                            + trainingWindow.size()
                            + " labelled rows, fewer than the "
                            + MIN_TRAINING_ROWS
                            + " it needs",
                    null);
        }
        GbmFeatures.Matrix m = features.matrix(trainingWindow);
        int fitRows = m.rows() * FIT_SHARE_PERCENT / 100;
        Trained t;
        try {
            t = train(m, fitRows);
        } catch (CapabilityException | ModelRefusedException e) {
            throw e;
        } catch (RuntimeException | LinkageError e) {
            throw new CapabilityException(name, "training failed: " + e, e);
        }
        FeatureFrame firstFrame = trainingWindow.get(0).frame();
        Instant first = firstFrame.bar().start();
        Instant last = trainingWindow.get(trainingWindow.size() - 1).frame().bar().start();
        trees = t.trees();
        fitted =
                new Fitted(
                        t.trees(),
                        t.model(),
                        t.rounds(),
                        t.validLogLoss(),
                        firstFrame.history().symbol(),
                        first,
                        last,
                        trainingWindow.size(),
                        firstFrame.schema().name(),
                        firstFrame.schema().version(),
                        firstFrame.schema().hash());
        descriptor = describeFitted(fitted, "fitted");
        onFitted();
    }

    /** Called under the lock after a successful fit. */
    void onFitted() {}

    @Override
    public synchronized Forecast forecast(FeatureFrame frame) {
        checkOpen("forecast bar " + frame.bar().start());
        if (trees == null) {
            throw new CapabilityException(
                    name,
                    "not fitted: it is trained per walk-forward fold; call fit(trainingWindow)"
                            + " before forecasting bar "
                            + frame.bar().start(),
                    null);
        }
        Fitted f = fitted;
        // The schema's SHA-256 is computed once per schema instance and fitted model (the host
        // hands every frame of a series the same schema), not on every bar.
        if (pinned
                && !(frame.schema() == matchedSchema && f == matchedFitted)
                && !frame.schema().hash().equals(f.schemaHash())) {
            throw new QuiverInputException(
                    "SCHEMA_MISMATCH",
                    "schema",
                    "capability '" + name + "' at bar " + frame.bar().start(),
                    frame.schema().name() + " v" + frame.schema().version(),
                    "hash "
                            + frame.schema().hash()
                            + " differs from the registered model's "
                            + f.schemaName()
                            + " v"
                            + f.schemaVersion()
                            + " hash "
                            + f.schemaHash());
        }
        if (pinned) {
            matchedSchema = frame.schema();
            matchedFitted = f;
        }
        if (pinned
                && frame.history().symbol().equalsIgnoreCase(f.series())
                && !frame.bar().start().isAfter(f.last())) {
            // Declined input, not a failure: a registered model is never scored on a bar of its
            // training series up to the end of its training span.
            throw new QuiverInputException(
                    "IN_TRAINING_SPAN",
                    "bar",
                    "capability '" + name + "' on " + frame.history().symbol(),
                    frame.bar().start(),
                    "is not after the registered model's last training bar "
                            + f.last()
                            + " (trained on "
                            + f.first()
                            + ".."
                            + f.last()
                            + "); it is not forecast, so no score includes a bar the model saw"
                            + " or one before it");
        }
        features.row(frame, row);
        double margin = margin(trees, row);
        return new Forecast(
                name,
                frame.bar().start(),
                1,
                TreeEnsemble.sigmoid(margin),
                Map.of("margin", margin));
    }

    @Override
    public synchronized List<Path> exportModel(Path dir) {
        checkOpen("export its model");
        Fitted f = fitted;
        if (f == null) {
            throw new IllegalStateException(
                    "[Quiver/NOT_FITTED] capability '"
                            + name
                            + "' has no model to export yet: call fit(trainingWindow) first");
        }
        Path modelFile = dir.resolve(name + "." + modelExtension());
        Path sidecar = dir.resolve(name + "-sidecar.json");
        ObjectNode s = JSON.createObjectNode();
        s.put("format", SIDECAR_FORMAT);
        s.put("model_file", modelFile.getFileName().toString());
        s.put("model_sha256", sha256(f.model()));
        s.put("library", library());
        ObjectNode schema = s.putObject("schema");
        schema.put("name", f.schemaName());
        schema.put("version", f.schemaVersion());
        schema.put("hash", f.schemaHash());
        GbmFeatures.NAMES.forEach(s.putArray("features")::add);
        s.put("horizon_bars", 1);
        s.put("rounds", f.rounds());
        s.put("valid_log_loss", f.validLogLoss());
        ObjectNode training = s.putObject("training");
        training.put("series", f.series());
        training.put("first_bar", f.first().toString());
        training.put("last_bar", f.last().toString());
        training.put("rows", f.rows());
        training.put("fit_share_percent", FIT_SHARE_PERCENT);
        try {
            Files.write(modelFile, f.model());
            JSON.writeValue(sidecar.toFile(), s);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + name + "'s model to " + dir, e);
        }
        return List.of(modelFile, sidecar);
    }

    /** Reads, checks and parses a registered model from its sidecar. */
    private Fitted load(Path sidecarFile) {
        String where = sidecarFile.toString();
        JsonNode s;
        try {
            s = JSON.readTree(sidecarFile.toFile());
        } catch (IOException e) {
            throw new ModelRefusedException(where, "cannot read the sidecar: " + e.getMessage(), e);
        }
        if (s == null || !SIDECAR_FORMAT.equals(s.path("format").asText())) {
            throw new ModelRefusedException(
                    where,
                    "format is '"
                            + (s == null ? "" : s.path("format").asText())
                            + "', expected "
                            + SIDECAR_FORMAT,
                    null);
        }
        List<String> names = new java.util.ArrayList<>();
        s.path("features").forEach(n -> names.add(n.asText()));
        if (!names.equals(GbmFeatures.NAMES)) {
            throw new ModelRefusedException(
                    where,
                    "features " + names + " differ from this source's " + GbmFeatures.NAMES,
                    null);
        }
        String file = s.path("model_file").asText();
        if (file.isEmpty() || !file.equals(Path.of(file).getFileName().toString())) {
            throw new ModelRefusedException(
                    where, "model_file '" + file + "' must be a plain file name beside it", null);
        }
        Path modelFile = sidecarFile.resolveSibling(file);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(modelFile);
        } catch (IOException e) {
            throw new ModelRefusedException(modelFile.toString(), "cannot read: " + e, e);
        }
        String sha = sha256(bytes);
        if (!sha.equals(s.path("model_sha256").asText())) {
            throw new ModelRefusedException(
                    modelFile.toString(),
                    "sha256 is "
                            + sha
                            + ", the sidecar says "
                            + s.path("model_sha256").asText()
                            + " (damaged or replaced)",
                    null);
        }
        JsonNode sc = s.path("schema");
        JsonNode t = s.path("training");
        try {
            return new Fitted(
                    parse(bytes, modelFile.toString()),
                    bytes,
                    s.path("rounds").asInt(),
                    s.path("valid_log_loss").asDouble(Double.NaN),
                    t.path("series").asText(),
                    Instant.parse(t.path("first_bar").asText()),
                    Instant.parse(t.path("last_bar").asText()),
                    t.path("rows").asInt(),
                    sc.path("name").asText(),
                    sc.path("version").asText(),
                    sc.path("hash").asText());
        } catch (DateTimeParseException e) {
            throw new ModelRefusedException(
                    where, "training.first_bar/last_bar are not ISO-8601 instants", e);
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    /** The serving margin; the Java trees unless a subclass serves otherwise. */
    double margin(TreeEnsemble t, double[] x) {
        return t.margin(x);
    }

    /** The served trees, or null before the first fit (tests). */
    synchronized TreeEnsemble trees() {
        return trees;
    }

    private void checkOpen(String what) {
        if (closed) {
            throw new IllegalStateException(
                    "[Quiver/CAPABILITY_CLOSED] capability '"
                            + name
                            + "' was closed; create a new instance to "
                            + what);
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            trees = null;
            fitted = null;
            release();
        }
    }

    /** Frees native resources. */
    void release() {}

    /** Mean log-loss of probabilities {@code p} against 0/1 labels. */
    static double logLoss(double[] p, float[] y) {
        double s = 0;
        for (int i = 0; i < p.length; i++) {
            double q = Math.min(1 - 1e-15, Math.max(1e-15, p[i]));
            s -= y[i] > 0.5f ? Math.log(q) : Math.log(1 - q);
        }
        return s / p.length;
    }
}
