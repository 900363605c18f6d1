package dev.quiver.host.backtest;

import dev.quiver.api.sizing.PortfolioSizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.engine.PolicyStep;
import dev.quiver.engine.Step;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.portfolio.PointInTime;
import dev.quiver.engine.portfolio.PortfolioBook;
import dev.quiver.engine.portfolio.PortfolioLimits;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One account across several symbols (docs/portfolio.md): the series stepped together in time
 * order, each symbol's forecasts and sizing context taken from its own walk-forward (the fold
 * forecasts of {@link WalkForwardBacktest}, read through {@link
 * WalkForwardBacktest#withStepListener}: nothing is refitted here), the open set sized jointly by a
 * {@link PortfolioSizingCapability} on a rolling, point-in-time, Ledoit-Wolf-shrunk covariance of
 * daily returns, then limited by {@link dev.quiver.engine.portfolio.PortfolioGuard}. The account
 * and the joint decision are {@link PortfolioBook}'s, the stepper live portfolio accounts drive
 * too.
 *
 * <p>Time: every bar has an open event (at its start) and a close event (at start + period); events
 * run in time order, closes before opens at the same instant. At a close the account is marked, the
 * account breakers observe it and the whole open set is re-sized; each symbol's new target fills at
 * that symbol's next open with the walk-forward's cost model (a stock's target decided on a
 * Saturday BTC bar waits for Monday's open). Covariance and every other series are read through
 * {@link PointInTime#CLOSED_BY}: a decision at {@code t} sees only bars closed by {@code t}.
 *
 * <p>The account breakers of the walk-forward's configuration act on the whole account: maximum
 * drawdown flattens (re-armed by an operator only, so never in a backtest, or after the cooldown
 * with a fresh peak when so configured); daily loss flattens until the next UTC day. The hit-rate
 * breaker is per symbol and not applied to the portfolio.
 */
public final class PortfolioBacktest {

    /** Curve names in the result. */
    public static final String PORTFOLIO = "portfolio";

    /** Each symbol's single-symbol run on 1/N of the capital, summed. */
    public static final String SUM_OF_SINGLES = "sum_of_single_runs";

    /** 1/N of the capital in each symbol at its first test bar, held. */
    public static final String EQUAL_WEIGHT_HOLD = "equal_weight_buy_and_hold";

    private static final long DAY = 86_400_000L;

    /**
     * One symbol's walk-forward: its bars, its single-symbol result and per test bar the sizing
     * context its single-symbol policy was asked with (null where there was no signal).
     *
     * @param bars the series
     * @param single the single-symbol walk-forward result
     * @param contexts per test bar, in order, the context or null
     */
    public record SymbolRun(BarData bars, BacktestResult single, SizingContext[] contexts) {}

    /**
     * Collects a walk-forward's per-bar sizing contexts of one policy.
     *
     * @param policy the single-symbol policy whose contexts are kept, e.g. {@code kelly}
     * @param into where the contexts go, one per step (null without a signal)
     * @return the listener for {@link WalkForwardBacktest#withStepListener}
     */
    public static Consumer<Step> collecting(String policy, List<SizingContext> into) {
        return step -> {
            SizingContext found = null;
            for (PolicyStep ps : step.policies()) {
                if (ps.policy().equals(policy)) {
                    found = ps.context();
                }
            }
            into.add(found);
        };
    }

    /**
     * Settings of the portfolio pass.
     *
     * @param limits the account's caps
     * @param covarianceDays rolling window of daily returns for the covariance, {@code >= 20}
     * @param singlePolicy the single-symbol policy the comparison "sum of single runs" uses
     */
    public record Settings(PortfolioLimits limits, int covarianceDays, String singlePolicy) {

        /**
         * Validates.
         *
         * @throws IllegalArgumentException if the window is below 20 days
         */
        public Settings {
            if (covarianceDays < 20) {
                throw new IllegalArgumentException(
                        "covariance window " + covarianceDays + " days: at least 20");
            }
        }
    }

    /**
     * Per-symbol figures.
     *
     * @param symbol the symbol
     * @param contribution P&amp;L (after its costs) over the initial equity
     * @param meanWeight mean weight at the daily marks, fraction of equity
     * @param tradedNotional sum of |traded notional|, quote currency
     * @param costs fees and slippage, quote currency
     */
    public record SymbolFigures(
            String symbol,
            double contribution,
            double meanWeight,
            double tradedNotional,
            double costs) {}

    /**
     * The last decision's provenance.
     *
     * @param time decision time, epoch ms
     * @param symbols the open set
     * @param covariance the covariance used, per day
     * @param proposed the policy's allocation (before the host's caps)
     * @param allocation after the caps and breakers
     * @param notes what the guard changed
     */
    public record Decision(
            long time,
            List<String> symbols,
            double[][] covariance,
            double[] proposed,
            double[] allocation,
            List<String> notes) {}

    /**
     * The result.
     *
     * @param policy the portfolio policy's name
     * @param symbols the symbols
     * @param dayMillis the daily marks (UTC midnights), epoch ms
     * @param curves equity at each mark: portfolio, sum of single runs, equal-weight buy-and-hold
     * @param metrics per curve
     * @param intervals per curve, 95% stationary-bootstrap intervals of CAGR, Sharpe, Sortino and
     *     max drawdown
     * @param perSymbol per symbol
     * @param meanGrossExposure mean of the gross weight at the daily marks
     * @param turnover annualised, traded notional over mean equity per year
     * @param decisions joint sizing decisions made
     * @param guardChanges decisions where the host's guard changed the policy's allocation
     * @param breakerTrips account breaker trips
     * @param breakerEvents each trip and re-arm, time first, in time order
     * @param lastDecision provenance of the last decision among those with the largest open set
     *     (the most symbols sized together), or null
     * @param method how it was done, one paragraph
     */
    public record Result(
            String policy,
            List<String> symbols,
            long[] dayMillis,
            Map<String, double[]> curves,
            Map<String, PerformanceMetrics> metrics,
            Map<String, Bootstrap.Intervals> intervals,
            List<SymbolFigures> perSymbol,
            double meanGrossExposure,
            double turnover,
            int decisions,
            int guardChanges,
            int breakerTrips,
            List<String> breakerEvents,
            Decision lastDecision,
            String method) {}

    private final WalkForwardBacktest.Config config;
    private final Settings settings;

    /**
     * @param config the walk-forward configuration (costs, initial equity, rebalance band, payoff
     *     window, breakers)
     * @param settings the portfolio settings
     */
    public PortfolioBacktest(WalkForwardBacktest.Config config, Settings settings) {
        this.config = config;
        this.settings = settings;
    }

    /**
     * Runs the portfolio pass.
     *
     * @param runs the symbols' walk-forwards, at least two, distinct symbols
     * @param policy the portfolio sizing policy
     * @param progress told every 2,000 events
     * @return the result
     * @throws IllegalArgumentException if fewer than two symbols are given, a symbol repeats, or
     *     the runs' contexts do not match their test bars
     */
    public Result run(List<SymbolRun> runs, PortfolioSizingCapability policy, Progress progress) {
        int m = runs.size();
        if (m < 2) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] a portfolio needs at least two series, got " + m);
        }
        BarData[] bars = new BarData[m];
        int[] testFirst = new int[m];
        String[] names = new String[m];
        double[][] meanGain = new double[m][];
        for (int j = 0; j < m; j++) {
            SymbolRun r = runs.get(j);
            bars[j] = r.bars();
            names[j] = r.bars().symbol();
            testFirst[j] = Arrays.binarySearch(bars[j].startMillis, r.single().testTimes()[0]);
            int tests = bars[j].size() - testFirst[j];
            if (testFirst[j] < 0 || r.contexts().length != tests) {
                throw new IllegalArgumentException(
                        names[j]
                                + ": "
                                + r.contexts().length
                                + " contexts for "
                                + tests
                                + " test bars");
            }
            meanGain[j] = trailingMeanGain(bars[j], config.payoffWindowBars());
        }
        if (Arrays.stream(names).distinct().count() != m) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] a series appears twice: " + Arrays.toString(names));
        }
        long[][] events = events(bars, testFirst);

        double initial = config.initialEquity();
        PortfolioBook book =
                new PortfolioBook(
                        new PortfolioBook.Settings(
                                initial,
                                config.costs(),
                                config.breakers(),
                                settings.limits(),
                                settings.covarianceDays(),
                                config.rebalanceBand()),
                        policy);
        for (int j = 0; j < m; j++) {
            book.join(names[j], bars[j].period());
        }

        long firstMark = (events[0][0] / DAY + 1) * DAY;
        List<Long> marks = new ArrayList<>();
        List<Double> markEquity = new ArrayList<>();
        List<double[]> markWeights = new ArrayList<>();
        long nextMark = firstMark;

        Decision last = null;

        for (int e = 0; e < events.length; e++) {
            long time = events[e][0];
            int type = (int) events[e][1];
            int j = (int) events[e][2];
            int t = (int) events[e][3];
            while (time >= nextMark) {
                marks.add(nextMark);
                markEquity.add(book.equity());
                double[] w = new double[m];
                for (int i = 0; i < m; i++) {
                    w[i] = book.weight(i);
                }
                markWeights.add(w);
                nextMark += DAY;
            }
            if (type == 1) { // open of bar t: move the price, fill the pending target
                book.open(j, bars[j].open[t]);
            } else { // close of bar t: mark, breakers, the joint decision
                PortfolioBook.Decision d =
                        book.close(
                                j,
                                time,
                                bars[j].close[t],
                                runs.get(j).contexts()[t - testFirst[j]],
                                meanGain[j][t],
                                t == bars[j].size() - 1,
                                i -> bars[i]);
                if (d != null && (last == null || d.symbols().size() >= last.symbols().size())) {
                    last =
                            new Decision(
                                    time,
                                    d.symbols(),
                                    d.sized(),
                                    d.proposed(),
                                    d.allocation(),
                                    d.notes());
                }
            }
            if (progress != null && ((e + 1) % 2_000 == 0 || e == events.length - 1)) {
                int chunks = (events.length + 1_999) / 2_000;
                progress.update("portfolio", (e + 1 + 1_999) / 2_000, chunks, e + 1, events.length);
            }
        }
        PortfolioBook.State state = book.snapshot();
        double[] pnl = state.pnl();
        double[] traded = state.traded();
        double[] costs = state.costs();
        double finalEquity = book.equity();
        marks.add(nextMark);
        markEquity.add(finalEquity);
        markWeights.add(new double[m]);

        long[] dayMillis = marks.stream().mapToLong(Long::longValue).toArray();
        double[] portfolio = markEquity.stream().mapToDouble(Double::doubleValue).toArray();
        double[] sum = new double[dayMillis.length];
        double[] hold = new double[dayMillis.length];
        for (int j = 0; j < m; j++) {
            BacktestResult single = runs.get(j).single();
            PolicyResult own = single.policies().get(settings.singlePolicy());
            if (own == null) {
                throw new IllegalArgumentException(
                        "[Quiver/BAD_OPTION] no single-symbol policy '"
                                + settings.singlePolicy()
                                + "' in the run of "
                                + names[j]
                                + " (policies: "
                                + single.policies().keySet()
                                + ")");
            }
            addAligned(sum, dayMillis, bars[j], single.testTimes(), own.equity(), initial, m);
            addAligned(
                    hold,
                    dayMillis,
                    bars[j],
                    single.testTimes(),
                    single.buyAndHold().equity(),
                    initial,
                    m);
        }
        Map<String, double[]> curves = new LinkedHashMap<>();
        curves.put(PORTFOLIO, portfolio);
        curves.put(SUM_OF_SINGLES, sum);
        curves.put(EQUAL_WEIGHT_HOLD, hold);

        double tradedTotal = Arrays.stream(traded).sum();
        double costTotal = Arrays.stream(costs).sum();
        int withPosition = 0;
        double grossSum = 0;
        double[] weightSum = new double[m];
        for (double[] w : markWeights) {
            double g = 0;
            for (int i = 0; i < m; i++) {
                g += Math.abs(w[i]);
                weightSum[i] += w[i];
            }
            grossSum += g;
            if (g > 0) {
                withPosition++;
            }
        }
        Map<String, PerformanceMetrics> metrics = new LinkedHashMap<>();
        metrics.put(
                PORTFOLIO,
                PerformanceMetrics.of(
                        dayMillis, portfolio, List.of(), tradedTotal, withPosition, costTotal));
        metrics.put(SUM_OF_SINGLES, PerformanceMetrics.of(dayMillis, sum, List.of(), 0, 0, 0));
        metrics.put(EQUAL_WEIGHT_HOLD, PerformanceMetrics.of(dayMillis, hold, List.of(), 0, 0, 0));
        Map<String, Bootstrap.Intervals> intervals =
                dayMillis.length >= 3
                        ? Bootstrap.intervals(
                                curves,
                                SUM_OF_SINGLES,
                                metrics.get(PORTFOLIO).barsPerYear(),
                                Bootstrap.RESAMPLES,
                                Bootstrap.SEED,
                                Runtime.getRuntime().availableProcessors())
                        : Map.of();
        List<SymbolFigures> perSymbol = new ArrayList<>();
        for (int j = 0; j < m; j++) {
            perSymbol.add(
                    new SymbolFigures(
                            names[j],
                            pnl[j] / initial,
                            weightSum[j] / markWeights.size(),
                            traded[j],
                            costs[j]));
        }
        return new Result(
                policy.descriptor().name(),
                List.of(names),
                dayMillis,
                curves,
                metrics,
                intervals,
                perSymbol,
                grossSum / markWeights.size(),
                metrics.get(PORTFOLIO).turnover(),
                state.decisions(),
                state.guardChanges(),
                state.trips(),
                state.breakerEvents(),
                last,
                "one account over "
                        + String.join(", ", names)
                        + ": each symbol's out-of-sample fold forecasts and sizing contexts from its"
                        + " own walk-forward; at every bar close the open set is sized jointly by '"
                        + policy.descriptor().name()
                        + "' on a "
                        + settings.covarianceDays()
                        + "-day Ledoit-Wolf covariance of daily log returns (bars visible only once"
                        + " closed), then the host's portfolio guard ("
                        + settings.limits()
                        + "); targets fill at each symbol's next open with costs; equity marked"
                        + " at UTC midnights. Compared with each symbol's single-symbol '"
                        + settings.singlePolicy()
                        + "' run on 1/N of the capital, summed, and 1/N bought and held from each"
                        + " symbol's first test bar.");
    }

    /** Open (1) and close (0) events of every test bar, sorted by time, closes first. */
    private static long[][] events(BarData[] bars, int[] testFirst) {
        List<long[]> out = new ArrayList<>();
        for (int j = 0; j < bars.length; j++) {
            for (int t = testFirst[j]; t < bars[j].size(); t++) {
                if (t > testFirst[j]) {
                    out.add(new long[] {bars[j].startMillis[t], 1, j, t});
                }
                out.add(new long[] {PointInTime.closeMillis(bars[j], t), 0, j, t});
            }
        }
        out.sort(
                (a, b) -> {
                    int c = Long.compare(a[0], b[0]);
                    if (c != 0) {
                        return c;
                    }
                    c = Long.compare(a[1], b[1]);
                    return c != 0 ? c : Long.compare(a[2], b[2]);
                });
        return out.toArray(long[][]::new);
    }

    /**
     * Trailing mean of the positive one-bar simple returns over {@code window} bars through bar t
     * (point-in-time); 0 where there is none.
     */
    static double[] trailingMeanGain(BarData bars, int window) {
        return PortfolioBook.trailingMeanGain(bars.close, window);
    }

    /**
     * Adds {@code equity / m} of a single-symbol curve at each mark: its value at the last test bar
     * closed by the mark, the initial equity before its first.
     */
    private static void addAligned(
            double[] into,
            long[] marks,
            BarData bars,
            long[] testTimes,
            double[] equity,
            double initial,
            int m) {
        long period = bars.period().toMillis();
        int k = -1;
        for (int d = 0; d < marks.length; d++) {
            while (k + 1 < testTimes.length && testTimes[k + 1] + period <= marks[d]) {
                k++;
            }
            into[d] += (k < 0 ? initial : equity[k]) / m;
        }
    }
}
