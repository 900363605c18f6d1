package dev.quiver.host.session;

import dev.quiver.api.market.Bar;
import dev.quiver.engine.PolicyStep;
import dev.quiver.engine.Step;
import dev.quiver.engine.SymbolEngine;
import dev.quiver.engine.session.SymbolSession;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.rollout.LiveRollouts;
import dev.quiver.host.rollout.Role;
import dev.quiver.host.rollout.RolloutController;
import dev.quiver.host.rollout.RolloutSpec;
import dev.quiver.host.rollout.RolloutSpecException;
import dev.quiver.host.rollout.Stage;
import dev.quiver.host.rollout.StrategyRolloutHost;
import dev.quiver.host.rollout.Transition;
import dev.quiver.host.rollout.VariantOutput;
import dev.quiver.host.strategy.BundleLoader;
import dev.quiver.host.strategy.StrategyBundle;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Strategy rollouts on the live sessions: a challenger strategy bundle beside the served one
 * (champion), with the rules, significance tests and automatic promotion every rollout has ({@link
 * RolloutController}).
 *
 * <p>Per session, on every new bar:
 *
 * <ol>
 *   <li><b>route</b>: the rollout's key (the symbol, or the session's account) picks the acting
 *       bundle as model rollouts do ({@link RolloutController#route}): the champion in shadow, the
 *       challenger for a sticky share of keys in canary, the challenger for every key in full. A
 *       session whose acting bundle changes swaps it between two bars exactly as an alias move does
 *       (recorded, replayed after a restart; the account and its books carry over);
 *   <li><b>shadow</b>: the other bundle steps the same bar in its own engine (its own streaming
 *       features, warmed up on the session's stored bars, its own paper books starting flat when
 *       the shadow starts): its decision is recorded and shown, never acted on;
 *   <li><b>score</b>: both bundles' fused p_up and the acting policy's fraction are recorded and
 *       scored when the next bar closes (log-loss, Brier, hit rate or one-bar P&amp;L, as the
 *       spec's rule metric).
 * </ol>
 *
 * Each decision is made by one engine with one bundle, and names it ({@code provenance.bundle});
 * {@code provenance.rollouts} names the rollout, the routed and acting role, and the shadow
 * bundle's decision. When a rollout completes, its challenger becomes the served bundle (and {@code
 * NAME@champion} moves to it when it is a registry version, see {@code RolloutManager}); rolled
 * back or aborted, every session returns to the served bundle at its next bar.
 *
 * <p>Not durable: a shadow engine's paper books (rebuilt flat and warmed up after a restart). The
 * acting engine and the rollout's figures are durable as everywhere else.
 *
 * <p>Thread-safe: per-session work runs under the session's monitor; the rollout controller is
 * synchronized.
 */
public final class StrategyRollouts implements StrategyRolloutHost, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StrategyRollouts.class);

    private final LiveRollouts rollouts;
    private final ServedStrategy served;
    private final StrategyCatalog.Folders catalog;
    private final PluginRuntime runtime;
    private final Function<String, StrategyBundle> resolver;
    private final Clock clock;
    private final Map<String, StrategyBundle> challengers = new ConcurrentHashMap<>();
    private final Map<String, Boolean> completedServed = new ConcurrentHashMap<>();
    private final ExecutorService lifecycle =
            Executors.newSingleThreadExecutor(
                    r -> {
                        Thread t = new Thread(r, "quiver-strategy-rollout");
                        t.setDaemon(true);
                        return t;
                    });

    /** A session's shadow: the bundle that does not act, stepping the same bars. */
    static final class Shadow {
        final BundleLoader.Loaded loaded;
        final SymbolSession session;
        Step last;
        String failure;

        Shadow(BundleLoader.Loaded loaded, SymbolSession session) {
            this.loaded = loaded;
            this.session = session;
        }

        String bundle() {
            return loaded.bundle().id();
        }

        void close() {
            loaded.close();
        }
    }

    /**
     * Connects strategy rollouts to the sessions: {@code rollouts} runs them through this, the
     * sessions ask this on every bar.
     *
     * @param rollouts the service's rollouts
     * @param served the served bundle and its sessions
     * @param catalog the bundles sessions may load (a challenger is remembered in it)
     * @param runtime the loaded plugins
     * @param resolver a verified bundle for a folder or {@code models:/NAME/VERSION}
     * @param clock the service's clock
     * @return the connected instance; rollouts restored from the store get their challenger
     *     resolved again (one that cannot be is aborted, naming why)
     */
    public static StrategyRollouts connect(
            LiveRollouts rollouts,
            ServedStrategy served,
            StrategyCatalog.Folders catalog,
            PluginRuntime runtime,
            Function<String, StrategyBundle> resolver,
            Clock clock) {
        StrategyRollouts s =
                new StrategyRollouts(rollouts, served, catalog, runtime, resolver, clock);
        rollouts.strategies(s);
        rollouts.manager().onTransition(s::transitioned);
        served.sessions().rollouts(s);
        Optional<RolloutController> now = rollouts.strategyRollout();
        if (now.isPresent() && !now.get().stage().terminal()) {
            RolloutController c = now.get();
            try {
                s.admit(c.spec());
                LOG.info("strategy rollout {} restored in {}", c.id(), c.stage().id());
            } catch (RuntimeException e) {
                LOG.error("strategy rollout {} cannot resume: {}", c.id(), e.getMessage());
                rollouts.manager()
                        .abort(
                                c.id(),
                                "the challenger bundle cannot be loaded after a restart: "
                                        + e.getMessage());
            }
        }
        return s;
    }

    private StrategyRollouts(
            LiveRollouts rollouts,
            ServedStrategy served,
            StrategyCatalog.Folders catalog,
            PluginRuntime runtime,
            Function<String, StrategyBundle> resolver,
            Clock clock) {
        this.rollouts = rollouts;
        this.served = served;
        this.catalog = catalog;
        this.runtime = runtime;
        this.resolver = resolver;
        this.clock = clock;
    }

    // ---- admission -----------------------------------------------------------------------------

    @Override
    public void admit(RolloutSpec spec) {
        String ref = spec.challenger().strategy().orElseThrow();
        StrategyBundle bundle;
        try {
            bundle = resolver.apply(ref);
            bundle.checkFresh(clock.instant(), served.maxAge());
        } catch (RuntimeException e) {
            throw refused(spec, ref, e.getMessage());
        }
        StrategyBundle champion = served.bundle();
        if (bundle.id().equals(champion.id())) {
            throw refused(
                    spec, ref, "is the bundle the service serves now (" + champion.id() + ")");
        }
        List<String> policies;
        try (BundleLoader.Loaded probe = BundleLoader.load(bundle, runtime)) {
            policies = probe.strategy().policyNames();
        } catch (RuntimeException e) {
            throw refused(spec, ref, e.getMessage());
        }
        List<String> servedPolicies;
        try (BundleLoader.Loaded probe = catalog.loadCurrent()) {
            servedPolicies = probe.strategy().policyNames();
        }
        if (!policies.equals(servedPolicies)) {
            throw refused(
                    spec,
                    ref,
                    "has the policies "
                            + policies
                            + ", the served bundle "
                            + servedPolicies
                            + ": a session swaps between bundles with the same policies (its"
                            + " books are theirs)");
        }
        catalog.remember(bundle);
        challengers.put(spec.id(), bundle);
    }

    private static RolloutSpecException refused(RolloutSpec spec, String ref, String reason) {
        return new RolloutSpecException(
                "rollout " + spec.id(),
                "challenger.strategy",
                "'" + ref + "' is refused: " + reason);
    }

    @Override
    public Map<String, String> describe(RolloutSpec spec) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(Role.CHAMPION.id(), "the served strategy bundle " + served.bundle().id());
        StrategyBundle c = challengers.get(spec.id());
        m.put(
                Role.CHALLENGER.id(),
                "strategy bundle "
                        + (c == null ? spec.challenger().strategy().orElse("?") : c.id()));
        return m;
    }

    private void transitioned(RolloutSpec spec, Transition t) {
        if (spec.kind() != RolloutSpec.Kind.STRATEGY || !t.to().equals(Stage.COMPLETED.id())) {
            return;
        }
        StrategyBundle winner = challengers.get(spec.id());
        if (winner == null) {
            LOG.error("strategy rollout {} completed but its challenger is unknown", spec.id());
            return;
        }
        // Not on the committing thread: it may hold a session's monitor, and serving swaps
        // every session under its own.
        lifecycle.execute(
                () -> {
                    try {
                        Map<String, String> swapped =
                                served.serve(winner, runtime, "rollout " + spec.id());
                        LOG.info(
                                "strategy rollout {} completed: {} serves ({})",
                                spec.id(),
                                winner.id(),
                                swapped);
                    } catch (RuntimeException e) {
                        LOG.error(
                                "strategy rollout {} completed but {} cannot be served: {}",
                                spec.id(),
                                winner.id(),
                                e.getMessage(),
                                e);
                    } finally {
                        completedServed.put(spec.id(), true);
                    }
                });
    }

    // ---- per session ---------------------------------------------------------------------------

    /** The rollout that applies now, with its challenger bundle; empty when none applies. */
    private Optional<RolloutController> applying() {
        Optional<RolloutController> c = rollouts.strategyRollout();
        if (c.isEmpty() || !challengers.containsKey(c.get().id())) {
            return Optional.empty();
        }
        Stage stage = c.get().stage();
        if (stage == Stage.ROLLED_BACK || stage == Stage.ABORTED) {
            return Optional.empty();
        }
        if (stage == Stage.COMPLETED && completedServed.containsKey(c.get().id())) {
            return Optional.empty();
        }
        return c;
    }

    private static String key(RolloutSpec spec, LiveSession s) {
        return spec.routingKey() == RolloutSpec.RoutingKey.ACCOUNT
                ? s.account.id()
                : s.settings.symbol();
    }

    /**
     * The bundle a session should act with when the served bundle is {@code currentId}.
     *
     * @param s the session (under its monitor)
     * @param currentId the served bundle's id
     * @return the challenger's id when the rollout routes this session to it, else {@code
     *     currentId}
     */
    String target(LiveSession s, String currentId) {
        Optional<RolloutController> c = applying();
        if (c.isEmpty()) {
            return currentId;
        }
        return c.get().route(key(c.get().spec(), s)) == Role.CHALLENGER
                ? challengers.get(c.get().id()).id()
                : currentId;
    }

    /**
     * Before a new bar: swaps the session to the bundle its route names (recorded by {@code swap}),
     * then makes sure the shadow runs the other bundle.
     *
     * @param s the session (under its monitor)
     * @param swap swaps the session to a bundle id, answering the id or why it kept its own
     * @param history the session's stored bars, oldest first (to warm a new shadow up)
     */
    void beforeBar(
            LiveSession s, Function<String, String> swap, Function<String, List<Bar>> history) {
        Optional<RolloutController> c = applying();
        String currentId = served.bundle().id();
        String want = target(s, currentId);
        if (!s.strategy.bundle().id().equals(want)) {
            String result = swap.apply(want);
            if (!result.equals(want)) {
                LOG.warn("session {}: rollout swap to {}: {}", s.settings.symbol(), want, result);
            }
        }
        if (c.isEmpty() || c.get().stage().terminal()) {
            s.closeShadow();
            return;
        }
        String challengerId = challengers.get(c.get().id()).id();
        String acting = s.strategy.bundle().id();
        String other = acting.equals(challengerId) ? currentId : challengerId;
        if (s.shadow != null && s.shadow.bundle().equals(other) && s.shadow.failure == null) {
            return;
        }
        s.closeShadow();
        BundleLoader.Loaded loaded = null;
        try {
            loaded = catalog.load(other);
            SymbolEngine engine =
                    new SymbolEngine(
                            s.settings.symbol(),
                            loaded.rules(),
                            loaded.strategy(),
                            s.account.startingEquity(),
                            null,
                            dev.quiver.engine.EngineListener.NONE);
            loaded.applyExpiry(engine, served.maxAge());
            SymbolSession session = new SymbolSession(s.session.settings(), engine);
            session.warmUp(history.apply(s.settings.symbol()));
            s.shadow = new Shadow(loaded, session);
        } catch (RuntimeException e) {
            if (loaded != null) {
                loaded.close();
            }
            LOG.warn(
                    "session {}: shadow bundle {} cannot start: {}",
                    s.settings.symbol(),
                    other,
                    e.getMessage());
        }
    }

    /**
     * After a new bar was stepped and committed: the shadow steps it, the bar before is scored with
     * this bar's close, and both bundles' outputs at this bar are recorded.
     *
     * @param s the session (under its monitor)
     * @param previous the session's bar before this one, or null
     * @param bar the bar
     * @param step the acting engine's step
     */
    void afterBar(LiveSession s, Bar previous, Bar bar, Step step) {
        Shadow shadow = s.shadow;
        if (shadow != null) {
            try {
                shadow.last = shadow.session.append(bar);
            } catch (RuntimeException e) {
                // the acting decision stands; the shadow is rebuilt before the next bar
                shadow.failure = e.getMessage();
                shadow.last = null;
                LOG.warn(
                        "session {}: shadow bundle {} failed at {}: {}",
                        s.settings.symbol(),
                        shadow.bundle(),
                        bar.start(),
                        e.getMessage());
            }
        }
        Optional<RolloutController> oc = applying();
        if (oc.isEmpty() || oc.get().stage().terminal()) {
            return;
        }
        RolloutController c = oc.get();
        String key = key(c.spec(), s);
        List<Transition> transitions = new ArrayList<>();
        if (previous != null) {
            for (Instant t : c.pendingBars(key)) {
                if (t.equals(previous.start())) {
                    transitions.addAll(
                            c.resolve(key, t, bar.start(), bar.close(), clock.instant()));
                }
            }
        }
        String challengerId = challengers.get(c.id()).id();
        Role acted =
                s.strategy.bundle().id().equals(challengerId) ? Role.CHALLENGER : Role.CHAMPION;
        VariantOutput mine = output(c.spec(), step, s.acting);
        VariantOutput theirs =
                shadow == null || shadow.last == null
                        ? null
                        : output(c.spec(), shadow.last, s.acting);
        boolean recorded = mine != null || theirs != null;
        if (recorded && !c.stage().terminal()) {
            c.record(
                    key,
                    bar.start(),
                    bar.close(),
                    acted == Role.CHAMPION ? mine : theirs,
                    acted == Role.CHAMPION ? theirs : mine,
                    acted);
        }
        if (!transitions.isEmpty()) {
            try {
                rollouts.manager().applied(c, transitions);
            } catch (RuntimeException e) {
                // The bar is committed and answered; the transitions stay owed in the manager and
                // are committed, audited and carried out with the rollout's next flush (within
                // RolloutManager.FLUSH_MILLIS). Failing this request would not undo the bar.
                LOG.error(
                        "rollout {}: committing {} transition(s) failed; owed to the next flush: {}",
                        c.id(),
                        transitions.size(),
                        e.getMessage(),
                        e);
            }
        } else if (recorded) {
            rollouts.manager().saveSoon(c);
        }
    }

    /** A bundle's output at a bar: its fused p_up and the acting policy's fraction. */
    private static VariantOutput output(RolloutSpec spec, Step step, int acting) {
        if (step == null || step.policies().isEmpty()) {
            return null;
        }
        Double p = step.signal() == null ? null : step.signal().probabilityUp();
        if (p == null && spec.rules().metric().needsProbability()) {
            return null;
        }
        double fraction = step.policies().get(acting).decision().fraction();
        return new VariantOutput(p, Math.max(0, Math.min(1, fraction)));
    }

    /**
     * Adds the rollout to a decision's provenance: the rollout, stage, routing, the acting bundle,
     * and the shadow bundle's decision at the same bar (recorded, not acted on).
     *
     * @param s the session (under its monitor)
     * @param step the acting engine's step the answer is about
     * @param provenance the decision's provenance, changed in place
     */
    void annotate(LiveSession s, Step step, Map<String, Object> provenance) {
        Optional<RolloutController> oc = applying();
        if (oc.isEmpty()) {
            return;
        }
        RolloutController c = oc.get();
        String key = key(c.spec(), s);
        String challengerId = challengers.get(c.id()).id();
        Role acted =
                s.strategy.bundle().id().equals(challengerId) ? Role.CHALLENGER : Role.CHAMPION;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rollout", c.id());
        m.put("stage", c.stage().id());
        m.put("capability", RolloutSpec.Kind.STRATEGY.id());
        m.put("routing_key", key);
        m.put("routed", c.route(key).id());
        m.put("acted", acted.id());
        m.put("bundle", s.strategy.bundle().id());
        Shadow shadow = s.shadow;
        if (shadow != null) {
            Map<String, Object> sh = new LinkedHashMap<>();
            sh.put("role", acted == Role.CHAMPION ? Role.CHALLENGER.id() : Role.CHAMPION.id());
            sh.put("bundle", shadow.bundle());
            sh.put("acted_on", false);
            Step other = shadow.last;
            if (other != null && other.barTime().equals(step.barTime())) {
                sh.put("p_up", other.signal() == null ? null : other.signal().probabilityUp());
                Map<String, Object> fractions = new LinkedHashMap<>();
                for (PolicyStep ps : other.policies()) {
                    fractions.put(ps.policy(), ps.decision().fraction());
                }
                sh.put("fractions", fractions);
            } else {
                sh.put("p_up", null); // the shadow started after this bar, or failed on it
                sh.put("note", shadow.failure == null ? "no decision at this bar" : shadow.failure);
            }
            m.put("shadow", sh);
        }
        provenance.put("rollouts", List.of(m));
    }

    /** Stops the lifecycle thread (shadows close with their sessions). */
    @Override
    public void close() {
        lifecycle.shutdown();
    }
}
