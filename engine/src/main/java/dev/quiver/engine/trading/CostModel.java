package dev.quiver.engine.trading;

/**
 * Trading costs charged on every traded notional, buys and sells alike: {@code cost = |notional| *
 * (feeBps + slippageBps) / 1e4}.
 *
 * @param feeBps exchange fee, basis points of notional, finite and {@code >= 0}
 * @param slippageBps slippage against the fill price, basis points of notional, finite and {@code
 *     >= 0}
 */
public record CostModel(double feeBps, double slippageBps) {

    /** Defaults: 10 bps fee, 5 bps slippage. */
    public static final CostModel DEFAULT = new CostModel(10, 5);

    /** No costs (for comparisons). */
    public static final CostModel NONE = new CostModel(0, 0);

    /**
     * Validates.
     *
     * @throws IllegalArgumentException naming the field if a value is negative or not finite
     */
    public CostModel {
        if (!(feeBps >= 0) || Double.isInfinite(feeBps)) {
            throw new IllegalArgumentException("feeBps must be finite and >= 0, was " + feeBps);
        }
        if (!(slippageBps >= 0) || Double.isInfinite(slippageBps)) {
            throw new IllegalArgumentException(
                    "slippageBps must be finite and >= 0, was " + slippageBps);
        }
    }

    /**
     * Cost rate per unit of notional.
     *
     * @return {@code (feeBps + slippageBps) / 1e4}
     */
    public double rate() {
        return (feeBps + slippageBps) / 1e4;
    }

    /**
     * Cost of one fill.
     *
     * @param notional traded notional in quote currency, either sign
     * @return the cost, {@code >= 0}
     */
    public double costOf(double notional) {
        return Math.abs(notional) * rate();
    }
}
