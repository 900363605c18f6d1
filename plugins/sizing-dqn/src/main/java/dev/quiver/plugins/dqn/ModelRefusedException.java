package dev.quiver.plugins.dqn;

/**
 * A model file or its sidecar that the plugin will not serve: missing, truncated, tampered with, of
 * the wrong shape, or trained on another feature schema. The message names the file, what was
 * expected and what was found: {@code [Quiver/MODEL_REFUSED] dqn.onnx: input shape [-1, 7] differs
 * from the sidecar's [-1, 4]}.
 */
public final class ModelRefusedException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    ModelRefusedException(String file, String problem, Throwable cause) {
        super("[Quiver/MODEL_REFUSED] " + file + ": " + problem, cause);
    }

    ModelRefusedException(String file, String problem) {
        this(file, problem, null);
    }
}
