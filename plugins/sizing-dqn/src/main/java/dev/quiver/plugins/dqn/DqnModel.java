package dev.quiver.plugins.dqn;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The ONNX Q-network and its sidecar ({@code dqn.json}, written by {@code mlflow/train/dqn.py}),
 * validated before the first call: sha256 of the file against the sidecar, ONNX Runtime's own
 * parse, input {@code float[-1|1][4]} ({@code p_up, atr_pct_14, drawdown, payoff_ratio}) and output
 * {@code float[-1|1][3]} (the Q-value of holding 0, 0.5 and 1.0 of equity) against the sidecar.
 *
 * <p>Session options as the LSTM plugins: one intra-op and one inter-op thread, sequential, all
 * graph optimisations; one reused direct input buffer wrapped once in a tensor.
 *
 * <p>Not thread-safe: the owner serialises {@link #q} and {@link #close()}.
 */
final class DqnModel implements AutoCloseable {

    /** The state's inputs, in order: what the sidecar must declare. */
    static final List<String> INPUTS = List.of("p_up", "atr_pct_14", "drawdown", "payoff_ratio");

    private final String modelName;
    private final double[] mean;
    private final double[] std;
    private final double clip;
    private final double[] actions;
    private final String trainingSeries;
    private final Instant trainedFrom;
    private final Instant trainedThrough;
    private final OrtSession session;
    private final FloatBuffer input;
    private final OnnxTensor inputTensor;
    private final Map<String, OnnxTensor> feed;

    private DqnModel(JsonNode sidecar, String modelName, OrtSession session, String file)
            throws OrtException {
        this.modelName = modelName;
        JsonNode norm = node(sidecar, "normalisation", file);
        this.mean = doubles(node(norm, "mean", file));
        this.std = doubles(node(norm, "std", file));
        this.clip = node(norm, "clip", file).asDouble();
        this.actions = doubles(node(sidecar, "actions", file));
        JsonNode training = node(sidecar, "training", file);
        this.trainingSeries = node(training, "series", file).asText();
        this.trainedFrom = Instant.parse(node(training, "first_bar", file).asText());
        this.trainedThrough = Instant.parse(node(training, "last_bar", file).asText());
        this.session = session;
        this.input =
                ByteBuffer.allocateDirect(INPUTS.size() * Float.BYTES)
                        .order(ByteOrder.nativeOrder())
                        .asFloatBuffer();
        this.inputTensor =
                OnnxTensor.createTensor(
                        OrtEnvironment.getEnvironment(), input, new long[] {1, INPUTS.size()});
        this.feed = Map.of(node(node(sidecar, "input", file), "name", file).asText(), inputTensor);
    }

    /** Loads the model bundled in this plugin ({@code model/dqn.json} beside this class). */
    static DqnModel bundled() {
        String base = "classpath:dev/quiver/plugins/dqn/model/";
        JsonNode s = parse(resource("model/dqn.json", base + "dqn.json"), base + "dqn.json");
        String file = node(s, "model_file", base + "dqn.json").asText();
        return load(s, resource("model/" + file, base + file), base + file, base + "dqn.json");
    }

    /** Loads a sidecar file and the model file it names, from the same folder. */
    static DqnModel fromFiles(Path sidecarFile) {
        JsonNode s = parse(read(sidecarFile), sidecarFile.toString());
        String name = node(s, "model_file", sidecarFile.toString()).asText();
        if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.startsWith(".")) {
            throw new ModelRefusedException(
                    sidecarFile.toString(),
                    "model_file '" + name + "' must name a file in the sidecar's own folder");
        }
        Path model = sidecarFile.resolveSibling(name);
        return load(s, read(model), model.toString(), sidecarFile.toString());
    }

    private static JsonNode parse(byte[] json, String file) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (IOException e) {
            throw new ModelRefusedException(file, "is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !"quiver-dqn-sidecar/1".equals(node(root, "format", file).asText())) {
            throw new ModelRefusedException(file, "format is not quiver-dqn-sidecar/1");
        }
        List<String> inputs = new ArrayList<>();
        node(root, "inputs", file).forEach(n -> inputs.add(n.asText()));
        JsonNode norm = node(root, "normalisation", file);
        double[] mean = doubles(node(norm, "mean", file));
        double[] std = doubles(node(norm, "std", file));
        double[] actions = doubles(node(root, "actions", file));
        if (!inputs.equals(INPUTS) || mean.length != INPUTS.size() || std.length != INPUTS.size()) {
            throw new ModelRefusedException(
                    file,
                    "inputs "
                            + inputs
                            + " with "
                            + mean.length
                            + " means and "
                            + std.length
                            + " stds differ from the state this plugin builds, "
                            + INPUTS);
        }
        for (double s : std) {
            if (!(s > 0) || Double.isInfinite(s)) {
                throw new ModelRefusedException(
                        file, "normalisation std must be finite and > 0, found " + s);
            }
        }
        if (actions.length != 3) {
            throw new ModelRefusedException(
                    file, "actions must be 3 fractions of equity, found " + actions.length);
        }
        for (double a : actions) {
            if (!(a >= 0 && a <= 1)) {
                throw new ModelRefusedException(
                        file, "an action must be a fraction of equity in [0, 1], found " + a);
            }
        }
        return root;
    }

    private static DqnModel load(JsonNode sidecar, byte[] onnx, String modelName, String file) {
        String sha = sha256(onnx);
        String want = node(sidecar, "model_sha256", file).asText();
        if (!sha.equals(want)) {
            throw new ModelRefusedException(
                    modelName,
                    "sha256 "
                            + sha
                            + " ("
                            + onnx.length
                            + " bytes) differs from the sidecar's "
                            + want
                            + ": the file is truncated, corrupted or not the model the sidecar"
                            + " describes");
        }
        OrtSession session;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            session = OrtEnvironment.getEnvironment().createSession(onnx, options);
        } catch (OrtException | RuntimeException e) {
            throw new ModelRefusedException(
                    modelName,
                    "ONNX Runtime cannot load it ("
                            + onnx.length
                            + " bytes; expected a Q-network with input float[-1][4]): "
                            + e.getMessage(),
                    e);
        }
        try {
            checkTensor(session.getInputInfo(), "input", new long[] {-1, 4}, modelName);
            checkTensor(session.getOutputInfo(), "output", new long[] {-1, 3}, modelName);
            return new DqnModel(sidecar, modelName, session, file);
        } catch (OrtException | RuntimeException e) {
            try {
                session.close();
            } catch (OrtException closing) {
                e.addSuppressed(closing);
            }
            if (e instanceof ModelRefusedException refused) {
                throw refused;
            }
            throw new ModelRefusedException(modelName, "cannot inspect it: " + e.getMessage(), e);
        }
    }

    private static void checkTensor(
            Map<String, NodeInfo> nodes, String role, long[] expected, String model) {
        if (nodes.size() != 1) {
            throw new ModelRefusedException(
                    model, "has " + nodes.size() + " " + role + "s " + nodes.keySet() + ", not 1");
        }
        NodeInfo node = nodes.values().iterator().next();
        if (!(node.getInfo() instanceof TensorInfo info)
                || info.type != ai.onnxruntime.OnnxJavaType.FLOAT) {
            throw new ModelRefusedException(
                    model, role + " '" + node.getName() + "' is not a float tensor: " + node);
        }
        long[] shape = info.getShape();
        boolean ok = shape.length == expected.length;
        for (int i = 0; ok && i < shape.length; i++) {
            ok = i == 0 ? (shape[0] == -1 || shape[0] == 1) : shape[i] == expected[i];
        }
        if (!ok) {
            throw new ModelRefusedException(
                    model,
                    role
                            + " shape "
                            + Arrays.toString(shape)
                            + " differs from "
                            + Arrays.toString(expected)
                            + " (float[batch][p_up, atr_pct_14, drawdown, payoff_ratio] in,"
                            + " Q[batch][flat, half, full] out)");
        }
    }

    String modelName() {
        return modelName;
    }

    double[] actions() {
        return actions.clone();
    }

    String trainingSeries() {
        return trainingSeries;
    }

    Instant trainedFrom() {
        return trainedFrom;
    }

    Instant trainedThrough() {
        return trainedThrough;
    }

    /**
     * The Q-values of a raw state: {@code z = clip((x - mean) / std, -clip, clip)} in double, then
     * float, exactly as training did, then the network.
     *
     * @param raw {@code [p_up, atr_pct_14, drawdown, payoff_ratio]}
     * @return {@code [Q(flat), Q(half), Q(full)]}
     */
    float[] q(double[] raw) {
        for (int i = 0; i < raw.length; i++) {
            double z = (raw[i] - mean[i]) / std[i];
            input.put(i, (float) Math.max(-clip, Math.min(clip, z)));
        }
        try (OrtSession.Result result = session.run(feed)) {
            FloatBuffer out = ((OnnxTensor) result.get(0)).getFloatBuffer();
            return new float[] {out.get(0), out.get(1), out.get(2)};
        } catch (OrtException e) {
            throw new IllegalStateException(
                    "[Quiver/CAPABILITY_FAILED] ONNX Runtime failed on " + modelName, e);
        }
    }

    /** Closes the input tensor and the session (the shared environment stays). */
    @Override
    public void close() {
        inputTensor.close();
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("closing the ONNX session of " + modelName, e);
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    private static JsonNode node(JsonNode parent, String field, String file) {
        JsonNode n = parent.get(field);
        if (n == null || n.isNull()) {
            throw new ModelRefusedException(file, "field '" + field + "' is missing");
        }
        return n;
    }

    private static double[] doubles(JsonNode array) {
        double[] out = new double[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asDouble();
        }
        return out;
    }

    private static byte[] resource(String relative, String name) {
        try (InputStream in = DqnModel.class.getResourceAsStream(relative)) {
            if (in == null) {
                throw new ModelRefusedException(name, "is missing from the plugin");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new ModelRefusedException(name, "cannot be read: " + e.getMessage(), e);
        }
    }

    private static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ModelRefusedException(
                    file.toString(), "cannot be read (" + e.getClass().getSimpleName() + ")", e);
        }
    }
}
