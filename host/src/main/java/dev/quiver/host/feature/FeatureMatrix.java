package dev.quiver.host.feature;

import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.host.data.BarData;

/**
 * Features of every bar of a series, computed point-in-time: row {@code i} depends only on bars
 * {@code [0, i]}. Rows before {@link #firstWarmIndex()} hold NaN (indicators still warming up).
 *
 * <p>Shape: {@code double[bars][schema.size()]}.
 */
public final class FeatureMatrix {

    private final FeatureSchema schema;
    private final BarData bars;
    private final double[][] values;
    private final int firstWarmIndex;

    /**
     * @param schema column layout
     * @param bars the series the rows belong to
     * @param values {@code double[bars.size()][schema.size()]}; not copied
     * @param firstWarmIndex first row whose every value is finite
     */
    public FeatureMatrix(
            FeatureSchema schema, BarData bars, double[][] values, int firstWarmIndex) {
        if (values.length != bars.size()) {
            throw new IllegalArgumentException(
                    "feature rows " + values.length + " != bars " + bars.size());
        }
        this.schema = schema;
        this.bars = bars;
        this.values = values;
        this.firstWarmIndex = firstWarmIndex;
    }

    public FeatureSchema schema() {
        return schema;
    }

    public BarData bars() {
        return bars;
    }

    public int firstWarmIndex() {
        return firstWarmIndex;
    }

    /** One value; NaN before warm-up. */
    public double get(int bar, int feature) {
        return values[bar][feature];
    }

    /** One column by name, shared array view is not exposed: a copy. */
    public double[] column(String feature) {
        int f = schema.indexOf(feature);
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i][f];
        }
        return out;
    }

    /**
     * The point-in-time frame handed to plugins for bar {@code i}.
     *
     * @param i decision bar, {@code >= firstWarmIndex()}
     * @return a frame whose history ends at bar {@code i}
     */
    public FeatureFrame frame(int i) {
        return new FeatureFrame(schema, bars.viewThrough(i), values[i]);
    }
}
