package dev.quiver.host.live;

import java.util.Objects;

/**
 * A model version a capability serves, as named in every decision's provenance.
 *
 * @param capability the capability serving it, e.g. {@code lstm}
 * @param pluginId the plugin that provides that capability
 * @param requested what was asked for, e.g. {@code models:/quiver-lstm@champion}
 * @param name registered model name
 * @param version registered model version
 * @param runId the run that produced it, empty if unknown
 * @param sha256 lower-case hex sha256 of the model file
 */
public record ServedModel(
        String capability,
        String pluginId,
        String requested,
        String name,
        String version,
        String runId,
        String sha256) {

    /**
     * @throws NullPointerException if any component is null
     */
    public ServedModel {
        Objects.requireNonNull(capability, "capability");
        Objects.requireNonNull(pluginId, "pluginId");
        Objects.requireNonNull(requested, "requested");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(runId, "runId");
        Objects.requireNonNull(sha256, "sha256");
    }
}
