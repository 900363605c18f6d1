package dev.quiver.host.feature;

import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.host.data.BarData;

/**
 * Features of every bar of a series, computed point-in-time: row {@code i} depends only on bars
 * {@code [0, i]}. Rows before {@link #firstWarmIndex()} hold NaN (indicators still warming up).
 *
 * <p>Shape: {@code bars x schema.size()}, stored by column ({@code double[schema.size()][bars]}) so
 * that the pipeline writes, and the backtest reads, long primitive arrays rather than one small
 * array per bar.
 */
public final class FeatureMatrix {

    private final FeatureSchema schema;
    private final BarData bars;
    private final double[][] columns;
    private final int firstWarmIndex;

    /**
     * @param schema column layout
     * @param bars the series the rows belong to
     * @param rows {@code double[bars.size()][schema.size()]}; copied
     * @param firstWarmIndex first row whose every value is finite
     */
    public FeatureMatrix(FeatureSchema schema, BarData bars, double[][] rows, int firstWarmIndex) {
        this(schema, bars, transpose(rows, bars.size(), schema.size()), firstWarmIndex, true);
    }

    private FeatureMatrix(
            FeatureSchema schema,
            BarData bars,
            double[][] columns,
            int firstWarmIndex,
            boolean byColumn) {
        if (columns.length != schema.size()) {
            throw new IllegalArgumentException(
                    "feature columns " + columns.length + " != schema size " + schema.size());
        }
        for (double[] c : columns) {
            if (c.length != bars.size()) {
                throw new IllegalArgumentException(
                        "feature rows " + c.length + " != bars " + bars.size());
            }
        }
        this.schema = schema;
        this.bars = bars;
        this.columns = columns;
        this.firstWarmIndex = firstWarmIndex;
    }

    /**
     * A matrix over columns the caller hands over.
     *
     * @param schema column layout
     * @param bars the series the rows belong to
     * @param columns {@code double[schema.size()][bars.size()]}; not copied, must not be modified
     * @param firstWarmIndex first row whose every value is finite
     * @return the matrix
     */
    static FeatureMatrix ofColumns(
            FeatureSchema schema, BarData bars, double[][] columns, int firstWarmIndex) {
        return new FeatureMatrix(schema, bars, columns, firstWarmIndex, true);
    }

    private static double[][] transpose(double[][] rows, int n, int width) {
        if (rows.length != n) {
            throw new IllegalArgumentException("feature rows " + rows.length + " != bars " + n);
        }
        double[][] columns = new double[width][n];
        for (int i = 0; i < n; i++) {
            if (rows[i].length != width) {
                throw new IllegalArgumentException(
                        "feature row " + i + " has " + rows[i].length + " values, not " + width);
            }
            for (int f = 0; f < width; f++) {
                columns[f][i] = rows[i][f];
            }
        }
        return columns;
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
        return columns[feature][bar];
    }

    /** One column by name, shared array view is not exposed: a copy. */
    public double[] column(String feature) {
        return columns[schema.indexOf(feature)].clone();
    }

    /**
     * The point-in-time frame handed to plugins for bar {@code i}.
     *
     * @param i decision bar, {@code >= firstWarmIndex()}
     * @return a frame whose history ends at bar {@code i}
     */
    public FeatureFrame frame(int i) {
        double[] row = new double[columns.length];
        for (int f = 0; f < row.length; f++) {
            row[f] = columns[f][i];
        }
        return new FeatureFrame(schema, bars.viewThrough(i), row);
    }
}
