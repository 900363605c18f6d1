package dev.quiver.host.plugin;

import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What one change of the plugins folder did to a {@link PluginRuntime}: the plugins it wired (new
 * ones and new versions), the plugins it took out of the wiring (removed, replaced, or withdrawn
 * because a requirement is no longer met) and the archives it refused.
 *
 * <p>The runtime already reports the new wiring; the plugins taken out are still loaded, so that
 * decisions that started with them can finish. Publish the added capabilities (swap the pipeline),
 * and once no decision holds the old pipeline, call {@link #retire()}: only then are the old
 * extensions closed and their plugins unloaded.
 */
public final class PluginTransition {

    private final List<InstalledPlugin> added;
    private final List<InstalledPlugin> retiring;
    private final List<PluginRefusal> refusals;
    private final List<String> actions;
    private final AtomicBoolean retired = new AtomicBoolean();
    private final RuntimeState previousState;
    private final RuntimeState nextState;

    PluginTransition(
            List<InstalledPlugin> added,
            List<InstalledPlugin> retiring,
            List<PluginRefusal> refusals,
            List<String> actions,
            RuntimeState previousState,
            RuntimeState nextState) {
        this.added = List.copyOf(added);
        this.retiring = List.copyOf(retiring);
        this.refusals = List.copyOf(refusals);
        this.actions = List.copyOf(actions);
        this.previousState = previousState;
        this.nextState = nextState;
    }

    static PluginTransition none() {
        return new PluginTransition(List.of(), List.of(), List.of(), List.of(), null, null);
    }

    RuntimeState previousState() {
        return previousState;
    }

    RuntimeState nextState() {
        return nextState;
    }

    /** The archives of the plugins this change wired. */
    List<java.nio.file.Path> addedArchives() {
        return added.stream().map(p -> p.archive).toList();
    }

    /** Unloads what this change loaded (it was never published); the old plugins stay. */
    void abandon() {
        if (retired.compareAndSet(false, true)) {
            added.forEach(InstalledPlugin::retire);
        }
    }

    /** Whether the folder change did nothing at all (no plugin wired, unwired or refused). */
    public boolean isEmpty() {
        return actions.isEmpty();
    }

    /** Whether the set of wired capabilities changed, i.e. a pipeline swap is due. */
    public boolean changesWiring() {
        return !added.isEmpty() || !retiring.isEmpty();
    }

    /** Plugins wired by this change (new plugins and new versions of replaced ones), by id. */
    public List<LoadedPlugin> added() {
        return added.stream().map(p -> p.info).toList();
    }

    /** Ids of the plugins taken out of the wiring (a replaced plugin's id is also in added). */
    public Set<String> removedPluginIds() {
        var out = new LinkedHashSet<String>();
        retiring.forEach(p -> out.add(p.id()));
        return out;
    }

    /** Plugins taken out of the wiring, as they were. */
    public List<LoadedPlugin> removed() {
        return retiring.stream().map(p -> p.info).toList();
    }

    /** The predictions the added plugins contribute, behind their guards. */
    public List<PredictionCapability> addedPredictions() {
        var out = new ArrayList<PredictionCapability>();
        added.forEach(p -> out.addAll(p.predictions));
        return out;
    }

    /** The ensembles the added plugins contribute, behind their guards. */
    public List<EnsembleCapability> addedEnsembles() {
        var out = new ArrayList<EnsembleCapability>();
        added.forEach(p -> out.addAll(p.ensembles));
        return out;
    }

    /** The sizing policies the added plugins contribute, behind their guards. */
    public List<SizingCapability> addedSizings() {
        var out = new ArrayList<SizingCapability>();
        added.forEach(p -> out.addAll(p.sizings));
        return out;
    }

    /** Archives refused by this change, each with its reason. */
    public List<PluginRefusal> refusals() {
        return refusals;
    }

    /**
     * What happened, one line each, e.g. {@code replaced prediction-x 1.0.0 -> 1.1.0
     * (prediction-x.zip)}, {@code withdrew y 1.0.0: [Quiver/CAPABILITY_UNRESOLVED] ...}.
     */
    public List<String> actions() {
        return actions;
    }

    /**
     * Closes the extensions of the plugins taken out of the wiring and unloads them (class loader
     * closed, expansion deleted). Call it once no decision can still use them (after the drain);
     * later calls do nothing.
     */
    public void retire() {
        if (retired.compareAndSet(false, true)) {
            retiring.forEach(InstalledPlugin::retire);
        }
    }

    /** Threads the retired plugins left running (each keeps its plugin's class loader). */
    List<String> threadsLeftBehind() {
        var out = new ArrayList<String>();
        retiring.forEach(p -> out.addAll(p.threadsLeft()));
        return out;
    }

    /** ThreadLocal entries that still hold the retired plugins' objects (named in a warning). */
    List<String> threadLocalsLeftBehind() {
        var out = new ArrayList<String>();
        retiring.forEach(p -> out.addAll(p.threadLocalsLeft()));
        return out;
    }

    /** The class loaders of the plugins taken out, for leak checks. */
    List<WeakReference<ClassLoader>> retiredClassLoaders() {
        return retiring.stream().map(InstalledPlugin::classLoader).toList();
    }

    @Override
    public String toString() {
        return String.join("; ", actions);
    }
}
