package dev.quiver.host.rollout;

import dev.quiver.host.registry.ModelResolver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rollouts a running service applies: the {@link RolloutManager} plus, per rollout, its two
 * variants running ({@link VariantRuntime}). Rollouts restored from the state store that are still
 * live get their variants started again at open; a finished rollout keeps routing to its winner
 * until the service stops (after a restart the pipeline serves what is installed, and for a model
 * version what the moved alias names).
 *
 * <p>Thread-safe.
 */
public final class LiveRollouts implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LiveRollouts.class);

    /**
     * A rollout and its running variants.
     *
     * @param controller the state machine
     * @param champion the champion, running
     * @param challenger the challenger, running
     */
    public record Active(
            RolloutController controller, VariantRuntime champion, VariantRuntime challenger) {

        /**
         * The running variant of a role.
         *
         * @param role champion or challenger
         * @return the variant
         */
        public VariantRuntime variant(Role role) {
            return role == Role.CHAMPION ? champion : challenger;
        }
    }

    private final RolloutManager manager;
    private final Path pluginsDir;
    private final Map<String, String> hostConfig;
    private final Optional<ModelResolver> resolver;
    private final Path workDir;
    private final Map<String, Active> active = new LinkedHashMap<>();
    private volatile StrategyRolloutHost strategyHost;

    /**
     * Runs strategy rollouts ({@link RolloutSpec.Kind#STRATEGY}) through {@code host}: without one,
     * a strategy rollout is refused (the service serves no bundle).
     *
     * @param host the live sessions' side
     */
    public void strategies(StrategyRolloutHost host) {
        this.strategyHost = host;
    }

    /**
     * The strategy rollout applied now: the live one, else the latest that ended.
     *
     * @return its controller, if any strategy rollout was ever started
     */
    public Optional<RolloutController> strategyRollout() {
        RolloutController found = null;
        for (RolloutController c : manager.list()) {
            if (c.spec().kind() == RolloutSpec.Kind.STRATEGY) {
                if (!c.stage().terminal()) {
                    return Optional.of(c);
                }
                found = c;
            }
        }
        return Optional.ofNullable(found);
    }

    /**
     * Opens the rollouts and starts the variants of every live one.
     *
     * @param manager the rollouts (restored from its store)
     * @param pluginsDir the installed plugins
     * @param hostConfig the host's plugin settings
     * @param resolver model versions' resolver, if the service has one
     * @param workDir where the variants' private plugin folders go
     * @return the live rollouts
     */
    public static LiveRollouts open(
            RolloutManager manager,
            Path pluginsDir,
            Map<String, String> hostConfig,
            Optional<ModelResolver> resolver,
            Path workDir) {
        LiveRollouts l = new LiveRollouts(manager, pluginsDir, hostConfig, resolver, workDir);
        manager.installWinnersInto(pluginsDir);
        for (RolloutController c : manager.list()) {
            if (!c.stage().terminal() && c.spec().kind() != RolloutSpec.Kind.STRATEGY) {
                VariantRuntime[] v = l.variants(c.spec());
                l.active.put(c.id(), new Active(c, v[0], v[1]));
                LOG.info("rollout {} restored in {}", c.id(), c.stage().id());
            }
        }
        return l;
    }

    private LiveRollouts(
            RolloutManager manager,
            Path pluginsDir,
            Map<String, String> hostConfig,
            Optional<ModelResolver> resolver,
            Path workDir) {
        this.manager = manager;
        this.pluginsDir = pluginsDir;
        this.hostConfig = Map.copyOf(hostConfig);
        this.resolver = resolver;
        this.workDir = workDir;
    }

    private VariantRuntime[] variants(RolloutSpec spec) {
        VariantRuntime champion =
                VariantRuntime.start(
                        spec, Role.CHAMPION, pluginsDir, hostConfig, resolver, workDir);
        try {
            VariantRuntime challenger =
                    VariantRuntime.start(
                            spec, Role.CHALLENGER, pluginsDir, hostConfig, resolver, workDir);
            return new VariantRuntime[] {champion, challenger};
        } catch (RuntimeException e) {
            champion.close();
            throw e;
        }
    }

    /**
     * The manager.
     *
     * @return the manager
     */
    public RolloutManager manager() {
        return manager;
    }

    /**
     * Starts a rollout: both variants first (a variant that does not start refuses the rollout,
     * nothing is recorded), then the state machine.
     *
     * @param spec the spec
     * @return the controller
     * @throws IllegalArgumentException if a variant cannot start (naming it)
     * @throws IllegalStateException if the id is taken or the capability already has a live rollout
     */
    public synchronized RolloutController start(RolloutSpec spec) {
        return start(spec, "operator", "started");
    }

    /**
     * Starts a rollout as {@link #start(RolloutSpec)} does, auditing who started it and why.
     *
     * @param spec the spec
     * @param actor who starts it (the audit line's {@code actor})
     * @param reason why (the audit line's {@code reason})
     * @return the controller
     * @throws IllegalArgumentException if a variant cannot start (naming it)
     * @throws IllegalStateException if the id is taken or the capability already has a live rollout
     */
    public synchronized RolloutController start(RolloutSpec spec, String actor, String reason) {
        if (manager.get(spec.id()).isPresent()) {
            return manager.start(spec, actor, reason); // throws ROLLOUT_EXISTS
        }
        manager.live(spec.kind(), spec.capability())
                .ifPresent(x -> manager.start(spec, actor, reason)); // throws ROLLOUT_CONFLICT
        if (spec.kind() == RolloutSpec.Kind.STRATEGY) {
            StrategyRolloutHost host = strategyHost;
            if (host == null) {
                throw new RolloutSpecException(
                        "request",
                        "challenger.strategy",
                        "cannot be rolled out: this service serves no strategy bundle (serve"
                                + " --strategy none)");
            }
            host.admit(spec); // a refused challenger bundle: nothing is recorded
            return manager.start(spec, actor, reason);
        }
        VariantRuntime[] v = variants(spec);
        RolloutController c;
        try {
            c = manager.start(spec, actor, reason);
        } catch (RuntimeException e) {
            v[0].close();
            v[1].close();
            throw e;
        }
        active.put(spec.id(), new Active(c, v[0], v[1]));
        return c;
    }

    /**
     * The rollout applied to a capability now: the live one, else the latest finished one still
     * running in this process.
     *
     * @param kind capability kind
     * @param capability its name
     * @return the rollout and its variants, if any
     */
    public synchronized Optional<Active> forCapability(RolloutSpec.Kind kind, String capability) {
        Active found = null;
        for (Active a : active.values()) {
            RolloutSpec s = a.controller().spec();
            if (s.kind() == kind && s.capability().equals(capability)) {
                if (!a.controller().stage().terminal()) {
                    return Optional.of(a);
                }
                found = a;
            }
        }
        return Optional.ofNullable(found);
    }

    /**
     * Every rollout applied in this process.
     *
     * @return in start order
     */
    public synchronized List<Active> active() {
        return new ArrayList<>(active.values());
    }

    /**
     * A running rollout's variants' descriptions.
     *
     * @param id rollout id
     * @return role id to description, empty if its variants are not running here
     */
    public synchronized Map<String, String> variantDescriptions(String id) {
        StrategyRolloutHost host = strategyHost;
        Optional<RolloutController> c = manager.get(id);
        if (host != null && c.isPresent() && c.get().spec().kind() == RolloutSpec.Kind.STRATEGY) {
            return host.describe(c.get().spec());
        }
        Active a = active.get(id);
        if (a == null) {
            return Map.of();
        }
        Map<String, String> m = new LinkedHashMap<>();
        m.put(Role.CHAMPION.id(), a.champion().description());
        m.put(Role.CHALLENGER.id(), a.challenger().description());
        return m;
    }

    /** Stops every variant and the manager (pending state is written). */
    @Override
    public synchronized void close() {
        for (Active a : active.values()) {
            try {
                a.champion().close();
            } finally {
                a.challenger().close();
            }
        }
        active.clear();
        manager.close();
    }
}
