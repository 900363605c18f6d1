package dev.quiver.plugins.dqn;

import static dev.quiver.onnxmodels.SidecarJson.doubles;
import static dev.quiver.onnxmodels.SidecarJson.node;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.onnxmodels.ModelRefusedException;
import dev.quiver.onnxmodels.OnnxModels;
import dev.quiver.onnxmodels.SidecarJson;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
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
        JsonNode s =
                parse(
                        OnnxModels.resource(DqnModel.class, "model/dqn.json", base + "dqn.json"),
                        base + "dqn.json");
        String file = node(s, "model_file", base + "dqn.json").asText();
        return load(
                s,
                OnnxModels.resource(DqnModel.class, "model/" + file, base + file),
                base + file,
                base + "dqn.json");
    }

    /** Loads a sidecar file and the model file it names, from the same folder. */
    static DqnModel fromFiles(Path sidecarFile) {
        JsonNode s = parse(OnnxModels.read(sidecarFile), sidecarFile.toString());
        String name = node(s, "model_file", sidecarFile.toString()).asText();
        Path model = OnnxModels.beside(sidecarFile, name, true);
        return load(s, OnnxModels.read(model), model.toString(), sidecarFile.toString());
    }

    private static JsonNode parse(byte[] json, String file) {
        JsonNode root = SidecarJson.parse(json, file, "quiver-dqn-sidecar/1", "");
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
        SidecarJson.checkStd(std, file);
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
        String layout =
                "float[batch][p_up, atr_pct_14, drawdown, payoff_ratio] in,"
                        + " Q[batch][flat, half, full] out";
        return OnnxModels.open(
                onnx,
                node(sidecar, "model_sha256", file).asText(),
                modelName,
                "a Q-network with input float[-1][4]",
                session -> {
                    OnnxModels.checkTensor(
                            OnnxModels.single(session.getInputInfo(), "input", modelName),
                            "input",
                            new long[] {-1, 4},
                            modelName,
                            "",
                            layout);
                    OnnxModels.checkTensor(
                            OnnxModels.single(session.getOutputInfo(), "output", modelName),
                            "output",
                            new long[] {-1, 3},
                            modelName,
                            "",
                            layout);
                    return new DqnModel(sidecar, modelName, session, file);
                });
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
        return OnnxModels.sha256(bytes);
    }
}
