package dev.quiver.gbmtrees;

/**
 * A model dump that cannot be served: {@code [Quiver/MODEL_REFUSED] <file>: <problem>}, naming the
 * file (or in-memory dump) and what was expected.
 */
public class ModelRefusedException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    /**
     * @param file the model file, or a description of an in-memory dump
     * @param problem what is wrong and what was expected
     * @param cause the parser's failure, or {@code null}
     */
    public ModelRefusedException(String file, String problem, Throwable cause) {
        super("[Quiver/MODEL_REFUSED] " + file + ": " + problem, cause);
    }
}
