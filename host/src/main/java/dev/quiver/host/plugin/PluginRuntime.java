package dev.quiver.host.plugin;

import dev.quiver.api.QuiverApi;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.capabilities.Capability;
import dev.quiver.capabilities.CapabilityHeaders;
import dev.quiver.engine.feature.FeaturePipeline;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
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
 *
 * <p>Live changes: {@link #apply} takes the archives now in the folder and loads what was added or
 * replaced, each in a PF4J manager of its own (PF4J cannot hold two versions of one plugin id in
 * one manager, and the new version must be running before the old one goes), re-runs capability
 * resolution over the whole new set, and returns a {@link PluginTransition}: the caller publishes
 * the new capabilities and retires the old plugins once no decision uses them. The accessors always
 * describe the latest wiring and are safe to call from any thread.
 */
public final class PluginRuntime implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PluginRuntime.class);

    /**
     * Prefix of the folders inside the plugins folder where live loads are expanded (hidden from
     * PF4J): {@code .quiver-live-<pid>-<n>}, one per runtime, so two processes (a service and a
     * {@code plugins check} of its folder) never touch each other's.
     */
    static final String STAGING = ".quiver-live-";

    private static final java.util.concurrent.atomic.AtomicInteger RUNTIMES =
            new java.util.concurrent.atomic.AtomicInteger();

    /** Refusals that depend on the other plugins; such an archive is tried again on each change. */
    private static final Set<String> RETRIED =
            Set.of(
                    "DUPLICATE_PLUGIN_ID",
                    "DUPLICATE_CAPABILITY",
                    "MISSING_DEPENDENCY",
                    "WRONG_DEPENDENCY_VERSION",
                    "CAPABILITY_UNRESOLVED");

    /** Size, modification time and sha256 of an archive the runtime has considered. */
    record ArchiveStamp(long sizeBytes, FileTime modified, Object fileKey, String sha256) {}

    /** Everything the accessors report; replaced as a whole on each change. */
    private record State(
            List<InstalledPlugin> wired,
            List<PluginRefusal> refusals,
            CapabilityResolver.Resolution resolution,
            Map<Path, ArchiveStamp> archives) {}

    private final Path pluginsDir;
    private final Map<String, String> config;
    private final QuiverPluginManager manager;
    private final CapabilityResolver resolver =
            new CapabilityResolver(
                    CapabilityResolver.hostCapabilities(QuiverApi.VERSION, FeaturePipeline.SCHEMA),
                    FeaturePipeline.SCHEMA);
    private final IsolationPolicy isolation;
    private final AtomicLong liveLoads = new AtomicLong();
    private final Path staging;
    private volatile State state;

    private final java.util.concurrent.atomic.AtomicInteger openInstances =
            new java.util.concurrent.atomic.AtomicInteger();

    /** Where a wired extension came from, to make more instances of it. */
    record WiredExtension(String pluginId, Class<?> type, Capability capability) {}

    private PluginRuntime(Path pluginsDir, Map<String, String> config) {
        this.pluginsDir = pluginsDir;
        this.config = Map.copyOf(config);
        this.manager = new QuiverPluginManager(pluginsDir, config);
        this.isolation = IsolationPolicy.from(config);
        this.staging =
                pluginsDir.resolve(
                        STAGING + ProcessHandle.current().pid() + "-" + RUNTIMES.incrementAndGet());
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

    /** The folder this runtime loads from. */
    public Path pluginsDir() {
        return pluginsDir;
    }

    /** The folder this runtime stages live loads in (created on the first one). */
    Path stagingDir() {
        return staging;
    }

    /** Deletes staging folders left by processes that are gone (a crash, a kill -9). */
    private void dropStaleStaging() {
        try (var files = Files.list(pluginsDir)) {
            for (Path p : files.toList()) {
                String name = p.getFileName().toString();
                if (!name.startsWith(STAGING) || !Files.isDirectory(p)) {
                    continue;
                }
                String pid = name.substring(STAGING.length()).replaceFirst("-.*$", "");
                boolean alive;
                try {
                    alive =
                            ProcessHandle.of(Long.parseLong(pid))
                                    .map(ProcessHandle::isAlive)
                                    .orElse(false);
                } catch (NumberFormatException e) {
                    alive = false;
                }
                if (!alive) {
                    InstalledPlugin.deleteQuietly(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list plugins folder " + pluginsDir, e);
        }
    }

    private void load() {
        dropStaleStaging();
        var refusals = new ArrayList<PluginRefusal>();
        Map<Path, ArchiveStamp> archives = new TreeMap<>();
        List<PluginRefusal> unreadable = unreadableArchives(archives);
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
        plugins.sort(Comparator.comparing(PluginWrapper::getPluginId));
        var candidates = new ArrayList<CapabilityResolver.Candidate>();
        var started = new LinkedHashMap<String, PluginWrapper>();
        for (PluginWrapper plugin : plugins) {
            if (plugin.getPluginState() != PluginState.STARTED) {
                refusals.add(refusalOf(manager, plugin));
                continue;
            }
            PluginRefusal missing = missingExtensionClass(manager, plugin);
            if (missing != null) {
                refusals.add(missing);
                manager.unloadPlugin(plugin.getPluginId());
                continue;
            }
            candidates.add(candidateOf(plugin));
            started.put(plugin.getPluginId(), plugin);
        }
        CapabilityResolver.Resolution resolution = resolver.resolve(candidates);
        for (PluginRefusal r : resolution.refusals()) {
            refusals.add(r);
            manager.unloadPlugin(r.pluginId());
        }
        var wired = new ArrayList<InstalledPlugin>();
        for (String id : resolution.wired()) {
            PluginWrapper plugin = started.get(id);
            Path archive = archiveOf(plugin.getPluginPath());
            InstalledPlugin installed =
                    install(
                            manager,
                            plugin,
                            candidateOf(plugin),
                            resolution.provided().get(id),
                            archive,
                            null,
                            archive.equals(plugin.getPluginPath()) ? null : plugin.getPluginPath(),
                            refusals);
            if (installed != null) {
                wired.add(installed);
            }
        }
        for (PluginRefusal r : refusals) {
            log.warn(r.message());
        }
        state = new State(List.copyOf(wired), List.copyOf(refusals), resolution, archives);
    }

    private static CapabilityResolver.Candidate candidateOf(PluginWrapper plugin) {
        PluginDescriptor d = plugin.getDescriptor();
        Map<String, String> headers = ManifestHeaders.read(plugin.getPluginPath());
        return new CapabilityResolver.Candidate(
                d.getPluginId(),
                d.getVersion(),
                plugin.getPluginPath(),
                headers.get(CapabilityHeaders.PROVIDE),
                headers.get(CapabilityHeaders.REQUIRE));
    }

    /**
     * Wires one resolved plugin: its guard and its extensions behind it.
     *
     * @return the plugin, or null if creating its extensions missed the create deadline (refused
     *     with {@code PLUGIN_STUCK} into {@code refusals})
     */
    private InstalledPlugin install(
            QuiverPluginManager owner,
            PluginWrapper plugin,
            CapabilityResolver.Candidate candidate,
            List<Capability> declared,
            Path archive,
            Path stagingDir,
            Path startExpansion,
            List<PluginRefusal> refusals) {
        PluginDescriptor d = plugin.getDescriptor();
        PluginGuard guard = new PluginGuard(d.getPluginId(), isolation);
        var names = new ArrayList<String>();
        var predictions = new ArrayList<PredictionCapability>();
        var ensembles = new ArrayList<EnsembleCapability>();
        var sizings = new ArrayList<SizingCapability>();
        var found = new ArrayList<PluginRefusal>();
        var types = new java.util.TreeMap<String, WiredExtension>();
        // On a thread of the plugin's own: what its constructors cache per thread (Jackson's
        // buffer recyclers, say) must not pin its class loader to a long-lived host thread.
        try {
            PluginLeaks.onOwnThread(
                    d.getPluginId(),
                    "setup",
                    () -> {
                        collect(
                                owner,
                                plugin,
                                guard,
                                PredictionCapability.class,
                                predictions,
                                declared,
                                names,
                                types,
                                found);
                        collect(
                                owner,
                                plugin,
                                guard,
                                EnsembleCapability.class,
                                ensembles,
                                declared,
                                names,
                                types,
                                found);
                        collect(
                                owner,
                                plugin,
                                guard,
                                SizingCapability.class,
                                sizings,
                                declared,
                                names,
                                types,
                                found);
                        return null;
                    },
                    owner.createDeadlineMillis);
        } catch (PluginLeaks.PluginStuckException e) {
            // A constructor that never returns: the plugin is refused, its thread left behind.
            guard.close();
            refusals.add(
                    new PluginRefusal(
                            "PLUGIN_STUCK",
                            d.getPluginId(),
                            plugin.getPluginPath(),
                            e.getMessage()
                                    + " (creating its extensions; deadline"
                                    + " quiver.plugin.create-deadline-ms)"));
            return null;
        }
        refusals.addAll(found);
        var info =
                new LoadedPlugin(
                        d.getPluginId(),
                        d.getVersion(),
                        d.getRequires(),
                        owner.provides(plugin),
                        plugin.getPluginPath(),
                        names);
        return new InstalledPlugin(
                info,
                candidate,
                archive,
                guard,
                predictions,
                ensembles,
                sizings,
                types,
                owner,
                stagingDir,
                startExpansion,
                plugin.getPluginClassLoader());
    }

    /**
     * The archive in the plugins folder a plugin path stands for: the path itself for a zip or jar,
     * {@code x.zip} for PF4J's expansion {@code x/}, else the folder (an expanded plugin).
     */
    private static Path archiveOf(Path pluginPath) {
        if (Files.isRegularFile(pluginPath)) {
            return pluginPath;
        }
        Path zip = pluginPath.resolveSibling(pluginPath.getFileName() + ".zip");
        return Files.isRegularFile(zip) ? zip : pluginPath;
    }

    /**
     * Brings the runtime in line with the archives now in the plugins folder: an archive not seen
     * before is loaded, one whose sha256 changed is reloaded (the new version in a PF4J manager of
     * its own, beside the old), one that is gone is taken out; archives refused for want of another
     * plugin are tried again. Resolution then runs over the whole new set, so a plugin whose
     * requirement was met only by a removed plugin is withdrawn with the reason. New refusals are
     * logged and reported by {@link #refusals()} as at start.
     *
     * <p>Nothing is closed or unloaded here: the plugins taken out keep working until the caller
     * calls {@link PluginTransition#retire()} (after the decisions that use them have drained).
     * Calls are serialised; the accessors report the new wiring as soon as this returns.
     *
     * @param settled archives ({@code .zip}/{@code .jar} directly in the plugins folder) that are
     *     complete, with their sha256
     * @param unsettled archives present but still being written: neither loaded nor taken out
     * @return what changed; {@link PluginTransition#isEmpty()} if nothing did
     */
    public synchronized PluginTransition apply(Map<Path, String> settled, Set<Path> unsettled) {
        State s = state;
        if (s == null) {
            throw new IllegalStateException("[Quiver/RUNTIME_CLOSED] the plugin runtime is closed");
        }
        var removed = new ArrayList<Path>();
        var changed = new ArrayList<Path>();
        for (Path p : s.archives().keySet()) {
            if (!settled.containsKey(p) && !unsettled.contains(p)) {
                removed.add(p);
            }
        }
        for (Map.Entry<Path, String> e : new TreeMap<>(settled).entrySet()) {
            ArchiveStamp known = s.archives().get(e.getKey());
            if (known == null || !known.sha256().equals(e.getValue())) {
                changed.add(e.getKey());
            }
        }
        if (removed.isEmpty() && changed.isEmpty()) {
            return PluginTransition.none();
        }
        var gone = new HashSet<Path>(removed);
        gone.addAll(changed);
        var actions = new ArrayList<String>();
        var retiring = new ArrayList<InstalledPlugin>();
        var keep = new ArrayList<InstalledPlugin>();
        for (InstalledPlugin p : s.wired()) {
            (gone.contains(p.archive) ? retiring : keep).add(p);
        }
        var toLoad = new ArrayList<>(changed);
        var refusals = new ArrayList<PluginRefusal>();
        for (PluginRefusal r : s.refusals()) {
            Path archive = archiveOf(r.path());
            if (gone.contains(archive)) {
                continue; // the archive changed or left: its old refusal no longer holds
            }
            if (RETRIED.contains(r.code()) && settled.containsKey(archive)) {
                if (!toLoad.contains(archive)) {
                    toLoad.add(archive);
                }
                continue;
            }
            refusals.add(r);
        }
        toLoad.sort(Comparator.naturalOrder());
        // An archive tried again whose earlier version still runs (kept when the newer one was
        // refused) is a replacement like a changed one: the running version goes only if the
        // newer one is wired.
        var replacing = new HashSet<Path>(changed);
        for (InstalledPlugin p : List.copyOf(keep)) {
            if (toLoad.contains(p.archive)) {
                keep.remove(p);
                retiring.add(p);
                replacing.add(p.archive);
            }
        }

        var archives = new TreeMap<>(s.archives());
        removed.forEach(archives::remove);
        var fresh = new ArrayList<PluginRefusal>();
        var cells = new ArrayList<Cell>();
        var ids = new HashSet<String>();
        keep.forEach(p -> ids.add(p.id()));
        var names = new HashSet<String>();
        keep.forEach(p -> names.addAll(p.info.extensions()));
        var failedArchives = new HashSet<Path>();
        for (Path archive : toLoad) {
            Cell cell = loadCell(archive, archives, ids, fresh);
            PluginRefusal taken = cell == null ? null : nameTaken(cell, names);
            if (taken != null) {
                fresh.add(taken);
                cell.unload();
                cell = null;
            }
            if (cell == null) {
                failedArchives.add(archive);
                continue;
            }
            cells.add(cell);
            ids.add(cell.plugin.getPluginId());
            names.addAll(declaredNames(cell.candidate));
        }

        // Resolve the kept and the new plugins together. A replacement that is refused leaves the
        // running version in place (resolution then runs again with it), as a bad model version
        // never displaces the one serving.
        var restored = new ArrayList<InstalledPlugin>();
        CapabilityResolver.Resolution resolution;
        var unresolved = new java.util.HashMap<String, PluginRefusal>();
        while (true) {
            for (InstalledPlugin old : List.copyOf(retiring)) {
                if (replacing.contains(old.archive) && failedArchives.contains(old.archive)) {
                    retiring.remove(old);
                    keep.add(old);
                    restored.add(old);
                }
            }
            var candidates = new ArrayList<CapabilityResolver.Candidate>();
            keep.forEach(p -> candidates.add(p.candidate));
            cells.forEach(c -> candidates.add(c.candidate));
            resolution = resolver.resolve(candidates);
            unresolved.clear();
            resolution.refusals().forEach(r -> unresolved.put(r.pluginId(), r));
            boolean again = false;
            for (Cell c : List.copyOf(cells)) {
                PluginRefusal r = unresolved.get(c.plugin.getPluginId());
                if (r == null) {
                    continue;
                }
                fresh.add(withArchive(r, c.archive));
                c.unload();
                cells.remove(c);
                failedArchives.add(c.archive);
                again |=
                        retiring.stream()
                                .anyMatch(
                                        o ->
                                                o.archive.equals(c.archive)
                                                        && changed.contains(c.archive));
            }
            if (!again) {
                break;
            }
        }
        for (InstalledPlugin old : restored) {
            actions.add(
                    "kept "
                            + old.id()
                            + " "
                            + old.info.version()
                            + ": the new "
                            + old.archive.getFileName()
                            + " was refused");
        }

        var wired = new ArrayList<InstalledPlugin>();
        for (InstalledPlugin p : keep) {
            PluginRefusal r = unresolved.get(p.id());
            if (r == null) {
                wired.add(p);
            } else {
                retiring.add(p);
                fresh.add(withArchive(r, p.archive));
                actions.add("withdrew " + p.id() + " " + p.info.version() + ": " + r.message());
            }
        }
        var added = new ArrayList<InstalledPlugin>();
        for (Cell c : cells) {
            String id = c.plugin.getPluginId();
            InstalledPlugin installed =
                    install(
                            c.manager,
                            c.plugin,
                            c.candidate,
                            resolution.provided().get(id),
                            c.archive,
                            c.stagingDir,
                            null,
                            fresh);
            if (installed == null) {
                continue;
            }
            wired.add(installed);
            added.add(installed);
        }
        for (InstalledPlugin p : added) {
            InstalledPlugin old =
                    retiring.stream().filter(o -> o.id().equals(p.id())).findFirst().orElse(null);
            actions.add(
                    (old == null
                                    ? "loaded " + p.id() + " " + p.info.version()
                                    : "replaced "
                                            + p.id()
                                            + " "
                                            + old.info.version()
                                            + " -> "
                                            + p.info.version())
                            + " ("
                            + p.archive.getFileName()
                            + ")");
        }
        for (InstalledPlugin p : retiring) {
            boolean replaced = added.stream().anyMatch(a -> a.id().equals(p.id()));
            boolean withdrawn = unresolved.containsKey(p.id()) && !gone.contains(p.archive);
            if (!replaced && !withdrawn) {
                actions.add(
                        "removed "
                                + p.id()
                                + " "
                                + p.info.version()
                                + " ("
                                + p.archive.getFileName()
                                + (removed.contains(p.archive) ? " deleted" : " changed")
                                + ")");
            }
        }
        for (PluginRefusal r : fresh) {
            log.warn(r.message());
            if (actions.stream().noneMatch(a -> a.contains(r.message()))) {
                actions.add("refused " + r.pluginId() + ": " + r.message());
            }
        }
        for (Path p : removed) {
            if (s.wired().stream().noneMatch(w -> w.archive.equals(p))) {
                actions.add("forgot " + p.getFileName() + " (deleted; it was not running)");
            }
        }
        refusals.addAll(fresh);
        wired.sort(Comparator.comparing(InstalledPlugin::id));
        State next = new State(List.copyOf(wired), List.copyOf(refusals), resolution, archives);
        state = next;
        PluginTransition t = new PluginTransition(added, retiring, fresh, actions, s, next);
        log.info("[Quiver/PLUGINS_CHANGED] {}", t);
        return t;
    }

    /** {@code kind:name} of each prediction, ensemble and sizing a candidate declares. */
    private static Set<String> declaredNames(CapabilityResolver.Candidate c) {
        var out = new HashSet<String>();
        try {
            for (Capability cap : CapabilityHeaders.parseProvide(c.provides())) {
                String name = cap.attribute("name");
                if (name != null && cap.namespace().startsWith("quiver.")) {
                    out.add(cap.namespace().substring("quiver.".length()) + ":" + name);
                }
            }
        } catch (RuntimeException e) {
            // A header that does not parse is the resolver's to refuse, with its reason.
        }
        return out;
    }

    /**
     * A live-loaded plugin may not offer a capability under a name a running plugin already uses:
     * the service keys sources and sizing policies by name.
     */
    private static PluginRefusal nameTaken(Cell c, Set<String> taken) {
        for (String kindAndName : new java.util.TreeSet<>(declaredNames(c.candidate))) {
            if (taken.contains(kindAndName)) {
                String id = c.plugin.getPluginId();
                String kind = kindAndName.substring(0, kindAndName.indexOf(':'));
                String name = kindAndName.substring(kindAndName.indexOf(':') + 1);
                return new PluginRefusal(
                        "DUPLICATE_CAPABILITY",
                        id,
                        c.archive,
                        "[Quiver/DUPLICATE_CAPABILITY] Plugin '"
                                + id
                                + "' "
                                + c.plugin.getDescriptor().getVersion()
                                + " ("
                                + c.archive.getFileName()
                                + ") provides "
                                + kind
                                + " '"
                                + name
                                + "', which a running plugin already provides; it is not loaded."
                                + " Hint: give the capability another name, or replace the plugin"
                                + " that provides it (overwrite its archive).");
            }
        }
        return null;
    }

    /**
     * Undoes a transition that could not be published: the runtime reports what it did before, and
     * the plugins the transition loaded are unloaded (the ones it took out were never closed and
     * keep serving). Only the latest transition can be undone.
     *
     * @param t the transition {@link #apply} returned last
     * @return whether it was undone (false if another change came after it)
     */
    public synchronized boolean revert(PluginTransition t) {
        if (state == null || state != t.nextState()) {
            return false;
        }
        state = (State) t.previousState();
        t.abandon();
        log.warn("[Quiver/PLUGINS_CHANGE_REVERTED] not published, undone: {}", t);
        return true;
    }

    private static PluginRefusal withArchive(PluginRefusal r, Path archive) {
        return new PluginRefusal(r.code(), r.pluginId(), archive, r.message());
    }

    /** A plugin PF4J loaded and started in a manager of its own, not yet wired. */
    private record Cell(
            Path archive,
            Path stagingDir,
            QuiverPluginManager manager,
            PluginWrapper plugin,
            CapabilityResolver.Candidate candidate) {
        void unload() {
            manager.unloadPlugin(plugin.getPluginId());
            InstalledPlugin.deleteQuietly(stagingDir);
        }
    }

    /**
     * Copies the archive to a private staging folder (so the file in the plugins folder can be
     * replaced again at any time, and the running version's expansion is never overwritten), and
     * loads and starts it there in a PF4J manager of its own.
     *
     * @return the started plugin, or null with its refusal added to {@code refusals}
     */
    private Cell loadCell(
            Path archive,
            Map<Path, ArchiveStamp> archives,
            Set<String> takenIds,
            List<PluginRefusal> refusals) {
        String name = archive.getFileName().toString();
        Path dir = staging.resolve(liveLoads.incrementAndGet() + "-" + name + ".d");
        Path copy = dir.resolve(name);
        try {
            Files.createDirectories(dir);
            Files.copy(archive, copy);
            archives.put(archive, stamp(archive, copy));
        } catch (IOException e) {
            // Gone or unreadable between the watcher's look and now: the next scan sees it again.
            archives.remove(archive);
            InstalledPlugin.deleteQuietly(dir);
            log.warn(
                    "[Quiver/PLUGIN_STAGING_FAILED] could not stage {}: {}", archive, e.toString());
            return null;
        }
        String problem = ManifestHeaders.problemWith(copy);
        if (problem != null) {
            refusals.add(QuiverPluginManager.unreadable(archive, problem));
            InstalledPlugin.deleteQuietly(dir);
            return null;
        }
        String declaredId = ManifestHeaders.read(copy).get("Plugin-Id");
        if (takenIds.contains(declaredId)) {
            refusals.add(
                    new PluginRefusal(
                            "DUPLICATE_PLUGIN_ID",
                            declaredId,
                            archive,
                            "[Quiver/DUPLICATE_PLUGIN_ID] Plugin '"
                                    + declaredId
                                    + "' at "
                                    + archive
                                    + " has the same Plugin-Id as a plugin already running; it"
                                    + " is not loaded. Hint: to replace a plugin, overwrite its"
                                    + " archive or delete the old one (it is tried again then)."));
            InstalledPlugin.deleteQuietly(dir);
            return null;
        }
        var cellManager = new QuiverPluginManager(dir, config);
        String expanded = dir.resolve(name.replaceFirst("\\.(zip|jar)$", "")).toString();
        var local = new ArrayList<PluginRefusal>();
        PluginWrapper started = null;
        try {
            cellManager.loadPlugins();
            cellManager.startPlugins();
            local.addAll(cellManager.loadFailures);
            for (PluginWrapper plugin : List.copyOf(cellManager.getPlugins())) {
                if (plugin.getPluginState() != PluginState.STARTED) {
                    local.add(refusalOf(cellManager, plugin));
                    continue;
                }
                PluginRefusal missing = missingExtensionClass(cellManager, plugin);
                if (missing != null) {
                    local.add(missing);
                    continue;
                }
                started = plugin;
            }
        } catch (RuntimeException e) {
            local.add(QuiverPluginManager.unreadable(archive, e.toString()));
        }
        for (PluginRefusal r : local) {
            refusals.add(
                    new PluginRefusal(
                            r.code(),
                            r.pluginId(),
                            archive,
                            r.message().replace(expanded, archive.toString())));
        }
        if (started == null) {
            for (PluginWrapper plugin : List.copyOf(cellManager.getPlugins())) {
                cellManager.unloadPlugin(plugin.getPluginId());
            }
            InstalledPlugin.deleteQuietly(dir);
            return null;
        }
        return new Cell(archive, dir, cellManager, started, candidateOf(started));
    }

    /**
     * Size, time and file key of an archive, with the sha256 of {@code content} (the archive
     * itself, or the staged copy that is loaded: the archive may change again meanwhile).
     */
    private static ArchiveStamp stamp(Path archive, Path content) throws IOException {
        var a = Files.readAttributes(archive, java.nio.file.attribute.BasicFileAttributes.class);
        return new ArchiveStamp(
                Files.size(content),
                a.lastModifiedTime(),
                a.fileKey(),
                ExpandedZips.sha256(content));
    }

    /**
     * The archives the runtime has considered (loaded, refused or kept), with what it saw of each:
     * a watcher seeds itself from this so it does not hash unchanged archives again.
     */
    Map<Path, ArchiveStamp> archives() {
        State s = state;
        return s == null ? Map.of() : Map.copyOf(s.archives());
    }

    /**
     * PF4J logs and skips an extension class named in the plugin's index that it cannot load; a
     * plugin whose extension is missing is refused instead, naming the class.
     */
    private static PluginRefusal missingExtensionClass(
            QuiverPluginManager manager, PluginWrapper plugin) {
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
     * each is reported as a refusal. Records what was seen of every archive in {@code archives}.
     */
    private List<PluginRefusal> unreadableArchives(Map<Path, ArchiveStamp> archives) {
        var out = new ArrayList<PluginRefusal>();
        try (var files = Files.list(manager.getPluginsRoots().get(0))) {
            for (Path file : files.sorted().toList()) {
                if (!isArchive(file)) {
                    continue;
                }
                archives.put(file, stamp(file, file));
                String problem = ManifestHeaders.problemWith(file);
                if (problem != null) {
                    out.add(QuiverPluginManager.unreadable(file, problem));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list plugins folder", e);
        }
        return out;
    }

    /** A {@code .zip} or {@code .jar} file directly in the plugins folder, not hidden. */
    static boolean isArchive(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return !name.startsWith(".")
                && (name.endsWith(".zip") || name.endsWith(".jar"))
                && Files.isRegularFile(file);
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
            QuiverPluginManager owner,
            PluginWrapper plugin,
            PluginGuard guard,
            Class<T> type,
            List<T> into,
            List<Capability> declared,
            List<String> names,
            Map<String, WiredExtension> types,
            List<PluginRefusal> refusals) {
        ExtensionFactory factory = owner.getExtensionFactory();
        String namespace = "quiver." + kindOf(type);
        for (Class<? extends T> cls : owner.getExtensionClasses(type, plugin.getPluginId())) {
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
            into.add(type.cast(guard(extension, guard, capability)));
            names.add(kindOf(type) + ":" + name);
            types.putIfAbsent(
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

    private static PluginRefusal refusalOf(QuiverPluginManager manager, PluginWrapper plugin) {
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
        if (failure instanceof PluginLeaks.PluginStuckException) {
            return new PluginRefusal(
                    "PLUGIN_STUCK",
                    d.getPluginId(),
                    plugin.getPluginPath(),
                    failure.getMessage() + ". Where: " + plugin.getPluginPath());
        }
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

    private State state() {
        State s = state;
        if (s == null) {
            throw new IllegalStateException("[Quiver/RUNTIME_CLOSED] the plugin runtime is closed");
        }
        return s;
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
        return newInstance("prediction", capabilityName, overrides);
    }

    /**
     * A new instance of a wired plugin's ensemble, as {@link #newPrediction} (its own guard, owned
     * by the caller): a strategy bundle restores its fitted state into it.
     *
     * @param capabilityName the ensemble's name, e.g. {@code stack}
     * @return the new instance, in {@link NewInstance#capability()}
     * @throws IllegalArgumentException if no wired plugin provides that ensemble
     * @throws IllegalStateException after {@link #close()}
     */
    public NewInstance newEnsemble(String capabilityName) {
        return newInstance("ensemble", capabilityName, Map.of());
    }

    /**
     * A new instance of a wired plugin's sizing policy, as {@link #newEnsemble}.
     *
     * @param capabilityName the policy's name, e.g. {@code kelly_ml}
     * @return the new instance, in {@link NewInstance#capability()}
     * @throws IllegalArgumentException if no wired plugin provides that policy
     * @throws IllegalStateException after {@link #close()}
     */
    public NewInstance newSizing(String capabilityName) {
        return newInstance("sizing", capabilityName, Map.of());
    }

    private NewInstance newInstance(
            String kind, String capabilityName, Map<String, String> overrides) {
        State s = state;
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
                s.wired().stream()
                        .filter(p -> p.extensionTypes.containsKey(key))
                        .findFirst()
                        .orElseThrow(
                                () ->
                                        new IllegalArgumentException(
                                                "[Quiver/NO_SUCH_CAPABILITY] no wired plugin"
                                                        + " provides "
                                                        + kind
                                                        + " '"
                                                        + capabilityName
                                                        + "' (wired: "
                                                        + s.wired().stream()
                                                                .flatMap(
                                                                        p ->
                                                                                p
                                                                                        .extensionTypes
                                                                                        .keySet()
                                                                                        .stream())
                                                                .sorted()
                                                                .toList()
                                                        + ")"));
        WiredExtension wired = owner.extensionTypes.get(key);
        Map<String, String> merged = new java.util.HashMap<>(config);
        overrides.forEach((k, v) -> merged.put(wired.pluginId() + "." + k, v));
        Object extension;
        try {
            // On a thread of the plugin's own, as at setup (see PluginLeaks).
            extension =
                    PluginLeaks.onOwnThread(
                            wired.pluginId(),
                            "instance",
                            () ->
                                    new GuiceExtensionFactory(owner.manager(), merged)
                                            .create(wired.type()));
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
        PluginGuard guard = new PluginGuard(wired.pluginId(), isolation);
        Runnable afterClose =
                () -> {
                    guard.close();
                    openInstances.decrementAndGet();
                };
        Object guarded;
        if (kind.equals("prediction") && extension instanceof PredictionCapability p) {
            Object h = wired.capability().attributes().get("horizon");
            guarded = new GuardedPrediction(p, guard, h instanceof Long l ? l : null, afterClose);
        } else if (kind.equals("ensemble") && extension instanceof EnsembleCapability e) {
            guarded = new GuardedEnsemble(e, guard, afterClose);
        } else if (kind.equals("sizing") && extension instanceof SizingCapability z) {
            guarded = new GuardedSizing(z, guard, afterClose);
        } else {
            closeQuietly(extension);
            guard.close();
            throw new IllegalStateException(
                    "[Quiver/EXTENSION_CREATE_FAILED] " + wired.type() + " is not a " + kind);
        }
        openInstances.incrementAndGet();
        LoadedPlugin plugin = owner.info;
        return new NewInstance(plugin.id(), plugin.version(), plugin.path(), guarded);
    }

    /**
     * A capability instance made by {@link #newPrediction}.
     *
     * @param pluginId the plugin it belongs to
     * @param pluginVersion that plugin's version
     * @param pluginPath where the plugin was loaded from (an expanded folder or a jar)
     * @param capability the guarded instance; closing it closes the extension and its guard
     */
    public record NewInstance(
            String pluginId, String pluginVersion, Path pluginPath, Object capability) {

        /**
         * The instance as a prediction.
         *
         * @return the guarded prediction
         * @throws ClassCastException if it is another kind
         */
        public PredictionCapability prediction() {
            return (PredictionCapability) capability;
        }

        /**
         * The instance as an ensemble.
         *
         * @return the guarded ensemble
         * @throws ClassCastException if it is another kind
         */
        public EnsembleCapability ensemble() {
            return (EnsembleCapability) capability;
        }

        /**
         * The instance as a sizing policy.
         *
         * @return the guarded policy
         * @throws ClassCastException if it is another kind
         */
        public SizingCapability sizing() {
            return (SizingCapability) capability;
        }
    }

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
        return state().wired().stream()
                .filter(p -> p.extensionTypes.containsKey("prediction:" + capabilityName))
                .map(InstalledPlugin::id)
                .findFirst();
    }

    /** Plugins wired now, sorted by id. */
    public List<LoadedPlugin> plugins() {
        return state().wired().stream().map(p -> p.info).toList();
    }

    /**
     * Plugins refused (at start or by a later change, while their archive is present), each with
     * its reason.
     */
    public List<PluginRefusal> refusals() {
        return state().refusals();
    }

    /**
     * Capabilities offered by the host and each wired plugin, and which capability met each
     * requirement, as lines: {@code prediction-x requires quiver.model; filter:="(...)" <- wired to
     * quiver.model; name=...; (plugin 'model-y')}.
     *
     * @return the wiring, one line per capability or requirement
     */
    public List<String> wiring() {
        CapabilityResolver.Resolution resolution = state().resolution();
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
     * missed deadlines and the reason, by plugin id. A reloaded plugin starts with a fresh guard.
     *
     * @return health per wired plugin, sorted by id
     */
    public List<PluginHealth> health() {
        return state().wired().stream().map(p -> p.guard.health()).toList();
    }

    /** The isolation in force. */
    public IsolationPolicy isolation() {
        return isolation;
    }

    /** Every wired prediction, behind its plugin's guard, in plugin id order. */
    public List<PredictionCapability> predictions() {
        var out = new ArrayList<PredictionCapability>();
        state().wired().forEach(p -> out.addAll(p.predictions));
        return List.copyOf(out);
    }

    /** Every wired ensemble, behind its plugin's guard, in plugin id order. */
    public List<EnsembleCapability> ensembles() {
        var out = new ArrayList<EnsembleCapability>();
        state().wired().forEach(p -> out.addAll(p.ensembles));
        return List.copyOf(out);
    }

    /** Every wired sizing policy, behind its plugin's guard, in plugin id order. */
    public List<SizingCapability> sizings() {
        var out = new ArrayList<SizingCapability>();
        state().wired().forEach(p -> out.addAll(p.sizings));
        return List.copyOf(out);
    }

    /** The wired plugins' class loaders, by plugin id, for leak checks. */
    Map<String, java.lang.ref.WeakReference<ClassLoader>> classLoaders() {
        var out = new TreeMap<String, java.lang.ref.WeakReference<ClassLoader>>();
        state().wired().forEach(p -> out.put(p.id(), p.classLoader()));
        return out;
    }

    /**
     * Closes every wired extension and unloads every plugin. Plugins taken out by a {@link
     * PluginTransition} that was never retired are the caller's to retire. Later calls do nothing.
     */
    @Override
    public synchronized void close() {
        State s = state;
        if (s == null) {
            return;
        }
        state = null;
        s.wired().forEach(p -> p.unload(false));
        InstalledPlugin.deleteQuietly(staging);
        // One by one, not stopPlugins(): PF4J 3.15.0's stopPlugins() modifies the list it iterates
        // (ConcurrentModificationException). unloadPlugin stops the plugin first.
        for (PluginWrapper plugin : List.copyOf(manager.getPlugins())) {
            manager.unloadPlugin(plugin.getPluginId());
        }
    }
}
