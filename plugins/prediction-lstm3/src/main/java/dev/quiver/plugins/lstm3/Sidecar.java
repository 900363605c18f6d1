package dev.quiver.plugins.lstm3;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The JSON written beside {@code lstm3.onnx} by {@code mlflow/train/lstm3.py}: what the model
 * expects and how it was trained. Only the fields serving needs are read; every one is validated.
 */
record Sidecar(
        String modelFile,
        String modelSha256,
        String schemaName,
        String schemaVersion,
        String schemaHash,
        List<String> features,
        int timesteps,
        double[] mean,
        double[] std,
        double clip,
        String inputName,
        String outputName,
        String trainingSeries,
        Instant trainingFirstBar,
        Instant trainingLastBar,
        double sidewaysAtrMultiple,
        double sidewaysUpShare) {

    static Sidecar parse(byte[] json, String file) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (IOException e) {
            throw new ModelRefusedException(file, "is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !"quiver-lstm3-sidecar/1".equals(text(root, "format", file))) {
            throw new ModelRefusedException(
                    file, "format is not quiver-lstm3-sidecar/1 (expected that sidecar format)");
        }
        JsonNode schema = node(root, "schema", file);
        List<String> features = new ArrayList<>();
        for (JsonNode f : node(root, "features", file)) {
            features.add(f.asText());
        }
        int timesteps = node(root, "timesteps", file).asInt();
        JsonNode norm = node(root, "normalisation", file);
        double[] mean = doubles(node(norm, "mean", file));
        double[] std = doubles(node(norm, "std", file));
        if (features.isEmpty()
                || timesteps < 1
                || timesteps > 4096
                || mean.length != features.size()
                || std.length != features.size()) {
            throw new ModelRefusedException(
                    file,
                    "inconsistent shape: expected timesteps in [1, 4096] and one mean and std per"
                            + " feature, found "
                            + features.size()
                            + " features, timesteps "
                            + timesteps
                            + ", "
                            + mean.length
                            + " means, "
                            + std.length
                            + " stds");
        }
        for (double s : std) {
            if (!(s > 0) || !Double.isFinite(s)) {
                throw new ModelRefusedException(
                        file, "normalisation std must be finite and > 0, found " + s);
            }
        }
        JsonNode training = node(root, "training", file);
        double k = node(node(root, "sideways_band", file), "atr_multiple", file).asDouble();
        double share =
                node(node(root, "p_up_close", file), "sideways_up_share", file)
                        .asDouble(Double.NaN);
        if (!(k > 0) || Double.isInfinite(k) || !(share >= 0 && share <= 1)) {
            throw new ModelRefusedException(
                    file,
                    "sideways_band.atr_multiple must be finite and > 0 and"
                            + " p_up_close.sideways_up_share in [0, 1], found "
                            + k
                            + " and "
                            + share);
        }
        return new Sidecar(
                text(root, "model_file", file),
                text(root, "model_sha256", file),
                text(schema, "name", file),
                text(schema, "version", file),
                text(schema, "hash", file),
                List.copyOf(features),
                timesteps,
                mean,
                std,
                node(norm, "clip", file).asDouble(),
                text(node(root, "input", file), "name", file),
                text(node(root, "output", file), "name", file),
                text(training, "series", file),
                Instant.parse(text(training, "first_bar", file)),
                Instant.parse(text(training, "last_bar", file)),
                k,
                share);
    }

    private static JsonNode node(JsonNode parent, String field, String file) {
        JsonNode n = parent.get(field);
        if (n == null || n.isNull()) {
            throw new ModelRefusedException(file, "field '" + field + "' is missing");
        }
        return n;
    }

    private static String text(JsonNode parent, String field, String file) {
        return node(parent, field, file).asText();
    }

    private static double[] doubles(JsonNode array) {
        double[] out = new double[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asDouble();
        }
        return out;
    }
}
