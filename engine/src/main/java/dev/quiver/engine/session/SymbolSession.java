package dev.quiver.engine.session;

import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.market.Bar;
import dev.quiver.engine.Step;
import dev.quiver.engine.SymbolEngine;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.feature.StreamingFeatures;
import dev.quiver.engine.trading.PayoffRatio;
import java.time.Duration;
import java.util.List;

/**
 * One symbol's live state: the bars so far, the streaming features and payoff ratio (the same
 * classes the backtest's batch pipeline runs, so a session that starts at the series' first bar
 * sees the batch values exactly), and the {@link SymbolEngine} its bars step.
 *
 * <p>Bars arrive closed, one or more at a time, oldest first:
 *
 * <ul>
 *   <li>{@link #warmUp} feeds history to the features only (no decision, no fill, nothing counted),
 *       like LEAN's warm-up;
 *   <li>{@link #check} classifies a bar without changing anything: {@link Check#NEW}, {@link
 *       Check#DUPLICATE} (the last bar re-sent unchanged: the caller answers the last step again),
 *       or refuses it with a {@link QuiverInputException}: {@code BAR_CONFLICT} (a changed bar for
 *       a time already taken), {@code BAR_OUT_OF_ORDER}, {@code BAR_GAP} (more than {@code
 *       maxGapBars} intervals after the last bar: the session then needs a re-warm, see {@link
 *       #rewarm}; it never decides on stale context) or {@code SESSION_REWARM};
 *   <li>{@link #append} steps a {@code NEW} bar through the engine.
 * </ul>
 *
 * <p>Not thread-safe: one writer per session (sessions are independent of each other).
 */
public final class SymbolSession {

    /** Where a session stands. */
    public enum State {
        /** Fewer bars than the features need: bars are stepped but not decided. */
        WARMING_UP,
        /** Deciding on every new bar. */
        READY,
        /** A gap too large was seen: new bars are refused until {@link #rewarm}. */
        REWARM_REQUIRED
    }

    /** What {@link #check} found. */
    public enum Check {
        /** A bar after the last one, within the allowed gap. */
        NEW,
        /** The last bar again, unchanged. */
        DUPLICATE
    }

    /**
     * A session's fixed settings.
     *
     * @param symbol the symbol, e.g. {@code BTC-USD}; the feature frames' series name
     * @param interval the bar interval, {@code > 0}
     * @param maxGapBars the largest accepted distance between consecutive bars, in intervals,
     *     {@code >= 1} (1 = no missing bar; daily equity data needs a few for weekends and
     *     holidays)
     */
    public record Settings(String symbol, Duration interval, int maxGapBars) {
        /**
         * Validates.
         *
         * @throws IllegalArgumentException naming the field if one is out of range
         */
        public Settings {
            if (symbol == null || symbol.isBlank()) {
                throw new IllegalArgumentException("symbol is blank");
            }
            if (interval == null || interval.isZero() || interval.isNegative()) {
                throw new IllegalArgumentException("interval must be > 0, was " + interval);
            }
            if (maxGapBars < 1) {
                throw new IllegalArgumentException("maxGapBars must be >= 1, was " + maxGapBars);
            }
        }
    }

    private final Settings settings;

    /** {@code maxGapBars x interval}: the longest gap a new bar may follow, computed once. */
    private final Duration maxGap;

    private final SymbolEngine engine;
    private GrowingSeries history;
    private StreamingFeatures features;
    private PayoffRatio payoff;
    private final double[] row = new double[FeaturePipeline.SCHEMA.size()];
    private FeatureFrame lastFrame;
    private Step lastStep;
    private String rewarmReason;

    /**
     * Creates a session with no bars.
     *
     * @param settings symbol, interval, gap rule
     * @param engine the engine its bars step (its rules' payoff window is used here)
     */
    public SymbolSession(Settings settings, SymbolEngine engine) {
        this.settings = settings;
        this.maxGap = settings.interval().multipliedBy(settings.maxGapBars());
        this.engine = engine;
        reset();
    }

    private void reset() {
        history = new GrowingSeries(settings.symbol(), settings.interval());
        features = new StreamingFeatures();
        payoff = new PayoffRatio(engine.rules().payoffWindowBars());
        lastFrame = null;
    }

    /**
     * Feeds history to the features only: no decision, no fill, nothing counted. Allowed before the
     * first {@link #append}.
     *
     * @param bars closed bars, oldest first, strictly increasing in time
     * @throws QuiverInputException as {@link #check} for a bar out of order or a changed bar, or
     *     {@code SESSION_STARTED} once bars have been stepped
     */
    public void warmUp(List<Bar> bars) {
        if (lastStep != null) {
            throw new QuiverInputException(
                    "SESSION_STARTED",
                    "warm_up",
                    where(),
                    engine.barCount(),
                    "bars have been stepped already; warm-up comes first");
        }
        for (Bar b : bars) {
            Bar last = history.last();
            if (last != null && b.equals(last)) {
                continue;
            }
            if (last != null && !b.start().isAfter(last.start())) {
                check(b); // throws BAR_CONFLICT or BAR_OUT_OF_ORDER naming the bar
            }
            advance(b);
        }
    }

    /**
     * Restarts the features from {@code bars} after a gap (the books, breakers and their history
     * are kept), and leaves {@link State#REWARM_REQUIRED}.
     *
     * @param bars closed bars, oldest first, the last one after the session's last bar
     * @throws QuiverInputException {@code BAR_OUT_OF_ORDER} if the bars do not end after the
     *     session's last bar or are not in increasing order
     */
    public void rewarm(List<Bar> bars) {
        Bar last = history.last();
        if (bars.isEmpty()
                || (last != null && !bars.get(bars.size() - 1).start().isAfter(last.start()))) {
            throw new QuiverInputException(
                    "BAR_OUT_OF_ORDER",
                    "bars",
                    where(),
                    bars.isEmpty() ? null : bars.get(bars.size() - 1).start(),
                    "a re-warm must end after the session's last bar "
                            + (last == null ? null : last.start()));
        }
        reset();
        rewarmReason = null;
        for (int i = 0; i < bars.size(); i++) {
            if (i > 0 && !bars.get(i).start().isAfter(bars.get(i - 1).start())) {
                throw new QuiverInputException(
                        "BAR_OUT_OF_ORDER",
                        "bars[" + i + "].timestamp",
                        where(),
                        bars.get(i).start(),
                        "is not after the previous bar " + bars.get(i - 1).start());
            }
            advance(bars.get(i));
        }
    }

    /**
     * Classifies a bar without changing anything.
     *
     * @param bar a closed bar
     * @return {@link Check#NEW} or {@link Check#DUPLICATE}
     * @throws QuiverInputException naming the bar's time and the rule: {@code SESSION_REWARM},
     *     {@code BAR_CONFLICT}, {@code BAR_OUT_OF_ORDER} or {@code BAR_GAP}
     */
    public Check check(Bar bar) {
        requireNoRewarm(bar);
        return classify(history.last(), bar, "timestamp");
    }

    /**
     * Classifies a batch of bars without changing anything: each against the one before it (the
     * first against the session's last bar), by the rules of {@link #check}. A batch is taken whole
     * or not at all, so a caller checks it all before it appends any.
     *
     * @param bars closed bars, oldest first
     * @return the index of the first new bar: 1 when {@code bars[0]} is the session's last bar
     *     re-sent unchanged (a duplicate), else 0
     * @throws QuiverInputException as {@link #check}, the field naming the bar ({@code
     *     bars[3].timestamp}); a {@code BAR_GAP} for {@code bars[0]} is a gap after the session's
     *     last bar, for a later bar a gap inside the batch
     */
    public int checkBatch(List<Bar> bars) {
        int first = 0;
        Bar previous = history.last();
        for (int i = 0; i < bars.size(); i++) {
            Bar b = bars.get(i);
            String field = "bars[" + i + "].timestamp";
            if (i == 0) {
                requireNoRewarm(b);
            }
            if (classify(previous, b, field) == Check.DUPLICATE) {
                if (i > 0) {
                    throw new QuiverInputException(
                            "BAR_OUT_OF_ORDER",
                            field,
                            where(),
                            b.start(),
                            "repeats bars[" + (i - 1) + "]");
                }
                first = 1;
            }
            previous = b;
        }
        return first;
    }

    private void requireNoRewarm(Bar bar) {
        if (rewarmReason != null) {
            throw new QuiverInputException(
                    "SESSION_REWARM", "bars", where(), bar.start(), rewarmReason);
        }
    }

    private Check classify(Bar last, Bar bar, String field) {
        if (last == null) {
            return Check.NEW;
        }
        int c = bar.start().compareTo(last.start());
        if (c == 0) {
            if (bar.equals(last)) {
                return Check.DUPLICATE;
            }
            throw new QuiverInputException(
                    "BAR_CONFLICT",
                    field,
                    where(),
                    bar.start(),
                    "is the time of the last bar, with other values ("
                            + last
                            + " was taken); a taken bar is never changed");
        }
        if (c < 0) {
            throw new QuiverInputException(
                    "BAR_OUT_OF_ORDER",
                    field,
                    where(),
                    bar.start(),
                    "is before the session's last bar " + last.start());
        }
        if (gapAboveMax(last.start(), bar.start())) {
            Duration gap = Duration.between(last.start(), bar.start());
            throw new QuiverInputException(
                    "BAR_GAP",
                    field,
                    where(),
                    bar.start(),
                    "is "
                            + gap
                            + " after the last bar "
                            + last.start()
                            + ", more than max_gap_bars "
                            + settings.maxGapBars()
                            + " x "
                            + settings.interval()
                            + "; the session needs a re-warm from history covering the gap");
        }
        return Check.NEW;
    }

    /**
     * Whether {@code later - earlier > maxGap}, exactly (seconds and nanoseconds), without building
     * a {@link Duration} for every accepted bar ({@code Duration.between} is a noticeable part of a
     * step's own work); {@code later} is after {@code earlier}.
     */
    private boolean gapAboveMax(java.time.Instant earlier, java.time.Instant later) {
        long seconds = later.getEpochSecond() - earlier.getEpochSecond();
        int nanos = later.getNano() - earlier.getNano();
        if (nanos < 0) {
            seconds--;
            nanos += 1_000_000_000;
        }
        return seconds > maxGap.getSeconds()
                || (seconds == maxGap.getSeconds() && nanos > maxGap.getNano());
    }

    /**
     * Records that a gap was refused: the session refuses bars until {@link #rewarm}.
     *
     * @param reason the gap refusal's message
     */
    public void requireRewarm(String reason) {
        rewarmReason = reason;
    }

    /**
     * Steps a new bar: features, then the engine.
     *
     * @param bar a bar {@link #check} classified {@link Check#NEW}
     * @return the step
     * @throws QuiverInputException as {@link #check} if the bar is not new
     */
    public Step append(Bar bar) {
        if (check(bar) != Check.NEW) {
            throw new QuiverInputException(
                    "BAR_CONFLICT", "timestamp", where(), bar.start(), "is not a new bar");
        }
        FeatureFrame frame = advance(bar);
        lastStep = engine.step(bar, frame, payoff.value());
        return lastStep;
    }

    private FeatureFrame advance(Bar bar) {
        history.add(bar);
        boolean warm = features.update(bar);
        payoff.update(bar.close());
        FeatureFrame frame = null;
        if (warm) {
            features.copyValues(row);
            frame =
                    new FeatureFrame(
                            FeaturePipeline.SCHEMA,
                            history.viewThrough(history.size() - 1),
                            row,
                            lastFrame);
        }
        lastFrame = frame;
        return frame;
    }

    /**
     * The session's state.
     *
     * @return warming up, ready, or waiting for a re-warm
     */
    public State state() {
        if (rewarmReason != null) {
            return State.REWARM_REQUIRED;
        }
        return features.isWarm() ? State.READY : State.WARMING_UP;
    }

    /**
     * Why a re-warm is required.
     *
     * @return the reason, or {@code null}
     */
    public String rewarmReason() {
        return rewarmReason;
    }

    /**
     * The last bar taken (warm-up included).
     *
     * @return the bar, or {@code null}
     */
    public Bar lastBar() {
        return history.last();
    }

    /**
     * The last stepped bar's step.
     *
     * @return the step, or {@code null} before the first
     */
    public Step lastStep() {
        return lastStep;
    }

    /**
     * Bars taken, warm-up included.
     *
     * @return count
     */
    public int barCount() {
        return history.size();
    }

    /**
     * The settings.
     *
     * @return the settings
     */
    public Settings settings() {
        return settings;
    }

    /**
     * The engine.
     *
     * @return the engine its bars step
     */
    public SymbolEngine engine() {
        return engine;
    }

    private String where() {
        return "session " + settings.symbol();
    }
}
