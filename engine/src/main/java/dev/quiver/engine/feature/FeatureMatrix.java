package dev.quiver.engine.feature;

import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.engine.market.BarData;

/**
 * Features of every bar of a series, computed point-in-time: row {@code i} depends only on bars
 * {@code [0, i]}. Rows before {@link #firstWarmIndex()} hold NaN (indicators still warming up).
 *
 * <p>Shape: {@code bars x schema.size()}. A row is held either as the immutable {@link
 * FeatureFrame} handed to plugins (built once, by the pipeline, for every warm row) or as a plain
 * array (rows before warm-up, and every row of a matrix built from arrays), whose frame is built on
 * each {@link #frame} call.
 */
public final class FeatureMatrix {

    private final FeatureSchema schema;
    private final BarData bars;
    private final double[][] rows;
    private final FeatureFrame[] frames;
    private final int firstWarmIndex;

    /**
     * @param schema column layout
     * @param bars the series the rows belong to
     * @param values {@code double[bars.size()][schema.size()]}; not copied
     * @param firstWarmIndex first row whose every value is finite
     */
    public FeatureMatrix(
            FeatureSchema schema, BarData bars, double[][] values, int firstWarmIndex) {
        this(schema, bars, values, new FeatureFrame[values.length], firstWarmIndex);
    }

    /**
     * @param rows row {@code i}'s values where {@code frames[i]} is null; not copied
     * @param frames prebuilt frame of row {@code i}, or null; not copied
     */
    FeatureMatrix(
            FeatureSchema schema,
            BarData bars,
            double[][] rows,
            FeatureFrame[] frames,
            int firstWarmIndex) {
        if (rows.length != bars.size() || frames.length != bars.size()) {
            throw new IllegalArgumentException(
                    "feature rows " + rows.length + " != bars " + bars.size());
        }
        this.schema = schema;
        this.bars = bars;
        this.rows = rows;
        this.frames = frames;
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
        FeatureFrame f = frames[bar];
        return f != null ? f.get(feature) : rows[bar][feature];
    }

    /** One column by name, shared array view is not exposed: a copy. */
    public double[] column(String feature) {
        int f = schema.indexOf(feature);
        double[] out = new double[rows.length];
        for (int i = 0; i < rows.length; i++) {
            out[i] = get(i, f);
        }
        return out;
    }

    /**
     * The point-in-time frame handed to plugins for bar {@code i}: the same instance on every call
     * for a warm row computed by the pipeline.
     *
     * @param i decision bar, {@code >= firstWarmIndex()}
     * @return a frame whose history ends at bar {@code i}
     */
    public FeatureFrame frame(int i) {
        FeatureFrame f = frames[i];
        return f != null ? f : new FeatureFrame(schema, bars.viewThrough(i), rows[i]);
    }
}
