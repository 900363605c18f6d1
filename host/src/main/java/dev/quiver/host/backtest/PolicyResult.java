package dev.quiver.host.backtest;

import dev.quiver.engine.trading.Trade;
import java.util.List;

/**
 * One sizing policy (or buy-and-hold) run as one account over every test bar.
 *
 * <p>Arrays are indexed by test bar ({@code 0} = the first test bar of the first fold) and must not
 * be modified.
 *
 * @param name policy name, e.g. {@code kelly}, or {@code buy_and_hold}
 * @param equity equity at each test bar's close
 * @param drawdown drawdown from the running equity peak at each close, fraction in {@code [0, 1)}
 * @param targetFraction the guarded target fraction decided at each close (NaN for buy-and-hold
 *     after its entry, where no decision is made)
 * @param reasons why, per test bar
 * @param trades the trades, in time order
 * @param tradedNotional sum of |traded notional|, quote currency
 * @param totalCosts fees and slippage charged, quote currency
 * @param metrics performance metrics of the equity curve
 */
public record PolicyResult(
        String name,
        double[] equity,
        double[] drawdown,
        double[] targetFraction,
        String[] reasons,
        List<Trade> trades,
        double tradedNotional,
        double totalCosts,
        PerformanceMetrics metrics) {

    /** Copies the trade list. */
    public PolicyResult {
        trades = List.copyOf(trades);
    }

    /**
     * Sum of the trades' gross P&amp;L.
     *
     * @return quote currency
     */
    public double grossPnl() {
        return trades.stream().mapToDouble(Trade::grossPnl).sum();
    }
}
