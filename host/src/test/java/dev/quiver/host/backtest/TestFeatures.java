package dev.quiver.host.backtest;

import dev.quiver.host.data.BarData;
import dev.quiver.host.feature.FeatureMatrix;
import dev.quiver.host.feature.FeaturePipeline;
import java.util.Arrays;

/**
 * A simple, causal stand-in for {@code FeaturePipeline.compute} (a stub in this branch): row i uses
 * bars [0, i] only. log_return_1, rsi_14 (simple averages), SMA-based MACD, Bollinger %B/width, ATR
 * as a simple mean of true ranges; the engine only requires finite values and atr_pct_14.
 */
final class TestFeatures {

    static final int WARM = 26;

    private TestFeatures() {}

    static FeatureMatrix of(BarData bars) {
        int n = bars.size();
        int cols = FeaturePipeline.SCHEMA.size();
        double[][] v = new double[n][cols];
        double[] c = bars.close;
        for (int i = 0; i < n; i++) {
            if (i < WARM) {
                Arrays.fill(v[i], Double.NaN);
                continue;
            }
            double gain = 0;
            double loss = 0;
            double tr = 0;
            for (int j = i - 13; j <= i; j++) {
                double d = c[j] - c[j - 1];
                gain += Math.max(d, 0);
                loss += Math.max(-d, 0);
                tr +=
                        Math.max(
                                bars.high[j] - bars.low[j],
                                Math.max(
                                        Math.abs(bars.high[j] - c[j - 1]),
                                        Math.abs(bars.low[j] - c[j - 1])));
            }
            double rsi = gain + loss == 0 ? 50 : 100 * gain / (gain + loss);
            double atr = tr / 14;
            double sma12 = mean(c, i, 12);
            double sma26 = mean(c, i, 26);
            double sma20 = mean(c, i, 20);
            double var = 0;
            double vol = 0;
            for (int j = i - 19; j <= i; j++) {
                var += (c[j] - sma20) * (c[j] - sma20);
                vol += bars.volume[j];
            }
            double sd = Math.sqrt(var / 20);
            double macd = sma12 - sma26;
            v[i] =
                    new double[] {
                        Math.log(c[i] / c[i - 1]),
                        rsi,
                        macd,
                        0.0,
                        macd,
                        macd / c[i],
                        sd == 0 ? 0.5 : (c[i] - sma20) / (4 * sd) + 0.5,
                        4 * sd / sma20,
                        atr,
                        atr / c[i],
                        vol == 0 ? 1.0 : bars.volume[i] / (vol / 20)
                    };
        }
        return new FeatureMatrix(FeaturePipeline.SCHEMA, bars, v, WARM);
    }

    /** Every feature 0 from bar {@code warm} on: for hand-built series. */
    static FeatureMatrix constant(BarData bars, int warm) {
        double[][] v = new double[bars.size()][FeaturePipeline.SCHEMA.size()];
        for (int i = 0; i < warm; i++) {
            Arrays.fill(v[i], Double.NaN);
        }
        return new FeatureMatrix(FeaturePipeline.SCHEMA, bars, v, warm);
    }

    private static double mean(double[] x, int end, int len) {
        double s = 0;
        for (int j = end - len + 1; j <= end; j++) {
            s += x[j];
        }
        return s / len;
    }
}
