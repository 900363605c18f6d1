package dev.quiver.host.plugin;

import dev.quiver.api.QuiverApi;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.PortfolioSizingCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.capabilities.Capability;
import dev.quiver.engine.feature.FeaturePipeline;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.pf4j.ExtensionFactory;
import org.pf4j.PluginDescriptor;
import org.pf4j.PluginWrapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Capability resolution and wiring for one {@link PluginRuntime}: resolves the started plugins'
 * {@code Require-Capability} against the host's and each other's {@code Provide-Capability}, and
 * wires each resolved plugin, creating its extensions, matching each to a capability its manifest
 * declares and putting it behind the plugin's {@link PluginGuard}.
 */
final class PluginWiring {

    // Logged under the runtime's name, as before the runtime was split.
    private static final Logger log = LoggerFactory.getLogger(PluginRuntime.class);

    /** Where a wired extension came from, to make more instances of it. */
    record WiredExtension(String pluginId, Class<?> type, Capability capability) {}

    private final CapabilityResolver resolver =
            new CapabilityResolver(
                    CapabilityResolver.hostCapabilities(QuiverApi.VERSION, FeaturePipeline.SCHEMA),
                    FeaturePipeline.SCHEMA);
    private final IsolationPolicy isolation;

    PluginWiring(IsolationPolicy isolation) {
        this.isolation = isolation;
    }

    /** Resolution over {@code candidates}: what each provides, which are wired, which refused. */
    CapabilityResolver.Resolution resolve(List<CapabilityResolver.Candidate> candidates) {
        return resolver.resolve(candidates);
    }

    /**
     * Resolves the plugins started from the folder at start and wires the resolved ones; the
     * refused are unloaded from {@code manager}.
     *
     * @param started the started plugins, sorted by id
     * @param archives what was seen of the folder's archives
     * @param refusals the refusals so far; resolution's and wiring's are added
     * @return the runtime's first state
     */
    RuntimeState wireAtStart(
            QuiverPluginManager manager,
            List<PluginWrapper> started,
            Map<Path, PluginArchives.ArchiveStamp> archives,
            List<PluginRefusal> refusals) {
        var candidates = new ArrayList<CapabilityResolver.Candidate>();
        var byId = new LinkedHashMap<String, PluginWrapper>();
        for (PluginWrapper plugin : started) {
            candidates.add(PluginArchives.candidateOf(plugin));
            byId.put(plugin.getPluginId(), plugin);
        }
        CapabilityResolver.Resolution resolution = resolver.resolve(candidates);
        for (PluginRefusal r : resolution.refusals()) {
            refusals.add(r);
            manager.unloadPlugin(r.pluginId());
        }
        var wired = new ArrayList<InstalledPlugin>();
        for (String id : resolution.wired()) {
            PluginWrapper plugin = byId.get(id);
            Path archive = PluginArchives.archiveOf(plugin.getPluginPath());
            InstalledPlugin installed =
                    install(
                            manager,
                            plugin,
                            PluginArchives.candidateOf(plugin),
                            resolution.provided().get(id),
                            archive,
                            null,
                            archive.equals(plugin.getPluginPath()) ? null : plugin.getPluginPath(),
                            refusals);
            if (installed != null) {
                wired.add(installed);
            }
        }
        return new RuntimeState(List.copyOf(wired), List.copyOf(refusals), resolution, archives);
    }

    /** Wires a plugin a live change loaded in a manager of its own, as {@link #install}. */
    InstalledPlugin install(
            PluginLoader.Cell cell, List<Capability> declared, List<PluginRefusal> refusals) {
        return install(
                cell.manager(),
                cell.plugin(),
                cell.candidate(),
                declared,
                cell.archive(),
                cell.stagingDir(),
                null,
                refusals);
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
        var made = new Extensions(owner, plugin, guard, declared);
        // On a thread of the plugin's own: what its constructors cache per thread (Jackson's
        // buffer recyclers, say) must not pin its class loader to a long-lived host thread.
        try {
            PluginLeaks.onOwnThread(
                    d.getPluginId(), "setup", made::create, owner.createDeadlineMillis);
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
        refusals.addAll(made.refusals);
        var info =
                new LoadedPlugin(
                        d.getPluginId(),
                        d.getVersion(),
                        d.getRequires(),
                        owner.provides(plugin),
                        plugin.getPluginPath(),
                        made.names);
        return new InstalledPlugin(
                info,
                candidate,
                archive,
                guard,
                made.predictions,
                made.ensembles,
                made.sizings,
                made.portfolioSizings,
                made.types,
                owner,
                stagingDir,
                startExpansion,
                plugin.getPluginClassLoader());
    }

    /** One plugin's extensions as they are created, on the plugin's own thread. */
    private static final class Extensions {
        final List<PredictionCapability> predictions = new ArrayList<>();
        final List<EnsembleCapability> ensembles = new ArrayList<>();
        final List<SizingCapability> sizings = new ArrayList<>();
        final List<PortfolioSizingCapability> portfolioSizings = new ArrayList<>();
        final List<String> names = new ArrayList<>();
        final Map<String, WiredExtension> types = new TreeMap<>();
        final List<PluginRefusal> refusals = new ArrayList<>();
        private final QuiverPluginManager owner;
        private final PluginWrapper plugin;
        private final PluginGuard guard;
        private final List<Capability> declared;

        Extensions(
                QuiverPluginManager owner,
                PluginWrapper plugin,
                PluginGuard guard,
                List<Capability> declared) {
            this.owner = owner;
            this.plugin = plugin;
            this.guard = guard;
            this.declared = declared;
        }

        /** Creates every prediction, ensemble and sizing the plugin has. */
        Void create() {
            collect(PredictionCapability.class, predictions);
            collect(EnsembleCapability.class, ensembles);
            collect(SizingCapability.class, sizings);
            collect(PortfolioSizingCapability.class, portfolioSizings);
            return null;
        }

        /**
         * Creates the plugin's extensions of one type, each behind the plugin's guard if its
         * manifest declares it; one that cannot be created or is undeclared is refused alone.
         */
        private <T> void collect(Class<T> type, List<T> into) {
            ExtensionFactory factory = owner.getExtensionFactory();
            String kind = kindOf(type);
            String namespace = "quiver." + kind;
            for (Class<? extends T> cls : owner.getExtensionClasses(type, plugin.getPluginId())) {
                T extension;
                try {
                    extension = factory.create(cls);
                } catch (RuntimeException | LinkageError e) {
                    refusals.add(createFailed(plugin, cls, e));
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
                    refusals.add(undeclared(plugin, cls, kind, name, declared));
                    continue;
                }
                into.add(type.cast(guarded(kind, extension, guard, capability, () -> {})));
                names.add(kind + ":" + name);
                types.putIfAbsent(
                        kind + ":" + name,
                        new WiredExtension(plugin.getPluginId(), cls, capability));
            }
        }
    }

    private static PluginRefusal createFailed(PluginWrapper plugin, Class<?> cls, Throwable e) {
        return new PluginRefusal(
                "EXTENSION_CREATE_FAILED",
                plugin.getPluginId(),
                plugin.getPluginPath(),
                "[Quiver/EXTENSION_CREATE_FAILED] Plugin '"
                        + plugin.getPluginId()
                        + "': extension "
                        + cls.getName()
                        + " could not be created: "
                        + e);
    }

    private static PluginRefusal undeclared(
            PluginWrapper plugin,
            Class<?> cls,
            String kind,
            String name,
            List<Capability> declared) {
        return new PluginRefusal(
                "CAPABILITY_UNDECLARED",
                plugin.getPluginId(),
                plugin.getPluginPath(),
                "[Quiver/CAPABILITY_UNDECLARED] Plugin '"
                        + plugin.getPluginId()
                        + "': extension "
                        + cls.getName()
                        + " is a "
                        + kind
                        + " named '"
                        + name
                        + "', but the manifest's Provide-Capability declares no quiver."
                        + kind
                        + "; name="
                        + name
                        + " (declared: "
                        + declared
                        + "); it is not wired. Hint: add it to plugin.provides in"
                        + " the plugin's pom.");
    }

    /**
     * The extension behind a guard (deadline, garbage checks, quarantine) as the {@code kind} it
     * was made for, with {@code afterClose} run once after it closed.
     *
     * @return the guarded extension, or null if it is not of that kind
     */
    static Object guarded(
            String kind,
            Object extension,
            PluginGuard guard,
            Capability capability,
            Runnable afterClose) {
        if (kind.equals("prediction") && extension instanceof PredictionCapability p) {
            Object h = capability.attributes().get("horizon");
            return new GuardedPrediction(p, guard, h instanceof Long l ? l : null, afterClose);
        }
        if (kind.equals("ensemble") && extension instanceof EnsembleCapability e) {
            return new GuardedEnsemble(e, guard, afterClose);
        }
        if (kind.equals("sizing") && extension instanceof SizingCapability z) {
            return GuardedSizing.of(z, guard, afterClose);
        }
        if (kind.equals("portfolio") && extension instanceof PortfolioSizingCapability z) {
            // Not behind a deadline guard yet (docs/portfolio.md): the host's PortfolioGuard
            // enforces the caps on whatever it returns, and a throw sizes the account flat.
            return z;
        }
        return null;
    }

    /**
     * A new instance's portfolio policy (no deadline guard yet), whose {@code close} closes the
     * extension and then runs {@code afterClose}, once.
     */
    static PortfolioSizingCapability owned(PortfolioSizingCapability z, Runnable afterClose) {
        return new OwnedPortfolioSizing(z, afterClose);
    }

    /** A portfolio policy whose {@code close} also runs its owner's clean-up, once. */
    private static final class OwnedPortfolioSizing implements PortfolioSizingCapability {
        private final PortfolioSizingCapability extension;
        private final Runnable afterClose;
        private final java.util.concurrent.atomic.AtomicBoolean closed =
                new java.util.concurrent.atomic.AtomicBoolean();

        OwnedPortfolioSizing(PortfolioSizingCapability extension, Runnable afterClose) {
            this.extension = extension;
            this.afterClose = afterClose;
        }

        @Override
        public dev.quiver.api.CapabilityDescriptor descriptor() {
            return extension.descriptor();
        }

        @Override
        public dev.quiver.api.sizing.PortfolioSizingDecision size(
                dev.quiver.api.sizing.PortfolioSizingContext context) {
            return extension.size(context);
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                try {
                    closeQuietly(extension);
                } finally {
                    afterClose.run();
                }
            }
        }
    }

    private static String kindOf(Class<?> type) {
        if (type == PredictionCapability.class) {
            return "prediction";
        }
        if (type == PortfolioSizingCapability.class) {
            return "portfolio";
        }
        return type == EnsembleCapability.class ? "ensemble" : "sizing";
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
        if (extension instanceof PortfolioSizingCapability s) {
            return s.descriptor().name();
        }
        return extension.getClass().getSimpleName();
    }

    static void closeQuietly(Object extension) {
        if (extension instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                log.warn("[Quiver/EXTENSION_CLOSE_FAILED] {} failed to close: {}", c, e.toString());
            }
        }
    }

    /**
     * The host's capabilities and each wired plugin's, and which capability met each requirement,
     * one line each (see {@link PluginRuntime#wiring()}).
     */
    List<String> describe(CapabilityResolver.Resolution resolution) {
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
}
