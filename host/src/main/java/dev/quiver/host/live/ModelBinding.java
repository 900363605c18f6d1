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
     * The configuration key, relative to the plugin's id, through which a prediction capability
     * reads the sidecar of the registered model it is to serve: {@code <capability>.model} (the
     * convention of {@code PredictionCapability.exportModel}), so that one plugin can bind each of
     * its capabilities to a model of its own ({@code ensemble-gbm.xgboost.model}, {@code
     * ensemble-gbm.lightgbm.model}). Every path that builds a model-bound instance uses it: the
     * served instance and its rebinding after a plugin replacement, the smoke check in process and
     * in the child JVM, smoke recording, training, rollout variants and {@code backtest --model}.
     *
     * @param capability the prediction capability's name, e.g. {@code xgboost}
     * @return e.g. {@code xgboost.model}; prefixed with the plugin id in a host configuration
     */
    public static String modelKey(String capability) {
        return capability + ".model";
    }

    /**
     * {@link #modelKey} as a host configuration key: {@code <plugin-id>.<capability>.model}.
     *
     * @param pluginId the plugin providing the capability, e.g. {@code ensemble-gbm}
     * @param capability the capability, e.g. {@code xgboost}
     * @return e.g. {@code ensemble-gbm.xgboost.model}
     */
    public static String configKey(String pluginId, String capability) {
        return pluginId + "." + modelKey(capability);
    }

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
