package dev.quiver.host.backtest;

/**
 * Trailing realised payoff ratio {@code b} of 1-bar returns, point-in-time, O(1) per bar.
 *
 * <p>{@code b[t] = mean of positive r / mean of |negative r|} over the returns {@code r_j =
 * close[j] / close[j-1] - 1} for {@code j} in {@code (t - window, t]}; 1.0 when the window holds no
 * gain or no loss yet. Uses only closes up to {@code t}.
 */
final class PayoffRatio {

    private PayoffRatio() {}

    static double[] trailing(double[] close, int window) {
        int n = close.length;
        double[] b = new double[n];
        double[] r = new double[n];
        double gainSum = 0;
        double lossSum = 0;
        int gains = 0;
        int losses = 0;
        // Branch-free on the sign of each return (up and down bars alternate unpredictably):
        // adding or subtracting +0.0 leaves a sum unchanged, so the sums are the ones the
        // "only when r > 0 / r < 0" formulation gives, bit for bit.
        for (int t = 0; t < n; t++) {
            if (t >= 1) {
                double x = close[t] / close[t - 1] - 1;
                r[t] = x;
                gainSum += Math.max(x, 0.0);
                gains += x > 0 ? 1 : 0;
                lossSum -= Math.min(x, 0.0);
                losses += x < 0 ? 1 : 0;
            }
            int out = t - window;
            if (out >= 1) {
                double x = r[out];
                gainSum -= Math.max(x, 0.0);
                gains -= x > 0 ? 1 : 0;
                lossSum += Math.min(x, 0.0);
                losses -= x < 0 ? 1 : 0;
            }
            if (gains > 0 && losses > 0 && gainSum > 0 && lossSum > 0) {
                b[t] = (gainSum / gains) / (lossSum / losses);
            } else {
                b[t] = 1.0;
            }
        }
        return b;
    }
}
