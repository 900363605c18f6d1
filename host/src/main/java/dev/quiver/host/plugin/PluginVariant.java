package dev.quiver.host.plugin;

import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The plugins of one rollout variant (e.g. the champion or the challenger version of a plugin),
 * loaded in a PF4J manager of their own, so two versions of one plugin id run side by side. Made by
 * {@link PluginVariants#load}. Each capability is behind its plugin's guard (deadline, garbage
 * checks, quarantine) exactly as in the main runtime; the variants share nothing but the JVM.
 *
 * <p>Thread-safe to read. {@link #close()} closes the variant's extensions and unloads its plugins:
 * call it only when no decision can still use them.
 */
public final class PluginVariant implements AutoCloseable {

    private final String label;
    private final PluginRuntime runtime;

    PluginVariant(String label, PluginRuntime runtime) {
        this.label = label;
        this.runtime = runtime;
    }

    /** The name the variant was loaded under, e.g. {@code challenger}. */
    public String label() {
        return label;
    }

    /** The variant's folder. */
    public Path folder() {
        return runtime.pluginsDir();
    }

    /** Plugin id to {@code Plugin-Version} of every plugin wired in this variant, sorted by id. */
    public Map<String, String> versions() {
        var out = new LinkedHashMap<String, String>();
        runtime.plugins().forEach(p -> out.put(p.id(), p.version()));
        return out;
    }

    /** The variant's wired plugins. */
    public List<LoadedPlugin> plugins() {
        return runtime.plugins();
    }

    /** Archives of the variant folder that were refused, each with its reason. */
    public List<PluginRefusal> refusals() {
        return runtime.refusals();
    }

    /** Health of each of the variant's plugins (a quarantine here does not touch the others). */
    public List<PluginHealth> health() {
        return runtime.health();
    }

    /** The variant's predictions, behind their guards. */
    public List<PredictionCapability> predictions() {
        return runtime.predictions();
    }

    /** The variant's ensembles, behind their guards. */
    public List<EnsembleCapability> ensembles() {
        return runtime.ensembles();
    }

    /** The variant's sizing policies, behind their guards. */
    public List<SizingCapability> sizings() {
        return runtime.sizings();
    }

    /** The whole runtime behind the variant (e.g. to watch its folder). */
    public PluginRuntime runtime() {
        return runtime;
    }

    /** Closes the variant's extensions and unloads its plugins; later calls do nothing. */
    @Override
    public void close() {
        runtime.close();
    }

    @Override
    public String toString() {
        return "variant '" + label + "' " + versions() + " from " + folder();
    }
}
