package dev.quiver.plugins.lstm3;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;

/**
 * The three-class ONNX LSTM and its sidecar, validated before the first call: sha256 of the file
 * against the sidecar, then ONNX Runtime's own parse, then input {@code
 * float[-1|1][timesteps][features]} and output {@code float[-1|1][3]} (down, sideways, up) against
 * the sidecar.
 *
 * <p>Session options, set deliberately: one intra-op and one inter-op thread (a single window is
 * far too small to gain from parallelism, and the host runs one forecast per source per bar),
 * sequential execution, all graph optimisations. One reused direct {@link FloatBuffer} wrapped once
 * in an {@link OnnxTensor} of shape {@code [1, timesteps, features]} carries every input, so a call
 * allocates no input tensor.
 *
 * <p>Not thread-safe: the owner serialises {@link #predict()} and {@link #close()}.
 */
final class Lstm3Model implements AutoCloseable {

    private final Sidecar sidecar;
    private final String modelName;
    private final OrtSession session;
    private final FloatBuffer input;
    private final OnnxTensor inputTensor;
    private final Map<String, OnnxTensor> feed;

    private Lstm3Model(Sidecar sidecar, String modelName, OrtSession session) throws OrtException {
        this.sidecar = sidecar;
        this.modelName = modelName;
        this.session = session;
        int n = sidecar.timesteps() * sidecar.features().size();
        this.input =
                ByteBuffer.allocateDirect(n * Float.BYTES)
                        .order(ByteOrder.nativeOrder())
                        .asFloatBuffer();
        this.inputTensor =
                OnnxTensor.createTensor(
                        OrtEnvironment.getEnvironment(),
                        input,
                        new long[] {1, sidecar.timesteps(), sidecar.features().size()});
        this.feed = Map.of(sidecar.inputName(), inputTensor);
    }

    /** Loads the model bundled in this plugin ({@code model/lstm3.json} beside this class). */
    static Lstm3Model bundled() {
        String base = "classpath:dev/quiver/plugins/lstm3/model/";
        byte[] json = resource("model/lstm3.json", base + "lstm3.json");
        Sidecar s = Sidecar.parse(json, base + "lstm3.json");
        return load(
                s, resource("model/" + s.modelFile(), base + s.modelFile()), base + s.modelFile());
    }

    /** Loads a sidecar file and the model file it names, from the same folder. */
    static Lstm3Model fromFiles(Path sidecarFile) {
        Sidecar s = Sidecar.parse(read(sidecarFile), sidecarFile.toString());
        String name = s.modelFile();
        if (name.isEmpty()
                || name.contains("/")
                || name.contains("\\")
                || name.equals(".")
                || name.equals("..")) {
            throw new ModelRefusedException(
                    sidecarFile.toString(),
                    "model_file '" + name + "' must name a file in the sidecar's own folder");
        }
        Path model = sidecarFile.resolveSibling(name);
        return load(s, read(model), model.toString());
    }

    /**
     * Validates and opens a model.
     *
     * @throws ModelRefusedException naming {@code modelName} and what was expected
     */
    static Lstm3Model load(Sidecar sidecar, byte[] onnx, String modelName) {
        String sha = sha256(onnx);
        if (!sha.equals(sidecar.modelSha256())) {
            throw new ModelRefusedException(
                    modelName,
                    "sha256 "
                            + sha
                            + " ("
                            + onnx.length
                            + " bytes) differs from the sidecar's "
                            + sidecar.modelSha256()
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
                            + " bytes; expected an ONNX three-class LSTM with input float[-1]["
                            + sidecar.timesteps()
                            + "]["
                            + sidecar.features().size()
                            + "]): "
                            + e.getMessage(),
                    e);
        }
        try {
            checkShapes(session, sidecar, modelName);
            return new Lstm3Model(sidecar, modelName, session);
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

    private static void checkShapes(OrtSession session, Sidecar s, String modelName)
            throws OrtException {
        long[] expectedIn = {-1, s.timesteps(), s.features().size()};
        long[] expectedOut = {-1, 3};
        Map<String, NodeInfo> inputs = session.getInputInfo();
        Map<String, NodeInfo> outputs = session.getOutputInfo();
        if (inputs.size() != 1 || !inputs.containsKey(s.inputName())) {
            throw new ModelRefusedException(
                    modelName,
                    "inputs "
                            + inputs.keySet()
                            + " differ from the sidecar's single input '"
                            + s.inputName()
                            + "'");
        }
        checkTensor(inputs.get(s.inputName()), "input", expectedIn, modelName);
        if (outputs.size() != 1 || !outputs.containsKey(s.outputName())) {
            throw new ModelRefusedException(
                    modelName,
                    "outputs "
                            + outputs.keySet()
                            + " differ from the sidecar's single output '"
                            + s.outputName()
                            + "'");
        }
        checkTensor(outputs.get(s.outputName()), "output", expectedOut, modelName);
    }

    private static void checkTensor(NodeInfo node, String role, long[] expected, String model) {
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
                            + " differs from the sidecar's "
                            + Arrays.toString(expected)
                            + " (float[batch][timesteps][features] in, [down, sideways, up] out)");
        }
    }

    Sidecar sidecar() {
        return sidecar;
    }

    String modelName() {
        return modelName;
    }

    /**
     * z-scores one raw feature row exactly as training did: {@code clip((x - mean) / std, -clip,
     * clip)} in double, then float.
     *
     * @param raw feature values in sidecar order
     * @param out destination, same length
     */
    void normalise(double[] raw, float[] out) {
        double[] mean = sidecar.mean();
        double[] std = sidecar.std();
        double clip = sidecar.clip();
        for (int i = 0; i < out.length; i++) {
            double z = (raw[i] - mean[i]) / std[i];
            out[i] = (float) Math.max(-clip, Math.min(clip, z));
        }
    }

    /** The reused input buffer, {@code timesteps * features} floats, row-major. */
    FloatBuffer input() {
        return input;
    }

    /**
     * Runs the model on the current contents of {@link #input()}.
     *
     * @return {@code [p_down, p_sideways, p_up]}
     */
    float[] predict() {
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

    private static byte[] resource(String relative, String name) {
        try (InputStream in = Lstm3Model.class.getResourceAsStream(relative)) {
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
