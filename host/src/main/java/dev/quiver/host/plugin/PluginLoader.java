package dev.quiver.host.plugin;

import dev.quiver.api.QuiverApi;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.pf4j.PluginDescriptor;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads and starts plugins through PF4J for one {@link PluginRuntime}: the whole folder in one
 * manager at start, and each archive of a live change in a manager of its own, from a copy in the
 * runtime's staging folder. Every plugin that does not start, or whose extension classes cannot be
 * loaded, is refused with the reason; resolution and wiring are {@link PluginWiring}'s.
 */
final class PluginLoader {

    // Logged under the runtime's name, as before the runtime was split.
    private static final Logger log = LoggerFactory.getLogger(PluginRuntime.class);

    /**
     * Prefix of the folders inside the plugins folder where live loads are expanded (hidden from
     * PF4J): {@code .quiver-live-<pid>-<n>}, one per runtime, so two processes (a service and a
     * {@code plugins check} of its folder) never touch each other's.
     */
    static final String STAGING = ".quiver-live-";

    private static final AtomicInteger RUNTIMES = new AtomicInteger();

    private final Path pluginsDir;
    private final Map<String, String> config;
    private final Path staging;
    private final AtomicLong liveLoads = new AtomicLong();
    private final PluginTrust trust;
    private String trustSeen;

    /** A plugin PF4J loaded and started in a manager of its own, not yet wired. */
    record Cell(
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

    private final java.util.function.Consumer<PluginStopFailure> stopFailures;

    PluginLoader(
            Path pluginsDir,
            Map<String, String> config,
            PluginTrust trust,
            java.util.function.Consumer<PluginStopFailure> stopFailures) {
        this.stopFailures = stopFailures;
        this.pluginsDir = pluginsDir;
        this.config = config;
        this.trust = trust;
        this.trustSeen = trust.stamp();
        this.staging =
                pluginsDir.resolve(
                        STAGING + ProcessHandle.current().pid() + "-" + RUNTIMES.incrementAndGet());
    }

    /** Where trust comes from, as a sentence ({@link PluginTrust#describe()}). */
    String trust() {
        return trust.describe();
    }

    /** The folder live loads are staged in (created on the first one). */
    Path stagingDir() {
        return staging;
    }

    /**
     * Loads and starts every plugin of the folder in {@code manager}, after refusing the archives
     * that cannot be read (or hold an entry that would escape the folder), are not trusted ({@link
     * PluginTrust}: refused before PF4J expands them, so no class of theirs is ever defined), or
     * sit on a dependency cycle (PF4J never sees those).
     *
     * @param archives filled with what was seen of every archive in the folder
     * @param refusals every plugin that did not start, with the reason, is added here
     * @return the started plugins, sorted by id
     */
    List<PluginWrapper> startFolder(
            QuiverPluginManager manager,
            Map<Path, PluginArchives.ArchiveStamp> archives,
            List<PluginRefusal> refusals) {
        dropStaleStaging();
        Path root = manager.getPluginsRoots().get(0);
        List<PluginRefusal> unreadable = PluginArchives.unreadable(root, archives);
        refusals.addAll(unreadable);
        unreadable.forEach(r -> manager.excluded.add(r.path()));
        List<PluginRefusal> untrusted = untrusted(root, archives, manager.excluded);
        refusals.addAll(untrusted);
        untrusted.forEach(r -> manager.excluded.add(r.path()));
        List<PluginRefusal> cycles = PluginArchives.dependencyCycles(root, manager.excluded);
        refusals.addAll(cycles);
        cycles.forEach(r -> manager.excluded.add(r.path()));
        ExpandedZips.dropStale(root, archives);
        manager.loadPlugins();
        ExpandedZips.markFresh(root, archives);
        manager.startPlugins();
        refusals.addAll(manager.loadFailures);
        // Sorted by id: PF4J's load order depends on the file system, reports should not.
        var plugins = new ArrayList<>(manager.getPlugins());
        plugins.sort(Comparator.comparing(PluginWrapper::getPluginId));
        var started = new ArrayList<PluginWrapper>();
        for (PluginWrapper plugin : plugins) {
            PluginRefusal refused = notRunnable(manager, plugin);
            if (refused == null) {
                started.add(plugin);
                continue;
            }
            refusals.add(refused);
            if (plugin.getPluginState() == PluginState.STARTED) {
                manager.unloadPlugin(plugin.getPluginId()); // started, but an extension is missing
            }
        }
        return started;
    }

    /**
     * The archives of the folder that are not trusted, and its plain folders (an expanded plugin
     * with no archive beside it cannot be verified), each with the reason; PF4J never sees them.
     */
    private List<PluginRefusal> untrusted(
            Path root, Map<Path, PluginArchives.ArchiveStamp> archives, Set<Path> excluded) {
        var out = new ArrayList<PluginRefusal>();
        if (!trust.checks()) {
            return out;
        }
        for (var a : archives.entrySet()) {
            Path file = a.getKey();
            if (excluded.contains(file)) {
                continue;
            }
            PluginRefusal r = trust.check(file, file, a.getValue().sha256(), declaredId(file));
            if (r != null) {
                out.add(r);
            }
        }
        try (var files = Files.list(root)) {
            for (Path p : files.sorted().toList()) {
                String name = p.getFileName().toString();
                if (name.startsWith(".")
                        || !Files.isDirectory(p)
                        || Files.isRegularFile(p.resolveSibling(name + ".zip"))) {
                    continue;
                }
                out.add(
                        new PluginRefusal(
                                "PLUGIN_UNVERIFIABLE",
                                name,
                                p,
                                "[Quiver/PLUGIN_UNVERIFIABLE] "
                                        + p
                                        + " is a folder, not a plugin archive: an expanded plugin"
                                        + " cannot be checked against the trust list or a"
                                        + " signature, so nothing of it was loaded. Hint: drop the"
                                        + " plugin's zip instead and trust it (`quiver plugins"
                                        + " trust <zip>`), or move the folder out of the plugins"
                                        + " folder. Learn more: docs/plugin-trust.md"));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list plugins folder " + root, e);
        }
        return out;
    }

    /** The archive's declared {@code Plugin-Id}, or its file name if it declares none. */
    private static String declaredId(Path archive) {
        String id = ManifestHeaders.read(archive).get("Plugin-Id");
        return id == null ? archive.getFileName().toString() : id;
    }

    /**
     * Whether the trust list or the trusted signers changed on disk since the last call (or since
     * the runtime started): archives refused as untrusted are then checked again.
     */
    boolean trustChanged() {
        String now = trust.stamp();
        boolean changed = !now.equals(trustSeen);
        trustSeen = now;
        return changed;
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

    /**
     * Copies the archive to a private staging folder (so the file in the plugins folder can be
     * replaced again at any time, and the running version's expansion is never overwritten), and
     * loads and starts it there in a PF4J manager of its own.
     *
     * @param archives what was seen of the archive is recorded here (removed if it is gone)
     * @param takenIds plugin ids running or loaded by this change: a second one is refused
     * @return the started plugin, or null with its refusal added to {@code refusals}
     */
    Cell stage(
            Path archive,
            Map<Path, PluginArchives.ArchiveStamp> archives,
            Set<String> takenIds,
            List<PluginRefusal> refusals) {
        String name = archive.getFileName().toString();
        Path dir = staging.resolve(liveLoads.incrementAndGet() + "-" + name + ".d");
        Path copy = dir.resolve(name);
        try {
            Files.createDirectories(dir);
            Files.copy(archive, copy);
            archives.put(archive, PluginArchives.stamp(archive, copy));
        } catch (IOException e) {
            // Gone or unreadable between the watcher's look and now: the next scan sees it again.
            archives.remove(archive);
            InstalledPlugin.deleteQuietly(dir);
            log.warn(
                    "[Quiver/PLUGIN_STAGING_FAILED] could not stage {}: {}", archive, e.toString());
            return null;
        }
        PluginRefusal refused = refusalBeforeLoad(archive, copy, takenIds);
        if (refused == null) {
            // The staged copy is what PF4J will load: its bytes are the ones checked.
            refused = trust.check(archive, copy, archives.get(archive).sha256(), declaredId(copy));
        }
        if (refused != null) {
            refusals.add(refused);
            InstalledPlugin.deleteQuietly(dir);
            return null;
        }
        return startStaged(archive, dir, refusals);
    }

    /** A staged copy that cannot be read, or whose plugin id already runs; null if neither. */
    private static PluginRefusal refusalBeforeLoad(Path archive, Path copy, Set<String> takenIds) {
        String problem = ManifestHeaders.problemWith(copy);
        if (problem != null) {
            return QuiverPluginManager.unreadable(archive, problem);
        }
        String declaredId = ManifestHeaders.read(copy).get("Plugin-Id");
        if (!takenIds.contains(declaredId)) {
            return null;
        }
        return new PluginRefusal(
                "DUPLICATE_PLUGIN_ID",
                declaredId,
                archive,
                "[Quiver/DUPLICATE_PLUGIN_ID] Plugin '"
                        + declaredId
                        + "' at "
                        + archive
                        + " has the same Plugin-Id as a plugin already running; it"
                        + " is not loaded. Hint: to replace a plugin, overwrite its"
                        + " archive or delete the old one (it is tried again then).");
    }

    /**
     * Loads and starts the archive staged in {@code dir} in a PF4J manager of its own; refusals
     * name the archive in the plugins folder, not the staged copy.
     */
    private Cell startStaged(Path archive, Path dir, List<PluginRefusal> refusals) {
        String name = archive.getFileName().toString();
        var cellManager = new QuiverPluginManager(dir, config, stopFailures);
        String expanded = dir.resolve(name.replaceFirst("\\.(zip|jar)$", "")).toString();
        var local = new ArrayList<PluginRefusal>();
        PluginWrapper started = null;
        try {
            cellManager.loadPlugins();
            cellManager.startPlugins();
            local.addAll(cellManager.loadFailures);
            for (PluginWrapper plugin : List.copyOf(cellManager.getPlugins())) {
                PluginRefusal refused = notRunnable(cellManager, plugin);
                if (refused == null) {
                    started = plugin;
                } else {
                    local.add(refused);
                }
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
        return new Cell(archive, dir, cellManager, started, PluginArchives.candidateOf(started));
    }

    /** Why a plugin PF4J loaded cannot run (not started, an extension class missing), or null. */
    private static PluginRefusal notRunnable(QuiverPluginManager manager, PluginWrapper plugin) {
        if (plugin.getPluginState() != PluginState.STARTED) {
            return refusalOf(manager, plugin);
        }
        return missingExtensionClass(manager, plugin);
    }

    /**
     * PF4J logs and skips an extension class named in the plugin's index that it cannot load; a
     * plugin whose extension is missing is refused instead, naming the class.
     */
    private static PluginRefusal missingExtensionClass(
            QuiverPluginManager manager, PluginWrapper plugin) {
        for (String cls : new TreeSet<>(manager.getExtensionClassNames(plugin.getPluginId()))) {
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

    /** Why a plugin PF4J loaded is not started: plugins-api range, stuck, or failed. */
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
}
