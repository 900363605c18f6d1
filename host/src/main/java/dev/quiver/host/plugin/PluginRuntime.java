package dev.quiver.host.plugin;

import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.PortfolioSizingCapability;
import dev.quiver.api.sizing.SizingCapability;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
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

    private final Path pluginsDir;
    private final QuiverPluginManager manager;
    private final IsolationPolicy isolation;
    private final PluginLoader loader;
    private final PluginWiring wiring;
    private final CapabilityInstances instances;
    private volatile RuntimeState state;

    /** The latest {@value #STOP_FAILURES_KEPT} failed stops, oldest first. */
    private final java.util.Deque<PluginStopFailure> stopFailures =
            new java.util.concurrent.ConcurrentLinkedDeque<>();

    /** How many failed stops {@link #stopFailures()} keeps. */
    static final int STOP_FAILURES_KEPT = 20;

    private PluginRuntime(Path pluginsDir, Map<String, String> config, PluginTrust trust) {
        Map<String, String> copy = Map.copyOf(config);
        this.pluginsDir = pluginsDir;
        this.manager = new QuiverPluginManager(pluginsDir, config, this::stopFailed);
        this.isolation = IsolationPolicy.from(config);
        this.loader = new PluginLoader(pluginsDir, copy, trust, this::stopFailed);
        this.wiring = new PluginWiring(isolation);
        this.instances = new CapabilityInstances(copy, isolation);
    }

    /**
     * Loads and starts every trusted plugin in {@code pluginsDir} (RELIABILITY.md P5): an archive
     * whose sha256 is not on the trust list and that is not signed by a trusted signer ({@link
     * PluginTrust#from}), or a plain folder, is refused before PF4J sees it.
     *
     * @param pluginsDir folder holding plugin zips (PF4J expands each beside itself)
     * @param config plugin configuration, keys {@code <plugin-id>.<key>}; {@value
     *     PluginTrust#TRUST_LIST_KEY} and {@value PluginTrust#SIGNERS_KEY} say where trust comes
     *     from
     * @return the running plugins, with refusals for those that did not start
     * @throws IllegalArgumentException if {@code pluginsDir} is not a readable folder
     */
    public static PluginRuntime start(Path pluginsDir, Map<String, String> config) {
        return start(pluginsDir, config, PluginTrust.from(config));
    }

    /**
     * Loads and starts every plugin in a folder the host made itself of the loaded form (expanded
     * folder or jar) of plugins that a runtime already admitted under its {@link PluginTrust}: the
     * child-JVM smoke check links such a plugin into a private folder and loads it there. Nothing
     * in the folder is checked against the trust list or signatures again; never point this at a
     * folder anyone else can write to.
     *
     * @param pluginsDir the host-made folder
     * @param config plugin configuration
     * @return the running plugins, with refusals for those that did not start
     * @throws IllegalArgumentException if {@code pluginsDir} is not a readable folder
     */
    public static PluginRuntime startAdmitted(Path pluginsDir, Map<String, String> config) {
        return start(pluginsDir, config, PluginTrust.admittedByParent());
    }

    private static PluginRuntime start(
            Path pluginsDir, Map<String, String> config, PluginTrust trust) {
        if (!Files.isDirectory(pluginsDir)) {
            throw new IllegalArgumentException(
                    "[Quiver/PLUGINS_DIR_MISSING] plugins folder "
                            + pluginsDir.toAbsolutePath()
                            + " does not exist or is not a folder; pass --plugins-dir DIR");
        }
        PluginRuntime runtime = new PluginRuntime(pluginsDir, config, trust);
        runtime.load();
        return runtime;
    }

    /**
     * Where this runtime's trust comes from (RELIABILITY.md P5).
     *
     * @return e.g. {@code trust list /q/config/trusted-plugins; trusted signers
     *     /q/config/trusted-signers}
     */
    public String trust() {
        return loader.trust();
    }

    /** The folder this runtime loads from. */
    public Path pluginsDir() {
        return pluginsDir;
    }

    /** The folder this runtime stages live loads in (created on the first one). */
    Path stagingDir() {
        return loader.stagingDir();
    }

    private void load() {
        var refusals = new ArrayList<PluginRefusal>();
        Map<Path, PluginArchives.ArchiveStamp> archives = new TreeMap<>();
        List<PluginWrapper> started = loader.startFolder(manager, archives, refusals);
        RuntimeState s = wiring.wireAtStart(manager, started, archives, refusals);
        for (PluginRefusal r : s.refusals()) {
            log.warn(r.message());
        }
        state = s;
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
        RuntimeState s = state();
        PluginTransition t = new PluginChange(s, settled, unsettled, loader, wiring).run();
        if (t.nextState() != null) {
            state = t.nextState();
        }
        return t;
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
        state = t.previousState();
        t.abandon();
        log.warn("[Quiver/PLUGINS_CHANGE_REVERTED] not published, undone: {}", t);
        return true;
    }

    /**
     * The archives the runtime has considered (loaded, refused or kept), with what it saw of each:
     * a watcher seeds itself from this so it does not hash unchanged archives again.
     */
    Map<Path, PluginArchives.ArchiveStamp> archives() {
        RuntimeState s = state;
        return s == null ? Map.of() : Map.copyOf(s.archives());
    }

    /**
     * The plugin a capability handed out by a runtime belongs to.
     *
     * @param capability a prediction, ensemble or sizing capability
     * @return its plugin id, or empty if the runtime did not hand it out (e.g. the host's built-in
     *     fusion)
     */
    public static Optional<String> pluginIdOf(Object capability) {
        return capability instanceof Guarded g ? Optional.of(g.pluginId()) : Optional.empty();
    }

    private RuntimeState state() {
        RuntimeState s = state;
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

    /**
     * A new instance of a wired plugin's portfolio sizing policy, owned by the caller: the live
     * service gives each portfolio account its own, so that accounts share no policy state whatever
     * the plugin keeps (docs/portfolio.md). Closing it closes the extension.
     *
     * @param capabilityName the policy's name, e.g. {@code kelly_portfolio}
     * @return the new instance, in {@link NewInstance#capability()}
     * @throws IllegalArgumentException if no wired plugin provides that policy
     * @throws IllegalStateException after {@link #close()}
     */
    public NewInstance newPortfolioSizing(String capabilityName) {
        return newInstance("portfolio", capabilityName, Map.of());
    }

    private NewInstance newInstance(
            String kind, String capabilityName, Map<String, String> overrides) {
        return instances.create(state, kind, capabilityName, overrides);
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
        return instances.open();
    }

    /**
     * The plugin that provides a wired prediction.
     *
     * @param capabilityName e.g. {@code lstm}
     * @return the plugin id, or empty if no wired plugin provides it
     */
    public Optional<String> pluginOfPrediction(String capabilityName) {
        return state().owner("prediction:" + capabilityName).map(InstalledPlugin::id);
    }

    /** Plugins wired now, sorted by id. */
    public List<LoadedPlugin> plugins() {
        return state().plugins();
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
        return wiring.describe(state().resolution());
    }

    /**
     * Each wired plugin's health: state ({@code ACTIVE} or {@code QUARANTINED}), calls, failures,
     * missed deadlines and the reason, by plugin id. A reloaded plugin starts with a fresh guard.
     *
     * @return health per wired plugin, sorted by id
     */
    public List<PluginHealth> health() {
        return state().health();
    }

    private void stopFailed(PluginStopFailure failure) {
        stopFailures.addLast(failure);
        while (stopFailures.size() > STOP_FAILURES_KEPT) {
            stopFailures.pollFirst();
        }
    }

    /**
     * Plugins whose {@code stop()} threw while this runtime unloaded them (a hot swap, a removal,
     * or {@link #close()}), the latest {@value #STOP_FAILURES_KEPT}, oldest first: such a plugin is
     * FAILED and gone from {@link #plugins()}, and this is where its failure stays visible.
     *
     * @return the failed stops
     */
    public List<PluginStopFailure> stopFailures() {
        return List.copyOf(stopFailures);
    }

    /**
     * The extension classes PF4J's extension finder registers for a plugin of the runtime's own
     * manager (the plugins of the folder at start): none unless the plugin is STARTED. For checks
     * that a FAILED plugin holds no extension (RELIABILITY.md P1).
     *
     * @param pluginId the plugin
     * @return PF4J's state of the plugin and the class names its finder hands out, or empty if the
     *     manager does not hold the plugin
     */
    Optional<Map.Entry<String, List<String>>> registeredExtensions(String pluginId) {
        PluginWrapper p = manager.getPlugin(pluginId);
        if (p == null) {
            return Optional.empty();
        }
        return Optional.of(
                Map.entry(
                        p.getPluginState().name(),
                        manager.getExtensionClasses(pluginId).stream()
                                .map(Class::getName)
                                .sorted()
                                .toList()));
    }

    /**
     * The extension class names a plugin's index ({@code META-INF/extensions.idx}) lists, whatever
     * its state, from the runtime's own manager.
     */
    java.util.Set<String> indexedExtensions(String pluginId) {
        return manager.getExtensionClassNames(pluginId);
    }

    /** The isolation in force. */
    public IsolationPolicy isolation() {
        return isolation;
    }

    /** Every wired prediction, behind its plugin's guard, in plugin id order. */
    public List<PredictionCapability> predictions() {
        return state().predictions();
    }

    /** Every wired ensemble, behind its plugin's guard, in plugin id order. */
    public List<EnsembleCapability> ensembles() {
        return state().ensembles();
    }

    /** Every wired sizing policy, behind its plugin's guard, in plugin id order. */
    public List<SizingCapability> sizings() {
        return state().sizings();
    }

    /**
     * Every wired portfolio sizing policy (api 1.4.0: one account across many symbols), in plugin
     * id order.
     *
     * @return the policies, possibly empty
     */
    public List<PortfolioSizingCapability> portfolioSizings() {
        return state().portfolioSizings();
    }

    /** The wired plugins' class loaders, by plugin id, for leak checks. */
    Map<String, WeakReference<ClassLoader>> classLoaders() {
        return state().classLoaders();
    }

    /**
     * Closes every wired extension and unloads every plugin. Plugins taken out by a {@link
     * PluginTransition} that was never retired are the caller's to retire. Later calls do nothing.
     */
    @Override
    public synchronized void close() {
        RuntimeState s = state;
        if (s == null) {
            return;
        }
        state = null;
        s.wired().forEach(p -> p.unload(false));
        InstalledPlugin.deleteQuietly(loader.stagingDir());
        // One by one, not stopPlugins(): PF4J 3.15.0's stopPlugins() modifies the list it iterates
        // (ConcurrentModificationException). unloadPlugin stops the plugin first.
        for (PluginWrapper plugin : List.copyOf(manager.getPlugins())) {
            manager.unloadPlugin(plugin.getPluginId());
        }
    }
}
