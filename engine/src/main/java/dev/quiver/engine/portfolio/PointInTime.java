package dev.quiver.engine.portfolio;

import dev.quiver.engine.market.BarData;
import java.time.Instant;

/**
 * Point-in-time alignment of series of different intervals and calendars: a decision at time {@code
 * t} sees a bar only once it has closed, i.e. when {@code start + period <= t}. A daily S&amp;P 500
 * bar that starts 2024-03-04T00:00Z is visible from 2024-03-05T00:00Z on, so a 4-hour BTC decision
 * at 2024-03-04T20:00Z sees the bar of 03-01 (the last closed one), not 03-04's.
 *
 * <p>The bar's close is taken as its start plus its nominal period, later than the exchange's real
 * close for a daily equity bar (which ends at 21:00 UTC): conservative, never early.
 */
public final class PointInTime {

    private PointInTime() {}

    /** The last bar with {@code start + period <= t}, by binary search; -1 if none. */
    public static final Alignment CLOSED_BY =
            (data, t) -> {
                long period = data.period().toMillis();
                int lo = 0;
                int hi = data.size() - 1;
                int found = -1;
                while (lo <= hi) {
                    int mid = (lo + hi) >>> 1;
                    if (data.startMillis[mid] + period <= t) {
                        found = mid;
                        lo = mid + 1;
                    } else {
                        hi = mid - 1;
                    }
                }
                return found;
            };

    /**
     * The close time of bar {@code index}, epoch milliseconds.
     *
     * @param data the series
     * @param index a bar index
     * @return {@code start + period}
     */
    public static long closeMillis(BarData data, int index) {
        return data.startMillis[index] + data.period().toMillis();
    }

    /**
     * Checks that {@code alignment} never shows a decision a bar that had not closed, at each of
     * {@code decisionMillis}, and that it shows the last closed one (nothing stale either).
     *
     * @param alignment the alignment to judge
     * @param data the series
     * @param decisionMillis decision times, epoch milliseconds
     * @throws IllegalStateException naming the series, the decision time and the bar when the
     *     alignment leaks a bar that closes after the decision or hides the last closed one
     */
    public static void audit(Alignment alignment, BarData data, long[] decisionMillis) {
        for (long t : decisionMillis) {
            int i = alignment.visibleIndex(data, t);
            if (i >= 0 && closeMillis(data, i) > t) {
                throw new IllegalStateException(
                        "look-ahead in the alignment of "
                                + data.symbol()
                                + ": the decision at "
                                + Instant.ofEpochMilli(t)
                                + " sees the bar starting "
                                + Instant.ofEpochMilli(data.startMillis[i])
                                + ", which closes at "
                                + Instant.ofEpochMilli(closeMillis(data, i)));
            }
            int expected = CLOSED_BY.visibleIndex(data, t);
            if (i != expected) {
                throw new IllegalStateException(
                        "stale alignment of "
                                + data.symbol()
                                + ": the decision at "
                                + Instant.ofEpochMilli(t)
                                + " sees bar "
                                + i
                                + ", the last closed one is "
                                + expected);
            }
        }
    }

    /**
     * Log returns of every series on a common grid: at grid time {@code g_k} each series' price is
     * the close of its last bar closed by {@code g_k}; row {@code k - 1} holds {@code ln(price(g_k)
     * / price(g_{k-1}))}. A series with no new bar between two grid times (a weekend for a stock)
     * contributes a 0 return there.
     *
     * @param series the series, one column each
     * @param gridMillis increasing grid times; every series must have a closed bar by the first
     * @param alignment how bars are made visible (use {@link #CLOSED_BY})
     * @return {@code (grid.length - 1) x series.length} log returns
     * @throws IllegalArgumentException naming the series if it has no closed bar by the first grid
     *     time
     */
    public static double[][] gridReturns(BarData[] series, long[] gridMillis, Alignment alignment) {
        int p = series.length;
        double[] prev = new double[p];
        for (int j = 0; j < p; j++) {
            int i = alignment.visibleIndex(series[j], gridMillis[0]);
            if (i < 0) {
                throw new IllegalArgumentException(
                        "no bar of "
                                + series[j].symbol()
                                + " has closed by "
                                + Instant.ofEpochMilli(gridMillis[0]));
            }
            prev[j] = series[j].close[i];
        }
        double[][] out = new double[gridMillis.length - 1][p];
        for (int k = 1; k < gridMillis.length; k++) {
            for (int j = 0; j < p; j++) {
                double price = series[j].close[alignment.visibleIndex(series[j], gridMillis[k])];
                out[k - 1][j] = Math.log(price / prev[j]);
                prev[j] = price;
            }
        }
        return out;
    }
}
