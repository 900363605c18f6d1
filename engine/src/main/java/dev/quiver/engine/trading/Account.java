package dev.quiver.engine.trading;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One long-only cash account in one asset: {@code units} of the asset and {@code cash}, in quote
 * currency. Orders fill at a bar's open ({@link #rebalance}, paper and backtest) or as posted fills
 * ({@link #fill}, an execution system's report); equity is marked at closes ({@link #mark}). A
 * rebalance never spends more than the cash, costs included, so there is no leverage.
 *
 * <p>Figures: equity {@code cash + units * price}; high-water mark the largest marked equity (the
 * starting equity included); drawdown {@code 1 - equity / highWaterMark}; daily P&amp;L equity
 * minus the first equity marked on the bar's UTC day. Not thread-safe: one writer.
 */
public final class Account {

    private final CostModel costs;
    private final double initialEquity;
    private final List<Trade> trades = new ArrayList<>();
    private double cash;
    private double units;
    private double peak;
    private double equity;
    private double drawdown;
    private final UtcDay day = new UtcDay();
    private double dayStartEquity;
    private double tradedNotional;
    private double totalCosts;
    private int barsWithPosition;
    private boolean inTrade;
    private long entryMillis;
    private double tradeCashFlow;
    private double tradeCosts;

    /**
     * Creates a flat account.
     *
     * @param initialEquity starting cash, quote currency, finite and {@code > 0}
     * @param costs the cost model of {@link #rebalance}
     * @throws IllegalArgumentException if {@code initialEquity} is not finite and positive
     */
    public Account(double initialEquity, CostModel costs) {
        if (!(initialEquity > 0) || Double.isInfinite(initialEquity)) {
            throw new IllegalArgumentException(
                    "initial equity must be finite and > 0, was " + initialEquity);
        }
        this.initialEquity = initialEquity;
        this.cash = initialEquity;
        this.peak = initialEquity;
        this.equity = initialEquity;
        this.dayStartEquity = initialEquity;
        this.costs = costs;
    }

    /**
     * Rebalances to {@code targetFraction} of the equity valued at {@code price} (a bar open),
     * paying {@link CostModel#costOf} on the traded notional.
     *
     * @param targetFraction in {@code [0, 1]}; 0 sells everything
     * @param price fill price, {@code > 0}
     * @param millis fill time, epoch ms
     */
    public void rebalance(double targetFraction, double price, long millis) {
        double value = cash + units * price;
        double delta = targetFraction == 0 ? -units : targetFraction * value / price - units;
        if (delta > 0) {
            delta = Math.min(delta, Math.max(0, cash) / (price * (1 + costs.rate())));
        }
        if (delta == 0) {
            return;
        }
        apply(delta, price, costs.costOf(delta * price), millis, targetFraction == 0);
    }

    /**
     * Applies a fill reported by an execution system.
     *
     * @param quantity signed units: {@code > 0} bought, {@code < 0} sold
     * @param price fill price, {@code > 0}
     * @param fee fee paid, quote currency, {@code >= 0}
     * @param millis fill time, epoch ms
     * @throws IllegalArgumentException if a sale exceeds the position (long only) or a value is not
     *     finite
     */
    public void fill(double quantity, double price, double fee, long millis) {
        if (!Double.isFinite(quantity) || !(price > 0) || !(fee >= 0) || Double.isInfinite(fee)) {
            throw new IllegalArgumentException(
                    "fill: quantity " + quantity + ", price " + price + ", fee " + fee);
        }
        if (quantity < 0 && -quantity > units * (1 + 1e-12)) {
            throw new IllegalArgumentException(
                    "fill: sells "
                            + (-quantity)
                            + " units but the position holds "
                            + units
                            + " (long only)");
        }
        boolean closes = quantity < 0 && -quantity >= units * (1 - 1e-12);
        apply(closes ? -units : quantity, price, fee, millis, closes);
    }

    private void apply(double delta, double price, double cost, long millis, boolean toFlat) {
        if (!inTrade) {
            inTrade = true;
            entryMillis = millis;
            tradeCashFlow = 0;
            tradeCosts = 0;
        }
        double notional = delta * price;
        cash -= notional + cost;
        units = toFlat ? 0 : units + delta;
        tradedNotional += Math.abs(notional);
        totalCosts += cost;
        tradeCashFlow -= notional;
        tradeCosts += cost;
        if (units == 0) {
            trades.add(
                    new Trade(
                            Instant.ofEpochMilli(entryMillis),
                            Instant.ofEpochMilli(millis),
                            tradeCashFlow,
                            tradeCosts,
                            false));
            inTrade = false;
        }
    }

    /**
     * Marks the equity at a bar's close.
     *
     * @param close the close price, {@code > 0}
     * @param millis the bar's start, epoch ms (its UTC day starts a new daily P&amp;L)
     * @return the marked equity
     */
    public double mark(double close, long millis) {
        double e = cash + units * close;
        if (day.advance(millis)) {
            dayStartEquity = equity;
        }
        peak = Math.max(peak, e);
        equity = e;
        drawdown = Math.max(0, 1 - e / peak);
        if (units > 0) {
            barsWithPosition++;
        }
        return e;
    }

    /**
     * Values the book at {@code price} between two marks, e.g. at the last close right after a
     * posted {@link #fill}: equity, high-water mark and drawdown include the fill at once. Unlike
     * {@link #mark} it is not a bar: the UTC day of the daily P&amp;L stays the last mark's and no
     * bar with a position is counted, so the next {@link #mark} goes on exactly as it would have.
     *
     * @param price a price, {@code > 0} (the last close)
     * @return the equity at {@code price}, quote currency
     * @throws IllegalArgumentException if {@code price} is not finite and {@code > 0}
     */
    public double revalue(double price) {
        if (!(price > 0) || Double.isInfinite(price)) {
            throw new IllegalArgumentException(
                    "revalue: price must be finite and > 0, was " + price);
        }
        double e = cash + units * price;
        peak = Math.max(peak, e);
        equity = e;
        drawdown = Math.max(0, 1 - e / peak);
        return e;
    }

    /**
     * Equity at the last mark (the initial equity before the first).
     *
     * @return quote currency
     */
    public double equity() {
        return equity;
    }

    /**
     * Drawdown at the last mark from the high-water mark.
     *
     * @return fraction in {@code [0, 1]}
     */
    public double drawdown() {
        return drawdown;
    }

    /**
     * The high-water mark: the largest marked equity, the initial equity included.
     *
     * @return quote currency
     */
    public double highWaterMark() {
        return peak;
    }

    /**
     * Equity at the last mark minus the equity at the end of the previous UTC day's last mark (the
     * initial equity on the first day).
     *
     * @return quote currency
     */
    public double dailyPnl() {
        return equity - dayStartEquity;
    }

    /**
     * Cash.
     *
     * @return quote currency; may be slightly negative only through posted fees
     */
    public double cash() {
        return cash;
    }

    /**
     * Units of the asset held.
     *
     * @return {@code >= 0}
     */
    public double units() {
        return units;
    }

    /**
     * The starting equity.
     *
     * @return quote currency
     */
    public double initialEquity() {
        return initialEquity;
    }

    /**
     * Equity valued at {@code price}.
     *
     * @param price a price, {@code > 0}
     * @return {@code cash + units * price}
     */
    public double value(double price) {
        return cash + units * price;
    }

    /**
     * Weight of the position at {@code close}.
     *
     * @param close a price, {@code > 0}
     * @return {@code units * close / equity}, 0 when equity is not positive
     */
    public double weight(double close) {
        double e = cash + units * close;
        return e > 0 ? units * close / e : 0;
    }

    /**
     * Whether no units are held.
     *
     * @return {@code units() == 0}
     */
    public boolean flat() {
        return units == 0;
    }

    /**
     * Closes an open trade at the last close, for reporting only: no fill, no cost.
     *
     * @param lastClose the last close
     * @param lastMillis its bar's start, epoch ms
     */
    public void closeForReport(double lastClose, long lastMillis) {
        if (inTrade) {
            trades.add(
                    new Trade(
                            Instant.ofEpochMilli(entryMillis),
                            Instant.ofEpochMilli(lastMillis),
                            tradeCashFlow + units * lastClose,
                            tradeCosts,
                            true));
            inTrade = false;
        }
    }

    /**
     * Round trips so far.
     *
     * @return unmodifiable view, in close order
     */
    public List<Trade> trades() {
        return Collections.unmodifiableList(trades);
    }

    /**
     * Sum of |traded notional|.
     *
     * @return quote currency
     */
    public double tradedNotional() {
        return tradedNotional;
    }

    /**
     * Sum of costs paid.
     *
     * @return quote currency
     */
    public double totalCosts() {
        return totalCosts;
    }

    /**
     * Marks at which a position was held.
     *
     * @return count of bars
     */
    public int barsWithPosition() {
        return barsWithPosition;
    }
}
