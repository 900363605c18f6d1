package dev.quiver.host.backtest;

import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingOutcome;
import dev.quiver.host.data.BarData;
import dev.quiver.host.risk.BreakerEvent;
import dev.quiver.host.risk.CircuitBreakers;
import dev.quiver.host.risk.GuardedDecision;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The walk-forward run's per-policy risk state, kept out of the engine's loop: circuit breakers fed
 * with each account's equity and closed decisions, host-side ATR stops, and the sizing outcomes a
 * learning policy is fitted on before each fold.
 *
 * <p>Sizing outcomes: the decision at test bar {@code t} (its {@link SizingContext}, as the policy
 * saw it) earned {@code open[t + 2] / open[t + 1] - 1} (filled at the next open, held one bar),
 * known at bar {@code t + 2}. Before a fold whose test starts at {@code F}, a policy is fitted on
 * the outcomes with {@code t + 2 <= F - embargoBars}, which the run checks.
 *
 * <p>Closed decisions for the hit-rate breaker are the same: a long proposal (the guarded fraction
 * before the breakers, {@code > 0}) at bar {@code t} wins if {@code open[t + 2] > open[t + 1]},
 * scored at bar {@code t + 2}'s open, whether or not the breakers let it trade.
 */
final class Risk {

    private final WalkForwardBacktest.Config config;
    private final String[] names;
    private final CircuitBreakers[] breakers;
    private final SizingContext[][] contexts;
    private final double[][] proposals;
    private final List<List<SizingOutcome>> outcomes = new ArrayList<>();
    private final int[] nextOutcomeBar;
    private final double[] stopLevel;
    private final double[] takeProfit;
    private final double[] trailDistance;
    private final double[] highest;
    private final int[][] exits;
    private int testFirst = -1;

    Risk(WalkForwardBacktest.Config config, String[] names, int testCount) {
        this.config = config;
        this.names = names;
        int n = names.length;
        this.breakers = new CircuitBreakers[n];
        this.contexts = new SizingContext[n][testCount];
        this.proposals = new double[n][testCount];
        this.nextOutcomeBar = new int[n];
        this.stopLevel = new double[n];
        this.takeProfit = new double[n];
        this.trailDistance = new double[n];
        this.highest = new double[n];
        this.exits = new int[n][3];
        for (int p = 0; p < n; p++) {
            if (config.breakers() != null) {
                breakers[p] = new CircuitBreakers(config.breakers(), names[p]);
            }
            outcomes.add(new ArrayList<>());
        }
    }

    /**
     * Fits every policy on the outcomes known before the fold's test start minus the embargo.
     *
     * @return per policy, {@code null} or the reason the fold is sized flat (fit failed)
     */
    String[] fit(List<SizingCapability> policies, Fold fold, int firstTestBar, BarData bars) {
        if (testFirst < 0) {
            testFirst = firstTestBar;
        }
        int knownBy = fold.testFirst() - config.embargoBars();
        String[] failed = new String[policies.size()];
        for (int p = 0; p < policies.size(); p++) {
            List<SizingOutcome> rows = outcomes.get(p);
            int t = Math.max(nextOutcomeBar[p], testFirst);
            for (; t + 2 <= knownBy && t - testFirst < contexts[p].length; t++) {
                SizingContext ctx = contexts[p][t - testFirst];
                if (ctx != null) {
                    rows.add(new SizingOutcome(ctx, bars.open[t + 2] / bars.open[t + 1] - 1));
                }
            }
            nextOutcomeBar[p] = t;
            try {
                policies.get(p).fit(Collections.unmodifiableList(new ArrayList<>(rows)));
            } catch (RuntimeException | LinkageError e) {
                failed[p] =
                        "fit of policy '"
                                + names[p]
                                + "' failed before fold "
                                + fold.index()
                                + " ("
                                + e.getClass().getSimpleName()
                                + ": "
                                + e.getMessage()
                                + ") -> flat for the fold";
            }
        }
        return failed;
    }

    /** Bar {@code t}'s open: equity seen by the breakers, decision of bar {@code t - 2} scored. */
    void observeOpen(int p, Account a, BarData bars, int t) {
        CircuitBreakers b = breakers[p];
        if (b == null) {
            return;
        }
        b.observeEquity(bars.startMillis[t], a.value(bars.open[t]));
        int k = t - testFirst;
        if (k >= 2 && proposals[p][k - 2] > 0) {
            b.observeDecision(bars.startMillis[t], bars.open[t] > bars.open[t - 1]);
        }
    }

    /** Bar {@code t}'s close, test bar {@code k}: equity seen by the breakers. */
    void observeClose(int p, Account a, BarData bars, int t, int k) {
        if (breakers[p] != null) {
            breakers[p].observeEquity(bars.startMillis[t], a.equity(k));
        }
    }

    /** A position opened from flat at {@code price}; the ATR of the decision bar sets the stops. */
    void entered(int p, double price, double atrPctOfDecisionBar) {
        Stops s = config.stops();
        double atr =
                Double.isFinite(atrPctOfDecisionBar) ? Math.max(0, atrPctOfDecisionBar) * price : 0;
        boolean on = atr > 0;
        stopLevel[p] =
                on && s.stopLossAtr() > 0
                        ? price - s.stopLossAtr() * atr
                        : Double.NEGATIVE_INFINITY;
        takeProfit[p] =
                on && s.takeProfitAtr() > 0
                        ? price + s.takeProfitAtr() * atr
                        : Double.POSITIVE_INFINITY;
        trailDistance[p] =
                on && s.trailingAtr() > 0 ? s.trailingAtr() * atr : Double.POSITIVE_INFINITY;
        highest[p] = price;
    }

    /** Enforces the stops inside bar {@code t} on an open position. */
    void stops(int p, Account a, BarData bars, int t) {
        if (a.flat() || !config.stops().any()) {
            return;
        }
        double trail = highest[p] - trailDistance[p];
        boolean trailing = trail > stopLevel[p];
        double stop = Math.max(stopLevel[p], trail);
        double open = bars.open[t];
        double exit = Double.NaN;
        int kind = -1;
        if (open <= stop) {
            exit = open;
            kind = trailing ? 2 : 0;
        } else if (bars.low[t] <= stop) {
            exit = stop;
            kind = trailing ? 2 : 0;
        } else if (open >= takeProfit[p]) {
            exit = open;
            kind = 1;
        } else if (bars.high[t] >= takeProfit[p]) {
            exit = takeProfit[p];
            kind = 1;
        }
        if (kind >= 0) {
            a.fill(0, exit, bars.startMillis[t]);
            exits[p][kind]++;
        } else {
            highest[p] = Math.max(highest[p], bars.high[t]);
        }
    }

    void saw(int p, int k, SizingContext ctx) {
        contexts[p][k] = ctx;
    }

    void proposed(int p, int k, double fraction) {
        proposals[p][k] = fraction;
    }

    GuardedDecision halt(int p, GuardedDecision d, double weight) {
        return breakers[p] == null ? d : breakers[p].apply(d, weight);
    }

    List<BreakerEvent> events() {
        List<BreakerEvent> all = new ArrayList<>();
        for (CircuitBreakers b : breakers) {
            if (b != null) {
                all.addAll(b.events());
            }
        }
        all.sort(Comparator.comparing(BreakerEvent::time));
        return List.copyOf(all);
    }

    Map<String, StopExits> stopExits() {
        Map<String, StopExits> m = new LinkedHashMap<>();
        for (int p = 0; p < names.length; p++) {
            m.put(names[p], new StopExits(exits[p][0], exits[p][1], exits[p][2]));
        }
        return m;
    }

    static String describe(Stops s) {
        if (!s.any()) {
            return "no host stops";
        }
        return String.format(
                Locale.ROOT,
                "host stops at entry: stop-loss %.1f ATR, take-profit %.1f ATR, trailing %.1f ATR"
                        + " (0 = off)",
                s.stopLossAtr(),
                s.takeProfitAtr(),
                s.trailingAtr());
    }

    static String describe(CircuitBreakers.Config c) {
        if (c == null) {
            return "no circuit breakers";
        }
        return String.format(
                Locale.ROOT,
                "circuit breakers per policy: drawdown > %.0f%%, daily loss > %.0f%%, hit rate < %.0f%%"
                        + " over %d closed decisions",
                100 * c.maxDrawdown(),
                100 * c.dailyLoss(),
                100 * c.minHitRate(),
                c.hitRateWindow());
    }
}
