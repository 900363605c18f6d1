package dev.quiver.host.live;

import dev.quiver.host.registry.ModelUri;

/**
 * Which registered model a prediction capability serves: {@code lstm=models:/quiver-lstm@champion}
 * (follows the alias) or {@code lstm=models:/quiver-lstm/3} (pinned).
 *
 * @param capability the prediction capability's name, e.g. {@code lstm}
 * @param model the registered model reference
 */
public record ModelBinding(String capability, ModelUri model) {

    /**
     * Parses {@code CAP=models:/NAME@ALIAS} or {@code CAP=models:/NAME/VERSION}.
     *
     * @param spec the option value
     * @return the binding
     * @throws IllegalArgumentException naming the expected form
     */
    public static ModelBinding parse(String spec) {
        int eq = spec.indexOf('=');
        if (eq <= 0 || eq == spec.length() - 1) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] --model "
                            + spec
                            + ": expected CAPABILITY=models:/NAME@ALIAS (e.g."
                            + " lstm=models:/quiver-lstm@champion) or CAPABILITY=models:/NAME/VERSION");
        }
        String capability = spec.substring(0, eq).trim();
        ModelUri uri;
        try {
            uri = ModelUri.parse(spec.substring(eq + 1).trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] --model " + spec + ": " + e.getMessage(), e);
        }
        return new ModelBinding(capability, uri);
    }

    /**
     * The requested reference as text.
     *
     * @return e.g. {@code models:/quiver-lstm@champion}
     */
    public String requested() {
        return model.toString();
    }

    @Override
    public String toString() {
        return capability + "=" + model;
    }
}
