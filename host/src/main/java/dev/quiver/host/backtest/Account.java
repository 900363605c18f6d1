package dev.quiver.host.backtest;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * One long-only cash account: holds {@code units} of the asset and {@code cash}. Orders fill at a
 * bar's open; equity is marked at closes. A buy never spends more than the cash, costs included, so
 * there is no leverage.
 */
final class Account {

    private final CostModel costs;
    private final double[] equity;
    private final double[] drawdown;
    private final List<Trade> trades = new ArrayList<>();
    private double cash;
    private double units;
    private double peak;
    private double tradedNotional;
    private double totalCosts;
    private int barsWithPosition;
    private boolean inTrade;
    private long entryMillis;
    private double tradeCashFlow;
    private double tradeCosts;

    Account(double initialEquity, CostModel costs, int bars) {
        this.cash = initialEquity;
        this.peak = initialEquity;
        this.costs = costs;
        this.equity = new double[bars];
        this.drawdown = new double[bars];
    }

    /**
     * Rebalances to {@code targetFraction} of the equity valued at {@code price} (a bar open).
     *
     * @param targetFraction in {@code [0, 1]}; 0 sells everything
     * @param price fill price
     * @param millis fill time
     */
    void fill(double targetFraction, double price, long millis) {
        double value = cash + units * price;
        double delta = targetFraction == 0 ? -units : targetFraction * value / price - units;
        if (delta > 0) {
            delta = Math.min(delta, Math.max(0, cash) / (price * (1 + costs.rate())));
        }
        if (delta == 0) {
            return;
        }
        if (!inTrade) {
            inTrade = true;
            entryMillis = millis;
            tradeCashFlow = 0;
            tradeCosts = 0;
        }
        double notional = delta * price;
        double cost = costs.costOf(notional);
        cash -= notional + cost;
        units = targetFraction == 0 ? 0 : units + delta;
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

    /** Marks the equity at test bar {@code k}'s close. */
    void mark(int k, double close) {
        double e = cash + units * close;
        peak = Math.max(peak, e);
        equity[k] = e;
        drawdown[k] = Math.max(0, 1 - e / peak);
        if (units > 0) {
            barsWithPosition++;
        }
    }

    double equity(int k) {
        return equity[k];
    }

    double drawdown(int k) {
        return drawdown[k];
    }

    /** Equity valued at {@code price}. */
    double value(double price) {
        return cash + units * price;
    }

    /** Current weight of the position at {@code close}. */
    double weight(double close) {
        double e = cash + units * close;
        return e > 0 ? units * close / e : 0;
    }

    boolean flat() {
        return units == 0;
    }

    /** Closes an open trade at the last close, for reporting only: no fill, no cost. */
    void closeForReport(double lastClose, long lastMillis) {
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

    PolicyResult result(String name, long[] times, double[] targets, String[] reasons) {
        return new PolicyResult(
                name,
                equity,
                drawdown,
                targets,
                reasons,
                trades,
                tradedNotional,
                totalCosts,
                PerformanceMetrics.of(
                        times, equity, trades, tradedNotional, barsWithPosition, totalCosts));
    }
}
