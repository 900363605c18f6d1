package dev.quiver.host.registry;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * A verified model version in a local folder, ready to hand to a plugin.
 *
 * @param requested what was asked for, e.g. {@code models:/quiver-lstm@champion}
 * @param name registered model name
 * @param version version number
 * @param runId the run that produced it (empty if unknown)
 * @param dir the version's folder (every file checked: allow-listed, contained, checksummed)
 * @param modelFile the model file inside {@code dir}
 * @param sidecar the sidecar JSON inside {@code dir}, if the version has one
 * @param sha256 the model file's sha256 (equal to the version's tag)
 * @param format the model format
 * @param tags the version's tags
 * @param origin where it was resolved: {@code registry} (asked the server), {@code cache} (the
 *     server was unreachable; last known version) or {@code local} (no tracking URI)
 * @param note why the cache was used, else empty
 */
public record ResolvedModel(
        String requested,
        String name,
        String version,
        String runId,
        Path dir,
        Path modelFile,
        Optional<Path> sidecar,
        String sha256,
        ModelFormat format,
        Map<String, String> tags,
        String origin,
        String note) {

    /** Copies the tags. */
    public ResolvedModel {
        tags = Map.copyOf(tags);
    }

    /**
     * The recorded inputs and expected outputs stored with the version (tag {@code quiver.smoke}),
     * verified with the folder.
     *
     * @return the smoke file inside {@code dir}, or empty if the version has none
     */
    public Optional<Path> smoke() {
        String name = tags.get(ModelStore.TAG_SMOKE);
        return name == null || name.isEmpty() ? Optional.empty() : Optional.of(dir.resolve(name));
    }

    /**
     * The plugin the version was registered for (tag {@code quiver.plugin}).
     *
     * @return the plugin id, or empty
     */
    public Optional<String> plugin() {
        return Optional.ofNullable(tags.get(ModelStore.TAG_PLUGIN)).filter(s -> !s.isEmpty());
    }
}
