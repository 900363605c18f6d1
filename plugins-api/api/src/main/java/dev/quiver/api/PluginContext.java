package dev.quiver.api;

import java.util.Optional;

/**
 * The only door from a plugin to the host: its identity and its configuration. Implemented by the
 * host and injected (via {@code jakarta.inject.Inject}) into extension constructors.
 *
 * <p>Host-implemented: new methods may be added in minor versions.
 *
 * @since 1.0.0
 */
@Stable(since = "1.0.0")
public interface PluginContext {

    /**
     * The plugin's id as written in its manifest ({@code Plugin-Id}).
     *
     * @return the plugin id, never blank
     */
    String pluginId();

    /**
     * One configuration value for this plugin, from the host's {@code config/} folder (key {@code
     * <plugin-id>.<key>}) or the command line.
     *
     * @param key the key without the plugin-id prefix, e.g. {@code fraction}
     * @return the value, or empty when it is not configured
     */
    Optional<String> config(String key);
}
