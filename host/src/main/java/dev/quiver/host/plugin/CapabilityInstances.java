package dev.quiver.host.plugin;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Makes new instances of wired plugins' capabilities ({@link PluginRuntime#newPrediction}, {@link
 * PluginRuntime#newEnsemble}, {@link PluginRuntime#newSizing}) and counts those not closed yet.
 * Each instance is created by its plugin's already loaded class loader with the runtime's
 * configuration plus per-instance overrides, behind a {@link PluginGuard} of its own.
 */
final class CapabilityInstances {

    private final Map<String, String> config;
    private final IsolationPolicy isolation;
    private final AtomicInteger open = new AtomicInteger();

    CapabilityInstances(Map<String, String> config, IsolationPolicy isolation) {
        this.config = config;
        this.isolation = isolation;
    }

    /** Instances made here and not closed yet, {@code >= 0}. */
    int open() {
        return open.get();
    }

    /**
     * A new instance of the wired capability {@code kind:capabilityName}, owned by the caller.
     *
     * @param s the runtime's state, or null once it is closed
     * @param kind {@code prediction}, {@code ensemble}, {@code sizing} or {@code portfolio}
     * @param overrides plugin-local configuration keys without the plugin id; they win
     * @throws IllegalArgumentException if no wired plugin provides it, or its constructor threw
     * @throws IllegalStateException if {@code s} is null (the runtime is closed)
     */
    PluginRuntime.NewInstance create(
            RuntimeState s, String kind, String capabilityName, Map<String, String> overrides) {
        if (s == null) {
            throw new IllegalStateException(
                    "[Quiver/RUNTIME_CLOSED] the plugin runtime is closed; no new instance of "
                            + kind
                            + " '"
                            + capabilityName
                            + "'");
        }
        String key = kind + ":" + capabilityName;
        InstalledPlugin owner =
                s.owner(key)
                        .orElseThrow(
                                () ->
                                        new IllegalArgumentException(
                                                "[Quiver/NO_SUCH_CAPABILITY] no wired plugin"
                                                        + " provides "
                                                        + kind
                                                        + " '"
                                                        + capabilityName
                                                        + "' (wired: "
                                                        + s.extensionNames()
                                                        + ")"));
        PluginWiring.WiredExtension wired = owner.extensionTypes.get(key);
        Object extension = createExtension(owner, wired, kind, capabilityName, overrides);
        PluginGuard guard = new PluginGuard(wired.pluginId(), isolation);
        Runnable afterClose =
                () -> {
                    guard.close();
                    open.decrementAndGet();
                };
        Object guarded =
                PluginWiring.guarded(kind, extension, guard, wired.capability(), afterClose);
        if (guarded instanceof dev.quiver.api.sizing.PortfolioSizingCapability z) {
            // not behind the guard yet: its close still closes the extension and the guard
            guarded = PluginWiring.owned(z, afterClose);
        }
        if (guarded == null) {
            PluginWiring.closeQuietly(extension);
            guard.close();
            throw new IllegalStateException(
                    "[Quiver/EXTENSION_CREATE_FAILED] " + wired.type() + " is not a " + kind);
        }
        open.incrementAndGet();
        LoadedPlugin plugin = owner.info;
        return new PluginRuntime.NewInstance(plugin.id(), plugin.version(), plugin.path(), guarded);
    }

    /** The plugin's extension, made with the runtime's configuration and {@code overrides}. */
    private Object createExtension(
            InstalledPlugin owner,
            PluginWiring.WiredExtension wired,
            String kind,
            String capabilityName,
            Map<String, String> overrides) {
        Map<String, String> merged = new HashMap<>(config);
        overrides.forEach((k, v) -> merged.put(wired.pluginId() + "." + k, v));
        try {
            // On a thread of the plugin's own, as at setup (see PluginLeaks).
            return PluginLeaks.onOwnThread(
                    wired.pluginId(),
                    "instance",
                    () -> new GuiceExtensionFactory(owner.manager(), merged).create(wired.type()));
        } catch (org.pf4j.PluginRuntimeException e) {
            // Guice wraps the constructor's exception; report the plugin's own message.
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            throw new IllegalArgumentException(
                    "[Quiver/EXTENSION_CREATE_FAILED] Plugin '"
                            + wired.pluginId()
                            + "' "
                            + kind
                            + " '"
                            + capabilityName
                            + "' ("
                            + wired.type().getName()
                            + ") could not be created with "
                            + overrides
                            + ": "
                            + root.getMessage(),
                    root);
        }
    }
}
