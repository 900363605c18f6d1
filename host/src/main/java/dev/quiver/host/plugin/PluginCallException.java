package dev.quiver.host.plugin;

import dev.quiver.api.error.CapabilityException;

/**
 * A plugin call the host did not accept: it threw, missed its deadline, returned garbage, or the
 * plugin is quarantined. The decision goes on without that plugin (the engine's fallback), and the
 * reason is recorded in the plugin's {@link PluginHealth}.
 */
public final class PluginCallException extends CapabilityException {

    private static final long serialVersionUID = 1L;

    private final String code;
    private final String pluginId;

    PluginCallException(
            String code, String pluginId, String capability, String reason, Throwable cause) {
        super(capability, "[" + code + "] plugin '" + pluginId + "': " + reason, cause);
        this.code = code;
        this.pluginId = pluginId;
    }

    /**
     * Why: {@code PLUGIN_THREW}, {@code PLUGIN_DEADLINE}, {@code PLUGIN_GARBAGE}, {@code
     * PLUGIN_QUARANTINED} or {@code PLUGIN_POOL_EXHAUSTED}.
     */
    public String code() {
        return code;
    }

    /** The plugin that failed. */
    public String pluginId() {
        return pluginId;
    }
}
