package dev.quiver.plugins.gbm;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.error.QuiverInputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A capability's state file ({@code <name>.state.json}, api 1.3.0 {@code exportState}): written
 * with Jackson, whose doubles are the shortest decimal that reads back to the same {@code double}
 * ({@link Double#toString}), so a state round-trips bit for bit; read back with every field
 * checked, a problem reported as {@code BAD_STATE} naming the file and the field.
 *
 * <p>Every state file starts with {@code format} (e.g. {@code quiver-stack-state/1}) and {@code
 * capability} ({@code name}, {@code version}).
 */
final class StateJson {

    static final String CODE = "BAD_STATE";

    private static final ObjectMapper JSON =
            new ObjectMapper()
                    .enable(SerializationFeature.INDENT_OUTPUT)
                    .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Path file;
    private final JsonNode root;

    private StateJson(Path file, JsonNode root) {
        this.file = file;
        this.root = root;
    }

    /** A new state object with its {@code format} and {@code capability} header. */
    static ObjectNode header(String format, String name, String version) {
        ObjectNode s = JSON.createObjectNode();
        s.put("format", format);
        ObjectNode c = s.putObject("capability");
        c.put("name", name);
        c.put("version", version);
        return s;
    }

    /**
     * Writes {@code state} to {@code <dir>/<name>.state.json}.
     *
     * @return the file
     * @throws UncheckedIOException if it cannot be written
     */
    static Path write(Path dir, String name, ObjectNode state) {
        Path file = dir.resolve(name + ".state.json");
        try {
            JSON.writeValue(file.toFile(), state);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot write the state of '" + name + "' to " + file, e);
        }
        return file;
    }

    /**
     * Reads {@code <dir>/<name>.state.json} and checks its header.
     *
     * @throws QuiverInputException ({@code BAD_STATE}) if it is missing, not complete JSON, of
     *     another format or of another capability
     * @throws UncheckedIOException if it exists but cannot be read
     */
    static StateJson read(Path dir, String name, String format) {
        Path file = dir.resolve(name + ".state.json");
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw bad(
                    file, "(file)", null, "is missing: nothing to restore '" + name + "' from", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the state file " + file, e);
        }
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw bad(
                    file,
                    "(json)",
                    bytes.length + " bytes",
                    "is not complete JSON (truncated or damaged?): "
                            + e.getOriginalMessage().lines().findFirst().orElse(""),
                    e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the state file " + file, e);
        }
        if (root == null || !root.isObject()) {
            throw bad(file, "(json)", root, "is not a JSON object", null);
        }
        StateJson s = new StateJson(file, root);
        String f = s.text(root, "format");
        if (!f.equals(format)) {
            throw bad(
                    file, "format", f, "is not a format this plugin reads (" + format + ")", null);
        }
        String n = s.text(s.object(root, "capability"), "capability.name");
        if (!n.equals(name)) {
            throw bad(file, "capability.name", n, "is not '" + name + "'", null);
        }
        return s;
    }

    JsonNode root() {
        return root;
    }

    /** A {@code BAD_STATE} naming this file and {@code field}. */
    QuiverInputException bad(String field, Object value, String problem) {
        return bad(file, field, value, problem, null);
    }

    private static QuiverInputException bad(
            Path file, String field, Object value, String problem, Throwable cause) {
        var e = new QuiverInputException(CODE, field, "state file " + file, value, problem);
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }

    /**
     * The member of {@code node} at {@code path}, which must be present (possibly JSON null).
     *
     * @param node the object holding it
     * @param path its dotted path from the root, for messages; the last segment is its key, e.g.
     *     {@code meta.intercept}
     */
    JsonNode member(JsonNode node, String path) {
        JsonNode v = node.get(path.substring(path.lastIndexOf('.') + 1));
        if (v == null) {
            throw bad(path, null, "is missing");
        }
        return v;
    }

    ObjectNode object(JsonNode node, String path) {
        JsonNode v = member(node, path);
        if (!v.isObject()) {
            throw bad(path, v, "is not a JSON object");
        }
        return (ObjectNode) v;
    }

    String text(JsonNode node, String path) {
        JsonNode v = member(node, path);
        if (!v.isTextual()) {
            throw bad(path, v, "is not a string");
        }
        return v.asText();
    }

    /** A finite number. */
    double number(JsonNode node, String path) {
        return finite(member(node, path), path);
    }

    /** A non-negative int. */
    int count(JsonNode node, String path) {
        JsonNode v = member(node, path);
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 0) {
            throw bad(path, v, "is not a non-negative int");
        }
        return v.asInt();
    }

    /** An array of finite numbers. */
    double[] numbers(JsonNode node, String path) {
        JsonNode v = member(node, path);
        if (!v.isArray()) {
            throw bad(path, v, "is not an array of numbers");
        }
        double[] out = new double[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = finite(v.get(i), path + "[" + i + "]");
        }
        return out;
    }

    /** An array of strings. */
    java.util.List<String> texts(JsonNode node, String path) {
        JsonNode v = member(node, path);
        if (!v.isArray()) {
            throw bad(path, v, "is not an array of strings");
        }
        var out = new java.util.ArrayList<String>(v.size());
        for (int i = 0; i < v.size(); i++) {
            if (!v.get(i).isTextual()) {
                throw bad(path + "[" + i + "]", v.get(i), "is not a string");
            }
            out.add(v.get(i).asText());
        }
        return java.util.List.copyOf(out);
    }

    private double finite(JsonNode v, String path) {
        if (!v.isNumber() || !Double.isFinite(v.doubleValue())) {
            throw bad(path, v, "is not a finite number");
        }
        return v.doubleValue();
    }
}
