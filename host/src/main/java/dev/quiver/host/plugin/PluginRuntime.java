package dev.quiver.host.plugin;

import dev.quiver.api.QuiverApi;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.capabilities.Capability;
import dev.quiver.capabilities.CapabilityHeaders;
import dev.quiver.host.feature.FeaturePipeline;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.pf4j.DefaultPluginManager;
import org.pf4j.ExtensionFactory;
import org.pf4j.PluginDescriptor;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's plugin manager: loads plugin zips (or expanded folders) from one folder through PF4J,
 * with the plugins-api version as PF4J's system version so {@code Plugin-Requires} is really
 * checked, and with one unresolvable plugin refused alone instead of aborting all of them.
 *
 * <p>Every plugin that does not start is reported as a {@link PluginRefusal} naming the unmet
 * requirement; the others run. Closing the runtime closes every extension and unloads the plugins.
 */
public final class PluginRuntime implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PluginRuntime.class);

    private final QuiverPluginManager manager;
    private final List<PluginRefusal> refusals = new ArrayList<>();
    private final List<LoadedPlugin> loaded = new ArrayList<>();
    private final List<PredictionCapability> predictions = new ArrayList<>();
    private final List<EnsembleCapability> ensembles = new ArrayList<>();
    private final List<SizingCapability> sizings = new ArrayList<>();
    private final CapabilityResolver resolver =
            new CapabilityResolver(
                    CapabilityResolver.hostCapabilities(QuiverApi.VERSION, FeaturePipeline.SCHEMA),
                    FeaturePipeline.SCHEMA);
    private CapabilityResolver.Resolution resolution;
    private final IsolationPolicy isolation;
    private final Map<String, PluginGuard> guards = new java.util.TreeMap<>();

    /** Wired extension classes by {@code kind:name}, e.g. {@code prediction:lstm}. */
    private final Map<String, WiredExtension> wiredByName = new java.util.TreeMap<>();

    private final java.util.concurrent.atomic.AtomicInteger openInstances =
            new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean closed;
    private final Map<String, String> config;

    /** Where a wired extension came from, to make more instances of it. */
    private record WiredExtension(String pluginId, Class<?> type, Capability capability) {}

    private PluginRuntime(Path pluginsDir, Map<String, String> config) {
        this.manager = new QuiverPluginManager(pluginsDir, config);
        this.isolation = IsolationPolicy.from(config);
        this.config = Map.copyOf(config);
    }

    /**
     * Loads and starts every plugin in {@code pluginsDir}.
     *
     * @param pluginsDir folder holding plugin zips (PF4J expands each beside itself)
     * @param config plugin configuration, keys {@code <plugin-id>.<key>}
     * @return the running plugins, with refusals for those that did not start
     * @throws IllegalArgumentException if {@code pluginsDir} is not a readable folder
     */
    public static PluginRuntime start(Path pluginsDir, Map<String, String> config) {
        if (!Files.isDirectory(pluginsDir)) {
            throw new IllegalArgumentException(
                    "[Quiver/PLUGINS_DIR_MISSING] plugins folder "
                            + pluginsDir.toAbsolutePath()
                            + " does not exist or is not a folder; pass --plugins-dir DIR");
        }
        PluginRuntime runtime = new PluginRuntime(pluginsDir, config);
        runtime.load();
        return runtime;
    }

    private void load() {
        List<PluginRefusal> unreadable = unreadableArchives();
        refusals.addAll(unreadable);
        unreadable.forEach(r -> manager.excluded.add(r.path()));
        List<PluginRefusal> cycles = dependencyCycles();
        refusals.addAll(cycles);
        cycles.forEach(r -> manager.excluded.add(r.path()));
        Path root = manager.getPluginsRoots().get(0);
        ExpandedZips.dropStale(root);
        manager.loadPlugins();
        ExpandedZips.markFresh(root);
        manager.startPlugins();
        refusals.addAll(manager.loadFailures);
        // Sorted by id: PF4J's load order depends on the file system, reports should not.
        var plugins = new ArrayList<>(manager.getPlugins());
        plugins.sort(java.util.Comparator.comparing(PluginWrapper::getPluginId));
        var candidates = new ArrayList<CapabilityResolver.Candidate>();
        var started = new java.util.LinkedHashMap<String, PluginWrapper>();
        for (PluginWrapper plugin : plugins) {
            PluginDescriptor d = plugin.getDescriptor();
            if (plugin.getPluginState() != PluginState.STARTED) {
                refusals.add(refusalOf(plugin));
                continue;
            }
            PluginRefusal missing = missingExtensionClass(plugin);
            if (missing != null) {
                refusals.add(missing);
                manager.unloadPlugin(d.getPluginId());
                continue;
            }
            Map<String, String> headers = ManifestHeaders.read(plugin.getPluginPath());
            candidates.add(
                    new CapabilityResolver.Candidate(
                            d.getPluginId(),
                            d.getVersion(),
                            plugin.getPluginPath(),
                            headers.get(CapabilityHeaders.PROVIDE),
                            headers.get(CapabilityHeaders.REQUIRE)));
            started.put(d.getPluginId(), plugin);
        }
        resolution = resolver.resolve(candidates);
        for (PluginRefusal r : resolution.refusals()) {
            refusals.add(r);
            manager.unloadPlugin(r.pluginId());
        }
        for (String id : resolution.wired()) {
            PluginWrapper plugin = started.get(id);
            PluginDescriptor d = plugin.getDescriptor();
            List<Capability> declared = resolution.provided().get(id);
            guards.put(id, new PluginGuard(id, isolation));
            var names = new ArrayList<String>();
            collect(plugin, PredictionCapability.class, predictions, declared, names);
            collect(plugin, EnsembleCapability.class, ensembles, declared, names);
            collect(plugin, SizingCapability.class, sizings, declared, names);
            loaded.add(
                    new LoadedPlugin(
                            d.getPluginId(),
                            d.getVersion(),
                            d.getRequires(),
                            manager.provides(plugin),
                            plugin.getPluginPath(),
                            names));
        }
        for (PluginRefusal r : refusals) {
            log.warn(r.message());
        }
    }

    /**
     * PF4J logs and skips an extension class named in the plugin's index that it cannot load; a
     * plugin whose extension is missing is refused instead, naming the class.
     */
    private PluginRefusal missingExtensionClass(PluginWrapper plugin) {
        for (String cls :
                new java.util.TreeSet<>(manager.getExtensionClassNames(plugin.getPluginId()))) {
            try {
                Class.forName(cls, false, plugin.getPluginClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                PluginDescriptor d = plugin.getDescriptor();
                return new PluginRefusal(
                        "EXTENSION_CLASS_MISSING",
                        d.getPluginId(),
                        plugin.getPluginPath(),
                        "[Quiver/EXTENSION_CLASS_MISSING] Plugin '"
                                + d.getPluginId()
                                + "' "
                                + d.getVersion()
                                + " lists extension "
                                + cls
                                + " in META-INF/extensions.idx, but its class loader cannot load"
                                + " it: "
                                + e
                                + ". Where: "
                                + plugin.getPluginPath()
                                + ". Hint: the zip was packed without that class or one it links"
                                + " to; rebuild it with the plugins parent (classes/ + lib/).");
            }
        }
        return null;
    }

    /**
     * PF4J expands zips before loading and only logs an archive it cannot open; find those first so
     * each is reported as a refusal.
     */
    private List<PluginRefusal> unreadableArchives() {
        var out = new ArrayList<PluginRefusal>();
        try (var files = Files.list(manager.getPluginsRoots().get(0))) {
            for (Path file : files.sorted().toList()) {
                String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
                if (!Files.isRegularFile(file)
                        || !(name.endsWith(".zip") || name.endsWith(".jar"))) {
                    continue;
                }
                String problem = ManifestHeaders.problemWith(file);
                if (problem != null) {
                    out.add(QuiverPluginManager.unreadable(file, problem));
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot list plugins folder", e);
        }
        return out;
    }

    /**
     * Plugins on a {@code Plugin-Dependencies} cycle, refused before PF4J sees them (its resolver
     * would otherwise throw and load nothing).
     */
    private List<PluginRefusal> dependencyCycles() {
        Map<String, List<String>> dependencies = new java.util.TreeMap<>();
        Map<String, Path> paths = new java.util.HashMap<>();
        try (var files = Files.list(manager.getPluginsRoots().get(0))) {
            for (Path file : files.sorted().toList()) {
                String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
                if (!Files.isRegularFile(file)
                        || !(name.endsWith(".zip") || name.endsWith(".jar"))
                        || manager.excluded.contains(file)) {
                    continue;
                }
                Map<String, String> headers = ManifestHeaders.read(file);
                String id = headers.get("Plugin-Id");
                if (id == null || paths.containsKey(id)) {
                    continue; // PF4J refuses these itself (no id, duplicate id)
                }
                paths.put(id, file);
                dependencies.put(id, DependencyCycles.parse(headers.get("Plugin-Dependencies")));
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot list plugins folder", e);
        }
        var out = new ArrayList<PluginRefusal>();
        DependencyCycles.find(dependencies)
                .forEach(
                        (id, cycle) ->
                                out.add(
                                        new PluginRefusal(
                                                "DEPENDENCY_CYCLE",
                                                id,
                                                paths.get(id),
                                                "[Quiver/DEPENDENCY_CYCLE] Plugin '"
                                                        + id
                                                        + "' ("
                                                        + paths.get(id).getFileName()
                                                        + ") is on a Plugin-Dependencies cycle "
                                                        + cycle
                                                        + "; no load order exists, so every"
                                                        + " plugin on it is refused. Hint: move"
                                                        + " what they share into a third plugin,"
                                                        + " or express one side as a"
                                                        + " Require-Capability (capabilities may"
                                                        + " be mutual).")));
        return out;
    }

    private <T> void collect(
            PluginWrapper plugin,
            Class<T> type,
            List<T> into,
            List<Capability> declared,
            List<String> names) {
        ExtensionFactory factory = manager.getExtensionFactory();
        String namespace = "quiver." + kindOf(type);
        for (Class<? extends T> cls : manager.getExtensionClasses(type, plugin.getPluginId())) {
            T extension;
            try {
                extension = factory.create(cls);
            } catch (RuntimeException | LinkageError e) {
                refusals.add(
                        new PluginRefusal(
                                "EXTENSION_CREATE_FAILED",
                                plugin.getPluginId(),
                                plugin.getPluginPath(),
                                "[Quiver/EXTENSION_CREATE_FAILED] Plugin '"
                                        + plugin.getPluginId()
                                        + "': extension "
                                        + cls.getName()
                                        + " could not be created: "
                                        + e));
                continue;
            }
            String name = nameOf(extension);
            Capability capability =
                    declared.stream()
                            .filter(
                                    c ->
                                            c.namespace().equals(namespace)
                                                    && name.equals(c.attribute("name")))
                            .findFirst()
                            .orElse(null);
            if (capability == null) {
                closeQuietly(extension);
                refusals.add(
                        new PluginRefusal(
                                "CAPABILITY_UNDECLARED",
                                plugin.getPluginId(),
                                plugin.getPluginPath(),
                                "[Quiver/CAPABILITY_UNDECLARED] Plugin '"
                                        + plugin.getPluginId()
                                        + "': extension "
                                        + cls.getName()
                                        + " is a "
                                        + kindOf(type)
                                        + " named '"
                                        + name
                                        + "', but the manifest's Provide-Capability declares no "
                                        + namespace
                                        + "; name="
                                        + name
                                        + " (declared: "
                                        + declared
                                        + "); it is not wired. Hint: add it to plugin.provides in"
                                        + " the plugin's pom."));
                continue;
            }
            into.add(type.cast(guard(extension, guards.get(plugin.getPluginId()), capability)));
            names.add(kindOf(type) + ":" + name);
            wiredByName.putIfAbsent(
                    kindOf(type) + ":" + name,
                    new WiredExtension(plugin.getPluginId(), cls, capability));
        }
    }

    /**
     * The plugin a capability handed out by a runtime belongs to.
     *
     * @param capability a prediction, ensemble or sizing capability
     * @return its plugin id, or empty if the runtime did not hand it out (e.g. the host's built-in
     *     fusion)
     */
    public static java.util.Optional<String> pluginIdOf(Object capability) {
        return capability instanceof Guarded g
                ? java.util.Optional.of(g.pluginId())
                : java.util.Optional.empty();
    }

    /** The extension behind its plugin's guard: deadline, garbage checks, quarantine. */
    private static Object guard(Object extension, PluginGuard guard, Capability capability) {
        if (extension instanceof PredictionCapability p) {
            Object h = capability.attributes().get("horizon");
            return new GuardedPrediction(p, guard, h instanceof Long l ? l : null);
        }
        if (extension instanceof EnsembleCapability e) {
            return new GuardedEnsemble(e, guard);
        }
        return new GuardedSizing((SizingCapability) extension, guard);
    }

    private static String kindOf(Class<?> type) {
        if (type == PredictionCapability.class) {
            return "prediction";
        }
        return type == EnsembleCapability.class ? "ensemble" : "sizing";
    }

    private static void closeQuietly(Object extension) {
        if (extension instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                log.warn("[Quiver/EXTENSION_CLOSE_FAILED] {} failed to close: {}", c, e.toString());
            }
        }
    }

    private static String nameOf(Object extension) {
        if (extension instanceof PredictionCapability p) {
            return p.descriptor().name();
        }
        if (extension instanceof EnsembleCapability e) {
            return e.descriptor().name();
        }
        if (extension instanceof SizingCapability s) {
            return s.descriptor().name();
        }
        return extension.getClass().getSimpleName();
    }

    private PluginRefusal refusalOf(PluginWrapper plugin) {
        PluginDescriptor d = plugin.getDescriptor();
        String label = "Plugin '" + d.getPluginId() + "' " + d.getVersion();
        if (!manager.validFor(plugin)) {
            return new PluginRefusal(
                    "PLUGIN_API_MISMATCH",
                    d.getPluginId(),
                    plugin.getPluginPath(),
                    "[Quiver/PLUGIN_API_MISMATCH] "
                            + label
                            + " requires plugins-api "
                            + d.getRequires()
                            + "; this host provides "
                            + QuiverApi.VERSION
                            + ". Where: "
                            + plugin.getPluginPath()
                            + " (manifest Plugin-Requires). Hint: rebuild the plugin against"
                            + " plugins-api "
                            + QuiverApi.VERSION
                            + " or use a host whose plugins-api is in that range. Learn more:"
                            + " docs/errors/PLUGIN_API_MISMATCH.md");
        }
        Throwable failure = plugin.getFailedException();
        return new PluginRefusal(
                "PLUGIN_NOT_STARTED",
                d.getPluginId(),
                plugin.getPluginPath(),
                "[Quiver/PLUGIN_NOT_STARTED] "
                        + label
                        + " is "
                        + plugin.getPluginState()
                        + (failure == null ? "" : ": " + failure)
                        + ". Where: "
                        + plugin.getPluginPath());
    }

    /**
     * A new instance of a wired plugin's prediction capability, created by the plugin's already
     * loaded class loader (no reload) with this runtime's configuration plus per-instance
     * overrides, behind its own {@link PluginGuard} (same isolation policy as the others, its own
     * pool and quarantine, so a bad instance never quarantines the instances already serving). Used
     * to serve another model version beside the one serving now.
     *
     * <p>The caller owns the instance: {@link PredictionCapability#close()} closes the plugin's
     * extension (and its native handles) and the instance's guard. {@link #openInstances()} counts
     * instances made here and not yet closed.
     *
     * @param capabilityName the prediction's name, e.g. {@code lstm}
     * @param overrides plugin-local configuration keys without the plugin id, e.g. {@code
     *     lstm.model -> /cache/quiver-lstm/3/lstm.json} (the {@code <capability>.model}
     *     convention); they win over the runtime's configuration
     * @return the new instance and the plugin it belongs to
     * @throws IllegalArgumentException if no wired plugin provides that prediction
     * @throws IllegalStateException after {@link #close()}
     * @throws RuntimeException what the plugin's constructor threw (e.g. a refused model file),
     *     with the plugin and extension named
     */
    public NewInstance newPrediction(String capabilityName, Map<String, String> overrides) {
        if (closed) {
            throw new IllegalStateException(
                    "[Quiver/RUNTIME_CLOSED] the plugin runtime is closed; no new instance of"
                            + " prediction '"
                            + capabilityName
                            + "'");
        }
        WiredExtension wired = wiredByName.get("prediction:" + capabilityName);
        if (wired == null) {
            throw new IllegalArgumentException(
                    "[Quiver/NO_SUCH_CAPABILITY] no wired plugin provides prediction '"
                            + capabilityName
                            + "' (wired: "
                            + wiredByName.keySet()
                            + ")");
        }
        Map<String, String> merged = new java.util.HashMap<>(config);
        overrides.forEach((k, v) -> merged.put(wired.pluginId() + "." + k, v));
        Object extension;
        try {
            extension = new GuiceExtensionFactory(manager, merged).create(wired.type());
        } catch (org.pf4j.PluginRuntimeException e) {
            // Guice wraps the constructor's exception; report the plugin's own message.
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            throw new IllegalArgumentException(
                    "[Quiver/EXTENSION_CREATE_FAILED] Plugin '"
                            + wired.pluginId()
                            + "' prediction '"
                            + capabilityName
                            + "' ("
                            + wired.type().getName()
                            + ") could not be created with "
                            + overrides
                            + ": "
                            + root.getMessage(),
                    root);
        }
        if (!(extension instanceof PredictionCapability p)) {
            closeQuietly(extension);
            throw new IllegalStateException(
                    "[Quiver/EXTENSION_CREATE_FAILED] " + wired.type() + " is not a prediction");
        }
        Object h = wired.capability().attributes().get("horizon");
        PluginGuard guard = new PluginGuard(wired.pluginId(), isolation);
        openInstances.incrementAndGet();
        GuardedPrediction guarded =
                new GuardedPrediction(
                        p,
                        guard,
                        h instanceof Long l ? l : null,
                        () -> {
                            guard.close();
                            openInstances.decrementAndGet();
                        });
        LoadedPlugin plugin =
                loaded.stream()
                        .filter(x -> x.id().equals(wired.pluginId()))
                        .findFirst()
                        .orElseThrow();
        return new NewInstance(plugin.id(), plugin.version(), plugin.path(), guarded);
    }

    /**
     * A capability instance made by {@link #newPrediction}.
     *
     * @param pluginId the plugin it belongs to
     * @param pluginVersion that plugin's version
     * @param pluginPath where the plugin was loaded from (an expanded folder or a jar)
     * @param prediction the guarded instance; closing it closes the extension and its guard
     */
    public record NewInstance(
            String pluginId,
            String pluginVersion,
            Path pluginPath,
            PredictionCapability prediction) {}

    /**
     * Instances made by {@link #newPrediction} and not closed yet.
     *
     * @return the count, {@code >= 0}
     */
    public int openInstances() {
        return openInstances.get();
    }

    /**
     * The plugin that provides a wired prediction.
     *
     * @param capabilityName e.g. {@code lstm}
     * @return the plugin id, or empty if no wired plugin provides it
     */
    public java.util.Optional<String> pluginOfPrediction(String capabilityName) {
        return java.util.Optional.ofNullable(wiredByName.get("prediction:" + capabilityName))
                .map(WiredExtension::pluginId);
    }

    /** Plugins that started. */
    public List<LoadedPlugin> plugins() {
        return List.copyOf(loaded);
    }

    /** Plugins refused, each with its reason. */
    public List<PluginRefusal> refusals() {
        return List.copyOf(refusals);
    }

    /**
     * Capabilities offered by the host and each wired plugin, and which capability met each
     * requirement, as lines: {@code prediction-x requires quiver.model; filter:="(...)" <- wired to
     * quiver.model; name=...; (plugin 'model-y')}.
     *
     * @return the wiring, one line per capability or requirement
     */
    public List<String> wiring() {
        var out = new ArrayList<String>();
        for (Capability c : resolver.hostCapabilitiesOffered()) {
            out.add("host provides " + c);
        }
        for (String id : resolution.wired()) {
            for (Capability c : resolution.provided().get(id)) {
                out.add(id + " provides " + c);
            }
        }
        for (CapabilityResolver.Wire w : resolution.wires()) {
            out.add(
                    w.pluginId()
                            + " requires "
                            + w.requirement()
                            + " <- "
                            + w.provider().capability()
                            + " ("
                            + w.provider().owner()
                            + ")");
        }
        return out;
    }

    /**
     * Each wired plugin's health: state ({@code ACTIVE} or {@code QUARANTINED}), calls, failures,
     * missed deadlines and the reason, by plugin id.
     *
     * @return health per wired plugin, sorted by id
     */
    public List<PluginHealth> health() {
        return guards.values().stream().map(PluginGuard::health).toList();
    }

    /** The isolation in force. */
    public IsolationPolicy isolation() {
        return isolation;
    }

    public List<PredictionCapability> predictions() {
        return List.copyOf(predictions);
    }

    public List<EnsembleCapability> ensembles() {
        return List.copyOf(ensembles);
    }

    public List<SizingCapability> sizings() {
        return List.copyOf(sizings);
    }

    @Override
    public void close() {
        closed = true;
        var all = new ArrayList<AutoCloseable>();
        all.addAll(predictions);
        all.addAll(ensembles);
        all.addAll(sizings);
        for (AutoCloseable c : all) {
            try {
                c.close();
            } catch (Exception e) {
                log.warn("[Quiver/EXTENSION_CLOSE_FAILED] {} failed to close: {}", c, e.toString());
            }
        }
        guards.values().forEach(PluginGuard::close);
        // One by one, not stopPlugins(): PF4J 3.15.0's stopPlugins() modifies the list it iterates
        // (ConcurrentModificationException). unloadPlugin stops the plugin first.
        for (PluginWrapper plugin : List.copyOf(manager.getPlugins())) {
            manager.unloadPlugin(plugin.getPluginId());
        }
    }

    /** PF4J configured deliberately: system version, recovery strategy, Guice extensions. */
    static final class QuiverPluginManager extends DefaultPluginManager {

        private final Map<String, String> config;
        final List<PluginRefusal> loadFailures = new ArrayList<>();

        QuiverPluginManager(Path pluginsDir, Map<String, String> config) {
            super(pluginsDir);
            this.config = config;
            setSystemVersion(QuiverApi.VERSION);
            setResolveRecoveryStrategy(ResolveRecoveryStrategy.IGNORE_PLUGIN_AND_CONTINUE);
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
         * folder, sorted by name, without the archives refused beforehand or their stale
         * expansions.
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
         * PF4J's ignore-and-continue strategy unloads a plugin whose dependency is missing or at
         * the wrong version with only a log line; record each as a refusal first.
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

        private static PluginRefusal unreadable(Path pluginPath, String why) {
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
            return ManifestHeaders.read(plugin.getPluginPath())
                    .getOrDefault("Provide-Capability", "");
        }
    }
}
