package dev.quiver.onnxmodels;

/**
 * A model file or its sidecar that the plugin will not serve: missing, truncated, tampered with, of
 * the wrong shape, or trained on another feature schema. The message names the file, what was
 * expected and what was found: {@code [Quiver/MODEL_REFUSED] lstm.onnx: input shape [-1, 8, 3]
 * differs from the sidecar's [-1, 32, 7]}.
 */
public final class ModelRefusedException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    /**
     * @param file the model or sidecar file (or classpath resource)
     * @param problem what is wrong and what was expected
     * @param cause the underlying failure, or {@code null}
     */
    public ModelRefusedException(String file, String problem, Throwable cause) {
        super("[Quiver/MODEL_REFUSED] " + file + ": " + problem, cause);
    }

    /**
     * @param file the model or sidecar file (or classpath resource)
     * @param problem what is wrong and what was expected
     */
    public ModelRefusedException(String file, String problem) {
        this(file, problem, null);
    }
}
