package dev.quiver.plugins.gbm;

/**
 * A model dump this plugin cannot serve: {@code [Quiver/MODEL_REFUSED] <file>: <problem>}, naming
 * the file (or in-memory dump) and what was expected.
 */
final class ModelRefusedException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    ModelRefusedException(String file, String problem, Throwable cause) {
        super("[Quiver/MODEL_REFUSED] " + file + ": " + problem, cause);
    }
}
