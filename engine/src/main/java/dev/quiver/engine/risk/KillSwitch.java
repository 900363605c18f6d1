package dev.quiver.engine.risk;

/**
 * The engine's side of the operator's kill switch (promise P12): while a halt is in force a
 * decision may only keep or reduce the position, never increase it, and an order decided before the
 * halt that would buy at the next open is dropped.
 *
 * <p>Long only: exposure is the position's weight (units times price over equity), so "no new risk"
 * means a target fraction never above the current weight, and a fill never adds units. Flattening
 * is not implied: a held position stays until a policy, a stop or a breaker reduces it.
 *
 * <p>Stateless and thread-safe; the engine holds whether a halt is in force.
 */
public final class KillSwitch {

    private KillSwitch() {}

    /**
     * Limits a decision under a halt: a target above the current weight is clamped to the weight
     * (the reason says so, naming the halt); a target at or below it passes, its reason noting the
     * halt.
     *
     * @param d the decision after the risk guard and the breakers
     * @param weight the current position's weight at the decision bar's close, {@code >= 0}
     * @param halt the halt in force (who, when, why), one line
     * @return the decision allowed under the halt, never increasing exposure
     */
    public static GuardedDecision limit(GuardedDecision d, double weight, String halt) {
        double held = Double.isFinite(weight) && weight > 0 ? weight : 0.0;
        if (d.fraction() > held) {
            return new GuardedDecision(
                    held,
                    d.reason()
                            + "; "
                            + halt
                            + " -> held at "
                            + held
                            + " (target "
                            + d.fraction()
                            + " refused: reductions only)",
                    true);
        }
        return new GuardedDecision(
                d.fraction(), d.reason() + "; " + halt + " (reductions only)", d.overridden());
    }

    /**
     * Whether an order to rebalance to {@code targetFraction} at {@code price} would add units.
     *
     * @param targetFraction the order's target, fraction of equity at {@code price}
     * @param units units held now
     * @param value the book's value at {@code price}, quote currency
     * @param price the fill price, {@code > 0}
     * @return true if the fill would buy
     */
    public static boolean adds(double targetFraction, double units, double value, double price) {
        return targetFraction > 0 && targetFraction * value / price > units;
    }
}
