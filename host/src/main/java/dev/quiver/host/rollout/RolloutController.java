package dev.quiver.host.rollout;

import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The rollout state machine: routes each decision to champion or challenger, records what both
 * said, scores them point-in-time when the outcome bar becomes known, and applies the declared
 * rules. The same class runs in the decision service and in {@code backtest --rollout}; it does no
 * I/O (callers persist {@link #snapshot()}, write the audit log and move registry aliases from the
 * returned {@link Transition}s).
 *
 * <p>Flow per routing key and bar {@code t}: {@link #record} the variants' outputs at {@code t}
 * (pending); when bar {@code t + 1} has closed, {@link #resolve} it with that close: both pending
 * outputs are scored on the same outcome (so the test can pair them), the stage's statistics grow,
 * and the rules look when the stage's sample reaches the next multiple of {@code min_samples}.
 * Nothing is scored before its outcome bar closes, and nothing is decided before {@code
 * min_samples} outcomes per variant in the current stage.
 *
 * <p>Rules, per look {@code k = 1, 2, ...} at {@code n = k * min_samples}: with {@code alpha_k =
 * alpha / 2^k}, roll back if the challenger is worse at {@code p_worse < alpha_k}, else promote one
 * stage if it is better at {@code p_better < alpha_k}, else carry on; at look {@code max_looks}
 * (when declared) no verdict rolls back instead: the challenger did not show itself better within
 * the horizon. Each transition starts a fresh stage: the next stage must earn its own verdict on
 * its own outcomes. See {@link Significance}.
 *
 * <p>Thread-safe: every method is synchronized.
 */
public final class RolloutController {

    /**
     * Forecasts kept per routing key awaiting their outcome; older ones are dropped and counted.
     */
    public static final int MAX_PENDING_PER_KEY = 64;

    private final RolloutSpec spec;
    private final String created;
    private Stage stage;
    private int stageIndex;
    private String stageSince;
    private final EnumMap<Role, VariantTotals> totals = new EnumMap<>(Role.class);
    private VariantTotals served;
    private final EnumMap<Role, Long> acted = new EnumMap<>(Role.class);
    private final EnumMap<Role, Moments> stageLosses = new EnumMap<>(Role.class);
    private Moments stagePaired;
    private int looks;
    private final Map<String, TreeMap<Instant, PendingForecast>> pending = new HashMap<>();
    private long pendingDropped;
    private final Map<String, double[]> positions = new HashMap<>();
    private final List<Transition> transitions = new ArrayList<>();

    /** Whether scored outcomes are kept as series points for the store ({@link #keepSeries}). */
    private boolean keepSeries;

    /** Points scored and not saved yet, oldest first. */
    private final List<SeriesPoint> unsavedSeries = new ArrayList<>();

    /** The latest outcome bar scored by this controller, or null before the first. */
    private Instant seriesBar;

    private RolloutController(RolloutSpec spec, Instant now) {
        this.spec = spec;
        this.created = millis(now);
        this.stage = spec.mode();
        this.stageSince = created;
        for (Role r : Role.values()) {
            totals.put(r, VariantTotals.EMPTY);
            acted.put(r, 0L);
        }
        this.served = VariantTotals.EMPTY;
        resetStage();
    }

    /**
     * A new rollout in the spec's starting mode.
     *
     * @param spec the spec
     * @param now start time (kept to the millisecond, as every time of a rollout)
     * @return the controller
     */
    public static RolloutController start(RolloutSpec spec, Instant now) {
        return new RolloutController(spec, now);
    }

    /**
     * A rollout as a snapshot left it.
     *
     * @param snapshot what {@link #snapshot()} returned (read back from the state store)
     * @return the controller
     * @throws RolloutSpecException if the snapshot's spec is no longer valid
     * @throws IllegalArgumentException if the snapshot is of another format or inconsistent
     */
    public static RolloutController restore(RolloutSnapshot snapshot) {
        if (snapshot.format() != RolloutSnapshot.FORMAT) {
            throw new IllegalArgumentException(
                    "rollout snapshot format "
                            + snapshot.format()
                            + ", this host reads "
                            + RolloutSnapshot.FORMAT);
        }
        RolloutSpec spec = RolloutSpec.parse(snapshot.spec(), "saved rollout state", null);
        RolloutController c = new RolloutController(spec, Instant.parse(snapshot.created()));
        c.stage =
                Stage.byId(snapshot.stage())
                        .orElseThrow(
                                () ->
                                        new IllegalArgumentException(
                                                "unknown stage '" + snapshot.stage() + "'"));
        c.stageIndex = snapshot.stageIndex();
        c.stageSince = snapshot.stageSince();
        for (Role r : Role.values()) {
            c.totals.put(r, snapshot.totals().getOrDefault(r.id(), VariantTotals.EMPTY));
            c.acted.put(r, snapshot.acted().getOrDefault(r.id(), 0L));
        }
        c.served = snapshot.served();
        c.stageLosses.put(Role.CHAMPION, snapshot.stageChampion());
        c.stageLosses.put(Role.CHALLENGER, snapshot.stageChallenger());
        c.stagePaired = snapshot.stagePaired();
        c.looks = snapshot.looks();
        for (PendingForecast p : snapshot.pending()) {
            c.pending
                    .computeIfAbsent(p.key(), k -> new TreeMap<>())
                    .put(Instant.parse(p.barTime()), p);
        }
        c.pendingDropped = snapshot.pendingDropped();
        snapshot.positions().forEach((k, v) -> c.positions.put(k, v.clone()));
        c.transitions.addAll(snapshot.transitions());
        return c;
    }

    /**
     * The spec.
     *
     * @return the spec
     */
    public RolloutSpec spec() {
        return spec;
    }

    /**
     * The rollout id.
     *
     * @return the spec's id
     */
    public String id() {
        return spec.id();
    }

    /**
     * The current stage.
     *
     * @return the stage
     */
    public synchronized Stage stage() {
        return stage;
    }

    /**
     * Which variant acts for a routing key now: shadow, rolled back and aborted the champion; full
     * and completed the challenger; canary the challenger iff {@link CanaryRouter#toChallenger}.
     *
     * @param key routing key (symbol or account)
     * @return the acting role
     */
    public synchronized Role route(String key) {
        return switch (stage) {
            case SHADOW, ROLLED_BACK, ABORTED -> Role.CHAMPION;
            case FULL, COMPLETED -> Role.CHALLENGER;
            case CANARY ->
                    CanaryRouter.toChallenger(spec.id(), key, spec.canaryBuckets())
                            ? Role.CHALLENGER
                            : Role.CHAMPION;
        };
    }

    /**
     * Whether a role must be computed now: both while the rollout is live (the one not acting is
     * the shadow); only the winner once it is over.
     *
     * @param role champion or challenger
     * @return true if its output is needed
     */
    public synchronized boolean computes(Role role) {
        return switch (stage) {
            case SHADOW, CANARY, FULL -> true;
            case COMPLETED -> role == Role.CHALLENGER;
            case ROLLED_BACK, ABORTED -> role == Role.CHAMPION;
        };
    }

    /**
     * Records what the variants said at a bar, to be scored when the next bar closes. Ignored once
     * the rollout is over. A second record for the same key and bar replaces the first.
     *
     * @param key routing key
     * @param barTime the decision bar's start
     * @param close the decision bar's close, finite and {@code > 0}
     * @param champion the champion's output, null if not computed or failed
     * @param challenger the challenger's output, null likewise
     * @param actedRole the role that acted (normally {@link #route}'s answer)
     * @throws IllegalArgumentException if {@code close} is not finite and positive, or an output
     *     does not fit the capability (a probability missing for a probability metric)
     */
    public synchronized void record(
            String key,
            Instant barTime,
            double close,
            VariantOutput champion,
            VariantOutput challenger,
            Role actedRole) {
        if (!(close > 0) || Double.isInfinite(close)) {
            throw new IllegalArgumentException(
                    "close must be finite and > 0, was "
                            + close
                            + " (key "
                            + key
                            + ", bar "
                            + barTime
                            + ")");
        }
        for (VariantOutput o : new VariantOutput[] {champion, challenger}) {
            if (o != null
                    && spec.rules().metric().needsProbability()
                    && o.probabilityUp() == null) {
                throw new IllegalArgumentException(
                        "rollout "
                                + spec.id()
                                + " scores "
                                + spec.rules().metric().id()
                                + " but an output has no probability");
            }
        }
        if (stage.terminal()) {
            return;
        }
        acted.merge(actedRole, 1L, Long::sum);
        TreeMap<Instant, PendingForecast> byBar =
                pending.computeIfAbsent(key, k -> new TreeMap<>());
        byBar.put(
                barTime,
                new PendingForecast(
                        key,
                        barTime.toString(),
                        close,
                        champion,
                        challenger,
                        actedRole.id(),
                        stageIndex));
        while (byBar.size() > MAX_PENDING_PER_KEY) {
            byBar.pollFirstEntry();
            pendingDropped++;
        }
    }

    /**
     * The bars of a key whose forecasts await their outcome, oldest first.
     *
     * @param key routing key
     * @return bar start times
     */
    public synchronized List<Instant> pendingBars(String key) {
        TreeMap<Instant, PendingForecast> byBar = pending.get(key);
        return byBar == null ? List.of() : List.copyOf(byBar.keySet());
    }

    /**
     * Scores the forecasts made at {@code forecastBar} now that the next bar has closed, then
     * applies the rules.
     *
     * @param key routing key
     * @param forecastBar the decision bar (one of {@link #pendingBars})
     * @param outcomeBar the bar right after it, whose close is now known; must be later
     * @param outcomeClose that bar's close, finite and {@code > 0}
     * @param now time stamped on a transition
     * @return the transitions the rules made (empty, or one)
     * @throws IllegalArgumentException if the outcome bar is not after the forecast bar or the
     *     close is not finite and positive
     */
    public synchronized List<Transition> resolve(
            String key, Instant forecastBar, Instant outcomeBar, double outcomeClose, Instant now) {
        if (!outcomeBar.isAfter(forecastBar)) {
            throw new IllegalArgumentException(
                    "outcome bar "
                            + outcomeBar
                            + " is not after forecast bar "
                            + forecastBar
                            + " (key "
                            + key
                            + ")");
        }
        if (!(outcomeClose > 0) || Double.isInfinite(outcomeClose)) {
            throw new IllegalArgumentException(
                    "outcome close must be finite and > 0, was " + outcomeClose);
        }
        TreeMap<Instant, PendingForecast> byBar = pending.get(key);
        PendingForecast p = byBar == null ? null : byBar.remove(forecastBar);
        if (byBar != null && byBar.isEmpty()) {
            pending.remove(key);
        }
        if (p == null || stage.terminal()) {
            return List.of();
        }
        double r = outcomeClose / p.close() - 1;
        boolean up = Math.log(outcomeClose / p.close()) > 0;
        double cost = spec.rules().costBps() / 10_000;
        double[] last = positions.computeIfAbsent(key, k -> new double[] {0, 0});
        EnumMap<Role, Double> loss = new EnumMap<>(Role.class);
        EnumMap<Role, Double> pnl = new EnumMap<>(Role.class);
        for (Role role : Role.values()) {
            VariantOutput o = role == Role.CHAMPION ? p.champion() : p.challenger();
            if (o == null) {
                continue;
            }
            int i = role.ordinal();
            double w = o.position();
            double pl = w * r - cost * Math.abs(w - last[i]);
            last[i] = w;
            pnl.put(role, pl);
            totals.put(role, totals.get(role).plus(o.probabilityUp(), up, pl));
            loss.put(role, loss(o, up, pl));
        }
        Role actedRole = p.acted().equals(Role.CHALLENGER.id()) ? Role.CHALLENGER : Role.CHAMPION;
        VariantOutput actedOutput = actedRole == Role.CHAMPION ? p.champion() : p.challenger();
        if (actedOutput != null) {
            served = served.plus(actedOutput.probabilityUp(), up, pnl.get(actedRole));
        }
        if (keepSeries) {
            point(outcomeBar);
        }
        if (p.stageIndex() != stageIndex) {
            return List.of(); // made in an earlier stage: counts in the totals, not in this stage's
            // test
        }
        loss.forEach((role, l) -> stageLosses.put(role, stageLosses.get(role).plus(l)));
        if (loss.size() == 2) {
            stagePaired = stagePaired.plus(loss.get(Role.CHALLENGER) - loss.get(Role.CHAMPION));
        }
        return applyRules(now);
    }

    /** Keeps the figures as they stand now as the point of {@code outcomeBar} (or a later one). */
    private void point(Instant outcomeBar) {
        if (seriesBar == null || outcomeBar.isAfter(seriesBar)) {
            seriesBar = outcomeBar;
        }
        Map<String, VariantTotals> t = new LinkedHashMap<>();
        for (Role r : Role.values()) {
            t.put(r.id(), totals.get(r));
        }
        SeriesPoint now = new SeriesPoint(seriesBar, stage.id(), t, served);
        int last = unsavedSeries.size() - 1;
        if (last >= 0 && unsavedSeries.get(last).bar().equals(seriesBar)) {
            unsavedSeries.set(last, now);
        } else {
            unsavedSeries.add(now);
        }
    }

    /**
     * From now on, every scored outcome leaves a point of the figures over time ({@link
     * #unsavedSeries}), one per outcome bar, until the store has it ({@link #seriesSaved}). The
     * {@link RolloutManager} turns this on; a backtest that stores nothing leaves it off.
     */
    public synchronized void keepSeries() {
        keepSeries = true;
    }

    /**
     * The points scored and not saved yet.
     *
     * @return oldest first; empty when none (or the series is not kept)
     */
    public synchronized List<SeriesPoint> unsavedSeries() {
        return List.copyOf(unsavedSeries);
    }

    /**
     * Drops the points a save stored: those of {@code saved} still at the head of the unsaved ones,
     * the same objects (a point replaced since, by more outcomes of its bar, stays).
     *
     * @param saved what {@link #unsavedSeries} returned before the save
     */
    public synchronized void seriesSaved(List<SeriesPoint> saved) {
        int k = 0;
        while (k < saved.size()
                && k < unsavedSeries.size()
                && unsavedSeries.get(k) == saved.get(k)) {
            k++;
        }
        unsavedSeries.subList(0, k).clear();
    }

    private double loss(VariantOutput o, boolean up, double pnl) {
        return switch (spec.rules().metric()) {
            case LOG_LOSS -> Metric.logLoss(o.probabilityUp(), up);
            case BRIER -> Metric.brier(o.probabilityUp(), up);
            case HIT_RATE -> Metric.hit(o.probabilityUp(), up) ? 0 : 1;
            case PNL -> -pnl;
        };
    }

    /** The test the rules would run now, and on how many samples; empty below 2 per side. */
    private Optional<Significance.Result> test() {
        Moments a = stageLosses.get(Role.CHAMPION);
        Moments b = stageLosses.get(Role.CHALLENGER);
        boolean paired =
                switch (spec.rules().test()) {
                    case PAIRED -> true;
                    case WELCH -> false;
                    case AUTO -> stagePaired.n() >= spec.rules().minSamples();
                };
        if (paired) {
            if (stagePaired.n() < 2) {
                return Optional.empty();
            }
            // 0/1 losses: the exact test for paired proportions, not a t approximation.
            return Optional.of(
                    spec.rules().metric() == Metric.HIT_RATE
                            ? Significance.mcNemar(stagePaired)
                            : Significance.paired(stagePaired));
        }
        return a.n() < 2 || b.n() < 2 ? Optional.empty() : Optional.of(Significance.welch(a, b));
    }

    private long stageSamples() {
        long welch =
                Math.min(stageLosses.get(Role.CHAMPION).n(), stageLosses.get(Role.CHALLENGER).n());
        return switch (spec.rules().test()) {
            case PAIRED -> stagePaired.n();
            case WELCH -> welch;
            case AUTO -> stagePaired.n() >= spec.rules().minSamples() ? stagePaired.n() : welch;
        };
    }

    private List<Transition> applyRules(Instant now) {
        if (!spec.rules().automatic() || stage.terminal()) {
            return List.of();
        }
        long n = stageSamples();
        int look = looks + 1;
        if (n < (long) look * spec.rules().minSamples()) {
            return List.of();
        }
        looks = look;
        Optional<Significance.Result> result = test();
        if (result.isEmpty()) {
            return List.of();
        }
        Significance.Result t = result.get();
        double alpha = spec.rules().alpha() / Math.pow(2, look);
        if (t.pWorse() < alpha) {
            return List.of(
                    transition(
                            Stage.ROLLED_BACK,
                            "rule",
                            String.format(
                                    java.util.Locale.ROOT,
                                    "challenger worse on %s: mean difference %+.5f, %s t = %.3f, p = %.3g < alpha %.3g (look %d, n = %d)",
                                    spec.rules().metric().id(),
                                    t.meanDifference(),
                                    t.test(),
                                    t.statistic(),
                                    t.pWorse(),
                                    alpha,
                                    look,
                                    n),
                            figures(t, t.pWorse(), alpha, look),
                            n,
                            now));
        }
        if (t.pBetter() < alpha) {
            return List.of(
                    transition(
                            stage.next().orElseThrow(),
                            "rule",
                            String.format(
                                    java.util.Locale.ROOT,
                                    "challenger better on %s: mean difference %+.5f, %s t = %.3f, p = %.3g < alpha %.3g (look %d, n = %d)",
                                    spec.rules().metric().id(),
                                    t.meanDifference(),
                                    t.test(),
                                    t.statistic(),
                                    t.pBetter(),
                                    alpha,
                                    look,
                                    n),
                            figures(t, t.pBetter(), alpha, look),
                            n,
                            now));
        }
        int horizon = spec.rules().maxLooks();
        if (horizon > 0 && look >= horizon) {
            return List.of(
                    transition(
                            Stage.ROLLED_BACK,
                            "rule",
                            String.format(
                                    java.util.Locale.ROOT,
                                    "no verdict on %s within max_looks %d: mean difference %+.5f, %s t = %.3f, p_better = %.3g and p_worse = %.3g, neither < alpha %.3g (look %d, n = %d); the champion stays",
                                    spec.rules().metric().id(),
                                    horizon,
                                    t.meanDifference(),
                                    t.test(),
                                    t.statistic(),
                                    t.pBetter(),
                                    t.pWorse(),
                                    alpha,
                                    look,
                                    n),
                            figures(t, t.pBetter(), alpha, look),
                            n,
                            now));
        }
        return List.of();
    }

    private static Transition.TestFigures figures(
            Significance.Result t, double p, double alpha, int look) {
        return new Transition.TestFigures(
                t.test(),
                t.n(),
                t.meanDifference(),
                Double.isFinite(t.statistic()) ? t.statistic() : null,
                t.degreesOfFreedom(),
                p,
                alpha,
                look);
    }

    /**
     * An operator's promotion: one stage forward (shadow to canary, canary to full, full to
     * completed), whatever the figures say.
     *
     * @param reason why, for the audit log
     * @param now time of the command
     * @return the transition
     * @throws IllegalStateException if the rollout is over
     */
    public synchronized Transition promote(String reason, Instant now) {
        return promote(OPERATOR, reason, now);
    }

    /**
     * A named operator's promotion ({@link #promote(String, Instant)}).
     *
     * @param actor who, for the audit log ({@code operator} when null or blank)
     * @param reason why, for the audit log
     * @param now time of the command
     * @return the transition
     * @throws IllegalStateException if the rollout is over
     */
    public synchronized Transition promote(String actor, String reason, Instant now) {
        Stage next = stage.next().orElseThrow(() -> finished("promote"));
        return operator(next, actor, reason, now);
    }

    /**
     * An operator's rollback: the champion acts for every key from now on.
     *
     * @param reason why
     * @param now time of the command
     * @return the transition
     * @throws IllegalStateException if the rollout is over
     */
    public synchronized Transition rollback(String reason, Instant now) {
        return rollback(OPERATOR, reason, now);
    }

    /**
     * A named operator's rollback ({@link #rollback(String, Instant)}).
     *
     * @param actor who ({@code operator} when null or blank)
     * @param reason why
     * @param now time of the command
     * @return the transition
     * @throws IllegalStateException if the rollout is over
     */
    public synchronized Transition rollback(String actor, String reason, Instant now) {
        if (stage.terminal()) {
            throw finished("roll back");
        }
        return operator(Stage.ROLLED_BACK, actor, reason, now);
    }

    /**
     * An operator's abort: stop without a verdict; the champion acts for every key.
     *
     * @param reason why
     * @param now time of the command
     * @return the transition
     * @throws IllegalStateException if the rollout is over
     */
    public synchronized Transition abort(String reason, Instant now) {
        return abort(OPERATOR, reason, now);
    }

    /**
     * A named operator's abort ({@link #abort(String, Instant)}).
     *
     * @param actor who ({@code operator} when null or blank)
     * @param reason why
     * @param now time of the command
     * @return the transition
     * @throws IllegalStateException if the rollout is over
     */
    public synchronized Transition abort(String actor, String reason, Instant now) {
        if (stage.terminal()) {
            throw finished("abort");
        }
        return operator(Stage.ABORTED, actor, reason, now);
    }

    /** The actor of a manual command that names nobody. */
    private static final String OPERATOR = "operator";

    private IllegalStateException finished(String what) {
        return new IllegalStateException(
                "[Quiver/ROLLOUT_FINISHED] rollout '"
                        + spec.id()
                        + "' is "
                        + stage.id()
                        + "; there is nothing to "
                        + what);
    }

    private Transition operator(Stage to, String actor, String reason, Instant now) {
        Optional<Significance.Result> t = test();
        Transition.TestFigures tf =
                t.map(
                                r ->
                                        figures(
                                                r,
                                                to == Stage.ROLLED_BACK ? r.pWorse() : r.pBetter(),
                                                spec.rules().alpha(),
                                                0))
                        .orElse(null);
        return transition(
                to,
                actor == null || actor.isBlank() ? OPERATOR : actor,
                reason == null || reason.isBlank() ? "manual" : reason,
                tf,
                0,
                now);
    }

    private Transition transition(
            Stage to,
            String actor,
            String reason,
            Transition.TestFigures test,
            long samples,
            Instant now) {
        Map<String, VariantFigures> figs = new LinkedHashMap<>();
        for (Role r : Role.values()) {
            figs.put(r.id(), totals.get(r).figures());
        }
        Transition t =
                new Transition(
                        millis(now),
                        spec.id(),
                        stage.id(),
                        to.id(),
                        actor,
                        reason,
                        spec.rules().metric().id(),
                        figs,
                        test,
                        samples);
        stage = to;
        stageIndex++;
        stageSince = millis(now);
        transitions.add(t);
        resetStage();
        if (to.terminal()) {
            pending.clear();
        }
        return t;
    }

    /**
     * A time as the rollout keeps it: ISO-8601, to the millisecond (the state store's precision, so
     * a restored rollout holds exactly the times the running one held).
     */
    private static String millis(Instant t) {
        return t.truncatedTo(java.time.temporal.ChronoUnit.MILLIS).toString();
    }

    private void resetStage() {
        stageLosses.put(Role.CHAMPION, Moments.EMPTY);
        stageLosses.put(Role.CHALLENGER, Moments.EMPTY);
        stagePaired = Moments.EMPTY;
        looks = 0;
    }

    /**
     * The transitions so far.
     *
     * @return oldest first
     */
    public synchronized List<Transition> transitions() {
        return List.copyOf(transitions);
    }

    /**
     * All-time figures of a role.
     *
     * @param role champion or challenger
     * @return the figures
     */
    public synchronized VariantFigures figures(Role role) {
        return totals.get(role).figures();
    }

    /**
     * Figures of whichever variant acted on each scored bar: what the rollout delivered.
     *
     * @return the figures
     */
    public synchronized VariantFigures servedFigures() {
        return served.figures();
    }

    /**
     * The current stage's samples and test, for status pages.
     *
     * @return a JSON-ready map: samples, looks taken, next look at, the test (if computable)
     */
    public synchronized Map<String, Object> stageStatus() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("stage", stage.id());
        m.put("since", stageSince);
        m.put("samples", stageSamples());
        m.put("paired_samples", stagePaired.n());
        m.put("champion_samples", stageLosses.get(Role.CHAMPION).n());
        m.put("challenger_samples", stageLosses.get(Role.CHALLENGER).n());
        m.put(
                "champion_mean_loss",
                stageLosses.get(Role.CHAMPION).n() == 0
                        ? null
                        : stageLosses.get(Role.CHAMPION).mean());
        m.put(
                "challenger_mean_loss",
                stageLosses.get(Role.CHALLENGER).n() == 0
                        ? null
                        : stageLosses.get(Role.CHALLENGER).mean());
        m.put("looks", looks);
        m.put(
                "next_look_at",
                stage.terminal() ? null : (long) (looks + 1) * spec.rules().minSamples());
        m.put(
                "next_look_alpha",
                stage.terminal() ? null : spec.rules().alpha() / Math.pow(2, looks + 1));
        test().ifPresent(
                        t -> {
                            Map<String, Object> tm = new LinkedHashMap<>();
                            tm.put("test", t.test());
                            tm.put("n", t.n());
                            tm.put("mean_difference", t.meanDifference());
                            tm.put(
                                    "statistic",
                                    Double.isFinite(t.statistic()) ? t.statistic() : null);
                            tm.put("degrees_of_freedom", t.degreesOfFreedom());
                            tm.put("p_better", t.pBetter());
                            tm.put("p_worse", t.pWorse());
                            m.put("test", tm);
                        });
        m.put("pending", pending.values().stream().mapToInt(Map::size).sum());
        m.put("pending_dropped", pendingDropped);
        return m;
    }

    /**
     * Decisions each role acted on.
     *
     * @param role champion or challenger
     * @return count
     */
    public synchronized long acted(Role role) {
        return acted.get(role);
    }

    /**
     * Everything, for persistence.
     *
     * @return an immutable snapshot
     */
    public synchronized RolloutSnapshot snapshot() {
        Map<String, VariantTotals> t = new LinkedHashMap<>();
        Map<String, Long> a = new LinkedHashMap<>();
        for (Role r : Role.values()) {
            t.put(r.id(), totals.get(r));
            a.put(r.id(), acted.get(r));
        }
        List<PendingForecast> p = new ArrayList<>();
        new TreeMap<>(pending).values().forEach(byBar -> p.addAll(byBar.values()));
        Map<String, double[]> pos = new TreeMap<>();
        positions.forEach((k, v) -> pos.put(k, v.clone()));
        return new RolloutSnapshot(
                RolloutSnapshot.FORMAT,
                spec.toJson(),
                stage.id(),
                stageIndex,
                stageSince,
                created,
                t,
                served,
                a,
                stageLosses.get(Role.CHAMPION),
                stageLosses.get(Role.CHALLENGER),
                stagePaired,
                looks,
                p,
                pendingDropped,
                pos,
                List.copyOf(transitions));
    }
}
