package dev.quiver.host.plugin;

/** A capability the runtime handed out behind a {@link PluginGuard}. */
interface Guarded {

    /** The plugin's own extension object, for tests and diagnostics; never call it directly. */
    Object delegate();

    /** The plugin this capability belongs to. */
    String pluginId();
}
