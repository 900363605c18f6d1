package dev.quiver.host.backtest;

import dev.quiver.engine.trading.Trade;
import java.util.List;
import org.apache.commons.math3.stat.descriptive.moment.Mean;
import org.apache.commons.math3.stat.descriptive.moment.Variance;

/**
 * Performance of one equity curve over the test span.
 *
 * <p>Conventions: returns are simple per-bar returns {@code r_i = E_i / E_(i-1) - 1} of the equity
 * marked at each bar's close; the risk-free rate is 0; bars per year are empirical, {@code (n - 1)
 * / years} with {@code years} the calendar time between the first and last bar start divided by
 * 365.25 days (so a 4h crypto series that trades 24/7 gives about 2,190, a daily stock series about
 * 252). A value that is undefined (no dispersion, no trades) is NaN.
 *
 * @param cagr compound annual growth rate, {@code (E_end / E_start)^(1 / years) - 1}
 * @param sharpe annualised Sharpe ratio, {@code mean(r) / sd(r) * sqrt(barsPerYear)}, sample
 *     standard deviation; W. F. Sharpe, "Mutual Fund Performance" (1966) and "The Sharpe Ratio"
 *     (1994)
 * @param sortino annualised Sortino ratio, {@code mean(r) / DD * sqrt(barsPerYear)} with downside
 *     deviation {@code DD = sqrt(sum(min(r, 0)^2) / N)} over all N returns, target 0; F. A. Sortino
 *     and R. van der Meer, "Downside Risk" (1991)
 * @param maxDrawdown largest peak-to-trough fall of the equity, a positive fraction in {@code [0,
 *     1]}
 * @param hitRate share of trades with positive P&amp;L after costs (a trade still open at the end
 *     counts, closed at the last close), NaN without trades
 * @param trades number of trades
 * @param turnover annualised turnover, {@code sum |traded notional| / mean equity / years}
 * @param exposure share of bars that end with a position
 * @param finalEquity equity at the last bar's close, quote currency
 * @param totalCosts fees and slippage charged, quote currency
 * @param barsPerYear the empirical bars per year used to annualise
 */
public record PerformanceMetrics(
        double cagr,
        double sharpe,
        double sortino,
        double maxDrawdown,
        double hitRate,
        int trades,
        double turnover,
        double exposure,
        double finalEquity,
        double totalCosts,
        double barsPerYear) {

    static final double DAYS_PER_YEAR = 365.25;

    /**
     * Computes every metric of one account.
     *
     * @param startMillis bar start times of the curve, epoch ms, increasing
     * @param equity equity at each bar's close, {@code > 0}, same length, at least 2
     * @param trades the account's trades
     * @param tradedNotional sum of |traded notional|
     * @param barsWithPosition number of bars ending with a position
     * @param totalCosts costs charged
     * @return the metrics
     */
    static PerformanceMetrics of(
            long[] startMillis,
            double[] equity,
            List<Trade> trades,
            double tradedNotional,
            int barsWithPosition,
            double totalCosts) {
        int n = equity.length;
        double years = years(startMillis[0], startMillis[n - 1]);
        double barsPerYear = (n - 1) / years;
        double[] r = returns(equity);
        // The mean return is shared by Sharpe and Sortino: computed once, the same value.
        double meanReturn = r.length == 0 ? Double.NaN : new Mean().evaluate(r);
        long wins = 0;
        for (Trade t : trades) {
            if (t.netPnl() > 0) {
                wins++;
            }
        }
        return new PerformanceMetrics(
                cagr(equity[0], equity[n - 1], years),
                sharpe(r, meanReturn, barsPerYear),
                sortino(r, meanReturn, barsPerYear),
                maxDrawdown(equity),
                trades.isEmpty() ? Double.NaN : (double) wins / trades.size(),
                trades.size(),
                tradedNotional / new Mean().evaluate(equity) / years,
                (double) barsWithPosition / n,
                equity[n - 1],
                totalCosts,
                barsPerYear);
    }

    /**
     * Calendar years between two instants.
     *
     * @param fromMillis epoch ms
     * @param toMillis epoch ms, later
     * @return {@code (to - from) / (365.25 days)}
     */
    static double years(long fromMillis, long toMillis) {
        return (toMillis - fromMillis) / (DAYS_PER_YEAR * 86_400_000.0);
    }

    /**
     * Simple returns of a curve.
     *
     * @param equity values, {@code > 0}
     * @return {@code double[equity.length - 1]}, {@code E_i / E_(i-1) - 1}
     */
    static double[] returns(double[] equity) {
        double[] r = new double[equity.length - 1];
        for (int i = 1; i < equity.length; i++) {
            r[i - 1] = equity[i] / equity[i - 1] - 1;
        }
        return r;
    }

    /**
     * Compound annual growth rate.
     *
     * @param start equity at the start, {@code > 0}
     * @param end equity at the end
     * @param years calendar years between them, {@code > 0}
     * @return {@code (end / start)^(1 / years) - 1}
     */
    static double cagr(double start, double end, double years) {
        return Math.pow(end / start, 1.0 / years) - 1;
    }

    /**
     * Annualised Sharpe ratio with risk-free rate 0 (Sharpe 1966, 1994).
     *
     * @param r per-bar returns, at least 2
     * @param barsPerYear annualisation factor
     * @return {@code mean / sample sd * sqrt(barsPerYear)}, NaN if the sd is 0
     */
    static double sharpe(double[] r, double barsPerYear) {
        return sharpe(r, r.length == 0 ? Double.NaN : new Mean().evaluate(r), barsPerYear);
    }

    /** As {@link #sharpe(double[], double)} with {@code mean = new Mean().evaluate(r)} given. */
    static double sharpe(double[] r, double mean, double barsPerYear) {
        if (r.length < 2) {
            return Double.NaN;
        }
        // StandardDeviation(true).evaluate(r) is sqrt(Variance(true).evaluate(r, Mean(r))).
        double sd = Math.sqrt(new Variance(true).evaluate(r, mean));
        return sd > 0 ? mean / sd * Math.sqrt(barsPerYear) : Double.NaN;
    }

    /**
     * Annualised Sortino ratio, target return 0 (Sortino &amp; van der Meer 1991).
     *
     * @param r per-bar returns, at least 1
     * @param barsPerYear annualisation factor
     * @return {@code mean / sqrt(sum(min(r,0)^2) / N) * sqrt(barsPerYear)}, NaN without a loss
     */
    static double sortino(double[] r, double barsPerYear) {
        return sortino(r, r.length == 0 ? Double.NaN : new Mean().evaluate(r), barsPerYear);
    }

    /** As {@link #sortino(double[], double)} with {@code mean = new Mean().evaluate(r)} given. */
    static double sortino(double[] r, double mean, double barsPerYear) {
        if (r.length == 0) {
            return Double.NaN;
        }
        double down = 0;
        for (double x : r) {
            if (x < 0) {
                down += x * x;
            }
        }
        double dd = Math.sqrt(down / r.length);
        return dd > 0 ? mean / dd * Math.sqrt(barsPerYear) : Double.NaN;
    }

    /**
     * Maximum drawdown.
     *
     * @param equity curve, {@code > 0}
     * @return {@code max_t (1 - E_t / max_(s<=t) E_s)}, in {@code [0, 1]}
     */
    static double maxDrawdown(double[] equity) {
        double peak = Double.NEGATIVE_INFINITY;
        double max = 0;
        for (double e : equity) {
            peak = Math.max(peak, e);
            max = Math.max(max, 1 - e / peak);
        }
        return max;
    }
}
