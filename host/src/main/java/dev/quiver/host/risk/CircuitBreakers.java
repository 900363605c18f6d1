package dev.quiver.host.risk;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The circuit breakers of one account (one sizing policy): maximum drawdown, daily loss and rolling
 * hit rate. While any breaker is tripped, new risk is halted: a guarded target above the current
 * weight is cut to the current weight (reductions and exits pass), with a reason naming the breaker
 * and its value.
 *
 * <p>Vocabulary: a breaker <em>arms</em> when it trips (it starts halting) and <em>re-arms</em>
 * when it resets (new risk allowed again, ready to trip again). Each change is logged (INFO) and
 * recorded as a {@link BreakerEvent}.
 *
 * <table>
 *   <caption>Trip and re-arm rules</caption>
 *   <tr><th>breaker</th><th>trips when</th><th>re-arms when</th></tr>
 *   <tr><td>{@code max_drawdown}</td><td>{@code 1 - equity / peak > maxDrawdown} (exactly the limit
 *       does not trip)</td><td>the drawdown recovers to {@code <= maxDrawdown / 2}, or, since a
 *       flat account cannot recover, after {@code drawdownCooldownDays} calendar days halted; on a
 *       cooldown re-arm the breaker's peak restarts at the current equity (freqtrade
 *       {@code MaxDrawdown} stop duration)</td></tr>
 *   <tr><td>{@code daily_loss}</td><td>{@code 1 - equity / dayStart > dailyLoss}, {@code dayStart}
 *       the day's first equity observation (a bar belongs to the UTC day of its start; the backtest
 *       observes equity at each bar's open and close)</td><td>the first observation of the next UTC
 *       calendar day</td></tr>
 *   <tr><td>{@code hit_rate}</td><td>the last {@code hitRateWindow} closed long decisions (a
 *       decision is closed when its one-bar holding return is known) are full and their hit rate is
 *       {@code < minHitRate} (exactly the threshold does not trip)</td><td>the rolling hit rate is
 *       back to {@code >= minHitRate}; decisions keep being scored while halted (the policy's
 *       proposals are paper-traded), so it can recover</td></tr>
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
    }

    /**
     * Limits.
     *
     * @param maxDrawdown drawdown limit, fraction in {@code (0, 1)}, default 0.15
     * @param dailyLoss daily loss limit, fraction in {@code (0, 1)}, default 0.05
     * @param minHitRate hit-rate floor, fraction in {@code [0, 1]}, default 0.40
     * @param hitRateWindow closed decisions in the rolling hit rate, {@code >= 1}, default 50
     * @param drawdownCooldownDays calendar days after which a tripped drawdown breaker re-arms with
     *     a fresh peak, finite and {@code > 0}, default 30
     */
    public record Config(
            double maxDrawdown,
            double dailyLoss,
            double minHitRate,
            int hitRateWindow,
            double drawdownCooldownDays) {

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
         * Defaults: drawdown 15%, daily loss 5%, hit rate 40% over 50 decisions, cooldown 30 days.
         *
         * @return the defaults
         */
        public static Config defaults() {
            return new Config(0.15, 0.05, 0.40, 50, 30);
        }
    }

    private final Config config;
    private final String policy;
    private final List<BreakerEvent> events = new ArrayList<>();

    private double peak = Double.NaN;
    private boolean drawdownTripped;
    private double lastDrawdown;
    private long drawdownTrippedAt;

    private long day = Long.MIN_VALUE;
    private double dayStart = Double.NaN;
    private boolean dailyTripped;
    private double lastDailyLoss;

    private final boolean[] outcomes;
    private int outcomeCount;
    private int outcomeNext;
    private int wins;
    private boolean hitRateTripped;

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
    }

    /**
     * Observes the account's equity.
     *
     * @param millis the bar start, epoch ms; non-decreasing across calls
     * @param equity equity, {@code > 0}
     */
    public void observeEquity(long millis, double equity) {
        long d = Math.floorDiv(millis, DAY_MILLIS);
        if (d != day) {
            day = d;
            dayStart = equity;
            if (dailyTripped) {
                dailyTripped = false;
                record(millis, Breaker.DAILY_LOSS, BreakerEvent.Kind.REARMED, 0);
            }
        }
        double dailyLoss = 1 - equity / dayStart;
        lastDailyLoss = dailyLoss;
        if (!dailyTripped && dailyLoss > config.dailyLoss() + ROUNDING) {
            dailyTripped = true;
            record(millis, Breaker.DAILY_LOSS, BreakerEvent.Kind.ARMED, dailyLoss);
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
                record(millis, Breaker.MAX_DRAWDOWN, BreakerEvent.Kind.ARMED, dd);
            }
        } else if (dd <= config.maxDrawdown() / 2) {
            drawdownTripped = false;
            record(millis, Breaker.MAX_DRAWDOWN, BreakerEvent.Kind.REARMED, dd);
        } else if (millis - drawdownTrippedAt >= config.drawdownCooldownDays() * DAY_MILLIS) {
            drawdownTripped = false;
            peak = equity;
            lastDrawdown = 0;
            record(millis, Breaker.MAX_DRAWDOWN, BreakerEvent.Kind.REARMED, dd);
        }
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
            record(millis, Breaker.HIT_RATE, BreakerEvent.Kind.ARMED, rate);
        } else if (hitRateTripped && rate >= config.minHitRate() - ROUNDING) {
            hitRateTripped = false;
            record(millis, Breaker.HIT_RATE, BreakerEvent.Kind.REARMED, rate);
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
     * Applies the halt to a guarded decision: while halted, a target above {@code currentWeight}
     * becomes {@code currentWeight} (no new risk; reductions and exits pass unchanged).
     *
     * @param decision the risk guard's decision
     * @param currentWeight the position's current weight, fraction of equity, {@code >= 0}
     * @return the decision, or a reduced one whose reason names the tripped breakers and values
     */
    public GuardedDecision apply(GuardedDecision decision, double currentWeight) {
        if (!halted()) {
            return decision;
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
        StringBuilder s = new StringBuilder();
        if (drawdownTripped) {
            append(s, "max_drawdown", "drawdown", lastDrawdown, ">", config.maxDrawdown());
        }
        if (dailyTripped) {
            append(s, "daily_loss", "daily loss", lastDailyLoss, ">", config.dailyLoss());
        }
        if (hitRateTripped) {
            append(s, "hit_rate", "hit rate", hitRate(), "<", config.minHitRate());
        }
        return s.toString();
    }

    private static void append(
            StringBuilder s, String breaker, String what, double value, String op, double limit) {
        if (s.length() > 0) {
            s.append("; ");
        }
        s.append(
                String.format(
                        Locale.ROOT,
                        "circuit breaker %s armed: %s %.4f %s limit %.4f",
                        breaker,
                        what,
                        value,
                        op,
                        limit));
    }

    /**
     * The state changes so far.
     *
     * @return events in time order, unmodifiable
     */
    public List<BreakerEvent> events() {
        return List.copyOf(events);
    }

    private void record(long millis, Breaker breaker, BreakerEvent.Kind kind, double value) {
        BreakerEvent e =
                new BreakerEvent(Instant.ofEpochMilli(millis), policy, breaker, kind, value);
        events.add(e);
        LOG.info(
                "{} circuit breaker {} {} for policy '{}' at {}: value {}",
                kind == BreakerEvent.Kind.ARMED ? "tripped:" : "reset:",
                breaker.label(),
                kind.label(),
                policy,
                e.time(),
                String.format(Locale.ROOT, "%.4f", value));
    }
}
