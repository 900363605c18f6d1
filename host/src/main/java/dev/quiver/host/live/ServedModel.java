package dev.quiver.host.live;

/** What one served model version is (provenance). Placeholder until main's live core is merged. */
public record ServedModel(
        String capability,
        String pluginId,
        String requested,
        String name,
        String version,
        String runId,
        String sha256) {}
