package dev.quiver.engine;

import dev.quiver.engine.risk.CircuitBreakers;
import dev.quiver.engine.trading.CostModel;
import dev.quiver.engine.trading.Stops;

/**
 * How the engine trades a decision, the same in the backtest and live: costs, the position cap, the
 * rebalance band, the payoff window handed to sizing, host-side stops and circuit breakers.
 *
 * @param costs fee and slippage charged on every simulated fill
 * @param maxFraction position cap, fraction of equity, in {@code (0, 1]} (long only, no leverage)
 * @param rebalanceBand minimum |target - current weight| to trade, in {@code [0, 1]}; going to or
 *     from flat always trades
 * @param payoffWindowBars bars of 1-bar returns in the trailing payoff ratio, {@code >= 2}
 * @param stops host-side ATR stop-loss, take-profit and trailing stop; {@link Stops#NONE} for none
 * @param breakers circuit-breaker limits and re-arm rules, one set per policy; {@code null} for
 *     none
 */
public record TradingRules(
        CostModel costs,
        double maxFraction,
        double rebalanceBand,
        int payoffWindowBars,
        Stops stops,
        CircuitBreakers.Config breakers) {

    /**
     * Validates.
     *
     * @throws IllegalArgumentException naming the field and value when one is out of range
     */
    public TradingRules {
        if (costs == null) {
            throw new IllegalArgumentException("costs must not be null");
        }
        if (!(maxFraction > 0 && maxFraction <= 1)) {
            throw new IllegalArgumentException(
                    "maxFraction must be in (0, 1] (long only, no leverage), was " + maxFraction);
        }
        if (!(rebalanceBand >= 0 && rebalanceBand <= 1)) {
            throw new IllegalArgumentException(
                    "rebalanceBand must be in [0, 1], was " + rebalanceBand);
        }
        if (payoffWindowBars < 2) {
            throw new IllegalArgumentException(
                    "payoffWindowBars must be >= 2, was " + payoffWindowBars);
        }
        if (stops == null) {
            throw new IllegalArgumentException("stops must not be null (Stops.NONE for none)");
        }
    }
}
