package dev.quiver.engine.gate;

import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.api.market.Bar;
import dev.quiver.api.market.BarSeries;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Decides whether a decision bar is like what the strategy was fitted on, three checks in order:
 *
 * <ol>
 *   <li><b>gap</b>: the bar starts more than {@code maxGapBars} bar intervals after the bar before
 *       it (the features then describe a market that is gone);
 *   <li><b>move</b>: the bar's true range ({@code max(high, prevClose) - min(low, prevClose)}) is
 *       more than {@code maxMoveAtr} times the ATR(14) of the bar before it (a bad print, a 1e308
 *       price, or a crash no fitted model has seen);
 *   <li><b>distribution</b>: the bar's feature vector is further than the threshold from the
 *       training distribution of the strategy serving it ({@link Dissimilarity}); off for a
 *       strategy fitted without the gate's statistics (the verdict says so).
 * </ol>
 *
 * A bar that fails any check abstains: every policy flat, the reason naming each failed check with
 * its figure and its limit (and, for the distribution, the most deviant features). The check reads
 * the frame only (the bar, the bars before it and the previous frame), so the walk-forward
 * backtest, a session and the stateless endpoint judge the same bar alike.
 *
 * <p>Immutable and thread-safe.
 */
public final class InputGate {

    /** Feature read as the previous bar's ATR for the move check: Wilder ATR(14), price units. */
    public static final String ATR_FEATURE = "atr_14";

    /**
     * The host's limits.
     *
     * @param interval the strategy's bar interval, {@code > 0}
     * @param maxGapBars the largest accepted distance from the previous bar to the decision bar, in
     *     intervals, {@code >= 1}
     * @param maxMoveAtr the largest accepted true range of the decision bar, in multiples of the
     *     previous bar's ATR(14), {@code > 0}
     */
    public record Limits(Duration interval, int maxGapBars, double maxMoveAtr) {

        /**
         * Default gap limit: 7 intervals, the longest gap between consecutive bars of the bundled
         * daily index series (the 2001 market closure, 7 days); the bundled BTC 4h series' longest
         * is 4. Weekends (3) and long weekends (4) pass.
         */
        public static final int DEFAULT_MAX_GAP_BARS = 7;

        /**
         * Default move limit: 20 ATRs. On the bundled series the 99.9th percentile of true range
         * over the previous ATR(14) is 9.0 (BTC 4h) and 4.4 (S&amp;P 500 daily); two BTC bars
         * exceed 20 (34 and 86 ATRs).
         */
        public static final double DEFAULT_MAX_MOVE_ATR = 20.0;

        /**
         * Validates.
         *
         * @throws IllegalArgumentException naming the field when one is out of range
         */
        public Limits {
            if (interval == null || interval.isZero() || interval.isNegative()) {
                throw new IllegalArgumentException("gate interval must be > 0, was " + interval);
            }
            if (maxGapBars < 1) {
                throw new IllegalArgumentException(
                        "gate max_gap_bars must be >= 1, was " + maxGapBars);
            }
            if (!(maxMoveAtr > 0) || Double.isInfinite(maxMoveAtr)) {
                throw new IllegalArgumentException(
                        "gate max_move_atr must be finite and > 0, was " + maxMoveAtr);
            }
        }

        /**
         * The defaults for a bar interval.
         *
         * @param interval the bar interval
         * @return {@link #DEFAULT_MAX_GAP_BARS} and {@link #DEFAULT_MAX_MOVE_ATR}
         */
        public static Limits defaults(Duration interval) {
            return new Limits(interval, DEFAULT_MAX_GAP_BARS, DEFAULT_MAX_MOVE_ATR);
        }
    }

    private final Limits limits;
    private final Dissimilarity distribution;
    private final String distributionOff;
    private final double intervalMillis;
    private FeatureSchema schema;
    private int[] idx;
    private int atrIndex = -1;

    /**
     * Creates a gate.
     *
     * @param limits gap and move limits
     * @param distribution the training distribution, or {@code null} when the distribution check is
     *     off
     * @param distributionOff why it is off (e.g. a bundle fitted before the gate), required when
     *     {@code distribution} is {@code null}
     * @throws IllegalArgumentException if {@code distribution} is null without a reason
     */
    public InputGate(Limits limits, Dissimilarity distribution, String distributionOff) {
        if (limits == null) {
            throw new IllegalArgumentException("gate limits must not be null");
        }
        if (distribution == null && (distributionOff == null || distributionOff.isBlank())) {
            throw new IllegalArgumentException(
                    "a gate without a training distribution needs the reason it is off");
        }
        this.limits = limits;
        this.distribution = distribution;
        this.distributionOff = distribution == null ? distributionOff : null;
        this.intervalMillis = limits.interval().toMillis();
    }

    /**
     * The limits.
     *
     * @return gap and move limits
     */
    public Limits limits() {
        return limits;
    }

    /**
     * The training distribution.
     *
     * @return it, or {@code null} when the distribution check is off
     */
    public Dissimilarity distribution() {
        return distribution;
    }

    /**
     * Why the distribution check is off.
     *
     * @return the reason, or {@code null} when it is on
     */
    public String distributionOff() {
        return distributionOff;
    }

    /**
     * Judges a decision bar.
     *
     * @param frame the decision bar's features (its history holds the bars before it)
     * @return the verdict
     * @throws IllegalArgumentException if the gate's features are not in the frame's schema
     */
    public synchronized GateVerdict check(FeatureFrame frame) {
        if (frame.schema() != schema) {
            schema = frame.schema();
            idx = distribution == null ? null : distribution.indexesIn(schema);
            atrIndex = schema.names().indexOf(ATR_FEATURE);
        }
        Bar bar = frame.bar();
        BarSeries history = frame.history();
        List<String> failed = new ArrayList<>(3);
        double gapBars = Double.NaN;
        double moveAtr = Double.NaN;
        if (history.size() >= 2) {
            Bar prev = history.get(history.size() - 2);
            long gapMillis = bar.start().toEpochMilli() - prev.start().toEpochMilli();
            gapBars = gapMillis / intervalMillis;
            if (gapBars > limits.maxGapBars()) {
                failed.add(
                        String.format(
                                Locale.ROOT,
                                "gap: %s after the previous bar %s, %.1f intervals of %s > max_gap_bars"
                                        + " %d",
                                Duration.ofMillis(gapMillis),
                                prev.start(),
                                gapBars,
                                limits.interval(),
                                limits.maxGapBars()));
            }
            FeatureFrame before = frame.previous();
            double atr = before == null || atrIndex < 0 ? Double.NaN : before.get(atrIndex);
            if (atr > 0 && Double.isFinite(atr)) {
                double pc = prev.close();
                double trueRange = Math.max(bar.high(), pc) - Math.min(bar.low(), pc);
                moveAtr = trueRange / atr;
                if (!(moveAtr <= limits.maxMoveAtr())) {
                    failed.add(
                            String.format(
                                    Locale.ROOT,
                                    "move: true range %.6g is %.4g x the previous ATR(14) %.6g >"
                                            + " max_move_atr %s",
                                    trueRange,
                                    moveAtr,
                                    atr,
                                    fmt(limits.maxMoveAtr())));
                }
            }
        }
        double distance = Double.NaN;
        double threshold = Double.NaN;
        List<String> deviant = List.of();
        if (distribution != null) {
            double[] row = frame.toArray();
            distance = distribution.distance(row, idx);
            threshold = distribution.threshold();
            deviant = new LazyDeviant(distribution, row, idx, Dissimilarity.DEVIANT_SHOWN);
            if (!(distance <= threshold)) {
                failed.add(
                        String.format(
                                Locale.ROOT,
                                "out of distribution: Mahalanobis distance %.2f > threshold %.2f"
                                        + " (the %s quantile of the training span's distances);"
                                        + " most deviant %s",
                                distance,
                                threshold,
                                fmt(distribution.quantile()),
                                String.join(", ", deviant)));
            }
        }
        String reason =
                failed.isEmpty()
                        ? null
                        : "input gate: " + String.join("; ", failed) + " -> flat (abstain)";
        return new GateVerdict(
                reason != null,
                reason,
                distance,
                threshold,
                deviant,
                gapBars,
                moveAtr,
                distributionOff);
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15
                ? Long.toString((long) v)
                : String.format(Locale.ROOT, "%s", v);
    }
}
