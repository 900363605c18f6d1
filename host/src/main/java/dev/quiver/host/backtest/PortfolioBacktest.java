package dev.quiver.host.backtest;

import dev.quiver.api.sizing.PortfolioMember;
import dev.quiver.api.sizing.PortfolioSizingCapability;
import dev.quiver.api.sizing.PortfolioSizingContext;
import dev.quiver.api.sizing.PortfolioSizingDecision;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.engine.PolicyStep;
import dev.quiver.engine.Step;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.portfolio.BreakerState;
import dev.quiver.engine.portfolio.LedoitWolf;
import dev.quiver.engine.portfolio.PointInTime;
import dev.quiver.engine.portfolio.PortfolioGuard;
import dev.quiver.engine.portfolio.PortfolioLimits;
import dev.quiver.engine.risk.CircuitBreakers;
import java.time.Instant;
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
 * daily returns, then limited by {@link PortfolioGuard}.
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
     * @param intervals per curve, 95% stationary-bootstrap intervals of Sharpe and max drawdown
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
        double cash = initial;
        double[] units = new double[m];
        double[] price = new double[m];
        Arrays.fill(price, Double.NaN);
        double[] pending = new double[m];
        Arrays.fill(pending, Double.NaN);
        double[] pnl = new double[m];
        double[] traded = new double[m];
        double[] costs = new double[m];
        SizingContext[] latest = new SizingContext[m];
        int[] latestBar = new int[m];
        boolean[] done = new boolean[m];

        CircuitBreakers.Config breakers = config.breakers();
        double peak = initial;
        boolean ddTripped = false;
        long ddTrippedAt = 0;
        long lossDay = Long.MIN_VALUE;
        double dayStartEquity = initial;
        boolean dailyTripped = false;
        int trips = 0;
        List<String> breakerEvents = new ArrayList<>();

        long covDay = Long.MIN_VALUE;
        int[] covIndex = new int[0];
        double[][] cov = new double[0][0];

        long firstMark = (events[0][0] / DAY + 1) * DAY;
        List<Long> marks = new ArrayList<>();
        List<Double> markEquity = new ArrayList<>();
        List<double[]> markWeights = new ArrayList<>();
        long nextMark = firstMark;

        int decisions = 0;
        int guardChanges = 0;
        Decision last = null;

        for (int e = 0; e < events.length; e++) {
            long time = events[e][0];
            int type = (int) events[e][1];
            int j = (int) events[e][2];
            int t = (int) events[e][3];
            while (time >= nextMark) {
                double eq = equity(cash, units, price);
                marks.add(nextMark);
                markEquity.add(eq);
                double[] w = new double[m];
                for (int i = 0; i < m; i++) {
                    w[i] = units[i] == 0 ? 0 : units[i] * price[i] / eq;
                }
                markWeights.add(w);
                nextMark += DAY;
            }
            if (type == 1) { // open of bar t: move the price, fill the pending target
                double p = bars[j].open[t];
                if (!Double.isNaN(price[j])) {
                    pnl[j] += units[j] * (p - price[j]);
                }
                price[j] = p;
                if (!Double.isNaN(pending[j])) {
                    double eq = equity(cash, units, price);
                    double target = pending[j] * eq / p;
                    double notional = (target - units[j]) * p;
                    double cost = config.costs().costOf(notional);
                    cash -= notional + cost;
                    units[j] = target;
                    traded[j] += Math.abs(notional);
                    costs[j] += cost;
                    pnl[j] -= cost;
                    pending[j] = Double.NaN;
                }
                continue;
            }
            // close of bar t
            double p = bars[j].close[t];
            if (!Double.isNaN(price[j])) {
                pnl[j] += units[j] * (p - price[j]);
            }
            price[j] = p;
            latest[j] = runs.get(j).contexts()[t - testFirst[j]];
            latestBar[j] = t;
            if (t == bars[j].size() - 1) { // the series ends: sell at its last close
                double notional = -units[j] * p;
                double cost = config.costs().costOf(notional);
                cash -= notional + cost;
                traded[j] += Math.abs(notional);
                costs[j] += cost;
                pnl[j] -= cost;
                units[j] = 0;
                pending[j] = Double.NaN;
                done[j] = true;
            }
            double eq = equity(cash, units, price);
            // account breakers
            if (breakers != null) {
                long day = Math.floorDiv(time, DAY);
                if (day != lossDay) {
                    lossDay = day;
                    dayStartEquity = eq;
                    dailyTripped = false;
                }
                if (ddTripped
                        && breakers.drawdownRearm() == CircuitBreakers.DrawdownRearm.COOLDOWN
                        && time - ddTrippedAt >= breakers.drawdownCooldownDays() * DAY) {
                    ddTripped = false;
                    peak = eq;
                    breakerEvents.add(
                            Instant.ofEpochMilli(time) + " max_drawdown re-armed (cooldown)");
                }
                peak = Math.max(peak, eq);
                if (!ddTripped && 1 - eq / peak > breakers.maxDrawdown()) {
                    ddTripped = true;
                    ddTrippedAt = time;
                    trips++;
                    breakerEvents.add(
                            Instant.ofEpochMilli(time)
                                    + " max_drawdown tripped: equity "
                                    + Math.round(eq)
                                    + ", peak "
                                    + Math.round(peak));
                }
                if (!dailyTripped && 1 - eq / dayStartEquity > breakers.dailyLoss()) {
                    dailyTripped = true;
                    trips++;
                    breakerEvents.add(
                            Instant.ofEpochMilli(time)
                                    + " daily_loss tripped: equity "
                                    + Math.round(eq)
                                    + ", day start "
                                    + Math.round(dayStartEquity));
                }
            }
            // covariance, once per UTC day, of the symbols with a full window of closed bars
            long today = Math.floorDiv(time, DAY);
            if (today != covDay) {
                covDay = today;
                long[] grid = new long[settings.covarianceDays() + 1];
                for (int k = 0; k < grid.length; k++) {
                    grid[k] = (today - settings.covarianceDays() + k) * DAY;
                }
                List<Integer> eligible = new ArrayList<>();
                for (int i = 0; i < m; i++) {
                    if (!done[i] && PointInTime.CLOSED_BY.visibleIndex(bars[i], grid[0]) >= 0) {
                        eligible.add(i);
                    }
                }
                covIndex = eligible.stream().mapToInt(Integer::intValue).toArray();
                if (covIndex.length > 0) {
                    BarData[] sub = new BarData[covIndex.length];
                    for (int k = 0; k < sub.length; k++) {
                        sub[k] = bars[covIndex[k]];
                    }
                    cov =
                            LedoitWolf.estimate(
                                            PointInTime.gridReturns(
                                                    sub, grid, PointInTime.CLOSED_BY))
                                    .covariance();
                }
            }
            // the open set: symbols with a covariance row and a current signal
            List<Integer> open = new ArrayList<>();
            List<Integer> rows = new ArrayList<>();
            for (int k = 0; k < covIndex.length; k++) {
                int i = covIndex[k];
                if (!done[i] && latest[i] != null && meanGain[i][latestBar[i]] > 0) {
                    open.add(i);
                    rows.add(k);
                }
            }
            BreakerState state =
                    ddTripped || dailyTripped ? BreakerState.FLATTEN : BreakerState.ARMED;
            double[] targets = new double[m]; // symbols outside the open set go flat
            if (!open.isEmpty()) {
                int n = open.size();
                double[][] c = new double[n][n];
                List<PortfolioMember> members = new ArrayList<>(n);
                double[] current = new double[n];
                for (int a = 0; a < n; a++) {
                    int i = open.get(a);
                    for (int b = 0; b < n; b++) {
                        c[a][b] = cov[rows.get(a)][rows.get(b)];
                    }
                    current[a] = units[i] == 0 ? 0 : Math.max(0, units[i] * price[i] / eq);
                    SizingContext own = latest[i];
                    SizingContext ctx =
                            new SizingContext(
                                    own.signal(),
                                    eq,
                                    Math.max(0, Math.min(0.999999, 1 - eq / peak)),
                                    settings.limits().perSymbolCap(),
                                    own.volatility(),
                                    own.payoffRatio());
                    members.add(
                            new PortfolioMember(
                                    names[i],
                                    ctx,
                                    meanGain[i][latestBar[i]],
                                    (double) DAY / bars[i].period().toMillis(),
                                    current[a]));
                }
                double[] proposed = new double[n];
                try {
                    PortfolioSizingDecision d =
                            policy.size(
                                    new PortfolioSizingContext(
                                            members, c, settings.limits().grossCap()));
                    for (int a = 0; a < n; a++) {
                        proposed[a] =
                                a < d.decisions().size()
                                        ? d.decisions().get(a).fraction()
                                        : Double.NaN;
                    }
                } catch (RuntimeException ex) {
                    Arrays.fill(proposed, Double.NaN); // the guard makes it flat and says so
                }
                PortfolioGuard.Allocation alloc =
                        PortfolioGuard.apply(proposed, c, current, settings.limits(), state);
                decisions++;
                if (!alloc.notes().isEmpty()) {
                    guardChanges++;
                }
                for (int a = 0; a < n; a++) {
                    targets[open.get(a)] = alloc.allocation()[a];
                }
                if (last == null || n >= last.symbols().size()) {
                    last =
                            new Decision(
                                    time,
                                    open.stream().map(i -> names[i]).toList(),
                                    c,
                                    proposed,
                                    alloc.allocation(),
                                    alloc.notes());
                }
            }
            for (int i = 0; i < m; i++) {
                if (done[i]) {
                    continue;
                }
                double w = units[i] == 0 ? 0 : units[i] * price[i] / eq;
                double target = targets[i];
                boolean toOrFromFlat = (target == 0) != (w == 0);
                if (toOrFromFlat || Math.abs(target - w) > config.rebalanceBand()) {
                    pending[i] = target;
                } else {
                    pending[i] = Double.NaN;
                }
            }
            if (progress != null && ((e + 1) % 2_000 == 0 || e == events.length - 1)) {
                int chunks = (events.length + 1_999) / 2_000;
                progress.update("portfolio", (e + 1 + 1_999) / 2_000, chunks, e + 1, events.length);
            }
        }
        double finalEquity = equity(cash, units, price);
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
                decisions,
                guardChanges,
                trips,
                List.copyOf(breakerEvents),
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

    private static double equity(double cash, double[] units, double[] price) {
        double e = cash;
        for (int i = 0; i < units.length; i++) {
            if (units[i] != 0) {
                e += units[i] * price[i];
            }
        }
        return e;
    }

    /**
     * Trailing mean of the positive one-bar simple returns over {@code window} bars through bar t
     * (point-in-time); 0 where there is none.
     */
    static double[] trailingMeanGain(BarData bars, int window) {
        int n = bars.size();
        double[] out = new double[n];
        double sum = 0;
        int count = 0;
        for (int t = 1; t < n; t++) {
            double r = bars.close[t] / bars.close[t - 1] - 1;
            if (r > 0) {
                sum += r;
                count++;
            }
            int drop = t - window;
            if (drop >= 1) {
                double old = bars.close[drop] / bars.close[drop - 1] - 1;
                if (old > 0) {
                    sum -= old;
                    count--;
                }
            }
            out[t] = count > 0 ? Math.max(0, sum / count) : 0;
        }
        return out;
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
