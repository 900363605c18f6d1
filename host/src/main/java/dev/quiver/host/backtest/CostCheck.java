package dev.quiver.host.backtest;

import dev.quiver.engine.market.BarData;
import dev.quiver.engine.trading.CostModel;
import java.util.Arrays;
import java.util.Locale;

/**
 * Whether a cost model looks wrong for a series: the round trip it charges against the series'
 * typical one-bar move.
 *
 * <p>The rule: a round trip costs {@code 2 * (feeBps + slippageBps)}; the typical move is the
 * median of {@code |close[t] / close[t-1] - 1|} over the series. Quiver's sources forecast one bar
 * ahead, so even a perfect forecast earns at most the bar's absolute move per round trip. When the
 * round trip costs at least {@link #THRESHOLD} times the median move, a perfect forecast would lose
 * money on half of its trades or more, and any realistic one is sure to bleed: the costs (or the
 * bar period) are wrong for the data. Example: the default 10 + 5 bps (a 30 bps round trip) on
 * EUR/USD hourly bars, whose median move is a few bps, gave a Sharpe ratio of -20.6; on the bundled
 * BTC-USD 4-hour bars (a median move of 50 bps) the same costs are 0.6 of the move.
 *
 * <p>A warning, not a refusal: a user may mean it (a costs stress test). The median is over the
 * whole series, test bars included; it judges the settings, it feeds no decision.
 *
 * @param dataset the series' name
 * @param roundTripBps {@code 2 * (feeBps + slippageBps)}, basis points of notional, {@code >= 0}
 * @param medianAbsReturnBps the median absolute close-to-close return, basis points, {@code >= 0};
 *     {@code NaN} for a series of fewer than 2 bars
 * @param returns close-to-close returns the median is over, {@code size - 1} (or 0)
 */
public record CostCheck(
        String dataset, double roundTripBps, double medianAbsReturnBps, int returns) {

    /**
     * The ratio of round-trip cost to median absolute bar return at or above which the costs look
     * wrong: 1, the point where a perfect one-bar forecast stops earning on its median trade.
     */
    public static final double THRESHOLD = 1.0;

    /**
     * Checks {@code costs} against {@code bars}.
     *
     * @param bars the series, any length
     * @param costs the cost model the run charges
     * @return the figures; {@link #suspicious()} says whether to warn
     */
    public static CostCheck of(BarData bars, CostModel costs) {
        int n = bars.size();
        double roundTripBps = 2 * (costs.feeBps() + costs.slippageBps());
        if (n < 2) {
            return new CostCheck(bars.symbol(), roundTripBps, Double.NaN, 0);
        }
        double[] moves = new double[n - 1];
        for (int t = 1; t < n; t++) {
            moves[t - 1] = Math.abs(bars.close[t] / bars.close[t - 1] - 1) * 1e4;
        }
        return new CostCheck(bars.symbol(), roundTripBps, median(moves), n - 1);
    }

    private static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int m = v.length / 2;
        return v.length % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
    }

    /**
     * Round-trip cost over the median absolute move.
     *
     * @return the ratio, {@code +Infinity} for a series that never moved and a cost above 0, {@code
     *     NaN} for no returns or no cost on a flat series
     */
    public double ratio() {
        return roundTripBps / medianAbsReturnBps;
    }

    /**
     * Whether the costs look wrong: {@link #ratio()} {@code >= THRESHOLD} with a cost above 0.
     *
     * @return true to warn
     */
    public boolean suspicious() {
        return returns > 0 && roundTripBps > 0 && ratio() >= THRESHOLD;
    }

    /**
     * The warning a user reads, e.g. {@code warning: costs look wrong for eurusd-1h: a round trip
     * costs 30.0 bps, 5.1x the median one-bar move of 5.9 bps ...}.
     *
     * @return the message, whether or not {@link #suspicious()}
     */
    public String message() {
        return String.format(
                Locale.ROOT,
                "warning: costs look wrong for %s: a round trip costs %.1f bps (2 x (--fee-bps +"
                        + " --slippage-bps)), %.1fx the median one-bar move of %.1f bps over %,d"
                        + " bars; even a perfect one-bar forecast would lose on half its trades."
                        + " Set the costs of the market these bars come from (e.g. --fee-bps 0.5"
                        + " --slippage-bps 0.5 for a major FX pair) or use a longer bar period"
                        + " (rule: warn at a ratio >= %.1f; docs/engine.md)",
                dataset,
                roundTripBps,
                ratio(),
                medianAbsReturnBps,
                returns,
                THRESHOLD);
    }
}
