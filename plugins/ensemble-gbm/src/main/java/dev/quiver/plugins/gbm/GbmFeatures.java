package dev.quiver.plugins.gbm;

import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.api.feature.LabeledFrame;
import java.util.List;

/**
 * The scale-free inputs of the gradient-boosting sources, the same as the CatBoost and LSTM models
 * use: returns, RSI, MACD histogram as a share of price, Bollinger %B and width, ATR as a share of
 * price, volume ratio. Price-level features ({@code macd_12_26}, {@code atr_14}, ...) are left out
 * so that a model trained on one market applies to another.
 *
 * <p>Not thread-safe: one instance per source, used under its lock.
 */
final class GbmFeatures {

    /** Input features in model order. */
    static final List<String> NAMES =
            List.of(
                    "log_return_1",
                    "rsi_14",
                    "macd_hist_pct",
                    "bb_percent_b_20_2",
                    "bb_width_20_2",
                    "atr_pct_14",
                    "volume_ratio_20");

    private FeatureSchema schema;
    private int[] index;

    /** Copies the model inputs of {@code frame} into {@code row} ({@code double[NAMES.size()]}). */
    void row(FeatureFrame frame, double[] row) {
        FeatureSchema s = frame.schema();
        if (s != schema) {
            int[] idx = new int[NAMES.size()];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = s.indexOf(NAMES.get(i)); // names the missing feature if absent
            }
            index = idx;
            schema = s;
        }
        for (int i = 0; i < row.length; i++) {
            row[i] = frame.get(index[i]);
        }
    }

    /** A training matrix: row-major features and 0/1 labels, in window order. */
    record Matrix(double[] x, float[] y, int rows) {
        int cols() {
            return NAMES.size();
        }

        float[] xFloat(int from, int to) {
            int c = cols();
            float[] out = new float[(to - from) * c];
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) x[from * c + i];
            }
            return out;
        }

        double[] xDouble(int from, int to) {
            int c = cols();
            double[] out = new double[(to - from) * c];
            System.arraycopy(x, from * c, out, 0, out.length);
            return out;
        }

        float[] y(int from, int to) {
            float[] out = new float[to - from];
            System.arraycopy(y, from, out, 0, out.length);
            return out;
        }
    }

    Matrix matrix(List<LabeledFrame> window) {
        int c = NAMES.size();
        double[] x = new double[window.size() * c];
        float[] y = new float[window.size()];
        double[] row = new double[c];
        for (int r = 0; r < window.size(); r++) {
            LabeledFrame lf = window.get(r);
            row(lf.frame(), row);
            System.arraycopy(row, 0, x, r * c, c);
            y[r] = lf.up() ? 1f : 0f;
        }
        return new Matrix(x, y, window.size());
    }
}
