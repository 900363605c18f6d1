package dev.quiver.plugins.regime;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.error.QuiverInputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The regime model as files ({@code exportModel}): data only, JSON, doubles written as the shortest
 * decimal that reads back to the same {@code double} (Jackson), so a model read back classifies bit
 * for bit as the one written.
 *
 * <p>{@value #MODEL_FILE} ({@code format} {@value #FORMAT}): {@code window_bars}, {@code seed},
 * {@code inputs}, {@code center}, {@code scale}, {@code components} (each {@code regime}, {@code
 * weight}, {@code mean}, {@code covariance}) and {@code regimes} (each label's {@code up_rate} and
 * training {@code rows}). The sidecar {@value #SIDECAR_FILE} is the one every exported model has
 * ({@code model_file}, {@code model_sha256}, {@code schema}, {@code features}, {@code
 * horizon_bars}, {@code training}).
 */
final class RegimeModelFiles {

    static final String FORMAT = "quiver-regime-gmm/1";
    static final String MODEL_FILE = "regime.gmm.json";
    static final String SIDECAR_FILE = "regime.json";
    static final String CODE = "BAD_MODEL";

    private static final ObjectMapper JSON =
            new ObjectMapper()
                    .enable(SerializationFeature.INDENT_OUTPUT)
                    .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private RegimeModelFiles() {}

    /** What the model was fitted on, for the sidecar. */
    record Training(
            String series,
            String firstBar,
            String lastBar,
            int rows,
            String schemaName,
            String schemaVersion,
            String schemaHash) {}

    /** A model read back with the settings it was fitted under. */
    record Loaded(RegimeModel model, int windowBars, long seed) {}

    static List<Path> write(RegimeModel m, int windowBars, long seed, Training t, Path dir) {
        ObjectNode model = JSON.createObjectNode();
        model.put("format", FORMAT);
        model.put("window_bars", windowBars);
        model.put("seed", seed);
        ArrayNode inputs = model.putArray("inputs");
        for (String n : RegimeInputs.NAMES) {
            inputs.add(n);
        }
        numbers(model.putArray("center"), m.center);
        numbers(model.putArray("scale"), m.scale);
        ArrayNode comps = model.putArray("components");
        for (int k = 0; k < RegimeModel.COMPONENTS; k++) {
            ObjectNode c = comps.addObject();
            c.put("regime", m.regimeOf[k].label());
            c.put("weight", m.weights[k]);
            numbers(c.putArray("mean"), m.means[k]);
            ArrayNode cov = c.putArray("covariance");
            for (double[] row : m.covariances[k]) {
                numbers(cov.addArray(), row);
            }
        }
        ObjectNode regimes = model.putObject("regimes");
        for (Regime r : Regime.values()) {
            ObjectNode o = regimes.putObject(r.label());
            o.put("up_rate", m.upRate[r.ordinal()]);
            o.put("rows", m.rows[r.ordinal()]);
        }
        Path modelFile = dir.resolve(MODEL_FILE);
        Path sidecarFile = dir.resolve(SIDECAR_FILE);
        try {
            byte[] bytes = JSON.writeValueAsBytes(model);
            Files.write(modelFile, bytes);
            ObjectNode side = JSON.createObjectNode();
            side.put("model_file", MODEL_FILE);
            side.put("model_sha256", sha256(bytes));
            ObjectNode schema = side.putObject("schema");
            schema.put("name", t.schemaName());
            schema.put("version", t.schemaVersion());
            schema.put("hash", t.schemaHash());
            ArrayNode features = side.putArray("features");
            features.add("log_return_1");
            features.add("atr_pct_14");
            side.put("horizon_bars", 1);
            ObjectNode training = side.putObject("training");
            training.put("series", t.series());
            training.put("first_bar", t.firstBar());
            training.put("last_bar", t.lastBar());
            training.put("rows", t.rows());
            JSON.writeValue(sidecarFile.toFile(), side);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the regime model to " + dir, e);
        }
        return List.of(modelFile, sidecarFile);
    }

    /**
     * Reads the model a sidecar names, checking its sha256 and every field.
     *
     * @throws QuiverInputException {@code BAD_MODEL} naming the file and field
     */
    static Loaded read(Path sidecar) {
        JsonNode side = tree(sidecar, bytes(sidecar));
        String name = text(sidecar, side, "model_file");
        if (!name.equals(Path.of(name).getFileName().toString())) {
            throw bad(sidecar, "model_file", name, "must be a plain file name beside the sidecar");
        }
        Path file = sidecar.resolveSibling(name);
        byte[] bytes = bytes(file);
        String sha = text(sidecar, side, "model_sha256");
        if (!sha.equalsIgnoreCase(sha256(bytes))) {
            throw bad(
                    file,
                    "(sha256)",
                    sha256(bytes),
                    "differs from the sidecar's model_sha256 " + sha + " (damaged or replaced)");
        }
        JsonNode m = tree(file, bytes);
        String format = text(file, m, "format");
        if (!format.equals(FORMAT)) {
            throw bad(file, "format", format, "is not " + FORMAT);
        }
        int window = integer(file, m, "window_bars");
        long seed = member(file, m, "seed").asLong();
        double[] center = numbers(file, m, "center", RegimeInputs.NAMES.length);
        double[] scale = numbers(file, m, "scale", RegimeInputs.NAMES.length);
        JsonNode comps = member(file, m, "components");
        if (!comps.isArray() || comps.size() != RegimeModel.COMPONENTS) {
            throw bad(file, "components", comps, "is not an array of " + RegimeModel.COMPONENTS);
        }
        int d = RegimeInputs.NAMES.length;
        double[] weights = new double[RegimeModel.COMPONENTS];
        double[][] means = new double[RegimeModel.COMPONENTS][];
        double[][][] covs = new double[RegimeModel.COMPONENTS][d][];
        Regime[] regimeOf = new Regime[RegimeModel.COMPONENTS];
        for (int k = 0; k < RegimeModel.COMPONENTS; k++) {
            JsonNode c = comps.get(k);
            String where = "components[" + k + "]";
            try {
                regimeOf[k] = Regime.ofLabel(text(file, c, "regime"));
            } catch (IllegalArgumentException e) {
                throw bad(file, where + ".regime", c.get("regime"), e.getMessage());
            }
            weights[k] = number(file, c, "weight");
            means[k] = numbers(file, c, "mean", d);
            JsonNode cov = member(file, c, "covariance");
            if (!cov.isArray() || cov.size() != d) {
                throw bad(file, where + ".covariance", cov, "is not a " + d + "x" + d + " array");
            }
            for (int j = 0; j < d; j++) {
                covs[k][j] = numbers(file, cov.get(j), d, where + ".covariance[" + j + "]");
            }
        }
        if (java.util.EnumSet.copyOf(java.util.Arrays.asList(regimeOf)).size()
                != RegimeModel.COMPONENTS) {
            throw bad(file, "components", null, "do not name each regime exactly once");
        }
        JsonNode regimes = member(file, m, "regimes");
        double[] upRate = new double[RegimeModel.COMPONENTS];
        int[] rows = new int[RegimeModel.COMPONENTS];
        for (Regime r : Regime.values()) {
            JsonNode o = member(file, regimes, r.label());
            upRate[r.ordinal()] = number(file, o, "up_rate");
            rows[r.ordinal()] = integer(file, o, "rows");
        }
        try {
            return new Loaded(
                    new RegimeModel(center, scale, weights, means, covs, regimeOf, upRate, rows),
                    window,
                    seed);
        } catch (RuntimeException e) {
            throw bad(file, "components", null, "do not make a valid mixture: " + e);
        }
    }

    private static void numbers(ArrayNode into, double[] values) {
        for (double v : values) {
            into.add(v);
        }
    }

    private static byte[] bytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw bad(file, "(file)", null, "is missing");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static JsonNode tree(Path file, byte[] bytes) {
        try {
            JsonNode n = JSON.readTree(bytes);
            if (n == null || !n.isObject()) {
                throw bad(file, "(json)", null, "is not a JSON object");
            }
            return n;
        } catch (JsonProcessingException e) {
            throw bad(
                    file,
                    "(json)",
                    bytes.length + " bytes",
                    "is not complete JSON (truncated or damaged?): "
                            + e.getOriginalMessage().lines().findFirst().orElse(""));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static JsonNode member(Path file, JsonNode node, String key) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            throw bad(file, key, null, "is missing");
        }
        return v;
    }

    private static String text(Path file, JsonNode node, String key) {
        JsonNode v = member(file, node, key);
        if (!v.isTextual()) {
            throw bad(file, key, v, "is not a string");
        }
        return v.asText();
    }

    private static int integer(Path file, JsonNode node, String key) {
        JsonNode v = member(file, node, key);
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 0) {
            throw bad(file, key, v, "is not a non-negative int");
        }
        return v.asInt();
    }

    private static double number(Path file, JsonNode node, String key) {
        JsonNode v = member(file, node, key);
        if (!v.isNumber() || !Double.isFinite(v.asDouble())) {
            throw bad(file, key, v, "is not a finite number");
        }
        return v.asDouble();
    }

    private static double[] numbers(Path file, JsonNode node, String key, int length) {
        return numbers(file, member(file, node, key), length, key);
    }

    private static double[] numbers(Path file, JsonNode v, int length, String where) {
        if (v == null || !v.isArray() || v.size() != length) {
            throw bad(file, where, v, "is not an array of " + length + " numbers");
        }
        double[] out = new double[length];
        for (int i = 0; i < length; i++) {
            JsonNode x = v.get(i);
            if (!x.isNumber() || !Double.isFinite(x.asDouble())) {
                throw bad(file, where + "[" + i + "]", x, "is not a finite number");
            }
            out[i] = x.asDouble();
        }
        return out;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    private static QuiverInputException bad(Path file, String field, Object value, String problem) {
        return new QuiverInputException(CODE, field, "regime model file " + file, value, problem);
    }
}
