package dev.quiver.engine;

import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.api.market.Bar;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.OnlineCalibration;
import dev.quiver.api.sizing.ScoredOutcome;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.engine.gate.GateVerdict;
import dev.quiver.engine.gate.InputGate;
import dev.quiver.engine.risk.BreakerEvent;
import dev.quiver.engine.risk.CircuitBreakers;
import dev.quiver.engine.risk.GuardedDecision;
import dev.quiver.engine.risk.KillSwitch;
import dev.quiver.engine.risk.RiskGuard;
import dev.quiver.engine.trading.Account;
import dev.quiver.engine.trading.StopExits;
import dev.quiver.engine.trading.Stops;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one decision engine for one symbol: steps a {@link Strategy} one bar at a time, each policy
 * trading its own book (an {@link Account}, its {@link CircuitBreakers} and host-side stops). The
 * walk-forward backtest and the live sessions both call {@link #step} with the same bars, so they
 * decide identically; only where the features and the fitting come from differs.
 *
 * <p>One bar, in order:
 *
 * <ol>
 *   <li><b>open</b>: the breakers see the equity valued at the open and score the decision of two
 *       bars ago (a long proposal at bar {@code t - 2} wins if {@code open[t] > open[t - 1]}); in
 *       paper mode the order decided at the previous close fills at this open (costs charged) and a
 *       position opened from flat gets its stops from the ATR of the decision bar;
 *   <li><b>inside the bar</b> (paper mode): stop-loss, trailing stop, take-profit (a gap through a
 *       level fills at the open, else at the level; the stop is checked first);
 *   <li><b>close</b>: equity marked; the breakers see it; the previous bar's fused signal is scored
 *       on its own label ({@code close[t] > close[t-1]}) and handed to every policy that
 *       recalibrates online ({@link OnlineCalibration#observe}), so it only ever sees realised
 *       outcomes (the breakers' scoring above is of trades, open to open, a different event);
 *   <li><b>decision</b> (when the bar has a feature frame): the {@link InputGate} judges the bar
 *       (when one is set), forecasts, fusion, then per policy the {@link SizingContext} (the book's
 *       equity and drawdown, the cap, {@code atr_pct_14}, the payoff ratio), the {@link RiskGuard},
 *       the breakers; a target outside the rebalance band (or to or from flat) becomes the order
 *       for the next open. On an expired strategy's bar, or a bar the gate refused, every policy
 *       abstains (flat, with the reason) instead of being asked.
 * </ol>
 *
 * <p>Not thread-safe: one thread steps an engine (a session is one writer); capabilities are called
 * on that thread.
 */
public final class SymbolEngine {

    /** Feature read as the volatility handed to sizing and the stops' ATR, a fraction per bar. */
    public static final String VOLATILITY_FEATURE = "atr_pct_14";

    /**
     * The reason of a bar on which every prediction source failed (threw, answered nothing or was
     * recorded as failed): no policy is asked, every policy's target is 0 (flat) with this reason,
     * and the failures name each source and why ({@link Step#failures()}).
     */
    public static final String NO_FORECAST_REASON =
            "no forecast available (every source failed) -> flat";

    private final String symbol;
    private final TradingRules rules;
    private Strategy strategy;
    private Forecasts forecasts;
    private final EngineListener listener;

    /** Whether capability calls are timed: only for a caller's listener (no clock reads else). */
    private final boolean timed;

    /** This bar's failed sources, cleared every bar; a {@link Step} gets a copy only if any. */
    private final Map<String, String> failuresOfBar = new LinkedHashMap<>();

    private final RiskGuard guard = new RiskGuard();
    private final Book[] books;

    /**
     * The strategy's policies, book by book: read on every bar, so an array rather than the
     * strategy's list (whose {@code get} is an interface call of whichever list class it is).
     */
    private SizingCapability[] policies;

    private String ensembleName;
    private final boolean ownForecasts;
    private FeatureSchema schema;
    private int volatilityIndex = -1;
    private double previousOpen = Double.NaN;
    private double lastVolatility = Double.NaN;
    private double lastClose = Double.NaN;

    /** The fused signal of the last stepped bar (null if none), scored at the next bar's close. */
    private FusedSignal lastSignal;

    private CallFailures scripted;
    private CallFailures lastFailures = CallFailures.NONE;
    private String ensembleFailure;
    private long lastBarMillis = Long.MIN_VALUE;
    private long bars;
    private long expiresAtMillis = Long.MAX_VALUE;
    private String expiryReason;
    private long expiredDecisions;
    private InputGate gate;
    private GateVerdict lastGate;
    private long gateAbstentions;

    /** The operator's halt in force (see {@link KillSwitch}), one line; {@code null} when none. */
    private String halt;

    /**
     * Creates an engine whose books all start flat with {@code initialEquity}, in paper mode.
     *
     * @param symbol the symbol, for reasons
     * @param rules costs, cap, band, stops, breakers
     * @param strategy sources, ensemble, policies
     * @param initialEquity each book's starting cash, quote currency, {@code > 0}
     * @param forecasts where forecasts come from; {@code null} for {@link #sourcesOf}
     * @param listener observes capability calls; {@code null} for none
     */
    public SymbolEngine(
            String symbol,
            TradingRules rules,
            Strategy strategy,
            double initialEquity,
            Forecasts forecasts,
            EngineListener listener) {
        this.symbol = symbol;
        this.rules = rules;
        this.strategy = strategy;
        this.listener = listener == null ? EngineListener.NONE : listener;
        this.timed = listener != null && listener != EngineListener.NONE;
        this.ownForecasts = forecasts == null;
        this.forecasts =
                forecasts == null ? sourcesOf(strategy.sources(), this.listener) : forecasts;
        this.ensembleName = strategy.ensemble().descriptor().name();
        this.policies = strategy.policies().toArray(SizingCapability[]::new);
        this.books = new Book[policies.length];
        for (int p = 0; p < books.length; p++) {
            String name = policies[p].descriptor().name();
            books[p] =
                    new Book(
                            name,
                            new Account(initialEquity, rules.costs()),
                            rules.breakers() == null
                                    ? null
                                    : new CircuitBreakers(rules.breakers(), name));
        }
        resetCalibrations();
    }

    /**
     * A new sequence of scored outcomes starts: every policy that recalibrates online forgets what
     * it saw (another run, another series). One that cannot is flat for the engine's life.
     */
    private void resetCalibrations() {
        for (int p = 0; p < books.length; p++) {
            books[p].resetFailed = null;
            if (policies[p] instanceof OnlineCalibration c) {
                try {
                    c.reset();
                } catch (RuntimeException | LinkageError | StackOverflowError e) {
                    books[p].resetFailed =
                            "sizing '"
                                    + books[p].name
                                    + "' failed to reset its online calibration: "
                                    + e.getMessage()
                                    + " -> flat";
                }
            }
        }
    }

    /**
     * Forecasts from every source in turn; a source that throws or returns {@code null} is left out
     * of the bar and named in the failures.
     *
     * @param sources the sources
     * @param observer times each call; {@code null} for none
     * @return the forecast step
     */
    public static Forecasts sourcesOf(List<PredictionCapability> sources, EngineListener observer) {
        boolean timed = observer != null && observer != EngineListener.NONE;
        PredictionCapability[] list = List.copyOf(sources).toArray(PredictionCapability[]::new);
        String[] names = new String[list.length];
        for (int i = 0; i < names.length; i++) {
            names[i] = list[i].descriptor().name();
        }
        return (frame, failures) ->
                callSources(list, names, Map.of(), frame, failures, timed, observer);
    }

    /**
     * Asks each source in turn, except those in {@code recorded}: they are left out with the
     * recorded reason, without being called.
     */
    private static List<Forecast> callSources(
            PredictionCapability[] list,
            String[] names,
            Map<String, String> recorded,
            FeatureFrame frame,
            Map<String, String> failures,
            boolean timed,
            EngineListener listener) {
        if (list.length == 1 && recorded.isEmpty()) {
            // One source (the common case): no list to grow, an immutable one-element result.
            Forecast f = forecastOf(list[0], names[0], frame, failures, timed, listener);
            return f == null ? List.of() : List.of(f);
        }
        List<Forecast> out = new ArrayList<>(list.length);
        for (int i = 0; i < names.length; i++) {
            String failed = recorded.get(names[i]);
            if (failed != null) {
                failures.put(names[i], failed);
                continue;
            }
            Forecast f = forecastOf(list[i], names[i], frame, failures, timed, listener);
            if (f != null) {
                out.add(f);
            }
        }
        return out;
    }

    /** One source's forecast, or null (its failure put in {@code failures}); timed if asked. */
    private static Forecast forecastOf(
            PredictionCapability source,
            String name,
            FeatureFrame frame,
            Map<String, String> failures,
            boolean timed,
            EngineListener listener) {
        long t0 = timed ? System.nanoTime() : 0L;
        try {
            Forecast f = source.forecast(frame);
            if (f == null) {
                failures.put(name, "returned no forecast");
            }
            return f;
        } catch (RuntimeException | LinkageError | StackOverflowError e) {
            failures.put(name, String.valueOf(e.getMessage()));
            return null;
        } finally {
            if (timed) {
                listener.called("prediction", name, System.nanoTime() - t0);
            }
        }
    }

    /**
     * Steps one closed bar (see the class comment).
     *
     * @param bar the bar, after the previous one
     * @param frame the bar's features (chained to the previous bar's frame), or {@code null} while
     *     the features warm up: then the bar is filled and marked but not decided
     * @param payoffRatio the trailing payoff ratio at this bar's close, {@code > 0}
     * @return what was decided
     * @throws IllegalArgumentException if the bar is not after the previous one
     */
    public Step step(Bar bar, FeatureFrame frame, double payoffRatio) {
        long millis = bar.start().toEpochMilli();
        if (millis <= lastBarMillis) {
            throw new IllegalArgumentException(
                    symbol
                            + ": bar "
                            + bar.start()
                            + " is not after the last stepped bar "
                            + java.time.Instant.ofEpochMilli(lastBarMillis));
        }
        lastBarMillis = millis;
        CallFailures script = scripted;
        scripted = null;
        ensembleFailure = null;
        double open = bar.open();
        double close = bar.close();
        for (Book b : books) {
            b.atOpen(bar, millis, previousOpen, lastVolatility);
        }
        for (Book b : books) {
            b.observeFailed = null;
            b.account.mark(close, millis);
            if (b.breakers != null) {
                b.breakers.observeEquity(millis, b.account.equity());
            }
        }
        FusedSignal scored = lastSignal;
        lastSignal = null;
        if (scored != null) {
            observe(new ScoredOutcome(scored.barTime(), scored.probabilityUp(), close > lastClose));
        }
        previousOpen = open;
        lastClose = close;
        bars++;

        Map<String, String> failures = failuresOfBar;
        failures.clear();
        // The input gate judges the bar before anything is asked; the sources and the ensemble are
        // still asked (their forecast is scored in the backtest, kept vs abstained), the policies
        // are not.
        lastGate = gate == null || frame == null ? null : gate.check(frame);
        List<Forecast> list = List.of();
        FusedSignal signal = null;
        String noSignal;
        if (frame == null) {
            noSignal = "features warming up -> flat";
        } else {
            lastVolatility = volatility(frame);
            list =
                    script == null || script.sources().isEmpty()
                            ? forecasts.at(frame, failures)
                            : recordedSources(frame, failures, script.sources());
            if (list.isEmpty()) {
                noSignal = NO_FORECAST_REASON;
            } else if (script != null && script.ensemble() != null) {
                noSignal = script.ensemble();
                ensembleFailure = noSignal;
            } else {
                noSignal = null;
                EnsembleCapability ensemble = strategy.ensemble();
                long t0 = timed ? System.nanoTime() : 0L;
                try {
                    signal = ensemble.fuse(list, frame);
                    if (signal == null) {
                        noSignal = "ensemble '" + ensembleName + "' returned null -> flat";
                        ensembleFailure = noSignal;
                    }
                } catch (RuntimeException | LinkageError | StackOverflowError e) {
                    noSignal =
                            "ensemble '"
                                    + ensembleName
                                    + "' failed: "
                                    + e.getMessage()
                                    + " -> flat";
                    ensembleFailure = noSignal;
                } finally {
                    if (timed) {
                        listener.called("ensemble", ensembleName, System.nanoTime() - t0);
                    }
                }
            }
        }
        if (frame == null) {
            lastVolatility = Double.NaN;
        }
        lastSignal = signal;
        boolean expired = millis >= expiresAtMillis;
        if (expired) {
            expiredDecisions++;
        }
        String gated =
                !expired && lastGate != null && lastGate.abstain() ? lastGate.reason() : null;
        if (gated != null) {
            gateAbstentions++;
        }
        PolicyStep[] out = new PolicyStep[books.length];
        Map<String, String> policyFailures = null;
        // An abstention is flat, a reduction the halt allows; its reason still ends with the halt.
        String haltNote = halt == null ? "" : "; " + halt + " (reductions only)";
        for (int p = 0; p < books.length; p++) {
            if (expired) {
                out[p] = books[p].abstain(expiryReason + haltNote, close);
                continue;
            }
            if (gated != null) {
                out[p] = books[p].abstain(gated + haltNote, close);
                continue;
            }
            Book b = books[p];
            out[p] =
                    b.decide(
                            policies[p],
                            signal,
                            noSignal,
                            close,
                            lastVolatility,
                            payoffRatio,
                            script == null ? null : script.policies().get(b.name));
            if (b.callFailed != null) {
                if (policyFailures == null) {
                    policyFailures = new LinkedHashMap<>();
                }
                policyFailures.put(b.name, b.callFailed);
            }
        }
        // failuresOfBar is reused by the next bar: what outlives this one is a copy.
        Map<String, String> sourceFailures =
                failures.isEmpty() ? Map.of() : new LinkedHashMap<>(failures);
        lastFailures =
                sourceFailures.isEmpty() && ensembleFailure == null && policyFailures == null
                        ? CallFailures.NONE
                        : new CallFailures(
                                sourceFailures,
                                ensembleFailure,
                                policyFailures == null ? Map.of() : policyFailures);
        return new Step(
                bar.start(),
                list,
                sourceFailures,
                signal,
                noSignal,
                out.length == 1 ? List.of(out[0]) : List.of(out));
    }

    /**
     * Hands a realised outcome to every policy that recalibrates online; one that throws is not
     * asked to size this bar (flat, its reason names the failure), like a failed sizing call.
     */
    private void observe(ScoredOutcome outcome) {
        for (int p = 0; p < books.length; p++) {
            if (policies[p] instanceof OnlineCalibration c) {
                try {
                    c.observe(outcome);
                } catch (RuntimeException | LinkageError | StackOverflowError e) {
                    books[p].observeFailed =
                            "sizing '"
                                    + books[p].name
                                    + "' failed to observe the outcome of bar "
                                    + outcome.barTime()
                                    + ": "
                                    + e.getMessage()
                                    + " -> flat";
                }
            }
        }
    }

    private List<Forecast> recordedSources(
            FeatureFrame frame, Map<String, String> failures, Map<String, String> recorded) {
        if (!ownForecasts) {
            throw new IllegalStateException(
                    symbol + ": an engine with a caller's forecast source cannot replay failures");
        }
        PredictionCapability[] list = strategy.sources().toArray(PredictionCapability[]::new);
        String[] names = new String[list.length];
        for (int i = 0; i < names.length; i++) {
            names[i] = list[i].descriptor().name();
        }
        return callSources(list, names, recorded, frame, failures, timed, listener);
    }

    /**
     * The plugin calls of the last stepped bar that failed (what a live session stores with the
     * bar, see {@link CallFailures}).
     *
     * @return the failures, {@link CallFailures#NONE} when every call answered
     */
    public CallFailures lastFailures() {
        return lastFailures;
    }

    /**
     * Makes the next {@link #step} fail the calls {@code recorded} names, with the recorded
     * reasons, instead of calling them (a replay of a bar on which they failed live); the other
     * calls are made as usual.
     *
     * @param recorded the failures stored with the bar
     * @throws IllegalStateException if this engine was built with a caller's {@link Forecasts} and
     *     sources are named
     */
    public void replayFailures(CallFailures recorded) {
        if (!ownForecasts && !recorded.sources().isEmpty()) {
            throw new IllegalStateException(
                    symbol + ": an engine with a caller's forecast source cannot replay failures");
        }
        this.scripted = recorded;
    }

    private double volatility(FeatureFrame frame) {
        if (frame.schema() != schema) {
            schema = frame.schema();
            volatilityIndex = schema.names().indexOf(VOLATILITY_FEATURE);
        }
        if (volatilityIndex < 0) {
            return 0;
        }
        double v = frame.get(volatilityIndex);
        return Double.isFinite(v) ? Math.max(0, v) : 0;
    }

    /**
     * Replaces the strategy's components between two bars (a hot swap of a strategy bundle): the
     * books (accounts, breakers, stops, pending orders) and the feature state stay; the next bar is
     * decided by the new components only, so no decision mixes two strategies.
     *
     * @param next the new components, with the same policies in the same order
     * @throws IllegalArgumentException if the policies differ (the books belong to them)
     * @throws IllegalStateException if this engine was built with its own {@link Forecasts}
     */
    public void swapStrategy(Strategy next) {
        if (!next.policyNames().equals(strategy.policyNames())) {
            throw new IllegalArgumentException(
                    symbol
                            + ": the new strategy's policies "
                            + next.policyNames()
                            + " differ from the serving "
                            + strategy.policyNames()
                            + "; each book belongs to its policy, so this needs a new session");
        }
        if (!ownForecasts) {
            throw new IllegalStateException(
                    symbol + ": an engine with a caller's forecast source cannot swap strategies");
        }
        this.strategy = next;
        this.policies = next.policies().toArray(SizingCapability[]::new);
        resetCalibrations();
        this.forecasts = sourcesOf(next.sources(), listener);
        this.ensembleName = next.ensemble().descriptor().name();
        this.expiresAtMillis = Long.MAX_VALUE;
        this.expiryReason = null;
    }

    /**
     * Makes every policy abstain (decide flat, {@code reason}) on bars that start at or after
     * {@code millis}: a strategy past its maximum age. Deterministic in the bar's time, so a replay
     * of the same bars abstains on the same bars.
     *
     * @param millis the first bar start to abstain on, epoch ms
     * @param reason why, ending in what it means (e.g. {@code "... -> flat"})
     */
    public void expireAt(long millis, String reason) {
        this.expiresAtMillis = millis;
        this.expiryReason = reason;
    }

    /**
     * Sets the input gate every decision bar passes before its policies are asked (see {@link
     * InputGate}): a bar it fails abstains, every policy flat with the gate's reason. Kept across
     * {@link #swapStrategy}: the caller sets the new strategy's gate with it.
     *
     * @param gate the gate, or {@code null} for none
     */
    public void gate(InputGate gate) {
        this.gate = gate;
    }

    /**
     * The input gate.
     *
     * @return the gate, or {@code null} when none is set
     */
    public InputGate gate() {
        return gate;
    }

    /**
     * The gate's verdict on the last stepped bar.
     *
     * @return the verdict, or {@code null} when no gate is set or the bar was not decided (warm-up)
     */
    public GateVerdict lastGate() {
        return lastGate;
    }

    /**
     * Bars on which the policies abstained because the input gate refused the bar (an expired
     * strategy's bars count as expired only).
     *
     * @return count
     */
    public long gateAbstentions() {
        return gateAbstentions;
    }

    /**
     * Bars on which the policies abstained because the strategy had expired.
     *
     * @return count
     */
    public long expiredDecisions() {
        return expiredDecisions;
    }

    /**
     * Halts new risk from the next bar on (the operator's kill switch, {@link KillSwitch}): every
     * policy's decision may only keep or reduce its position, and an order decided before that
     * would buy at the next open is dropped. A second halt replaces the reason.
     *
     * @param reason who halted, when and why, one line (it ends every decision's reason)
     */
    public void halt(String reason) {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException(symbol + ": a halt needs a reason");
        }
        this.halt = reason;
    }

    /** Lifts the halt: the next bar's decisions may add risk again. */
    public void resume() {
        this.halt = null;
    }

    /**
     * The halt in force.
     *
     * @return its reason, or {@code null} when new risk is allowed
     */
    public String halted() {
        return halt;
    }

    /**
     * Marks a policy unavailable (its fit failed, its state could not be restored): it decides flat
     * with {@code reason} until {@link #makeAvailable}.
     *
     * @param policy the policy's index in the strategy
     * @param reason why, ending in what it means (e.g. {@code "... -> flat"})
     */
    public void makeUnavailable(int policy, String reason) {
        books[policy].unavailable = reason;
    }

    /**
     * Lets a policy decide again.
     *
     * @param policy the policy's index in the strategy
     */
    public void makeAvailable(int policy) {
        books[policy].unavailable = null;
    }

    /**
     * Applies an execution system's fill to a policy's book (external mode), then values the book
     * at {@code markPrice} ({@link Account#revalue}): equity, high-water mark and drawdown show the
     * fill at once instead of at the next bar's close. The breakers observe equity at bar opens and
     * closes only, as in the backtest, so the fill reaches them at the next bar's open. The book's
     * pending paper order, if any, is dropped: the execution system decides what fills.
     *
     * @param policy the policy's index
     * @param quantity signed units ({@code > 0} bought)
     * @param price fill price
     * @param fee fee, quote currency
     * @param millis fill time, epoch ms
     * @param markPrice the price to value the book at, the last close (warm-up bars included); NaN
     *     when there is none (then the fill price)
     * @throws IllegalArgumentException as {@link Account#fill}
     */
    public void fill(
            int policy, double quantity, double price, double fee, long millis, double markPrice) {
        Book b = books[policy];
        b.account.fill(quantity, price, fee, millis);
        b.paper = false;
        b.pending = Double.NaN;
        b.account.revalue(markPrice > 0 && Double.isFinite(markPrice) ? markPrice : price);
    }

    /**
     * The close of the last stepped bar.
     *
     * @return price, NaN before the first bar
     */
    public double lastClose() {
        return lastClose;
    }

    /**
     * Switches a book between paper mode (orders fill at the next open, stops simulated) and
     * external mode (only {@link #fill} changes the position).
     *
     * @param policy the policy's index
     * @param paper true for paper mode
     */
    public void paper(int policy, boolean paper) {
        books[policy].paper = paper;
        if (!paper) {
            books[policy].pending = Double.NaN;
        }
    }

    /**
     * Re-arms a policy's tripped breaker (see {@link CircuitBreakers#rearm}).
     *
     * @param policy the policy's index
     * @param breaker the breaker
     * @param millis when
     * @param reason why
     * @return true if it was tripped
     * @throws IllegalStateException if the engine has no breakers
     */
    public boolean rearm(int policy, CircuitBreakers.Breaker breaker, long millis, String reason) {
        CircuitBreakers b = books[policy].breakers;
        if (b == null) {
            throw new IllegalStateException(symbol + ": no circuit breakers are configured");
        }
        return b.rearm(breaker, millis, reason);
    }

    /**
     * A policy's book.
     *
     * @param policy the policy's index
     * @return its account (live view; do not mutate outside the engine)
     */
    public Account account(int policy) {
        return books[policy].account;
    }

    /**
     * A policy's breakers.
     *
     * @param policy the policy's index
     * @return the breakers, or {@code null} when none are configured
     */
    public CircuitBreakers breakers(int policy) {
        return books[policy].breakers;
    }

    /**
     * A policy's order for the next open.
     *
     * @param policy the policy's index
     * @return target fraction, NaN when none
     */
    public double pendingOrder(int policy) {
        return books[policy].pending;
    }

    /**
     * Host-side stop exits per policy so far.
     *
     * @return policy name to counts
     */
    public Map<String, StopExits> stopExits() {
        Map<String, StopExits> m = new LinkedHashMap<>();
        for (Book b : books) {
            m.put(b.name, new StopExits(b.exits[0], b.exits[1], b.exits[2]));
        }
        return m;
    }

    /**
     * How many breaker events {@link #breakerEvents()} would answer, without copying or sorting
     * them: a caller that only needs the new ones asks this on every bar.
     *
     * @return count of every book's breaker events
     */
    public int breakerEventCount() {
        int n = 0;
        for (Book b : books) {
            if (b.breakers != null) {
                n += b.breakers.eventCount();
            }
        }
        return n;
    }

    /**
     * Every breaker change so far, in time order.
     *
     * @return events
     */
    public List<BreakerEvent> breakerEvents() {
        List<BreakerEvent> all = new ArrayList<>();
        for (Book b : books) {
            if (b.breakers != null) {
                all.addAll(b.breakers.events());
            }
        }
        all.sort(Comparator.comparing(BreakerEvent::time));
        return List.copyOf(all);
    }

    /**
     * Bars stepped.
     *
     * @return count
     */
    public long barCount() {
        return bars;
    }

    /**
     * The rules.
     *
     * @return the trading rules
     */
    public TradingRules rules() {
        return rules;
    }

    /**
     * The strategy.
     *
     * @return the strategy
     */
    public Strategy strategy() {
        return strategy;
    }

    /** One policy's book: account, breakers, stops and the order for the next open. */
    private final class Book {
        final String name;
        final Account account;
        final CircuitBreakers breakers;
        final int[] exits = new int[3];
        boolean paper = true;
        String unavailable;
        double pending = Double.NaN;
        double proposedLast;
        double proposedBefore;
        double stopLevel = Double.NEGATIVE_INFINITY;
        double takeProfit = Double.POSITIVE_INFINITY;
        double trailDistance = Double.POSITIVE_INFINITY;
        double highest;
        String callFailed;

        /** Why this bar's outcome could not be observed (see {@link #observe}); null if it was. */
        String observeFailed;

        /** Why the policy's online calibration could not be reset; null if it was (or has none). */
        String resetFailed;

        final FailureProbe probe = new FailureProbe();

        /** Whether any host-side stop is configured (the rules are fixed for the engine's life). */
        final boolean stopsOn = rules.stops().any();

        Book(String name, Account account, CircuitBreakers breakers) {
            this.name = name;
            this.account = account;
            this.breakers = breakers;
        }

        void atOpen(Bar bar, long millis, double previousOpen, double decisionVolatility) {
            double open = bar.open();
            if (breakers != null) {
                breakers.observeEquity(millis, account.value(open));
                if (proposedBefore > 0) {
                    breakers.observeDecision(millis, open > previousOpen);
                }
            }
            proposedBefore = proposedLast;
            proposedLast = 0;
            if (!paper) {
                return;
            }
            if (!Double.isNaN(pending)
                    && halt != null
                    && KillSwitch.adds(pending, account.units(), account.value(open), open)) {
                // Decided before the halt: it would add risk now, so it is not filled.
                pending = Double.NaN;
            }
            if (!Double.isNaN(pending)) {
                boolean wasFlat = account.flat();
                account.rebalance(pending, open, millis);
                pending = Double.NaN;
                if (wasFlat && !account.flat()) {
                    entered(open, decisionVolatility);
                }
            }
            stops(bar, millis);
        }

        void entered(double price, double atrPctOfDecisionBar) {
            Stops s = rules.stops();
            double atr =
                    Double.isFinite(atrPctOfDecisionBar)
                            ? Math.max(0, atrPctOfDecisionBar) * price
                            : 0;
            boolean on = atr > 0;
            stopLevel =
                    on && s.stopLossAtr() > 0
                            ? price - s.stopLossAtr() * atr
                            : Double.NEGATIVE_INFINITY;
            takeProfit =
                    on && s.takeProfitAtr() > 0
                            ? price + s.takeProfitAtr() * atr
                            : Double.POSITIVE_INFINITY;
            trailDistance =
                    on && s.trailingAtr() > 0 ? s.trailingAtr() * atr : Double.POSITIVE_INFINITY;
            highest = price;
        }

        void stops(Bar bar, long millis) {
            if (!stopsOn || account.flat()) {
                return;
            }
            double trail = highest - trailDistance;
            boolean trailing = trail > stopLevel;
            double stop = Math.max(stopLevel, trail);
            double open = bar.open();
            double exit = Double.NaN;
            int kind = -1;
            if (open <= stop) {
                exit = open;
                kind = trailing ? 2 : 0;
            } else if (bar.low() <= stop) {
                exit = stop;
                kind = trailing ? 2 : 0;
            } else if (open >= takeProfit) {
                exit = open;
                kind = 1;
            } else if (bar.high() >= takeProfit) {
                exit = takeProfit;
                kind = 1;
            }
            if (kind >= 0) {
                account.rebalance(0, exit, millis);
                exits[kind]++;
            } else {
                highest = Math.max(highest, bar.high());
            }
        }

        PolicyStep abstain(String reason, double close) {
            double weight = account.weight(close);
            GuardedDecision d = new GuardedDecision(0, reason, true);
            boolean ordered = !account.flat();
            if (ordered && paper) {
                pending = 0;
            }
            return new PolicyStep(
                    name, null, 0, d, ordered, account.equity(), account.drawdown(), weight);
        }

        PolicyStep decide(
                SizingCapability policy,
                FusedSignal signal,
                String noSignal,
                double close,
                double volatility,
                double payoff,
                String recordedFailure) {
            callFailed = null;
            SizingContext ctx = null;
            double proposed = 0;
            GuardedDecision d;
            double weight = account.weight(close);
            if (signal == null) {
                d = new GuardedDecision(0, noSignal, false);
            } else if (unavailable != null) {
                d = new GuardedDecision(0, unavailable, false);
            } else {
                ctx =
                        new SizingContext(
                                signal,
                                account.equity(),
                                Math.min(account.drawdown(), Math.nextDown(1.0)),
                                rules.maxFraction(),
                                Double.isFinite(volatility) ? volatility : 0,
                                payoff);
                if (recordedFailure != null) {
                    d = new GuardedDecision(0.0, recordedFailure, true);
                    callFailed = recordedFailure;
                } else if (resetFailed != null || observeFailed != null) {
                    String why = resetFailed != null ? resetFailed : observeFailed;
                    d = new GuardedDecision(0.0, why, true);
                    callFailed = why;
                } else {
                    probe.inner = policy;
                    probe.failed = false;
                    long t0 = timed ? System.nanoTime() : 0L;
                    d = guard.decide(probe, ctx);
                    if (timed) {
                        listener.called("sizing", name, System.nanoTime() - t0);
                    }
                    probe.inner = null;
                    if (probe.failed) {
                        callFailed = d.reason();
                    }
                }
                proposed = d.fraction();
                proposedLast = proposed;
                if (breakers != null) {
                    d = breakers.apply(d, weight);
                }
            }
            if (halt != null) {
                d = KillSwitch.limit(d, weight, halt);
            }
            double target = d.fraction();
            boolean flat = account.flat();
            boolean trade =
                    (target == 0 && !flat)
                            || (target > 0 && flat)
                            || Math.abs(target - weight) >= rules.rebalanceBand();
            boolean ordered = trade && !(target == 0 && flat);
            if (ordered && paper) {
                pending = target;
            }
            return new PolicyStep(
                    name, ctx, proposed, d, ordered, account.equity(), account.drawdown(), weight);
        }
    }

    /**
     * Tells the guard's call of a policy that failed (threw or answered nothing) from one that
     * answered: the guard turns both into a flat decision, the session records only failures.
     */
    private static final class FailureProbe implements SizingCapability {
        SizingCapability inner;
        boolean failed;

        @Override
        public dev.quiver.api.CapabilityDescriptor descriptor() {
            return inner.descriptor();
        }

        @Override
        public dev.quiver.api.sizing.SizingDecision size(SizingContext context) {
            try {
                dev.quiver.api.sizing.SizingDecision d = inner.size(context);
                if (d == null) {
                    failed = true;
                }
                return d;
            } catch (RuntimeException | LinkageError | StackOverflowError e) {
                failed = true;
                throw e;
            }
        }
    }
}
