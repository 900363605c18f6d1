package dev.quiver.host.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The hostile-model corpus of RELIABILITY.md P15/P16 and bad input 7, generated deterministically
 * at test time from the real models the project ships or trains: the LSTM plugin's {@code
 * lstm.onnx}, the CatBoost plugin's {@code catboost.cbm}, and the XGBoost JSON and LightGBM text
 * models {@code ensemble-gbm} trains in Java on bundled data. Generated, not committed: the
 * originals are in the repository (or trained by it, with fixed seeds), and every mutation below is
 * a pure function of the original bytes and a fixed seed ({@link #SEED} plus the format's index),
 * so two runs produce the same files byte for byte.
 *
 * <p>Kinds, for every format: {@code empty}; 10 {@code truncation}s (at 1%, 5%, 10%, 20%, 33%, 50%,
 * 66%, 80%, 95% of the length and one byte short); 20 {@code bit-flip}s (the most significant bit
 * of a seeded byte of the model's payload: see {@link #flipRegion}); 6 {@code header-swap}s (the
 * first 16 bytes of each other format over this one's, and each other format's whole file under
 * this one's name); 4 {@code zeroed-run}s (64 bytes zeroed at seeded offsets); {@code
 * registered-regressor} (the unchanged file, registered with {@code quiver.task=regressor}); plus
 * per format size-field inflation, dimension bombs, wrong opset/dtype/input or feature names, NaN
 * outputs on the golden rows and a regression objective, as listed in each generator.
 *
 * <p>The registry's checksum is always updated to the mutant's bytes (the harness writes the tags
 * and the sidecar's {@code model_sha256} from them), so the parsers see the damage, not only the
 * checksum.
 */
public final class HostileModelCorpus {

    /** The corpus seed. */
    static final long SEED = 0x5EED_2026L;

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One damaged or hostile model.
     *
     * @param id unique, e.g. {@code onnx-truncation-03}
     * @param kind the kind of damage
     * @param fileName the model file's name in the version folder
     * @param bytes its content
     * @param extraTags tags set on the version besides the harness's own
     * @param extraFiles further files in the version folder
     * @param beforeNativeLoad whether the promise requires the refusal before any native load (in
     *     the host's verification, no child JVM)
     * @param reasonHint a fragment the refusal reason must contain, empty for any
     */
    public record Mutant(
            String id,
            String kind,
            String fileName,
            byte[] bytes,
            Map<String, String> extraTags,
            Map<String, byte[]> extraFiles,
            boolean beforeNativeLoad,
            String reasonHint) {

        static Mutant of(String id, String kind, String fileName, byte[] bytes) {
            return new Mutant(id, kind, fileName, bytes, Map.of(), Map.of(), false, "");
        }

        Mutant beforeLoad(String hint) {
            return new Mutant(id, kind, fileName, bytes, extraTags, extraFiles, true, hint);
        }

        Mutant hint(String hint) {
            return new Mutant(
                    id, kind, fileName, bytes, extraTags, extraFiles, beforeNativeLoad, hint);
        }
    }

    /**
     * A real model to mutate.
     *
     * @param format its format
     * @param fileName its file name, e.g. {@code lstm.onnx}
     * @param bytes its content
     */
    public record Original(ModelFormat format, String fileName, byte[] bytes) {}

    private HostileModelCorpus() {}

    /**
     * The mutants of one original.
     *
     * @param o the original
     * @param others the originals of the other formats (for header swaps)
     * @return at least 50 mutants
     */
    public static List<Mutant> of(Original o, List<Original> others) {
        String p = o.format().tag();
        SplittableRandom rnd = new SplittableRandom(SEED + o.format().ordinal());
        byte[] b = o.bytes();
        String f = o.fileName();
        List<Mutant> out = new ArrayList<>();
        out.add(Mutant.of(p + "-empty", "empty", f, new byte[0]).beforeLoad("is empty"));
        double[] at = {0.01, 0.05, 0.10, 0.20, 0.33, 0.50, 0.66, 0.80, 0.95};
        for (int i = 0; i < at.length; i++) {
            out.add(
                    Mutant.of(
                            id(p, "truncation", i),
                            "truncation",
                            f,
                            Arrays.copyOf(b, Math.max(1, (int) (b.length * at[i])))));
        }
        out.add(
                Mutant.of(
                        id(p, "truncation", at.length),
                        "truncation",
                        f,
                        Arrays.copyOf(b, b.length - 1)));
        int[] flips = flipPositions(o, rnd);
        for (int i = 0; i < 20; i++) {
            byte[] m = b.clone();
            m[flips[2 * i]] ^= (byte) flips[2 * i + 1];
            out.add(Mutant.of(id(p, "bit-flip", i), "bit-flip", f, m));
        }
        int swap = 0;
        for (Original other : others) {
            byte[] m = b.clone();
            System.arraycopy(other.bytes(), 0, m, 0, Math.min(16, m.length));
            out.add(Mutant.of(id(p, "header-swap", swap++), "header-swap", f, m));
            out.add(
                    Mutant.of(id(p, "header-swap", swap++), "header-swap", f, other.bytes())
                            .hint(""));
        }
        for (int i = 0; i < 4; i++) {
            byte[] m = b.clone();
            int pos = rnd.nextInt(Math.max(1, m.length - 64));
            Arrays.fill(m, pos, Math.min(m.length, pos + 64), (byte) 0);
            out.add(Mutant.of(id(p, "zeroed-run", i), "zeroed-run", f, m));
        }
        out.add(
                new Mutant(
                        p + "-registered-regressor",
                        "registered-regressor",
                        f,
                        b,
                        Map.of(ModelStore.TAG_TASK, "regressor"),
                        Map.of(),
                        true,
                        "registered as a 'regressor'"));
        switch (o.format()) {
            case ONNX -> onnx(o, out);
            case XGBOOST_JSON -> xgboost(o, out);
            case LIGHTGBM_TXT -> lightgbm(o, out);
            case CATBOOST_CBM -> catboost(o, rnd, out);
            default -> throw new IllegalArgumentException("no generator for " + o.format());
        }
        return out;
    }

    /**
     * The P16 artifacts: code-executing formats and escaping paths, every one to be refused by the
     * format allow-list or path containment before any native load.
     *
     * @param onnx the real ONNX model (for the external-data case)
     * @return the 6 crafted artifacts
     */
    public static List<Mutant> p16(Original onnx) {
        // A minimal pickle: protocol 2, GLOBAL os.system, ... REDUCE: what a malicious .pkl holds.
        byte[] pickle =
                concat(
                        new byte[] {(byte) 0x80, 0x02},
                        ascii("cposix\nsystem\nq\u0000X\u0008\u0000\u0000\u0000touch /tmp/pwnedq"),
                        new byte[] {0x01, (byte) 0x85, 0x52, 0x2e});
        List<Mutant> out = new ArrayList<>();
        out.add(
                new Mutant(
                        "p16-pkl",
                        "p16",
                        "model.pkl",
                        pickle,
                        Map.of(),
                        Map.of(),
                        true,
                        "'model.pkl' is not an accepted format"));
        byte[] joblib = concat(ascii("PK\u0003\u0004"), new byte[60]);
        out.add(
                new Mutant(
                        "p16-joblib",
                        "p16",
                        "model.joblib",
                        joblib,
                        Map.of(),
                        Map.of(),
                        true,
                        "'model.joblib' is not an accepted format"));
        out.add(
                new Mutant(
                        "p16-mlmodel-loader-module",
                        "p16",
                        onnx.fileName(),
                        onnx.bytes(),
                        Map.of(),
                        Map.of(
                                "MLmodel",
                                ascii(
                                        "flavors:\n  python_function:\n"
                                                + "    loader_module: evil_loader\n"
                                                + "    code: code\n")),
                        true,
                        "'MLmodel' is not an accepted format"));
        out.add(
                new Mutant(
                        "p16-mlmodel-pickled-model",
                        "p16",
                        onnx.fileName(),
                        onnx.bytes(),
                        Map.of(),
                        Map.of(
                                "MLmodel",
                                ascii(
                                        "flavors:\n  python_function:\n"
                                                + "    loader_module: mlflow.sklearn\n"
                                                + "    pickled_model: ../x.pkl\n")),
                        true,
                        "'MLmodel' is not an accepted format"));
        out.add(
                new Mutant(
                        "p16-bst-pickle",
                        "p16",
                        "model.bst",
                        pickle,
                        Map.of(),
                        Map.of(),
                        true,
                        "not an accepted format"));
        out.add(
                new Mutant(
                        "p16-onnx-external-etc-passwd",
                        "p16",
                        onnx.fileName(),
                        concat(onnx.bytes(), externalInitializer("../../etc/passwd")),
                        Map.of(),
                        Map.of(),
                        true,
                        "'../../etc/passwd', which escapes the model folder"));
        return out;
    }

    // ---- ONNX ----------------------------------------------------------------------------

    private static void onnx(Original o, List<Mutant> out) {
        byte[] b = o.bytes();
        String f = o.fileName();
        OnnxStructure s;
        try {
            s = OnnxStructure.read(b);
        } catch (OnnxStructure.Malformed e) {
            throw new IllegalStateException("the original ONNX does not parse: " + e, e);
        }
        // External data, appended as a second GraphProto (protobuf merges repeated messages).
        String[] locations = {
            "../../etc/passwd", "subdir/../../etc/passwd", "/etc/passwd", "weights.bin"
        };
        for (int i = 0; i < locations.length; i++) {
            out.add(
                    Mutant.of(
                                    id("onnx", "external-data", i),
                                    "external-data",
                                    f,
                                    concat(b, externalInitializer(locations[i])))
                            .beforeLoad("external file '" + locations[i] + "'"));
        }
        // Opset and IR version newer than the runtime.
        // opset_import {domain: "", version: 15}
        int opset = indexOf(b, new byte[] {0x42, 0x04, 0x0a, 0x00, 0x10, 0x0f});
        for (int v : new int[] {30, 99}) {
            byte[] m = b.clone();
            m[opset + 5] = (byte) v;
            out.add(
                    Mutant.of("onnx-opset-" + v, "opset-too-new", f, m)
                            .beforeLoad("opset ai.onnx version " + v));
        }
        byte[] ir = b.clone();
        ir[1] = 99; // ir_version varint right after the 0x08 key
        out.add(
                Mutant.of("onnx-ir-version-99", "opset-too-new", f, ir)
                        .beforeLoad("IR version 99"));
        // Wrong input name (renamed everywhere: a consistent graph the sidecar does not feed) and
        // wrong input dtype (double, float16 where the sidecar feeds float32).
        out.add(
                Mutant.of(
                                "onnx-input-name",
                                "input-name",
                                f,
                                replaceAll(b, ascii("window"), ascii("wind0w")))
                        .hint("wind0w"));
        OnnxStructure.Input in = s.inputs().get(0);
        for (int dtype : new int[] {11, 10}) {
            byte[] m = b.clone();
            m[in.elemTypeOffset()] = (byte) dtype;
            out.add(Mutant.of("onnx-input-dtype-" + dtype, "input-dtype", f, m));
        }
        // NaN outputs on the golden rows: the output layer's bias set to NaN.
        OnnxStructure.Tensor bias =
                s.tensors().stream()
                        .filter(t -> t.name().contains("BiasAdd"))
                        .findFirst()
                        .orElseThrow();
        byte[] nan = b.clone();
        for (int i = 0; i < bias.rawLength(); i += 4) {
            ByteBuffer.wrap(nan, bias.rawOffset() + i, 4)
                    .order(ByteOrder.LITTLE_ENDIAN)
                    .putFloat(Float.NaN);
        }
        out.add(Mutant.of("onnx-nan-output", "nan-output", f, nan).hint("NaN"));
        // Size fields inflated: raw_data lengths of the three LSTM weights and the graph's length,
        // each varint set to the largest value of the same byte count.
        int k = 0;
        for (OnnxStructure.Tensor t : s.tensors()) {
            if (t.name().matches("[WRB]0__\\d+")) {
                out.add(
                        Mutant.of(
                                        id("onnx", "size-inflation", k++),
                                        "size-inflation",
                                        f,
                                        inflateVarintBefore(b, t.rawOffset()))
                                .beforeLoad("remain"));
            }
        }
        int graphKey = flipRegion(o)[0];
        out.add(
                Mutant.of(
                                id("onnx", "size-inflation", k++),
                                "size-inflation",
                                f,
                                inflateVarintAt(b, graphKey + 1))
                        .hint(""));
        // A dim bigger than the data (W0 declares 127 rows where it carries 64).
        OnnxStructure.Tensor w0 =
                s.tensors().stream()
                        .filter(t -> t.name().startsWith("W0__"))
                        .findFirst()
                        .orElseThrow();
        int dims = lastIndexOf(b, new byte[] {0x08, 0x01, 0x08, 0x40, 0x08, 0x07}, w0.rawOffset());
        byte[] bigger = b.clone();
        bigger[dims + 3] = 0x7f;
        out.add(
                Mutant.of(id("onnx", "size-inflation", k), "size-inflation", f, bigger)
                        .beforeLoad("carries 1,792 bytes of raw_data"));
        // Dimension bombs: an initializer of 10^18 floats with no data, one of 2^62 with 8 bytes,
        // and a graph input of 10^12 rows.
        out.add(
                Mutant.of(
                                "onnx-dimension-bomb-0",
                                "dimension-bomb",
                                f,
                                concat(
                                        b,
                                        graph(
                                                field(
                                                        5,
                                                        concat(
                                                                varintField(1, 1_000_000L),
                                                                varintField(1, 1_000_000L),
                                                                varintField(1, 1_000_000L),
                                                                varintField(2, 1),
                                                                field(8, ascii("bomb")))))))
                        .beforeLoad("dimension bomb"));
        out.add(
                Mutant.of(
                                "onnx-dimension-bomb-1",
                                "dimension-bomb",
                                f,
                                concat(
                                        b,
                                        graph(
                                                field(
                                                        5,
                                                        concat(
                                                                varintField(1, 1L << 31),
                                                                varintField(1, 1L << 31),
                                                                varintField(2, 1),
                                                                field(8, ascii("bomb")),
                                                                field(9, new byte[8]))))))
                        .beforeLoad("dimension bomb"));
        byte[] bombInput =
                field(
                        11,
                        concat(
                                field(1, ascii("rows")),
                                field(
                                        2,
                                        field(
                                                1,
                                                concat(
                                                        varintField(1, 1),
                                                        field(
                                                                2,
                                                                field(
                                                                        1,
                                                                        varintField(
                                                                                1,
                                                                                1_000_000_000_000L))))))));
        out.add(
                Mutant.of("onnx-dimension-bomb-2", "dimension-bomb", f, concat(b, graph(bombInput)))
                        .beforeLoad("dimension bomb"));
    }

    /** A GraphProto (ModelProto field 7) holding one external-data initializer. */
    private static byte[] externalInitializer(String location) {
        byte[] tensor =
                concat(
                        varintField(1, 4),
                        varintField(2, 1),
                        field(8, ascii("external_weights")),
                        field(13, concat(field(1, ascii("location")), field(2, ascii(location)))),
                        field(13, concat(field(1, ascii("offset")), field(2, ascii("0")))),
                        field(13, concat(field(1, ascii("length")), field(2, ascii("16")))),
                        varintField(14, 1));
        return graph(field(5, tensor));
    }

    private static byte[] graph(byte[] content) {
        return field(7, content);
    }

    /** The length varint that ends right before {@code payload}, set to its byte count's max. */
    private static byte[] inflateVarintBefore(byte[] b, int payload) {
        int start = payload - 1;
        while (start > 0 && (b[start - 1] & 0x80) != 0) {
            start--;
        }
        return inflateVarintAt(b, start);
    }

    private static byte[] inflateVarintAt(byte[] b, int start) {
        byte[] m = b.clone();
        int i = start;
        while ((m[i] & 0x80) != 0) {
            m[i++] = (byte) 0xff;
        }
        m[i] = 0x7f;
        return m;
    }

    private static byte[] field(int number, byte[] payload) {
        return concat(varint((long) number << 3 | 2), varint(payload.length), payload);
    }

    private static byte[] varintField(int number, long value) {
        return concat(varint((long) number << 3), varint(value));
    }

    private static byte[] varint(long v) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
        return out.toByteArray();
    }

    // ---- XGBoost JSON ----------------------------------------------------------------------

    private static void xgboost(Original o, List<Mutant> out) {
        String f = o.fileName();
        Map<String, java.util.function.Consumer<ObjectNode>> edits = new LinkedHashMap<>();
        edits.put(
                "size-inflation:num_trees",
                r ->
                        ((ObjectNode) gbtree(r).get("gbtree_model_param"))
                                .put("num_trees", "2147483647"));
        edits.put(
                "size-inflation:num_nodes",
                r -> ((ObjectNode) tree(r, 0).get("tree_param")).put("num_nodes", "2147483647"));
        edits.put(
                "size-inflation:child-index",
                r -> ((ArrayNode) tree(r, 0).get("left_children")).set(0, 1_000_000));
        edits.put(
                "size-inflation:split-index",
                r -> ((ArrayNode) tree(r, 0).get("split_indices")).set(0, 2147483647));
        edits.put(
                "dimension-bomb:num_feature",
                r -> learnerParam(r).put("num_feature", "2147483647"));
        edits.put(
                "dimension-bomb:tree-arrays",
                r -> {
                    ArrayNode a = (ArrayNode) tree(r, 0).get("left_children");
                    for (int i = 0; i < 100_000; i++) {
                        a.add(1);
                    }
                });
        edits.put(
                "nan-output",
                r -> {
                    for (JsonNode t : gbtree(r).path("trees")) {
                        ArrayNode sc = (ArrayNode) t.get("split_conditions");
                        ArrayNode left = (ArrayNode) t.get("left_children");
                        for (int i = 0; i < sc.size(); i++) {
                            if (left.get(i).asInt() == -1) {
                                sc.set(i, TextNode.valueOf("NaN"));
                            }
                        }
                    }
                });
        edits.put(
                "regressor-objective",
                r ->
                        ((ObjectNode) r.get("learner").get("objective"))
                                .put("name", "reg:squarederror"));
        edits.put("wrong-dtype:base_score", r -> learnerParam(r).put("base_score", "[5E-1]"));
        int i = 0;
        for (var e : edits.entrySet()) {
            ObjectNode root = (ObjectNode) readJson(o.bytes());
            e.getValue().accept(root);
            String kind = e.getKey().split(":")[0];
            Mutant m = Mutant.of(id("xgboost-json", kind, i++), kind, f, writeJson(root));
            out.add(
                    kind.equals("regressor-objective")
                            ? m.beforeLoad("reg:squarederror")
                            : kind.equals("nan-output") ? m.hint("NaN") : m);
        }
    }

    private static ObjectNode gbtree(ObjectNode root) {
        return (ObjectNode) root.path("learner").path("gradient_booster").path("model");
    }

    private static ObjectNode tree(ObjectNode root, int i) {
        return (ObjectNode) gbtree(root).path("trees").get(i);
    }

    private static ObjectNode learnerParam(ObjectNode root) {
        return (ObjectNode) root.path("learner").path("learner_model_param");
    }

    // ---- LightGBM text ---------------------------------------------------------------------

    private static void lightgbm(Original o, List<Mutant> out) {
        String f = o.fileName();
        String text = new String(o.bytes(), StandardCharsets.UTF_8);
        Map<String, String> edits = new LinkedHashMap<>();
        edits.put("size-inflation:num_leaves", replaceFirstLine(text, "num_leaves=", "2147483647"));
        edits.put("size-inflation:leaves+5", replaceFirstLine(text, "num_leaves=", null));
        edits.put("size-inflation:num_cat", replaceFirstLine(text, "num_cat=", "1000000"));
        edits.put("size-inflation:tree_sizes", replaceFirstLine(text, "tree_sizes=", "999999999"));
        edits.put(
                "dimension-bomb:max_feature_idx",
                replaceFirstLine(text, "max_feature_idx=", "2147483647"));
        edits.put("dimension-bomb:num_class", replaceFirstLine(text, "num_class=", "1000000"));
        // tree_sizes dropped (LightGBM reads the trees in order without it): NaN is shorter text.
        edits.put("nan-output", nanLeaves(text).replaceFirst("(?m)^tree_sizes=.*\n", ""));
        edits.put("regressor-objective", replaceFirstLine(text, "objective=", "regression"));
        edits.put(
                "size-inflation:split_feature",
                text.replaceFirst("(?m)^(split_feature=)(\\d+)", "$12147483647"));
        edits.put("wrong-dtype:leaf_value", replaceFirstLine(text, "leaf_value=", "a b c"));
        int i = 0;
        for (var e : edits.entrySet()) {
            String kind = e.getKey().split(":")[0];
            if (e.getValue().equals(text)) {
                throw new IllegalStateException("edit " + e.getKey() + " changed nothing");
            }
            Mutant m =
                    Mutant.of(
                            id("lightgbm-txt", kind, i++),
                            kind,
                            f,
                            e.getValue().getBytes(StandardCharsets.UTF_8));
            out.add(
                    kind.equals("regressor-objective")
                            ? m.beforeLoad("'regression'")
                            : kind.equals("nan-output") ? m.hint("NaN") : m);
        }
    }

    /** The first line starting with {@code key} set to {@code key + value}; null: +5 leaves. */
    private static String replaceFirstLine(String text, String key, String value) {
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].startsWith(key)) {
                String v =
                        value != null
                                ? value
                                : Integer.toString(
                                        Integer.parseInt(lines[i].substring(key.length())) + 5);
                lines[i] = key + v;
                return String.join("\n", lines);
            }
        }
        throw new IllegalStateException("no line " + key + " in the LightGBM model");
    }

    private static String nanLeaves(String text) {
        StringBuilder sb = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            if (line.startsWith("leaf_value=")) {
                int n = line.substring("leaf_value=".length()).split(" ").length;
                line = "leaf_value=" + String.join(" ", java.util.Collections.nCopies(n, "NaN"));
            }
            sb.append(line).append('\n');
        }
        return sb.substring(0, sb.length() - 1);
    }

    // ---- CatBoost .cbm ---------------------------------------------------------------------

    private static void catboost(Original o, SplittableRandom rnd, List<Mutant> out) {
        byte[] b = o.bytes();
        String f = o.fileName();
        // CBM1, then the flatbuffer core's size as a little-endian uint32.
        byte[] core = b.clone();
        ByteBuffer.wrap(core, 4, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(0x7fffffff);
        out.add(Mutant.of("catboost-cbm-size-inflation-0", "size-inflation", f, core));
        byte[] shrunk = b.clone();
        ByteBuffer.wrap(shrunk, 4, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(16);
        out.add(Mutant.of("catboost-cbm-size-inflation-1", "size-inflation", f, shrunk));
        // Flatbuffer offsets and vector lengths are uint32: seeded aligned words set to 2^31-16,
        // in the binary part (not inside the long JSON strings).
        int[] region = flipRegion(o);
        for (int i = 0; i < 6; i++) {
            byte[] m = b.clone();
            int pos = (region[0] + rnd.nextInt(region[1] - region[0] - 4)) & ~3;
            ByteBuffer.wrap(m, pos, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(0x7ffffff0);
            out.add(
                    Mutant.of(
                            id("catboost-cbm", i < 3 ? "size-inflation" : "dimension-bomb", i + 2),
                            i < 3 ? "size-inflation" : "dimension-bomb",
                            f,
                            m));
        }
        out.add(
                Mutant.of(
                                "catboost-cbm-regressor-objective",
                                "regressor-objective",
                                f,
                                replaceAll(b, ascii("Logloss"), ascii("Poisson")))
                        .beforeLoad("'Poisson', a regressor"));
        out.add(
                Mutant.of(
                                "catboost-cbm-feature-name",
                                "feature-name",
                                f,
                                replaceAll(b, ascii("rsi_14"), ascii("rsi_15")))
                        .hint("rsi_15"));
        out.add(
                Mutant.of(
                        "catboost-cbm-foreign-magic",
                        "header-swap",
                        f,
                        concat(ascii("CBM1"), Arrays.copyOfRange(b, 8, b.length))));
    }

    /**
     * 20 bit flips: {@code [position, mask]} pairs. ONNX: the top exponent bit ({@code 0x40} of the
     * high byte) of seeded float32 weights in the initializers' {@code raw_data}, so every flip
     * changes a number the network computes with by a factor of 2^128 or 2^-128 (a flip of a low
     * mantissa bit changes nothing a probability shows, and no check can or should tell it from the
     * original). Other formats: the most significant bit of a seeded byte in {@link #flipRegion}.
     */
    static int[] flipPositions(Original o, SplittableRandom rnd) {
        int[] out = new int[40];
        if (o.format() == ModelFormat.ONNX) {
            List<int[]> floats = new ArrayList<>();
            try {
                for (OnnxStructure.Tensor t : OnnxStructure.read(o.bytes()).tensors()) {
                    if (t.dataType() == 1 && t.rawOffset() >= 0) {
                        for (int i = 0; i + 4 <= t.rawLength(); i += 4) {
                            floats.add(new int[] {t.rawOffset() + i + 3});
                        }
                    }
                }
            } catch (OnnxStructure.Malformed e) {
                throw new IllegalStateException(e);
            }
            for (int i = 0; i < 20; i++) {
                out[2 * i] = floats.get(rnd.nextInt(floats.size()))[0];
                out[2 * i + 1] = 0x40;
            }
            return out;
        }
        int[] region = flipRegion(o);
        for (int i = 0; i < 20; i++) {
            out[2 * i] = region[0] + rnd.nextInt(region[1] - region[0]);
            out[2 * i + 1] = 0x80;
        }
        return out;
    }

    /**
     * Where bit flips land: the bytes the model's predictions are computed from, not text a reader
     * ignores. ONNX: the main graph (protobuf field 7: nodes, initializers, inputs), past the
     * producer strings. CatBoost: the binary part of the file, outside its long runs of printable
     * text (the training parameters and metrics stored as JSON strings). XGBoost JSON: the trees.
     * LightGBM: the tree blocks ({@code Tree=0} to {@code end of trees}).
     *
     * @return {@code [from, to)} in bytes
     */
    static int[] flipRegion(Original o) {
        byte[] b = o.bytes();
        String text = new String(b, StandardCharsets.ISO_8859_1);
        return switch (o.format()) {
            case ONNX -> {
                int key = indexOf(b, new byte[] {0x3a}, 3);
                yield new int[] {key, b.length};
            }
            case XGBOOST_JSON -> new int[] {text.indexOf("\"trees\""), text.lastIndexOf(']')};
            case LIGHTGBM_TXT -> new int[] {text.indexOf("Tree=0"), text.indexOf("end of trees")};
            case CATBOOST_CBM -> {
                // The longest prefix before the first run of 200+ printable bytes is binary
                // structure only if it is long enough; else the whole file after the header.
                int run = 0;
                int firstText = b.length;
                for (int i = 8; i < b.length; i++) {
                    run = b[i] >= 0x20 && b[i] < 0x7f ? run + 1 : 0;
                    if (run == 200) {
                        firstText = i - 199;
                        break;
                    }
                }
                yield firstText > 1024 ? new int[] {8, firstText} : new int[] {8, b.length};
            }
            default -> new int[] {0, b.length};
        };
    }

    // ---- helpers ---------------------------------------------------------------------------

    private static String id(String format, String kind, int i) {
        return String.format(java.util.Locale.ROOT, "%s-%s-%02d", format, kind, i);
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static int indexOf(byte[] b, byte[] pattern) {
        return indexOf(b, pattern, 0);
    }

    private static int indexOf(byte[] b, byte[] pattern, int from) {
        outer:
        for (int i = from; i <= b.length - pattern.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (b[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new IllegalStateException("pattern " + Arrays.toString(pattern) + " not found");
    }

    private static int lastIndexOf(byte[] b, byte[] pattern, int before) {
        for (int i = before - pattern.length; i >= 0; i--) {
            if (Arrays.equals(b, i, i + pattern.length, pattern, 0, pattern.length)) {
                return i;
            }
        }
        throw new IllegalStateException("pattern " + Arrays.toString(pattern) + " not found");
    }

    private static byte[] replaceAll(byte[] b, byte[] from, byte[] to) {
        byte[] m = b.clone();
        int n = 0;
        for (int i = 0; i <= m.length - from.length; i++) {
            if (Arrays.equals(m, i, i + from.length, from, 0, from.length)) {
                System.arraycopy(to, 0, m, i, to.length);
                n++;
            }
        }
        if (n == 0) {
            throw new IllegalStateException(
                    new String(from, StandardCharsets.ISO_8859_1) + " absent");
        }
        return m;
    }

    private static JsonNode readJson(byte[] b) {
        try {
            return JSON.readTree(b);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] writeJson(JsonNode n) {
        try {
            return JSON.writeValueAsBytes(n);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
