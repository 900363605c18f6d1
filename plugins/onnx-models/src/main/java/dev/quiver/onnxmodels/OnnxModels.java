package dev.quiver.onnxmodels;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;

/**
 * Opening an ONNX model checked against its sidecar: the file's sha256, ONNX Runtime's own parse,
 * then the tensors' names, element type and shapes. Every refusal is a {@link
 * ModelRefusedException} naming the file and what was expected.
 *
 * <p>Session options, set deliberately: one intra-op and one inter-op thread (one window or state
 * is far too small to gain from parallelism, and the host runs one call per source per bar),
 * sequential execution, all graph optimisations.
 */
public final class OnnxModels {

    private OnnxModels() {}

    /** What inspects an opened session; may throw ONNX Runtime's checked exception. */
    @FunctionalInterface
    public interface Inspection<T> {
        /**
         * @param session the opened session
         * @return the model built on it
         * @throws OrtException if ONNX Runtime cannot describe the session
         */
        T apply(OrtSession session) throws OrtException;
    }

    /** The lower-case hex SHA-256 of {@code bytes}. */
    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    /**
     * Checks a model file, opens it, and builds on the session; the session is closed if the build
     * fails.
     *
     * @param onnx the model file's bytes
     * @param sha256 the sha256 the sidecar gives for the file
     * @param modelName the file's name, for messages
     * @param expected what the model should be, for the refusal of a file ONNX Runtime cannot load
     *     (e.g. {@code "a Q-network with input float[-1][4]"})
     * @param inspection checks the session's inputs and outputs and builds the model on it
     * @return what {@code inspection} built
     * @throws ModelRefusedException if the sha256 differs, ONNX Runtime cannot load the file, or
     *     {@code inspection} fails (its own refusal, or any other failure as "cannot inspect it")
     */
    public static <T> T open(
            byte[] onnx,
            String sha256,
            String modelName,
            String expected,
            Inspection<? extends T> inspection) {
        String sha = sha256(onnx);
        if (!sha.equals(sha256)) {
            throw new ModelRefusedException(
                    modelName,
                    "sha256 "
                            + sha
                            + " ("
                            + onnx.length
                            + " bytes) differs from the sidecar's "
                            + sha256
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
                            + " bytes; expected "
                            + expected
                            + "): "
                            + e.getMessage(),
                    e);
        }
        try {
            return inspection.apply(session);
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

    /**
     * The one node of {@code nodes}, which must be named {@code name}.
     *
     * @param role {@code "input"} or {@code "output"}
     * @throws ModelRefusedException if there are several nodes or the one differs in name
     */
    public static NodeInfo single(
            Map<String, NodeInfo> nodes, String role, String name, String model) {
        if (nodes.size() != 1 || !nodes.containsKey(name)) {
            throw new ModelRefusedException(
                    model,
                    role
                            + "s "
                            + nodes.keySet()
                            + " differ from the sidecar's single "
                            + role
                            + " '"
                            + name
                            + "'");
        }
        return nodes.get(name);
    }

    /**
     * The one node of {@code nodes}, whatever its name.
     *
     * @param role {@code "input"} or {@code "output"}
     * @throws ModelRefusedException if there is not exactly one node
     */
    public static NodeInfo single(Map<String, NodeInfo> nodes, String role, String model) {
        if (nodes.size() != 1) {
            throw new ModelRefusedException(
                    model, "has " + nodes.size() + " " + role + "s " + nodes.keySet() + ", not 1");
        }
        return nodes.values().iterator().next();
    }

    /**
     * Checks that a node is a float tensor of the expected shape; the first (batch) dimension may
     * be dynamic ({@code -1}) or 1.
     *
     * @param role {@code "input"} or {@code "output"}
     * @param expected the expected shape, {@code -1} first
     * @param model the model file's name, for messages
     * @param against how the refusal names the expectation: {@code "the sidecar's "} or empty
     * @param layout what the tensors hold, appended in parentheses to a shape refusal
     * @return the tensor's shape
     * @throws ModelRefusedException if it is not a float tensor or its shape differs
     */
    public static long[] checkTensor(
            NodeInfo node,
            String role,
            long[] expected,
            String model,
            String against,
            String layout) {
        if (!(node.getInfo() instanceof TensorInfo info) || info.type != OnnxJavaType.FLOAT) {
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
                            + against
                            + Arrays.toString(expected)
                            + " ("
                            + layout
                            + ")");
        }
        return shape;
    }

    /**
     * The model file a sidecar names, in the sidecar's own folder.
     *
     * @param sidecarFile the sidecar
     * @param name its {@code model_file}
     * @param refuseHidden also refuse any name starting with {@code .}
     * @throws ModelRefusedException if {@code name} is empty, has a path separator, or is {@code .}
     *     or {@code ..} (or starts with {@code .} when {@code refuseHidden})
     */
    public static Path beside(Path sidecarFile, String name, boolean refuseHidden) {
        if (name.isEmpty()
                || name.contains("/")
                || name.contains("\\")
                || name.equals(".")
                || name.equals("..")
                || (refuseHidden && name.startsWith("."))) {
            throw new ModelRefusedException(
                    sidecarFile.toString(),
                    "model_file '" + name + "' must name a file in the sidecar's own folder");
        }
        return sidecarFile.resolveSibling(name);
    }

    /**
     * A resource bundled beside {@code owner}.
     *
     * @param relative the resource's name relative to {@code owner}'s package
     * @param name its name in messages
     * @throws ModelRefusedException if it is missing or cannot be read
     */
    public static byte[] resource(Class<?> owner, String relative, String name) {
        try (InputStream in = owner.getResourceAsStream(relative)) {
            if (in == null) {
                throw new ModelRefusedException(name, "is missing from the plugin");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new ModelRefusedException(name, "cannot be read: " + e.getMessage(), e);
        }
    }

    /**
     * A file's bytes.
     *
     * @throws ModelRefusedException if it cannot be read
     */
    public static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ModelRefusedException(
                    file.toString(), "cannot be read (" + e.getClass().getSimpleName() + ")", e);
        }
    }
}
