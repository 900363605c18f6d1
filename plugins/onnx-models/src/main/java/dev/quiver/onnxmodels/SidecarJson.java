package dev.quiver.onnxmodels;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;

/** Reading a model's JSON sidecar: every missing field or bad value refused, naming the file. */
public final class SidecarJson {

    private SidecarJson() {}

    /**
     * Parses a sidecar and checks its {@code format} field.
     *
     * @param json the sidecar's bytes
     * @param file the sidecar's name, for messages
     * @param format the expected {@code format}, e.g. {@code quiver-lstm-sidecar/1}
     * @param hint appended to the refusal of another format (e.g. {@code " (expected that sidecar
     *     format)"}), or empty
     * @return the root object
     * @throws ModelRefusedException if the bytes are not JSON or the format differs
     */
    public static JsonNode parse(byte[] json, String file, String format, String hint) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (IOException e) {
            throw new ModelRefusedException(file, "is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !format.equals(text(root, "format", file))) {
            throw new ModelRefusedException(file, "format is not " + format + hint);
        }
        return root;
    }

    /**
     * @return the non-null field {@code field} of {@code parent}
     * @throws ModelRefusedException if it is missing or JSON null
     */
    public static JsonNode node(JsonNode parent, String field, String file) {
        JsonNode n = parent.get(field);
        if (n == null || n.isNull()) {
            throw new ModelRefusedException(file, "field '" + field + "' is missing");
        }
        return n;
    }

    /**
     * @return the text of the field {@code field} of {@code parent}
     * @throws ModelRefusedException if it is missing or JSON null
     */
    public static String text(JsonNode parent, String field, String file) {
        return node(parent, field, file).asText();
    }

    /** The elements of a JSON array as doubles (non-numbers read as 0, as Jackson's asDouble). */
    public static double[] doubles(JsonNode array) {
        double[] out = new double[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asDouble();
        }
        return out;
    }

    /**
     * Checks z-score scales.
     *
     * @throws ModelRefusedException if a std is not finite and {@code > 0}
     */
    public static void checkStd(double[] std, String file) {
        for (double s : std) {
            if (!(s > 0) || !Double.isFinite(s)) {
                throw new ModelRefusedException(
                        file, "normalisation std must be finite and > 0, found " + s);
            }
        }
    }
}
