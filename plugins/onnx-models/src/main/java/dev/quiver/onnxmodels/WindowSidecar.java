package dev.quiver.onnxmodels;

import static dev.quiver.onnxmodels.SidecarJson.doubles;
import static dev.quiver.onnxmodels.SidecarJson.node;
import static dev.quiver.onnxmodels.SidecarJson.text;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The sidecar of a window model (written beside {@code lstm.onnx} by {@code mlflow/train/lstm.py},
 * beside {@code lstm3.onnx} by {@code lstm3.py}): what the model expects and how it was trained.
 * Only the fields serving needs are read; every one is validated.
 *
 * @param modelFile the model file's name, in the sidecar's folder
 * @param modelSha256 the model file's lower-case hex sha256
 * @param schemaName the feature schema trained on
 * @param schemaVersion its version
 * @param schemaHash its sha256
 * @param features the input features, in the model's order
 * @param timesteps the window length, in bars, {@code [1, 4096]}
 * @param mean the z-score means, one per feature
 * @param std the z-score scales, one per feature, finite and {@code > 0}
 * @param clip z-scores are clipped to {@code [-clip, clip]}
 * @param inputName the model's input tensor
 * @param outputName the model's output tensor
 * @param trainingSeries the series trained on
 * @param trainingFirstBar the first bar trained on
 * @param trainingLastBar the last bar trained on
 */
public record WindowSidecar(
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
        Instant trainingLastBar) {

    /**
     * Parses a sidecar whose format is {@code format}.
     *
     * @throws ModelRefusedException naming {@code file}, the field and the expectation
     */
    public static WindowSidecar parse(byte[] json, String file, String format) {
        return parse(
                SidecarJson.parse(json, file, format, " (expected that sidecar format)"), file);
    }

    /**
     * Reads the fields of a parsed sidecar (its format already checked).
     *
     * @throws ModelRefusedException naming {@code file}, the field and the expectation
     */
    public static WindowSidecar parse(JsonNode root, String file) {
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
        SidecarJson.checkStd(std, file);
        JsonNode training = node(root, "training", file);
        return new WindowSidecar(
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
                Instant.parse(text(training, "last_bar", file)));
    }

    /**
     * What a capability serving the model states about it in its descriptor: {@code timesteps},
     * {@code schema_hash}, {@code trained_on}, {@code trained_from} and {@code trained_through}
     * (instants in ISO-8601).
     *
     * @return the descriptor attributes, a new mutable map the capability adds its own to
     */
    public Map<String, String> descriptorAttributes() {
        Map<String, String> out = new HashMap<>();
        out.put("timesteps", String.valueOf(timesteps));
        out.put("schema_hash", schemaHash);
        out.put("trained_on", trainingSeries);
        out.put("trained_from", trainingFirstBar.toString());
        out.put("trained_through", trainingLastBar.toString());
        return out;
    }
}
