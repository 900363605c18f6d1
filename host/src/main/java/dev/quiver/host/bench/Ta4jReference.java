package dev.quiver.host.bench;

import dev.quiver.engine.feature.StreamingFeatures;
import dev.quiver.engine.market.BarData;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.ta4j.core.BarSeries;
import org.ta4j.core.BaseBarSeriesBuilder;
import org.ta4j.core.indicators.ATRIndicator;
import org.ta4j.core.indicators.EMAIndicator;
import org.ta4j.core.indicators.MACDIndicator;
import org.ta4j.core.indicators.RSIIndicator;
import org.ta4j.core.indicators.bollinger.PercentBIndicator;
import org.ta4j.core.indicators.helpers.ClosePriceIndicator;
import org.ta4j.core.num.Num;

/**
 * The traditional rule evaluated on ta4j 0.17 indicators: the reference that Quiver's own feature
 * pipeline is checked against and timed against ({@code quiver bench}). Never on the serving path.
 *
 * <p>Indicators (ta4j classes, ta4j conventions): {@code RSIIndicator(close, 14)}, {@code
 * MACDIndicator(close, 12, 26)} with signal {@code EMAIndicator(macd, 9)}, {@code
 * PercentBIndicator(close, 20, 2)} (population standard deviation), {@code ATRIndicator(series,
 * 14)}. The rule: long when {@link #probabilityUp} {@code > 0.5}, flat otherwise, from bar {@link
 * StreamingFeatures#FIRST_WARM_INDEX} on (flat before). %B where ta4j's is undefined (the bands
 * coincide) takes the pipeline's declared value {@link StreamingFeatures#PERCENT_B_WHEN_FLAT}.
 *
 * <p>{@link #probabilityUp} re-implements the scoring rule of the {@code prediction-traditional}
 * plugin's {@code TraditionalForecaster.probabilityUp} (the host may not see plugin classes): the
 * two must stay identical, and a test on the plugin side pins the plugin's numbers to the same
 * hand-derived cases as the host's test of this copy.
 */
public final class Ta4jReference {

    private final BarSeries series;

    private Ta4jReference(BarSeries series) {
        this.series = series;
    }

    /**
     * Prepares the reference over a series.
     *
     * @param bars the bars
     * @param numFactory ta4j number type, e.g. {@code DoubleNum::valueOf} or {@code
     *     DecimalNum::valueOf}
     * @return a reference whose ta4j series holds every bar
     */
    public static Ta4jReference of(BarData bars, Function<Number, Num> numFactory) {
        return new Ta4jReference(toSeries(bars, numFactory));
    }

    /**
     * Converts bars to a ta4j series: one ta4j bar per bar, its end time the bar's start plus the
     * series period (ta4j keys bars by end time), OHLCV converted with {@code numFactory}.
     *
     * @param bars the bars
     * @param numFactory ta4j number type
     * @return a new ta4j series of {@code bars.size()} bars
     */
    public static BarSeries toSeries(BarData bars, Function<Number, Num> numFactory) {
        BarSeries series =
                new BaseBarSeriesBuilder()
                        .withName(bars.symbol())
                        .withNumTypeOf(numFactory)
                        .build();
        for (int i = 0; i < bars.size(); i++) {
            series.addBar(
                    bars.period(),
                    Instant.ofEpochMilli(bars.startMillis[i])
                            .plus(bars.period())
                            .atZone(ZoneOffset.UTC),
                    numFactory.apply(bars.open[i]),
                    numFactory.apply(bars.high[i]),
                    numFactory.apply(bars.low[i]),
                    numFactory.apply(bars.close[i]),
                    numFactory.apply(bars.volume[i]));
        }
        return series;
    }

    /**
     * The ta4j series.
     *
     * @return the series built by {@link #of}
     */
    public BarSeries series() {
        return series;
    }

    /**
     * The rule's probability of an up move on every bar, from fresh ta4j indicators.
     *
     * @return {@code double[bars]}, NaN before {@link StreamingFeatures#FIRST_WARM_INDEX}
     */
    public double[] probabilities() {
        ClosePriceIndicator close = new ClosePriceIndicator(series);
        RSIIndicator rsi = new RSIIndicator(close, 14);
        MACDIndicator macd = new MACDIndicator(close, 12, 26);
        EMAIndicator signal = new EMAIndicator(macd, 9);
        PercentBIndicator percentB = new PercentBIndicator(close, 20, 2.0);
        ATRIndicator atr = new ATRIndicator(series, 14);
        int n = series.getBarCount();
        double[] p = new double[n];
        // Serial access from bar 0: ta4j's running totals take their serial fast path, as in use.
        for (int i = 0; i < n; i++) {
            double c = close.getValue(i).doubleValue();
            double r = rsi.getValue(i).doubleValue();
            double hist = macd.getValue(i).minus(signal.getValue(i)).doubleValue();
            Num b = percentB.getValue(i);
            double pb = b.isNaN() ? StreamingFeatures.PERCENT_B_WHEN_FLAT : b.doubleValue();
            double a = atr.getValue(i).doubleValue();
            p[i] =
                    i < StreamingFeatures.FIRST_WARM_INDEX
                            ? Double.NaN
                            : probabilityUp(r, hist / c, pb, a / c);
        }
        return p;
    }

    /**
     * Bars where the rule's position changes: entries and exits, alternating, the first an entry.
     *
     * @return ascending bar indexes
     */
    public List<Integer> signalChanges() {
        return signalChanges(probabilities(), StreamingFeatures.FIRST_WARM_INDEX);
    }

    /**
     * Applies the rule (long when {@code p > 0.5}, flat otherwise; flat before {@code
     * firstWarmIndex}) to a column of probabilities.
     *
     * @param probabilityUp per-bar probabilities, NaN allowed before {@code firstWarmIndex}
     * @param firstWarmIndex first bar the rule may trade
     * @return ascending indexes where the position changes: entries at even positions of the list,
     *     exits at odd positions
     */
    public static List<Integer> signalChanges(double[] probabilityUp, int firstWarmIndex) {
        List<Integer> changes = new ArrayList<>();
        boolean long_ = false;
        for (int i = Math.max(0, firstWarmIndex); i < probabilityUp.length; i++) {
            boolean wantLong = probabilityUp[i] > 0.5;
            if (wantLong != long_) {
                changes.add(i);
                long_ = wantLong;
            }
        }
        return changes;
    }

    /** Weight of the MACD momentum term. Same as the plugin's. */
    static final double MOMENTUM_WEIGHT = 1.0;

    /** Weight of the RSI mean-reversion term. Same as the plugin's. */
    static final double RSI_WEIGHT = 1.0;

    /** Weight of the Bollinger %B mean-reversion term. Same as the plugin's. */
    static final double PERCENT_B_WEIGHT = 1.0;

    /** Bound on the momentum term, in ATRs. Same as the plugin's. */
    static final double MOMENTUM_CAP = 3.0;

    /**
     * The traditional rule's probability of an up move over 1 bar (copy of the plugin's {@code
     * TraditionalForecaster.probabilityUp}; see there for the rationale).
     *
     * <p>{@code p = 1 / (1 + exp(-s))}, {@code s = 1.0 * m + 1.0 * r + 1.0 * b} with momentum
     * {@code m = clamp(macdHistPct / atrPct, -3, 3)} (0 when {@code atrPct <= 0}), RSI reversion
     * {@code r = clamp((50 - rsi) / 50, -1, 1)} and %B reversion {@code b = clamp(0.5 - percentB,
     * -1, 1)}.
     *
     * @param rsi RSI(14), in [0, 100]
     * @param macdHistPct MACD(12, 26, 9) histogram divided by the close, a fraction
     * @param percentB Bollinger(20, 2) %B, 0 at the lower band, 1 at the upper
     * @param atrPct ATR(14) divided by the close, a fraction {@code >= 0}
     * @return probability in {@code [0.0067, 0.9933]}, since {@code |s| <= 5}
     */
    public static double probabilityUp(
            double rsi, double macdHistPct, double percentB, double atrPct) {
        double momentum =
                atrPct > 0.0 ? clamp(macdHistPct / atrPct, -MOMENTUM_CAP, MOMENTUM_CAP) : 0.0;
        double rsiReversion = clamp((50.0 - rsi) / 50.0, -1.0, 1.0);
        double bandReversion = clamp(0.5 - percentB, -1.0, 1.0);
        double score =
                MOMENTUM_WEIGHT * momentum
                        + RSI_WEIGHT * rsiReversion
                        + PERCENT_B_WEIGHT * bandReversion;
        return 1.0 / (1.0 + Math.exp(-score));
    }

    private static double clamp(double x, double low, double high) {
        return Math.max(low, Math.min(high, x));
    }

    /**
     * Result of {@link #time}.
     *
     * @param bars bars per run
     * @param runs timed runs
     * @param bestNanos fastest run, nanoseconds
     * @param barsPerSecond {@code bars / bestNanos * 1e9}
     */
    public record Timing(int bars, int runs, long bestNanos, double barsPerSecond) {}

    /**
     * Times {@link #signalChanges()}: fresh ta4j indicators and the rule over every bar (the series
     * conversion is not timed). Reports the fastest of {@code runs} runs after {@code warmupRuns}
     * untimed ones. Prints nothing; asserts nothing.
     *
     * @param warmupRuns untimed runs first (JIT warm-up), {@code >= 0}
     * @param runs timed runs, {@code >= 1}
     * @return the timing
     */
    public Timing time(int warmupRuns, int runs) {
        if (runs < 1) {
            throw new IllegalArgumentException("runs must be >= 1, was " + runs);
        }
        long sink = 0;
        for (int i = 0; i < warmupRuns; i++) {
            sink += signalChanges().size();
        }
        long best = Long.MAX_VALUE;
        for (int i = 0; i < runs; i++) {
            long start = System.nanoTime();
            sink += signalChanges().size();
            best = Math.min(best, System.nanoTime() - start);
        }
        if (sink < 0) {
            throw new AssertionError("unreachable: keeps the runs from being optimised away");
        }
        int n = series.getBarCount();
        return new Timing(n, runs, best, n / (best / 1e9));
    }
}
