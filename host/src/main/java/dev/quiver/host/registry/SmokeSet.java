package dev.quiver.host.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * The recorded inputs and expected outputs stored with a model version ({@code smoke.json}, tag
 * {@code quiver.smoke}): before a version serves, the host runs the capability on these inputs and
 * compares its probabilities with the recorded ones.
 *
 * <p>Inputs are referenced, not copied: a bundled real series ({@code dataset}, e.g. {@code
 * btc-usd-4h}) and the decision bars ({@code bar_time}); the host's point-in-time feature pipeline
 * rebuilds each bar's feature frame (and its history window) from the series up to that bar. So the
 * file is small and the check covers the whole path a live decision takes (features, window,
 * normalisation, model).
 *
 * <pre>
 * {"format": "quiver-smoke/1", "plugin_id": "prediction-lstm", "capability": "lstm",
 *  "dataset": "btc-usd-4h", "tolerance": 1e-5,
 *  "cases": [{"bar_time": "2025-10-30T20:00:00Z", "p_up": 0.5412}, ...]}
 * </pre>
 *
 * @param pluginId the plugin whose capability recorded the outputs
 * @param capability the prediction capability's name
 * @param dataset bundled series id the inputs come from
 * @param tolerance largest accepted absolute difference of {@code p_up}, in (0, 0.5]
 * @param cases decision bars and the probabilities recorded for them, at least one
 */
public record SmokeSet(
        String pluginId, String capability, String dataset, double tolerance, List<Case> cases) {

    /** The value of the {@code format} field. */
    public static final String FORMAT = "quiver-smoke/1";

    /** Conventional file name inside a version folder. */
    public static final String FILE_NAME = "smoke.json";

    /**
     * One recorded input and output.
     *
     * @param barTime the decision bar's start
     * @param probabilityUp the recorded {@code p_up}, in [0, 1]
     */
    public record Case(Instant barTime, double probabilityUp) {}

    /** Validates and copies. */
    public SmokeSet {
        cases = List.copyOf(cases);
    }

    /**
     * Reads and validates a smoke file.
     *
     * @param file the file
     * @return the set
     * @throws IllegalArgumentException naming the file and the field that is wrong
     * @throws IOException if it cannot be read
     */
    public static SmokeSet read(Path file) throws IOException {
        JsonNode root;
        try {
            root = ModelStore.JSON.readTree(Files.readAllBytes(file));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw bad(file, "body", "is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw bad(file, "body", "is not a JSON object");
        }
        if (!FORMAT.equals(root.path("format").asText())) {
            throw bad(file, "format", "must be " + FORMAT + ", was " + root.path("format"));
        }
        String plugin = text(root, "plugin_id", file);
        String capability = text(root, "capability", file);
        String dataset = text(root, "dataset", file);
        JsonNode tol = root.path("tolerance");
        if (!tol.isNumber() || !(tol.asDouble() > 0 && tol.asDouble() <= 0.5)) {
            throw bad(file, "tolerance", "must be a number in (0, 0.5], was " + tol);
        }
        JsonNode cases = root.path("cases");
        if (!cases.isArray() || cases.isEmpty()) {
            throw bad(file, "cases", "must be a non-empty array");
        }
        List<Case> out = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            JsonNode c = cases.get(i);
            Instant t;
            try {
                t = Instant.parse(c.path("bar_time").asText());
            } catch (DateTimeParseException e) {
                throw bad(
                        file,
                        "cases[" + i + "].bar_time",
                        "is not an ISO-8601 instant: " + c.path("bar_time"));
            }
            JsonNode p = c.path("p_up");
            if (!p.isNumber() || !(p.asDouble() >= 0 && p.asDouble() <= 1)) {
                throw bad(file, "cases[" + i + "].p_up", "must be a number in [0, 1], was " + p);
            }
            out.add(new Case(t, p.asDouble()));
        }
        return new SmokeSet(plugin, capability, dataset, tol.asDouble(), out);
    }

    /**
     * Writes the set as {@code smoke.json} content.
     *
     * @param file where
     * @throws IOException on a file system error
     */
    public void write(Path file) throws IOException {
        ObjectNode root = ModelStore.JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("plugin_id", pluginId);
        root.put("capability", capability);
        root.put("dataset", dataset);
        root.put("tolerance", tolerance);
        root.put(
                "what",
                "p_up of the capability on the feature frame of each bar_time of the bundled"
                        + " dataset (point-in-time, history up to that bar); a version serves only"
                        + " if it reproduces every p_up within tolerance");
        ArrayNode a = root.putArray("cases");
        for (Case c : cases) {
            a.addObject().put("bar_time", c.barTime().toString()).put("p_up", c.probabilityUp());
        }
        ModelStore.JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
    }

    private static String text(JsonNode root, String field, Path file) {
        JsonNode n = root.path(field);
        if (!n.isTextual() || n.asText().isBlank()) {
            throw bad(file, field, "is missing or blank");
        }
        return n.asText();
    }

    private static IllegalArgumentException bad(Path file, String field, String problem) {
        return new IllegalArgumentException(
                "[Quiver/BAD_SMOKE_FILE] "
                        + file.getFileName()
                        + ": field '"
                        + field
                        + "' "
                        + problem);
    }
}
