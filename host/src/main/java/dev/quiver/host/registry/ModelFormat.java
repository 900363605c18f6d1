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

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(8, b.length); i++) {
            sb.append(String.format(Locale.ROOT, "%02x", b[i] & 0xff));
        }
        return sb.toString();
    }
}
