package dev.quiver.host.plugin;

import dev.quiver.api.QuiverApi;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.pf4j.DefaultPluginManager;
import org.pf4j.ExtensionFactory;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** PF4J configured deliberately: system version, recovery strategy, Guice extensions. */
final class QuiverPluginManager extends DefaultPluginManager {

    private static final Logger log = LoggerFactory.getLogger(QuiverPluginManager.class);

    private final Map<String, String> config;
    final List<PluginRefusal> loadFailures = new ArrayList<>();

    /** Longest a plugin's {@code start()} may take: {@code quiver.plugin.start-deadline-ms}. */
    final long startDeadlineMillis;

    /**
     * Longest creating a plugin's extensions may take: {@code quiver.plugin.create-deadline-ms}.
     */
    final long createDeadlineMillis;

    /** Told of every {@code stop()} that threw. */
    private final Consumer<PluginStopFailure> stopFailures;

    QuiverPluginManager(
            Path pluginsDir, Map<String, String> config, Consumer<PluginStopFailure> stopFailures) {
        super(pluginsDir);
        this.config = config;
        this.stopFailures = stopFailures;
        this.startDeadlineMillis =
                IsolationPolicy.read(config, "quiver.plugin.start-deadline-ms", 10_000);
        this.createDeadlineMillis =
                IsolationPolicy.read(config, "quiver.plugin.create-deadline-ms", 60_000);
        setSystemVersion(QuiverApi.VERSION);
        setResolveRecoveryStrategy(ResolveRecoveryStrategy.IGNORE_PLUGIN_AND_CONTINUE);
    }

    /**
     * PF4J's start, each plugin on a thread of its own under {@link #startDeadlineMillis}
     * (RELIABILITY.md P2): a {@code start()} that never returns leaves the plugin FAILED with
     * {@code PLUGIN_STUCK} and its thread behind, and the host carries on; an {@link Error} it
     * throws fails that plugin only. PF4J itself calls {@code start()} on the caller's thread with
     * no limit, and lets an {@code Error} other than a {@code LinkageError} escape.
     */
    @Override
    public void startPlugins() {
        for (PluginWrapper plugin : new ArrayList<>(getResolvedPlugins())) {
            PluginState st = plugin.getPluginState();
            if (st.isDisabled() || st.isStarted() || st == PluginState.FAILED) {
                continue;
            }
            String id = plugin.getPluginId();
            String missingClass = missingPluginClass(plugin);
            if (missingClass != null) {
                plugin.setPluginState(PluginState.FAILED);
                plugin.setFailedException(new IllegalStateException(missingClass));
                continue;
            }
            try {
                PluginLeaks.onOwnThread(
                        id,
                        "start",
                        () -> QuiverPluginManager.super.startPlugin(id),
                        startDeadlineMillis);
            } catch (PluginLeaks.PluginStuckException e) {
                plugin.setPluginState(PluginState.FAILED);
                plugin.setFailedException(
                        new PluginLeaks.PluginStuckException(
                                e.getMessage()
                                        + " (Plugin.start(); deadline"
                                        + " quiver.plugin.start-deadline-ms)"));
            } catch (RuntimeException | Error e) {
                plugin.setPluginState(PluginState.FAILED);
                plugin.setFailedException(e);
            }
        }
    }

    /**
     * Why the plugin's manifest {@code Plugin-Class} cannot be loaded, or {@code null} when it
     * names none or a loadable one. PF4J would log the class-loading error and then fail the start
     * with a {@code NullPointerException} that names neither the header nor the class.
     */
    private static String missingPluginClass(PluginWrapper plugin) {
        String className = plugin.getDescriptor().getPluginClass();
        if (className == null || className.isBlank()) {
            return null;
        }
        try {
            Class<?> c = plugin.getPluginClassLoader().loadClass(className);
            if (!org.pf4j.Plugin.class.isAssignableFrom(c)) {
                return "its Plugin-Class "
                        + className
                        + " (manifest Plugin-Class) does not extend org.pf4j.Plugin";
            }
            return null;
        } catch (ClassNotFoundException | LinkageError e) {
            return "its Plugin-Class "
                    + className
                    + " (manifest Plugin-Class) cannot be loaded by the plugin's class loader: "
                    + e;
        }
    }

    /**
     * PF4J's stop, with a {@code stop()} that throws (RELIABILITY.md P1): PF4J 3.15 catches only
     * its own {@code PluginRuntimeException} there, so any other exception or {@link Error} would
     * escape into the caller (closing the runtime, unloading, a hot swap) and abort it with the
     * plugin still listed as started. Here the plugin is marked FAILED with what it threw, taken
     * off the started list, the failure is logged with the plugin's id and reported to the
     * runtime's record of failed stops ({@link PluginRuntime#stopFailures()}), and the caller
     * carries on (the unload that follows closes its class loader as usual).
     *
     * @param pluginId the plugin to stop
     * @param stopDependents whether plugins depending on it are stopped first
     * @return the plugin's state afterwards: {@code STOPPED}, or {@code FAILED} if {@code stop()}
     *     threw
     */
    @Override
    protected PluginState stopPlugin(String pluginId, boolean stopDependents) {
        try {
            return super.stopPlugin(pluginId, stopDependents);
        } catch (RuntimeException | Error e) {
            PluginWrapper plugin = getPlugin(pluginId);
            if (plugin == null) {
                throw e;
            }
            plugin.setPluginState(PluginState.FAILED);
            plugin.setFailedException(e);
            startedPlugins.remove(plugin);
            stopFailures.accept(
                    new PluginStopFailure(
                            pluginId,
                            plugin.getDescriptor().getVersion(),
                            java.time.Instant.now(),
                            e.toString()));
            log.warn(
                    "[Quiver/PLUGIN_STOP_FAILED] Plugin '{}' threw from stop(): {}; it is FAILED"
                            + " and unloaded, the host carries on",
                    pluginId,
                    e.toString());
            return PluginState.FAILED;
        }
    }

    /**
     * PF4J's finders, with the manifest of an expanded zip read from {@code
     * classes/META-INF/MANIFEST.MF} first: a signed zip also has a top-level {@code
     * META-INF/MANIFEST.MF} (the signature's digests), which PF4J's own search may find first.
     */
    @Override
    protected org.pf4j.PluginDescriptorFinder createPluginDescriptorFinder() {
        return new org.pf4j.CompoundPluginDescriptorFinder()
                .add(new org.pf4j.PropertiesPluginDescriptorFinder())
                .add(
                        new org.pf4j.ManifestPluginDescriptorFinder() {
                            @Override
                            protected java.util.jar.Manifest readManifestFromDirectory(
                                    Path pluginPath) {
                                Path mf = pluginPath.resolve("classes/META-INF/MANIFEST.MF");
                                if (!Files.isRegularFile(mf)) {
                                    return super.readManifestFromDirectory(pluginPath);
                                }
                                try (var in = Files.newInputStream(mf)) {
                                    return new java.util.jar.Manifest(in);
                                } catch (java.io.IOException e) {
                                    throw new org.pf4j.PluginRuntimeException(
                                            e, "Cannot read manifest {}", mf);
                                }
                            }
                        });
    }

    @Override
    protected ExtensionFactory createExtensionFactory() {
        // Called from the super constructor, before our fields are set: defer to first use.
        return new ExtensionFactory() {
            private GuiceExtensionFactory delegate;

            @Override
            public <T> T create(Class<T> extensionClass) {
                if (delegate == null) {
                    delegate = new GuiceExtensionFactory(QuiverPluginManager.this, config);
                }
                return delegate.create(extensionClass);
            }
        };
    }

    /** Archives refused before PF4J saw them: never expanded, never loaded. */
    final java.util.Set<Path> excluded = new java.util.HashSet<>();

    @Override
    protected org.pf4j.PluginRepository createPluginRepository() {
        return new org.pf4j.PluginRepository() {
            @Override
            public List<Path> getPluginPaths() {
                return pluginPaths();
            }

            @Override
            public boolean deletePluginPath(Path pluginPath) {
                return false;
            }
        };
    }

    /**
     * Zips (expanded beside themselves, as PF4J does), jars and expanded folders of the plugins
     * folder, sorted by name, without the archives refused beforehand or their stale expansions.
     */
    private List<Path> pluginPaths() {
        var out = new ArrayList<Path>();
        for (Path root : getPluginsRoots()) {
            List<Path> entries;
            try (var files = Files.list(root)) {
                entries = files.sorted().toList();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot list plugins folder " + root, e);
            }
            var zips = new java.util.HashSet<Path>();
            for (Path p : entries) {
                String name = p.getFileName().toString();
                if (Files.isRegularFile(p) && name.endsWith(".zip")) {
                    zips.add(p.resolveSibling(name.substring(0, name.length() - 4)));
                }
            }
            for (Path p : entries) {
                String name = p.getFileName().toString();
                if (name.startsWith(".") || excluded.contains(p)) {
                    continue;
                }
                if (Files.isRegularFile(p) && name.endsWith(".zip")) {
                    try {
                        out.add(org.pf4j.util.FileUtils.expandIfZip(p));
                    } catch (java.io.IOException | RuntimeException e) {
                        loadFailures.add(unreadable(p, "it cannot be expanded (" + e + ")"));
                    }
                } else if (Files.isRegularFile(p) && name.endsWith(".jar")) {
                    out.add(p);
                } else if (Files.isDirectory(p) && !zips.contains(p)) {
                    out.add(p);
                }
            }
        }
        return out;
    }

    /**
     * PF4J's ignore-and-continue strategy unloads a plugin whose dependency is missing with only a
     * log line, and for a dependency at the wrong version unloads the dependency instead of the
     * plugin that needs another version; record each as a refusal first, and unload a plugin whose
     * dependency is at the wrong version here.
     */
    @Override
    protected org.pf4j.DependencyResolver.Result resolveDependencies() {
        for (PluginWrapper p : List.copyOf(getPlugins())) {
            String id = p.getPluginId();
            for (org.pf4j.PluginDependency dep : p.getDescriptor().getDependencies()) {
                if (dep.isOptional() || dependencyRefused.contains(id)) {
                    continue;
                }
                PluginWrapper target = getPlugin(dep.getPluginId());
                String problem = null;
                if (target == null) {
                    problem = "is not installed";
                } else if (!getVersionManager()
                        .checkVersionConstraint(
                                target.getDescriptor().getVersion(),
                                dep.getPluginVersionSupport())) {
                    problem =
                            "is installed at version "
                                    + target.getDescriptor().getVersion()
                                    + ", outside the range";
                }
                if (problem != null && target != null) {
                    // PF4J 3.15's ignore-and-continue unloads the dependency found at the wrong
                    // version (and its dependents), not the plugin that asked for another
                    // version: a good plugin would go with the bad one. Take the dependent out
                    // here, so PF4J never sees the wrong version.
                    unloadPlugin(id, false, false);
                }
                if (problem != null) {
                    dependencyRefused.add(id);
                    loadFailures.add(
                            new PluginRefusal(
                                    target == null
                                            ? "MISSING_DEPENDENCY"
                                            : "WRONG_DEPENDENCY_VERSION",
                                    id,
                                    p.getPluginPath(),
                                    "[Quiver/"
                                            + (target == null
                                                    ? "MISSING_DEPENDENCY"
                                                    : "WRONG_DEPENDENCY_VERSION")
                                            + "] Plugin '"
                                            + id
                                            + "' "
                                            + p.getDescriptor().getVersion()
                                            + " depends on plugin '"
                                            + dep.getPluginId()
                                            + "' "
                                            + dep.getPluginVersionSupport()
                                            + ", which "
                                            + problem
                                            + ". Where: "
                                            + p.getPluginPath()
                                            + " (manifest Plugin-Dependencies). Hint: install"
                                            + " that plugin in a matching version, or mark the"
                                            + " dependency optional ('?')."));
                }
            }
        }
        return super.resolveDependencies();
    }

    private final java.util.Set<String> dependencyRefused = new java.util.HashSet<>();

    @Override
    protected PluginWrapper loadPluginFromPath(Path pluginPath) {
        String declaredId = ManifestHeaders.read(pluginPath).get("Plugin-Id");
        PluginWrapper first = declaredId == null ? null : getPlugin(declaredId);
        if (first != null) {
            loadFailures.add(
                    new PluginRefusal(
                            "DUPLICATE_PLUGIN_ID",
                            declaredId,
                            pluginPath,
                            "[Quiver/DUPLICATE_PLUGIN_ID] Plugin '"
                                    + declaredId
                                    + "' at "
                                    + pluginPath
                                    + " has the same Plugin-Id as the plugin already loaded"
                                    + " from "
                                    + first.getPluginPath()
                                    + "; only the first (in file-name order) runs. Hint: give"
                                    + " each plugin its own Plugin-Id (e.g. with its version),"
                                    + " or remove the other copy."));
            return null;
        }
        try {
            PluginWrapper plugin = super.loadPluginFromPath(pluginPath);
            if (plugin == null) {
                // PF4J logs and returns null when a zip cannot be expanded.
                loadFailures.add(unreadable(pluginPath, "it is not a readable plugin zip"));
            }
            return plugin;
        } catch (RuntimeException e) {
            loadFailures.add(unreadable(pluginPath, e.getMessage()));
            return null;
        }
    }

    static PluginRefusal unreadable(Path pluginPath, String why) {
        return new PluginRefusal(
                "PLUGIN_UNREADABLE",
                pluginPath.getFileName().toString(),
                pluginPath,
                "[Quiver/PLUGIN_UNREADABLE] "
                        + pluginPath
                        + " could not be loaded as a plugin: "
                        + why
                        + ". Hint: a plugin is a zip with classes/META-INF/MANIFEST.MF"
                        + " (Plugin-Id, Plugin-Version, Plugin-Requires) and lib/.");
    }

    boolean validFor(PluginWrapper plugin) {
        return isPluginValid(plugin);
    }

    String provides(PluginWrapper plugin) {
        return ManifestHeaders.read(plugin.getPluginPath()).getOrDefault("Provide-Capability", "");
    }
}
