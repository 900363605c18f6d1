package dev.quiver.host.plugin;

import java.nio.file.Path;
import java.util.List;

/**
 * A plugin the host started, with the capabilities it contributed.
 *
 * @param id {@code Plugin-Id}
 * @param version {@code Plugin-Version}
 * @param requires {@code Plugin-Requires}, the plugins-api range it was built for
 * @param provides {@code Provide-Capability} as written in its manifest (may be empty)
 * @param path where it was loaded from
 * @param extensions capability names it contributed, e.g. {@code prediction:traditional}
 */
public record LoadedPlugin(
        String id,
        String version,
        String requires,
        String provides,
        Path path,
        List<String> extensions) {
    public LoadedPlugin {
        extensions = List.copyOf(extensions);
    }
}
