package dev.quiver.host.plugin;

import dev.quiver.api.PluginContext;
import java.util.Map;
import java.util.Optional;

/** The host's {@link PluginContext}: one per plugin, configuration keys prefixed by plugin id. */
final class HostPluginContext implements PluginContext {

    private final String pluginId;
    private final Map<String, String> config;

    HostPluginContext(String pluginId, Map<String, String> config) {
        this.pluginId = pluginId;
        this.config = config;
    }

    @Override
    public String pluginId() {
        return pluginId;
    }

    @Override
    public Optional<String> config(String key) {
        return Optional.ofNullable(config.get(pluginId + "." + key));
    }
}
