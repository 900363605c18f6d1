package dev.quiver.engine.feature;

import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.engine.market.BarData;
import java.util.List;

/**
 * The one feature pipeline: streaming, O(1) per bar, point-in-time indicators over OHLCV bars.
 * Serving and training both read it, so they can never disagree about a feature.
 */
public final class FeaturePipeline {

    /** Schema {@code quiver-core} version 1. Changing a definition means bumping the version. */
    public static final FeatureSchema SCHEMA =
            new FeatureSchema(
                    "quiver-core",
                    "1",
                    List.of(
                            "log_return_1",
                            "rsi_14",
                            "macd_12_26",
                            "macd_signal_9",
                            "macd_hist_12_26_9",
                            "macd_hist_pct",
                            "bb_percent_b_20_2",
                            "bb_width_20_2",
                            "atr_14",
                            "atr_pct_14",
                            "volume_ratio_20"));

    /**
     * Computes every bar's features by running {@link StreamingFeatures} over the series (see there
     * for each feature's definition, units and declared edge-case rules). Rows before {@link
     * StreamingFeatures#FIRST_WARM_INDEX} are NaN; if the series is shorter than that, every row is
     * NaN and {@code firstWarmIndex()} is beyond the last row.
     *
     * @param bars the series
     * @return {@code bars.size() x SCHEMA.size()} values, NaN before warm-up
     */
    public static FeatureMatrix compute(BarData bars) {
        int n = bars.size();
        double[][] rows = new double[n][];
        FeatureFrame[] frames = new FeatureFrame[n];
        double[] row = new double[SCHEMA.size()];
        StreamingFeatures features = new StreamingFeatures();
        for (int i = 0; i < n; i++) {
            features.update(bars.open[i], bars.high[i], bars.low[i], bars.close[i], bars.volume[i]);
            features.copyValues(row);
            if (features.isWarm() && allFinite(row)) {
                // The frame plugins will see for this bar, built once (it copies the row).
                frames[i] =
                        new FeatureFrame(
                                SCHEMA, bars.viewThrough(i), row, i > 0 ? frames[i - 1] : null);
            } else {
                // Warming up (NaN), or a value FeatureFrame would refuse: kept as numbers, and
                // frame(i) reports the bad value when a plugin would need it.
                rows[i] = row.clone();
            }
        }
        return new FeatureMatrix(SCHEMA, bars, rows, frames, StreamingFeatures.FIRST_WARM_INDEX);
    }

    private static boolean allFinite(double[] row) {
        for (double v : row) {
            if (!Double.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    private FeaturePipeline() {}
}
