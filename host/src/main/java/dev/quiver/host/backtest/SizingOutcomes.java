package dev.quiver.host.backtest;

import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingOutcome;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.risk.CircuitBreakers;
import dev.quiver.engine.trading.Stops;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * The sizing outcomes a learning policy is fitted on before each fold of the walk-forward run.
 *
 * <p>The decision at test bar {@code t} (its {@link SizingContext}, as the policy saw it) earned
 * {@code open[t + 2] / open[t + 1] - 1} (filled at the next open, held one bar), known at bar
 * {@code t + 2}. Before a fold whose test starts at {@code F}, a policy is fitted on the outcomes
 * with {@code t + 2 <= F - embargoBars}, which the run checks.
 */
final class SizingOutcomes {

    private final WalkForwardBacktest.Config config;
    private final String[] names;
    private final SizingContext[][] contexts;
    private final List<List<SizingOutcome>> outcomes = new ArrayList<>();
    private final int[] nextOutcomeBar;
    private int testFirst = -1;

    SizingOutcomes(WalkForwardBacktest.Config config, String[] names, int testCount) {
        this.config = config;
        this.names = names;
        int n = names.length;
        this.contexts = new SizingContext[n][testCount];
        this.nextOutcomeBar = new int[n];
        for (int p = 0; p < n; p++) {
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

    void saw(int p, int k, SizingContext ctx) {
        contexts[p][k] = ctx;
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
                "circuit breakers per policy: drawdown > %.0f%% (re-arm %s), daily loss > %.0f%%,"
                        + " hit rate < %.0f%% over %d closed decisions",
                100 * c.maxDrawdown(),
                c.drawdownRearm().name().toLowerCase(Locale.ROOT),
                100 * c.dailyLoss(),
                100 * c.minHitRate(),
                c.hitRateWindow());
    }
}
