package dev.quiver.host.data;

import dev.quiver.api.market.Bar;
import dev.quiver.engine.market.BarData;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.csv.CSVFormat;

/**
 * Reason-coded intake of bars (RELIABILITY.md P13, bad input 9): every input row ends up exactly
 * once {@link Verdict#ACCEPTED accepted}, {@link Verdict#REPAIRED repaired} or {@link
 * Verdict#QUARANTINED quarantined}, with a {@link Reason} when it is not a clean bar, so that
 * accepted + repaired + quarantined = rows read (nothing is silently lost). The declared rules
 * (after Nautilus {@code Bar::new_checked}, freqtrade's {@code clean_ohlcv_dataframe} and {@code
 * ohlcv_fill_up_missing_data}):
 *
 * <ul>
 *   <li>Quarantined (left out, written with the reason by {@link Result#writeQuarantine}): {@link
 *       Reason#MALFORMED_ROW} (wrong number of columns, unparsable time or number), {@link
 *       Reason#NOT_FINITE} (NaN or infinite value), {@link Reason#NON_POSITIVE_PRICE}, {@link
 *       Reason#HIGH_BELOW_LOW}, {@link Reason#PRICE_OUTSIDE_RANGE} (open or close outside [low,
 *       high]), {@link Reason#NEGATIVE_VOLUME}, {@link Reason#DUPLICATE_CONFLICT} (the time of an
 *       accepted bar with other values: the first one seen is kept), {@link Reason#OUT_OF_ORDER}
 *       (before the last accepted bar), {@link Reason#FUTURE} (starts after the audit's clock).
 *   <li>Repaired: {@link Reason#DUPLICATE_SAME}, an identical repeat of the last accepted bar,
 *       merged into it (dropped, counted).
 *   <li>Accepted and flagged: {@link Reason#ZERO_VOLUME} (a bar with no trades is still a price);
 *       {@link Reason#GAP}, a bar more than {@code maxGapBars} intervals after the last accepted
 *       one: the missing bars are filled only under {@link GapFill#PREVIOUS_CLOSE} (open = high =
 *       low = close = the previous close, volume 0, as freqtrade fills) and counted; under {@link
 *       GapFill#NONE} nothing is filled.
 *   <li>{@link Reason#STALE}: the last accepted bar starts more than {@code staleAfterIntervals}
 *       intervals before the clock; the series is then not fit to decide on ({@link
 *       Result#stale()}).
 * </ul>
 *
 * <p>The interval is the declared one, or the median spacing of the accepted bars.
 */
public final class BarAudit {

    /** Why a row is not a clean bar. */
    public enum Reason {
        MALFORMED_ROW,
        NOT_FINITE,
        NON_POSITIVE_PRICE,
        HIGH_BELOW_LOW,
        PRICE_OUTSIDE_RANGE,
        NEGATIVE_VOLUME,
        ZERO_VOLUME,
        DUPLICATE_SAME,
        DUPLICATE_CONFLICT,
        OUT_OF_ORDER,
        GAP,
        FUTURE,
        STALE
    }

    /** What became of a row. */
    public enum Verdict {
        ACCEPTED,
        REPAIRED,
        QUARANTINED
    }

    /** The declared rule for the bars missing in a gap. */
    public enum GapFill {
        /** Nothing is filled; the gap is flagged and counted. */
        NONE,
        /** Each missing bar is filled flat at the previous close with volume 0, and counted. */
        PREVIOUS_CLOSE
    }

    /**
     * The audit's rules.
     *
     * @param fill what fills a gap
     * @param maxGapBars the largest spacing between consecutive bars that is not a gap, in
     *     intervals, {@code >= 1}
     * @param interval the bar interval, or null for the median spacing of the accepted bars
     * @param now the clock for {@link Reason#FUTURE} and {@link Reason#STALE}, or null for neither
     *     (a historical file)
     * @param staleAfterIntervals age of the last bar, in intervals, above which the series is
     *     stale, {@code >= 1} (RELIABILITY.md: 2)
     */
    public record Rules(
            GapFill fill, int maxGapBars, Duration interval, Instant now, int staleAfterIntervals) {
        /**
         * Validates.
         *
         * @throws IllegalArgumentException naming the field out of range
         */
        public Rules {
            if (fill == null) {
                throw new IllegalArgumentException("fill is null");
            }
            if (maxGapBars < 1) {
                throw new IllegalArgumentException("maxGapBars must be >= 1, was " + maxGapBars);
            }
            if (interval != null && (interval.isZero() || interval.isNegative())) {
                throw new IllegalArgumentException("interval must be > 0, was " + interval);
            }
            if (staleAfterIntervals < 1) {
                throw new IllegalArgumentException(
                        "staleAfterIntervals must be >= 1, was " + staleAfterIntervals);
            }
        }

        /** No fill, gaps above 1 interval flagged, median interval, no clock, stale after 2. */
        public static Rules historical() {
            return new Rules(GapFill.NONE, 1, null, null, 2);
        }
    }

    /**
     * One input row as read: its time and values, or why they could not be read.
     *
     * @param where e.g. {@code bars.csv line 12}
     * @param text the row as written (for the quarantine file)
     * @param time the bar's start, or null if unreadable
     * @param values open, high, low, close, volume (NaN allowed here), or null if unreadable
     * @param unreadable why the row could not be read, or null
     */
    public record Row(
            String where, String text, Instant time, double[] values, String unreadable) {}

    /**
     * A row that is not a clean accepted bar.
     *
     * @param where the row's place
     * @param text the row as written
     * @param verdict what became of it
     * @param reason why
     * @param message the reason in words, with the values involved
     */
    public record Finding(
            String where, String text, Verdict verdict, Reason reason, String message) {}

    /**
     * The audit's outcome.
     *
     * @param bars the accepted bars (the repaired ones merged, gap fills included), or null if
     *     fewer than 2
     * @param findings every flagged row: the rows' own problems in input order, then the gaps and
     *     the staleness
     * @param rows rows read
     * @param accepted rows accepted (clean or flagged)
     * @param repaired rows repaired
     * @param quarantined rows quarantined
     * @param filled bars inserted by the gap rule
     * @param interval the interval used
     * @param stale why the series is stale, or null if it is fresh (or no clock was given)
     */
    public record Result(
            BarData bars,
            List<Finding> findings,
            int rows,
            int accepted,
            int repaired,
            int quarantined,
            int filled,
            Duration interval,
            String stale) {
        public Result {
            findings = List.copyOf(findings);
        }

        /** Findings per reason. */
        public Map<Reason, Integer> countByReason() {
            var out = new EnumMap<Reason, Integer>(Reason.class);
            findings.forEach(f -> out.merge(f.reason(), 1, Integer::sum));
            return out;
        }

        /** Whether the series may be decided on: not stale. */
        public boolean fresh() {
            return stale == null;
        }

        /**
         * Writes the quarantined rows as CSV: {@code where,reason,message,row}.
         *
         * @param file the quarantine file (replaced)
         * @return rows written
         * @throws UncheckedIOException if it cannot be written
         */
        public int writeQuarantine(Path file) {
            int n = 0;
            try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                w.write(CSVFormat.DEFAULT.format("where", "reason", "message", "row"));
                w.write("\n");
                for (Finding f : findings) {
                    if (f.verdict() == Verdict.QUARANTINED) {
                        w.write(
                                CSVFormat.DEFAULT.format(
                                        f.where(), f.reason(), f.message(), f.text()));
                        w.write("\n");
                        n++;
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(
                        "cannot write the quarantine file " + file + ": " + e.getMessage(), e);
            }
            return n;
        }
    }

    private BarAudit() {}

    /**
     * Audits rows in input order.
     *
     * @param symbol the series' name
     * @param rows the rows as read
     * @param rules the declared rules
     * @return the outcome; {@code bars} null if fewer than 2 bars were accepted
     */
    public static Result audit(String symbol, List<Row> rows, Rules rules) {
        var findings = new ArrayList<Finding>();
        var kept = new ArrayList<Bar>();
        var keptRow = new ArrayList<Row>();
        int repaired = 0;
        int quarantined = 0;
        // Pass 1: each row on its own, then against the last accepted bar's time.
        for (Row r : rows) {
            Finding bad = rowProblem(r, rules);
            if (bad == null) {
                Bar b = bar(r);
                Bar last = kept.isEmpty() ? null : kept.get(kept.size() - 1);
                if (last != null && b.start().equals(last.start())) {
                    if (b.equals(last)) {
                        findings.add(
                                finding(
                                        r,
                                        Verdict.REPAIRED,
                                        Reason.DUPLICATE_SAME,
                                        "repeats the bar at "
                                                + last.start()
                                                + " with the same values; merged into it"));
                        repaired++;
                        continue;
                    }
                    bad =
                            finding(
                                    r,
                                    Verdict.QUARANTINED,
                                    Reason.DUPLICATE_CONFLICT,
                                    "has the time of the accepted bar "
                                            + last
                                            + " with other values; the first is kept");
                } else if (last != null && b.start().isBefore(last.start())) {
                    bad =
                            finding(
                                    r,
                                    Verdict.QUARANTINED,
                                    Reason.OUT_OF_ORDER,
                                    "starts at "
                                            + b.start()
                                            + ", before the last accepted bar "
                                            + last.start());
                } else {
                    kept.add(b);
                    keptRow.add(r);
                    if (b.volume() == 0) {
                        findings.add(
                                finding(
                                        r,
                                        Verdict.ACCEPTED,
                                        Reason.ZERO_VOLUME,
                                        "has volume 0; kept (a bar with no trades is a price)"));
                    }
                    continue;
                }
            }
            findings.add(bad);
            quarantined++;
        }
        int accepted = rows.size() - repaired - quarantined;
        if (kept.size() < 2) {
            return new Result(
                    null, findings, rows.size(), accepted, repaired, quarantined, 0, null, null);
        }
        Duration interval = rules.interval() != null ? rules.interval() : medianSpacing(kept);
        // Pass 2: gaps between accepted bars, filled only by the declared rule.
        var out = new ArrayList<Bar>(kept.size());
        int filled = 0;
        long step = interval.toMillis();
        for (int i = 0; i < kept.size(); i++) {
            Bar b = kept.get(i);
            if (i > 0) {
                Bar prev = kept.get(i - 1);
                long spacing = b.start().toEpochMilli() - prev.start().toEpochMilli();
                if (spacing > step * rules.maxGapBars()) {
                    long missing = (spacing + step - 1) / step - 1;
                    int fills = 0;
                    if (rules.fill() == GapFill.PREVIOUS_CLOSE) {
                        for (long t = prev.start().toEpochMilli() + step;
                                t < b.start().toEpochMilli();
                                t += step) {
                            double c = prev.close();
                            out.add(new Bar(Instant.ofEpochMilli(t), c, c, c, c, 0));
                            fills++;
                        }
                    }
                    filled += fills;
                    findings.add(
                            finding(
                                    keptRow.get(i),
                                    Verdict.ACCEPTED,
                                    Reason.GAP,
                                    String.format(
                                            Locale.ROOT,
                                            "starts %s after the previous bar %s: %d missing"
                                                    + " bar(s) of %s, %d filled (%s)",
                                            Duration.ofMillis(spacing),
                                            prev.start(),
                                            missing,
                                            interval,
                                            fills,
                                            rules.fill().name().toLowerCase(Locale.ROOT))));
                }
            }
            out.add(b);
        }
        String stale = null;
        if (rules.now() != null) {
            Bar last = out.get(out.size() - 1);
            Duration age = Duration.between(last.start(), rules.now());
            if (age.compareTo(interval.multipliedBy(rules.staleAfterIntervals())) > 0) {
                stale =
                        "the last bar "
                                + last.start()
                                + " is "
                                + age
                                + " old at "
                                + rules.now()
                                + ", more than "
                                + rules.staleAfterIntervals()
                                + " x "
                                + interval;
                findings.add(
                        finding(
                                keptRow.get(keptRow.size() - 1),
                                Verdict.ACCEPTED,
                                Reason.STALE,
                                stale));
            }
        }
        return new Result(
                new BarData(symbol, interval, out),
                findings,
                rows.size(),
                accepted,
                repaired,
                quarantined,
                filled,
                interval,
                stale);
    }

    private static Finding rowProblem(Row r, Rules rules) {
        if (r.unreadable() != null) {
            return finding(r, Verdict.QUARANTINED, Reason.MALFORMED_ROW, r.unreadable());
        }
        double[] v = r.values();
        String[] names = {"open", "high", "low", "close", "volume"};
        for (int i = 0; i < 5; i++) {
            if (!Double.isFinite(v[i])) {
                return finding(
                        r,
                        Verdict.QUARANTINED,
                        Reason.NOT_FINITE,
                        names[i] + " is not a finite number (" + v[i] + ")");
            }
        }
        for (int i = 0; i < 4; i++) {
            if (v[i] <= 0) {
                return finding(
                        r,
                        Verdict.QUARANTINED,
                        Reason.NON_POSITIVE_PRICE,
                        names[i] + " must be a price > 0 (" + v[i] + ")");
            }
        }
        if (v[1] < v[2]) {
            return finding(
                    r,
                    Verdict.QUARANTINED,
                    Reason.HIGH_BELOW_LOW,
                    "high " + v[1] + " is below low " + v[2]);
        }
        for (int i : new int[] {0, 3}) {
            if (v[i] < v[2] || v[i] > v[1]) {
                return finding(
                        r,
                        Verdict.QUARANTINED,
                        Reason.PRICE_OUTSIDE_RANGE,
                        names[i]
                                + " "
                                + v[i]
                                + " is outside [low, high] = ["
                                + v[2]
                                + ", "
                                + v[1]
                                + "]");
            }
        }
        if (v[4] < 0) {
            return finding(
                    r,
                    Verdict.QUARANTINED,
                    Reason.NEGATIVE_VOLUME,
                    "volume must be >= 0 (" + v[4] + ")");
        }
        if (rules.now() != null && r.time().isAfter(rules.now())) {
            return finding(
                    r,
                    Verdict.QUARANTINED,
                    Reason.FUTURE,
                    "starts at " + r.time() + ", after the clock " + rules.now());
        }
        return null;
    }

    private static Bar bar(Row r) {
        double[] v = r.values();
        return new Bar(r.time(), v[0], v[1], v[2], v[3], v[4]);
    }

    private static Finding finding(Row r, Verdict verdict, Reason reason, String message) {
        return new Finding(r.where(), r.text(), verdict, reason, message);
    }

    private static Duration medianSpacing(List<Bar> bars) {
        long[] gaps = new long[bars.size() - 1];
        for (int i = 1; i < bars.size(); i++) {
            gaps[i - 1] =
                    bars.get(i).start().toEpochMilli() - bars.get(i - 1).start().toEpochMilli();
        }
        Arrays.sort(gaps);
        return Duration.ofMillis(gaps[gaps.length / 2]);
    }
}
