package dev.quiver.host.registry;

/**
 * A model version that is not served, with the reason: a checksum or size that differs from the
 * version's tags, a format outside the allow-list, a file that is not what its name says (a pickle
 * named {@code .onnx}), a path escaping the model folder, or an unknown model/alias/version.
 *
 * <p>Message: {@code [Quiver/MODEL_REFUSED] models:/NAME/VERSION: reason; the version is not
 * served.}
 */
public final class ModelRefusedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String reason;

    ModelRefusedException(String model, String reason) {
        super("[Quiver/MODEL_REFUSED] " + model + ": " + reason + "; the version is not served.");
        this.reason = reason;
    }

    ModelRefusedException(String model, String reason, Throwable cause) {
        super(
                "[Quiver/MODEL_REFUSED] " + model + ": " + reason + "; the version is not served.",
                cause);
        this.reason = reason;
    }

    /**
     * The reason alone.
     *
     * @return e.g. {@code sha256 of lstm.onnx is ..., the version's tag quiver.sha256 says ...}
     */
    public String reason() {
        return reason;
    }
}
