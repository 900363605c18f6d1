package dev.quiver.host.rollout;

import java.util.Locale;
import java.util.Optional;

/**
 * Out-of-sample metrics a rollout scores per variant, each as a per-bar <em>loss</em> (lower is
 * better) so that one test compares any of them.
 *
 * <p>{@code p} is the variant's probability of an up move for the next bar, {@code y} is 1 when the
 * next bar closed above the decision bar's close (the backtest's label: {@code ln(close[t+1] /
 * close[t]) > 0}), {@code r = close[t+1] / close[t] - 1}.
 */
public enum Metric {
    /**
     * Logarithmic score: {@code -ln(q)}, {@code q = p} if up else {@code 1 - p}, {@code p} clipped
     * to {@code [1e-15, 1 - 1e-15]} as scikit-learn's {@code log_loss}; I. J. Good, "Rational
     * Decisions" (1952). 0.693 is a coin flip.
     */
    LOG_LOSS(true),
    /** Brier score: {@code (p - y)^2}; G. W. Brier, Monthly Weather Review 78(1), 1950. */
    BRIER(true),
    /**
     * Hit rate, as the loss {@code 1 - hit} with {@code hit = [(p > 0.5) == y]}; the report shows
     * the rate itself.
     */
    HIT_RATE(true),
    /**
     * Cost-adjusted P&amp;L of holding the variant's position for one bar, per unit of notional, as
     * the loss {@code -(w r - c |w - w_prev|)}: {@code w} the position (a prediction variant holds
     * 1 when {@code p > 0.5}, else 0: long only, as the backtest; a sizing variant holds its
     * fraction), {@code w_prev} the same variant's previous position for the same routing key, and
     * {@code c} the cost per side ({@code rules.cost_bps / 10^4}). The report shows the P&amp;L.
     */
    PNL(false);

    static final double CLIP = 1e-15;

    private final boolean needsProbability;

    Metric(boolean needsProbability) {
        this.needsProbability = needsProbability;
    }

    /**
     * Whether the metric scores a probability (a prediction capability) rather than a position.
     *
     * @return true for log-loss, Brier and hit rate
     */
    public boolean needsProbability() {
        return needsProbability;
    }

    /**
     * The JSON name.
     *
     * @return e.g. {@code log_loss}
     */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses a JSON name.
     *
     * @param id e.g. {@code brier}
     * @return the metric, empty if unknown
     */
    public static Optional<Metric> byId(String id) {
        for (Metric m : values()) {
            if (m.id().equals(id)) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }

    /**
     * Log-loss of one forecast.
     *
     * @param p probability of up, in [0, 1]
     * @param up whether the next bar closed higher
     * @return {@code -ln(q)}, in {@code [0, 34.54]}
     */
    static double logLoss(double p, boolean up) {
        double q = Math.min(1 - CLIP, Math.max(CLIP, p));
        return -Math.log(up ? q : 1 - q);
    }

    /**
     * Brier score of one forecast.
     *
     * @param p probability of up, in [0, 1]
     * @param up whether the next bar closed higher
     * @return {@code (p - y)^2}, in [0, 1]
     */
    static double brier(double p, boolean up) {
        double y = up ? 1 : 0;
        return (p - y) * (p - y);
    }

    /**
     * Whether a forecast called the direction.
     *
     * @param p probability of up
     * @param up whether the next bar closed higher
     * @return {@code (p > 0.5) == up}
     */
    static boolean hit(double p, boolean up) {
        return (p > 0.5) == up;
    }
}
