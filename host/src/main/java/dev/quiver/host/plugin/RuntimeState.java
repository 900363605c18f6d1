package dev.quiver.host.plugin;

import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.PortfolioSizingCapability;
import dev.quiver.api.sizing.SizingCapability;
import java.lang.ref.WeakReference;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One wiring of a {@link PluginRuntime} and what its accessors report of it: the wired plugins
 * (sorted by id) with their capabilities and health, the refusals, the resolution and the archives
 * considered. Immutable; the runtime replaces it as a whole on each change, so a reader always sees
 * one consistent wiring.
 */
record RuntimeState(
        List<InstalledPlugin> wired,
        List<PluginRefusal> refusals,
        CapabilityResolver.Resolution resolution,
        Map<Path, PluginArchives.ArchiveStamp> archives) {

    /** Every wired prediction, behind its plugin's guard, in plugin id order. */
    List<PredictionCapability> predictions() {
        var out = new ArrayList<PredictionCapability>();
        wired.forEach(p -> out.addAll(p.predictions));
        return List.copyOf(out);
    }

    /** Every wired ensemble, behind its plugin's guard, in plugin id order. */
    List<EnsembleCapability> ensembles() {
        var out = new ArrayList<EnsembleCapability>();
        wired.forEach(p -> out.addAll(p.ensembles));
        return List.copyOf(out);
    }

    /** Every wired sizing policy, behind its plugin's guard, in plugin id order. */
    List<SizingCapability> sizings() {
        var out = new ArrayList<SizingCapability>();
        wired.forEach(p -> out.addAll(p.sizings));
        return List.copyOf(out);
    }

    /** Every wired portfolio sizing policy (api 1.4.0), in plugin id order. */
    List<PortfolioSizingCapability> portfolioSizings() {
        var out = new ArrayList<PortfolioSizingCapability>();
        wired.forEach(p -> out.addAll(p.portfolioSizings));
        return List.copyOf(out);
    }

    /** Each wired plugin's health (state, calls, failures, quarantine reason), by plugin id. */
    List<PluginHealth> health() {
        return wired.stream().map(p -> p.guard.health()).toList();
    }

    /** The wired plugins as reported, by plugin id. */
    List<LoadedPlugin> plugins() {
        return wired.stream().map(p -> p.info).toList();
    }

    /** The wired plugin that has an extension of {@code kind:name}, if any. */
    Optional<InstalledPlugin> owner(String kindAndName) {
        return wired.stream().filter(p -> p.extensionTypes.containsKey(kindAndName)).findFirst();
    }

    /** Every {@code kind:name} the wired plugins provide, sorted (for error messages). */
    List<String> extensionNames() {
        return wired.stream().flatMap(p -> p.extensionTypes.keySet().stream()).sorted().toList();
    }

    /** The wired plugins' class loaders, by plugin id, for leak checks. */
    Map<String, WeakReference<ClassLoader>> classLoaders() {
        var out = new TreeMap<String, WeakReference<ClassLoader>>();
        wired.forEach(p -> out.put(p.id(), p.classLoader()));
        return out;
    }
}
