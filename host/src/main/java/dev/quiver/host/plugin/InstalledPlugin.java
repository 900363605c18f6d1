package dev.quiver.host.plugin;

import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.PortfolioSizingCapability;
import dev.quiver.api.sizing.SizingCapability;
import java.io.IOException;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One wired plugin: what it contributed (behind its {@link PluginGuard}), the PF4J manager that
 * loaded it and where it came from. {@link #retire()} undoes all of it: closes the extensions,
 * abandons the guard's pool, unloads the plugin from PF4J (which closes its class loader) and
 * removes the folder it was expanded into, so nothing of it stays reachable from the host.
 */
final class InstalledPlugin {

    private static final Logger log = LoggerFactory.getLogger(InstalledPlugin.class);

    final LoadedPlugin info;
    final CapabilityResolver.Candidate candidate;

    /** The zip or jar in the plugins folder it came from, or its folder for an expanded plugin. */
    final Path archive;

    final PluginGuard guard;
    final List<PredictionCapability> predictions;
    final List<EnsembleCapability> ensembles;
    final List<SizingCapability> sizings;
    final List<PortfolioSizingCapability> portfolioSizings;

    /** Its extension classes by {@code kind:name}, to make more instances of one. */
    final java.util.Map<String, PluginWiring.WiredExtension> extensionTypes;

    private final QuiverPluginManager manager;

    /** Folder this plugin alone was expanded into (a live load), deleted on retirement; or null. */
    private final Path stagingDir;

    /** The expansion PF4J made beside {@link #archive} at start (deleted when retired), or null. */
    private final Path startExpansion;

    private final WeakReference<ClassLoader> classLoader;
    private final AtomicBoolean retired = new AtomicBoolean();
    private volatile List<String> threadsLeft = List.of();
    private volatile List<String> threadLocalsLeft = List.of();

    InstalledPlugin(
            LoadedPlugin info,
            CapabilityResolver.Candidate candidate,
            Path archive,
            PluginGuard guard,
            List<PredictionCapability> predictions,
            List<EnsembleCapability> ensembles,
            List<SizingCapability> sizings,
            List<PortfolioSizingCapability> portfolioSizings,
            java.util.Map<String, PluginWiring.WiredExtension> extensionTypes,
            QuiverPluginManager manager,
            Path stagingDir,
            Path startExpansion,
            ClassLoader classLoader) {
        this.info = info;
        this.candidate = candidate;
        this.archive = archive;
        this.guard = guard;
        this.predictions = List.copyOf(predictions);
        this.ensembles = List.copyOf(ensembles);
        this.sizings = List.copyOf(sizings);
        this.portfolioSizings = List.copyOf(portfolioSizings);
        this.extensionTypes = java.util.Map.copyOf(extensionTypes);
        this.manager = manager;
        this.stagingDir = stagingDir;
        this.startExpansion = startExpansion;
        this.classLoader = new WeakReference<>(classLoader);
    }

    String id() {
        return info.id();
    }

    /** The PF4J manager that loaded it. */
    QuiverPluginManager manager() {
        return manager;
    }

    /** The plugin's class loader while it is reachable; cleared once it has been collected. */
    WeakReference<ClassLoader> classLoader() {
        return classLoader;
    }

    /**
     * Closes every extension (also when quarantined: native handles must be freed), stops the
     * guard's pool, unloads the plugin from PF4J and deletes its expansion. Runs once; later calls
     * do nothing. Failures are logged with the plugin named and never stop the rest of the
     * clean-up.
     */
    void retire() {
        unload(true);
    }

    /**
     * As {@link #retire()}; {@code forgetExpansion} false keeps PF4J's expansion beside a start
     * archive that is still in the folder (the runtime closing, not the archive leaving).
     */
    void unload(boolean forgetExpansion) {
        if (!retired.compareAndSet(false, true)) {
            return;
        }
        ClassLoader loader = classLoader.get();
        try {
            // On a thread of the plugin's own, as its setup was (see PluginLeaks).
            PluginLeaks.onOwnThread(
                    info.id(),
                    "unload",
                    () -> {
                        closeAll();
                        guard.close();
                        if (loader != null) {
                            PluginLeaks.releaseShutdownHooks(info.id(), loader);
                        }
                        manager.unloadPlugin(info.id());
                        return null;
                    });
        } catch (RuntimeException e) {
            log.warn(
                    "[Quiver/PLUGIN_UNLOAD_FAILED] plugin '{}' {} could not be unloaded: {}",
                    info.id(),
                    info.version(),
                    e.toString());
        }
        if (loader != null) {
            List<String> threads = PluginLeaks.threadsOf(loader);
            threadsLeft = threads;
            if (!threads.isEmpty()) {
                log.warn(
                        "[Quiver/PLUGIN_THREADS_LEFT] plugin '{}' {} left threads running after"
                                + " unload, which keep its class loader: {}",
                        info.id(),
                        info.version(),
                        threads);
            }
            List<String> locals = PluginLeaks.threadLocalsOf(loader);
            threadLocalsLeft = locals;
            if (!locals.isEmpty()) {
                log.warn(
                        "[Quiver/PLUGIN_THREADLOCALS_LEFT] plugin '{}' {} left ThreadLocal values on"
                                + " threads it does not own, which keep its class loader until"
                                + " those threads end: {}",
                        info.id(),
                        info.version(),
                        locals);
            }
        }
        deleteQuietly(stagingDir);
        if (forgetExpansion) {
            deleteQuietly(startExpansion);
        }
    }

    /** Threads of the plugin still running after it was unloaded (named in a warning). */
    List<String> threadsLeft() {
        return threadsLeft;
    }

    /** ThreadLocal entries of live threads still holding the plugin's objects after unload. */
    List<String> threadLocalsLeft() {
        return threadLocalsLeft;
    }

    private void closeAll() {
        var all = new ArrayList<AutoCloseable>();
        all.addAll(predictions);
        all.addAll(ensembles);
        all.addAll(sizings);
        all.addAll(portfolioSizings);
        for (AutoCloseable c : all) {
            try {
                c.close();
            } catch (Exception e) {
                log.warn("[Quiver/EXTENSION_CLOSE_FAILED] {} failed to close: {}", c, e.toString());
            }
        }
    }

    /** Deletes a folder tree; a failure is logged (the next start cleans it up), never thrown. */
    static void deleteQuietly(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            log.warn("[Quiver/PLUGIN_CLEANUP_FAILED] could not delete {}: {}", dir, e.toString());
        }
    }

    @Override
    public String toString() {
        return "plugin '" + info.id() + "' " + info.version() + " from " + archive;
    }
}
