package dev.quiver.engine.risk;

import dev.quiver.engine.trading.UtcDay;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The circuit breakers of one account (one sizing policy): maximum drawdown, daily loss and rolling
 * hit rate, with declared re-arm rules that are the same in the backtest and live.
 *
 * <p>Vocabulary: a breaker <em>arms</em> when it trips (it starts halting) and <em>re-arms</em>
 * when it resets (ready to trip again). Each change is logged (INFO) and recorded as a {@link
 * BreakerEvent}.
 *
 * <p>What a tripped breaker does: {@code max_drawdown} and {@code daily_loss} bound a loss, so they
 * <b>flatten</b>: the target becomes 0 (the exit fills at the next open, so the loss they name is
 * exceeded by at most what the market moves until that fill). {@code hit_rate} judges the model,
 * not the account: it halts <b>new risk</b> (a target above the current weight is cut to it;
 * reductions and exits pass).
 *
 * <table>
 *   <caption>Trip and re-arm rules</caption>
 *   <tr><th>breaker</th><th>trips when</th><th>re-arms when</th></tr>
 *   <tr><td>{@code max_drawdown}</td><td>{@code 1 - equity / peak > maxDrawdown} (exactly the limit
 *       does not trip); {@code peak} is the breaker's reference: the account's high-water mark
 *       since the last re-arm</td><td>{@link DrawdownRearm#MANUAL} (default): only by {@link
 *       #rearm} (an operator, through the API or CLI, with a reason), which restarts the reference
 *       peak at the current equity; {@link DrawdownRearm#COOLDOWN}: also after {@code
 *       drawdownCooldownDays} calendar days halted, with the same fresh peak (freqtrade {@code
 *       MaxDrawdown} stop duration; the loss from the original peak is then not bounded)</td></tr>
 *   <tr><td>{@code daily_loss}</td><td>{@code 1 - equity / dayStart > dailyLoss}, {@code dayStart}
 *       the day's first equity observation (a bar belongs to the UTC day of its start; equity is
 *       observed at each bar's open and close)</td><td>the first observation of the next UTC
 *       calendar day, or {@link #rearm}</td></tr>
 *   <tr><td>{@code hit_rate}</td><td>the last {@code hitRateWindow} closed long decisions (a
 *       decision is closed when its one-bar holding return is known) are full and their hit rate is
 *       {@code < minHitRate} (exactly the threshold does not trip)</td><td>{@code hitRateWindow}
 *       new decisions have closed since the trip (the window holds none from before it) and their
 *       hit rate is {@code >= minHitRate}; decisions keep being scored while halted (the policy's
 *       proposals are paper-traded), so it can recover; or {@link #rearm}</td></tr>
 * </table>
 *
 * <p>Not thread-safe; one instance per account, fed in time order.
 */
public final class CircuitBreakers {

    private static final Logger LOG = LoggerFactory.getLogger(CircuitBreakers.class);
    private static final long DAY_MILLIS = 86_400_000L;

    /**
     * Slack in the trip comparisons, so a value equal to a decimal limit up to binary rounding
     * ({@code 1 - 85.0 / 100} is {@code 0.15000000000000002}) counts as at the limit, not past it.
     */
    static final double ROUNDING = 1e-12;

    /** The three breakers. */
    public enum Breaker {
        /** Drawdown from the equity peak. */
        MAX_DRAWDOWN("max_drawdown"),
        /** Loss since the UTC day's first equity observation. */
        DAILY_LOSS("daily_loss"),
        /** Rolling hit rate of the last closed long decisions. */
        HIT_RATE("hit_rate");

        private final String label;

        Breaker(String label) {
            this.label = label;
        }

        /**
         * The name in reports and reasons.
         *
         * @return e.g. {@code max_drawdown}
         */
        public String label() {
            return label;
        }

        /**
         * The breaker of a label.
         *
         * @param label e.g. {@code max_drawdown}
         * @return the breaker
         * @throws IllegalArgumentException naming the known labels if none matches
         */
        public static Breaker ofLabel(String label) {
            for (Breaker b : values()) {
                if (b.label.equals(label)) {
                    return b;
                }
            }
            throw new IllegalArgumentException(
                    "unknown breaker '" + label + "' (max_drawdown, daily_loss, hit_rate)");
        }
    }

    /** How a tripped drawdown breaker re-arms. */
    public enum DrawdownRearm {
        /** Only by an operator's {@link CircuitBreakers#rearm}: the drawdown limit holds. */
        MANUAL,
        /** Also after the cooldown, with a fresh peak: the loss from the old peak is unbounded. */
        COOLDOWN
    }

    /**
     * Limits and re-arm rules.
     *
     * @param maxDrawdown drawdown limit, fraction in {@code (0, 1)}, default 0.15
     * @param dailyLoss daily loss limit, fraction in {@code (0, 1)}, default 0.05
     * @param minHitRate hit-rate floor, fraction in {@code [0, 1]}, default 0.40
     * @param hitRateWindow closed decisions in the rolling hit rate, {@code >= 1}, default 50
     * @param drawdownCooldownDays calendar days after which a tripped drawdown breaker re-arms
     *     under {@link DrawdownRearm#COOLDOWN}, finite and {@code > 0}, default 30
     * @param drawdownRearm the drawdown breaker's re-arm rule, default {@link DrawdownRearm#MANUAL}
     */
    public record Config(
            double maxDrawdown,
            double dailyLoss,
            double minHitRate,
            int hitRateWindow,
            double drawdownCooldownDays,
            DrawdownRearm drawdownRearm) {

        /**
         * Validates.
         *
         * @throws IllegalArgumentException naming the field and the value when one is NaN, negative
         *     or out of range
         */
        public Config {
            openUnit(maxDrawdown, "maxDrawdown");
            openUnit(dailyLoss, "dailyLoss");
            if (!(minHitRate >= 0 && minHitRate <= 1)) {
                throw new IllegalArgumentException(
                        "circuit breaker config: field 'minHitRate' must be in [0, 1], was "
                                + minHitRate);
            }
            if (hitRateWindow < 1) {
                throw new IllegalArgumentException(
                        "circuit breaker config: field 'hitRateWindow' must be >= 1, was "
                                + hitRateWindow);
            }
            if (!(drawdownCooldownDays > 0) || Double.isInfinite(drawdownCooldownDays)) {
                throw new IllegalArgumentException(
                        "circuit breaker config: field 'drawdownCooldownDays' must be finite and"
                                + " > 0, was "
                                + drawdownCooldownDays);
            }
            if (drawdownRearm == null) {
                throw new IllegalArgumentException(
                        "circuit breaker config: field 'drawdownRearm' is missing");
            }
        }

        /**
         * Limits with the default, manual drawdown re-arm.
         *
         * @param maxDrawdown see the record
         * @param dailyLoss see the record
         * @param minHitRate see the record
         * @param hitRateWindow see the record
         * @param drawdownCooldownDays see the record
         */
        public Config(
                double maxDrawdown,
                double dailyLoss,
                double minHitRate,
                int hitRateWindow,
                double drawdownCooldownDays) {
            this(
                    maxDrawdown,
                    dailyLoss,
                    minHitRate,
                    hitRateWindow,
                    drawdownCooldownDays,
                    DrawdownRearm.MANUAL);
        }

        private static void openUnit(double v, String field) {
            if (!(v > 0 && v < 1)) {
                throw new IllegalArgumentException(
                        "circuit breaker config: field '"
                                + field
                                + "' must be in (0, 1), was "
                                + v);
            }
        }

        /**
         * Defaults: drawdown 15% (manual re-arm), daily loss 5%, hit rate 40% over 50 decisions.
         *
         * @return the defaults
         */
        public static Config defaults() {
            return new Config(0.15, 0.05, 0.40, 50, 30, DrawdownRearm.MANUAL);
        }

        /**
         * This configuration with another drawdown re-arm rule.
         *
         * @param rule the rule
         * @return a copy
         */
        public Config withDrawdownRearm(DrawdownRearm rule) {
            return new Config(
                    maxDrawdown, dailyLoss, minHitRate, hitRateWindow, drawdownCooldownDays, rule);
        }
    }

    private final Config config;
    private final String policy;
    private final List<BreakerEvent> events = new ArrayList<>();

    private double peak = Double.NaN;
    private boolean drawdownTripped;
    private double lastDrawdown;
    private long drawdownTrippedAt;

    private final UtcDay day = new UtcDay();
    private double dayStart = Double.NaN;
    private boolean dailyTripped;
    private double lastDailyLoss;

    private final boolean[] outcomes;
    private int outcomeCount;
    private int outcomeNext;
    private int wins;
    private boolean hitRateTripped;
    private int decisionsSinceTrip;
    private double lastEquity = Double.NaN;
    private HaltReason haltReasonMemo;
    private PartMemo drawdownPart;
    private PartMemo dailyLossPart;
    // The hit-rate part of the halt reason by wins in a full window (Strings: safe to share).
    private final String[] hitRateParts;

    /**
     * Creates the breakers of one account.
     *
     * @param config limits
     * @param policy the policy's name, for events and reasons
     */
    public CircuitBreakers(Config config, String policy) {
        this.config = config;
        this.policy = policy;
        this.outcomes = new boolean[config.hitRateWindow()];
        this.hitRateParts = new String[config.hitRateWindow() + 1];
    }

    /**
     * Observes the account's equity.
     *
     * @param millis the bar start, epoch ms; non-decreasing across calls
     * @param equity equity, {@code > 0}
     */
    public void observeEquity(long millis, double equity) {
        if (day.advance(millis)) {
            dayStart = equity;
            if (dailyTripped) {
                dailyTripped = false;
                record(millis, Breaker.DAILY_LOSS, BreakerEvent.Kind.REARMED, 0, "new UTC day");
            }
        }
        double dailyLoss = 1 - equity / dayStart;
        lastDailyLoss = dailyLoss;
        if (!dailyTripped && dailyLoss > config.dailyLoss() + ROUNDING) {
            dailyTripped = true;
            record(
                    millis,
                    Breaker.DAILY_LOSS,
                    BreakerEvent.Kind.ARMED,
                    dailyLoss,
                    "limit exceeded");
        }

        if (!(equity <= peak)) {
            peak = equity;
        }
        double dd = 1 - equity / peak;
        lastDrawdown = dd;
        if (!drawdownTripped) {
            if (dd > config.maxDrawdown() + ROUNDING) {
                drawdownTripped = true;
                drawdownTrippedAt = millis;
                record(millis, Breaker.MAX_DRAWDOWN, BreakerEvent.Kind.ARMED, dd, "limit exceeded");
            }
        } else if (config.drawdownRearm() == DrawdownRearm.COOLDOWN
                && millis - drawdownTrippedAt >= config.drawdownCooldownDays() * DAY_MILLIS) {
            drawdownTripped = false;
            peak = equity;
            lastDrawdown = 0;
            record(
                    millis,
                    Breaker.MAX_DRAWDOWN,
                    BreakerEvent.Kind.REARMED,
                    dd,
                    "cooldown of " + config.drawdownCooldownDays() + " days");
        }
        lastEquity = equity;
    }

    /**
     * Re-arms a tripped breaker by an operator's decision (audited by the caller). For {@code
     * max_drawdown} the reference peak restarts at the last observed equity, so the limit then
     * bounds the loss from there; for {@code hit_rate} the rolling window is cleared.
     *
     * @param breaker the breaker
     * @param millis when, epoch ms
     * @param reason why, non-blank; recorded with the event
     * @return true if it was tripped and is now re-armed, false if it was not tripped
     * @throws IllegalArgumentException if the reason is blank
     */
    public boolean rearm(Breaker breaker, long millis, String reason) {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("a re-arm needs a reason");
        }
        if (!tripped(breaker)) {
            return false;
        }
        switch (breaker) {
            case MAX_DRAWDOWN -> {
                drawdownTripped = false;
                peak = Double.isNaN(lastEquity) ? peak : lastEquity;
                record(millis, breaker, BreakerEvent.Kind.REARMED, lastDrawdown, reason);
                lastDrawdown = 0;
            }
            case DAILY_LOSS -> {
                dailyTripped = false;
                dayStart = Double.isNaN(lastEquity) ? dayStart : lastEquity;
                record(millis, breaker, BreakerEvent.Kind.REARMED, lastDailyLoss, reason);
                lastDailyLoss = 0;
            }
            case HIT_RATE -> {
                hitRateTripped = false;
                double rate = hitRate();
                outcomeCount = 0;
                outcomeNext = 0;
                wins = 0;
                record(millis, breaker, BreakerEvent.Kind.REARMED, rate, reason);
            }
        }
        return true;
    }

    /**
     * Whether a tripped breaker flattens the position (as opposed to halting new risk only).
     *
     * @return true while {@code max_drawdown} or {@code daily_loss} is tripped
     */
    public boolean flattening() {
        return drawdownTripped || dailyTripped;
    }

    /**
     * The drawdown the breaker measures: from its reference peak.
     *
     * @return fraction, NaN before the first observation
     */
    public double drawdown() {
        return lastDrawdown;
    }

    /**
     * The loss since the day's first observation.
     *
     * @return fraction, NaN before the first observation
     */
    public double dailyLoss() {
        return lastDailyLoss;
    }

    /**
     * The limits.
     *
     * @return the configuration
     */
    public Config config() {
        return config;
    }

    /**
     * Observes a closed long decision: whether holding it over its horizon earned a positive
     * return.
     *
     * @param millis when the outcome became known (a bar start), epoch ms
     * @param won whether the decision's holding return was positive
     */
    public void observeDecision(long millis, boolean won) {
        int window = outcomes.length;
        if (outcomeCount == window) {
            if (outcomes[outcomeNext]) {
                wins--;
            }
        } else {
            outcomeCount++;
        }
        outcomes[outcomeNext] = won;
        if (won) {
            wins++;
        }
        outcomeNext = (outcomeNext + 1) % window;
        if (outcomeCount < window) {
            return;
        }
        double rate = hitRate();
        if (!hitRateTripped && rate < config.minHitRate() - ROUNDING) {
            hitRateTripped = true;
            decisionsSinceTrip = 0;
            record(millis, Breaker.HIT_RATE, BreakerEvent.Kind.ARMED, rate, "below the floor");
        } else if (hitRateTripped
                && ++decisionsSinceTrip >= window
                && rate >= config.minHitRate() - ROUNDING) {
            hitRateTripped = false;
            record(
                    millis,
                    Breaker.HIT_RATE,
                    BreakerEvent.Kind.REARMED,
                    rate,
                    window + " decisions closed since the trip, hit rate back at the floor");
        }
    }

    /**
     * The rolling hit rate.
     *
     * @return wins over closed decisions in the window, NaN before the first
     */
    public double hitRate() {
        return outcomeCount == 0 ? Double.NaN : (double) wins / outcomeCount;
    }

    /**
     * Whether any breaker is tripped.
     *
     * @return true while new risk is halted
     */
    public boolean halted() {
        return drawdownTripped || dailyTripped || hitRateTripped;
    }

    /**
     * Whether one breaker is tripped.
     *
     * @param breaker the breaker
     * @return true if it halts new risk
     */
    public boolean tripped(Breaker breaker) {
        return switch (breaker) {
            case MAX_DRAWDOWN -> drawdownTripped;
            case DAILY_LOSS -> dailyTripped;
            case HIT_RATE -> hitRateTripped;
        };
    }

    /**
     * Applies the halt to a guarded decision: while {@code max_drawdown} or {@code daily_loss} is
     * tripped the target becomes 0 (flat); while only {@code hit_rate} is, a target above {@code
     * currentWeight} becomes {@code currentWeight} (no new risk; reductions and exits pass).
     *
     * @param decision the risk guard's decision
     * @param currentWeight the position's current weight, fraction of equity, {@code >= 0}
     * @return the decision, or a reduced one whose reason names the tripped breakers and values
     */
    public GuardedDecision apply(GuardedDecision decision, double currentWeight) {
        if (!halted()) {
            return decision;
        }
        if (flattening()) {
            if (decision.fraction() == 0) {
                return decision;
            }
            return new GuardedDecision(
                    0, decision.reason() + "; " + haltReason() + " -> flat", true);
        }
        double held = Double.isFinite(currentWeight) ? Math.max(0, currentWeight) : 0;
        if (decision.fraction() <= held) {
            return decision;
        }
        return new GuardedDecision(
                Math.min(held, decision.fraction()),
                decision.reason() + "; " + haltReason() + " -> no new risk",
                true);
    }

    /**
     * Why new risk is halted.
     *
     * @return e.g. {@code circuit breaker max_drawdown armed: drawdown 0.1612 > limit 0.1500}, or
     *     an empty string when not halted
     */
    public String haltReason() {
        // The text only changes with the figures it shows; a halted book asks for it on every bar
        // (the risk guard's reason, the session's answer), and formatting it was a tenth of a
        // session step. One immutable memo, so a racy read sees a whole one or builds its own.
        double drawdown = drawdownTripped ? lastDrawdown : Double.NaN;
        double dailyLoss = dailyTripped ? lastDailyLoss : Double.NaN;
        double rate = hitRateTripped ? hitRate() : Double.NaN;
        int tripped = (drawdownTripped ? 1 : 0) | (dailyTripped ? 2 : 0) | (hitRateTripped ? 4 : 0);
        HaltReason memo = haltReasonMemo;
        if (memo != null && memo.shows(tripped, drawdown, dailyLoss, rate)) {
            return memo.text();
        }
        // A miss formats only the part whose figure changed: with the drawdown breaker tripped and
        // the hit rate moving bar by bar, the drawdown part stays the one kept.
        StringBuilder s = new StringBuilder();
        if (drawdownTripped) {
            PartMemo m = drawdownPart;
            if (m == null || !m.shows(lastDrawdown)) {
                m =
                        new PartMemo(
                                lastDrawdown,
                                part(
                                        "max_drawdown",
                                        "drawdown",
                                        lastDrawdown,
                                        ">",
                                        config.maxDrawdown()));
                drawdownPart = m;
            }
            s.append(m.text());
        }
        if (dailyTripped) {
            PartMemo m = dailyLossPart;
            if (m == null || !m.shows(lastDailyLoss)) {
                m =
                        new PartMemo(
                                lastDailyLoss,
                                part(
                                        "daily_loss",
                                        "daily loss",
                                        lastDailyLoss,
                                        ">",
                                        config.dailyLoss()));
                dailyLossPart = m;
            }
            if (s.length() > 0) {
                s.append("; ");
            }
            s.append(m.text());
        }
        if (hitRateTripped) {
            if (s.length() > 0) {
                s.append("; ");
            }
            s.append(hitRatePart(rate));
        }
        String text = s.toString();
        haltReasonMemo = new HaltReason(tripped, drawdown, dailyLoss, rate, text);
        return text;
    }

    /**
     * The last {@link #haltReason()}, the breakers tripped then (bits 1 drawdown, 2 daily loss, 4
     * hit rate) and the figures it shows (NaN for a breaker not tripped; compared bit for bit, so
     * NaN equals NaN and a changed figure is a new text).
     */
    private record HaltReason(
            int tripped, double drawdown, double dailyLoss, double hitRate, String text) {
        boolean shows(int tripped, double drawdown, double dailyLoss, double hitRate) {
            return tripped == this.tripped
                    && Double.doubleToRawLongBits(drawdown)
                            == Double.doubleToRawLongBits(this.drawdown)
                    && Double.doubleToRawLongBits(dailyLoss)
                            == Double.doubleToRawLongBits(this.dailyLoss)
                    && Double.doubleToRawLongBits(hitRate)
                            == Double.doubleToRawLongBits(this.hitRate);
        }
    }

    /**
     * The hit-rate part of {@link #haltReason()}. With a full window the rate is one of {@code
     * window + 1} fractions, so each text is formatted once and kept by its count of wins.
     */
    private String hitRatePart(double rate) {
        if (outcomeCount != outcomes.length) {
            return part("hit_rate", "hit rate", rate, "<", config.minHitRate());
        }
        String text = hitRateParts[wins];
        if (text == null) {
            text = part("hit_rate", "hit rate", rate, "<", config.minHitRate());
            hitRateParts[wins] = text;
        }
        return text;
    }

    /**
     * One part of {@link #haltReason()} and the figure it shows (compared bit for bit); immutable,
     * so a racy read sees a whole one or builds its own.
     */
    private record PartMemo(double value, String text) {
        boolean shows(double figure) {
            return Double.doubleToRawLongBits(figure) == Double.doubleToRawLongBits(value);
        }
    }

    private static String part(String breaker, String what, double value, String op, double limit) {
        return String.format(
                Locale.ROOT,
                "circuit breaker %s armed: %s %.4f %s limit %.4f",
                breaker,
                what,
                value,
                op,
                limit);
    }

    /**
     * The state changes so far.
     *
     * @return events in time order, unmodifiable
     */
    public List<BreakerEvent> events() {
        return List.copyOf(events);
    }

    /**
     * How many state changes so far, without copying them.
     *
     * @return {@code events().size()}
     */
    public int eventCount() {
        return events.size();
    }

    /**
     * The last state changes.
     *
     * @param n how many at most, {@code >= 0}
     * @return the last {@code min(n, eventCount())} events in time order, unmodifiable
     * @throws IllegalArgumentException if {@code n < 0}
     */
    public List<BreakerEvent> lastEvents(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("n must be >= 0, was " + n);
        }
        return List.copyOf(events.subList(Math.max(0, events.size() - n), events.size()));
    }

    private void record(
            long millis, Breaker breaker, BreakerEvent.Kind kind, double value, String why) {
        BreakerEvent e =
                new BreakerEvent(Instant.ofEpochMilli(millis), policy, breaker, kind, value, why);
        events.add(e);
        if (!LOG.isInfoEnabled()) {
            return; // the formatted value below is built only for a line that is written
        }
        LOG.info(
                "{} circuit breaker {} {} for policy '{}' at {}: value {} ({})",
                kind == BreakerEvent.Kind.ARMED ? "tripped:" : "reset:",
                breaker.label(),
                kind.label(),
                policy,
                e.time(),
                String.format(Locale.ROOT, "%.4f", value),
                why);
    }
}
