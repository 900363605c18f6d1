package dev.quiver.host.registry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * The model formats the host accepts: data, never code. ONNX, XGBoost JSON/UBJSON, LightGBM text,
 * CatBoost {@code .cbm}. Pickle, joblib, PyTorch, Keras and anything needing Python code to load is
 * refused, by name and by content (a pickle renamed {@code .onnx} is still a pickle).
 */
public enum ModelFormat {
    /** ONNX protobuf; starts with field 1 ({@code ir_version}, varint): byte {@code 0x08}. */
    ONNX("onnx", ".onnx"),
    /** XGBoost JSON model. */
    XGBOOST_JSON("xgboost-json", ".json"),
    /** XGBoost Universal Binary JSON model. */
    XGBOOST_UBJ("xgboost-ubj", ".ubj"),
    /** LightGBM text model; starts with {@code tree}. */
    LIGHTGBM_TXT("lightgbm-txt", ".txt"),
    /** CatBoost binary model; starts with {@code CBM1}. */
    CATBOOST_CBM("catboost-cbm", ".cbm");

    private final String tag;
    private final String extension;

    ModelFormat(String tag, String extension) {
        this.tag = tag;
        this.extension = extension;
    }

    /**
     * The value of the {@code quiver.format} tag.
     *
     * @return e.g. {@code onnx}
     */
    public String tag() {
        return tag;
    }

    /**
     * The format a file name says, if it is on the allow-list.
     *
     * @param fileName e.g. {@code lstm.onnx}
     * @return the format, or empty for anything else ({@code .pkl}, {@code .joblib}, ...)
     */
    public static Optional<ModelFormat> byFileName(String fileName) {
        String lower = fileName.toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(f -> lower.endsWith(f.extension)).findFirst();
    }

    /**
     * The format of a {@code quiver.format} tag.
     *
     * @param tag e.g. {@code catboost-cbm}
     * @return the format, or empty
     */
    public static Optional<ModelFormat> byTag(String tag) {
        return Arrays.stream(values()).filter(f -> f.tag.equals(tag)).findFirst();
    }

    /**
     * Checks a file's first bytes against the format, before any engine sees it.
     *
     * @param file the model file
     * @return empty if it looks like this format, else the reason it does not
     * @throws IOException if the file cannot be read
     */
    public Optional<String> contentProblem(Path file) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(16);
        }
        String name = file.getFileName().toString();
        if (head.length == 0) {
            return Optional.of(name + " is empty");
        }
        int b0 = head[0] & 0xff;
        if (b0 == 0x80 && head.length > 1 && (head[1] & 0xff) <= 5) {
            return Optional.of(
                    name
                            + " is a Python pickle (protocol "
                            + head[1]
                            + "), which runs code when loaded");
        }
        if (head.length >= 2 && head[0] == 'P' && head[1] == 'K') {
            return Optional.of(
                    name + " is a zip archive (joblib/PyTorch/Keras), not a " + tag + " model");
        }
        String text = new String(head, StandardCharsets.US_ASCII).stripLeading();
        boolean ok =
                switch (this) {
                    case ONNX -> b0 == 0x08;
                    case XGBOOST_JSON, XGBOOST_UBJ -> text.startsWith("{");
                    case LIGHTGBM_TXT -> text.startsWith("tree");
                    case CATBOOST_CBM -> text.startsWith("CBM1");
                };
        return ok
                ? Optional.empty()
                : Optional.of(
                        name
                                + " does not start like a "
                                + tag
                                + " model (first bytes "
                                + hex(head)
                                + ")");
    }

    /**
     * Checks a file's structure before any engine sees it, after {@link #contentProblem}: for ONNX
     * the protobuf walk of {@link OnnxStructure#problem} (malformed or truncated protobuf, IR
     * version or opset newer than the runtime, external data, dimension bombs); for every format
     * the learning task the file declares ({@link #objective}) against what Quiver serves (binary
     * classifiers: every prediction is a probability of an up move) and against the version's
     * registration ({@code quiver.task}, {@link ModelStore#TAG_TASK}).
     *
     * @param file the model file
     * @param registeredTask the {@code quiver.task} tag, or null when the version has none
     * @return empty if nothing is wrong, else the reason, naming the file
     * @throws IOException if the file cannot be read
     */
    public Optional<String> structureProblem(Path file, String registeredTask) throws IOException {
        String name = file.getFileName().toString();
        byte[] bytes = Files.readAllBytes(file);
        if (this == ONNX) {
            Optional<String> p = OnnxStructure.problem(bytes, name);
            if (p.isPresent()) {
                return p;
            }
        }
        Optional<String> declared =
                switch (this) {
                    case XGBOOST_JSON -> XgbStructure.problem(bytes, name);
                    case LIGHTGBM_TXT -> LgbmStructure.problem(bytes, name);
                    case CATBOOST_CBM -> CbmStructure.problem(bytes, name);
                    default -> Optional.empty();
                };
        if (declared.isPresent()) {
            return declared;
        }
        Optional<String> objective = objective(bytes);
        boolean classifier = objective.map(this::isClassifierObjective).orElse(true);
        if (registeredTask != null && !registeredTask.equals(TASK_CLASSIFIER)) {
            return Optional.of(
                    "the version is registered as a '"
                            + registeredTask
                            + "' (tag "
                            + ModelStore.TAG_TASK
                            + ") but "
                            + name
                            + (objective.isPresent()
                                    ? " declares objective '"
                                            + objective.get()
                                            + "' ("
                                            + (classifier ? "a classifier" : "a regressor")
                                            + ")"
                                    : " is served as a classifier")
                            + "; Quiver serves only '"
                            + TASK_CLASSIFIER
                            + "' models: every prediction is a probability of an up move");
        }
        if (!classifier) {
            return Optional.of(
                    name
                            + " declares objective '"
                            + objective.get()
                            + "', a regressor, but the version is served as a "
                            + TASK_CLASSIFIER
                            + ": its raw output is not a probability of an up move");
        }
        return Optional.empty();
    }

    /** The only {@code quiver.task} Quiver serves. */
    public static final String TASK_CLASSIFIER = "binary-classifier";

    /**
     * The objective a model file declares in its own metadata, read without loading it: XGBoost
     * JSON {@code learner.objective.name}, the LightGBM header's {@code objective=} line,
     * CatBoost's {@code "loss_function":{"type":...}} in the parameters it stores; ONNX declares
     * none.
     *
     * @param bytes the file
     * @return the objective, or empty if the file declares none this reader finds (the plugin's own
     *     parser then decides)
     */
    Optional<String> objective(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        switch (this) {
            case XGBOOST_JSON -> {
                try {
                    com.fasterxml.jackson.databind.JsonNode n =
                            ModelStore.JSON.readTree(bytes).path("learner").path("objective");
                    return n.path("name").isTextual()
                            ? Optional.of(n.path("name").asText())
                            : Optional.empty();
                } catch (IOException e) {
                    // Not JSON: the plugin's parser refuses it with its own reason.
                    return Optional.empty();
                }
            }
            case LIGHTGBM_TXT -> {
                int end = text.indexOf("\nTree=");
                String header = end < 0 ? text : text.substring(0, end);
                for (String line : header.split("\n")) {
                    if (line.startsWith("objective=")) {
                        return Optional.of(line.substring("objective=".length()).strip());
                    }
                }
                return Optional.empty();
            }
            case CATBOOST_CBM -> {
                String key = "\"loss_function\":{\"type\":\"";
                int i = text.indexOf(key);
                if (i < 0) {
                    return Optional.empty();
                }
                int from = i + key.length();
                int to = text.indexOf('"', from);
                return to < 0 || to - from > 64
                        ? Optional.empty()
                        : Optional.of(text.substring(from, to));
            }
            default -> {
                return Optional.empty();
            }
        }
    }

    /** Whether an objective of this format's library trains a classifier. */
    boolean isClassifierObjective(String objective) {
        String o = objective.strip();
        return switch (this) {
            case XGBOOST_JSON, XGBOOST_UBJ -> o.startsWith("binary:") || o.startsWith("multi:");
            case LIGHTGBM_TXT -> o.startsWith("binary") || o.startsWith("multiclass");
            case CATBOOST_CBM ->
                    o.equals("Logloss") || o.equals("CrossEntropy") || o.startsWith("MultiClass");
            case ONNX -> true;
        };
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(8, b.length); i++) {
            sb.append(String.format(Locale.ROOT, "%02x", b[i] & 0xff));
        }
        return sb.toString();
    }
}
