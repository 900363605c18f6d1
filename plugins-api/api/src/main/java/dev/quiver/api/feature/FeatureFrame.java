package dev.quiver.api.feature;

import dev.quiver.api.Stable;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.market.Bar;
import dev.quiver.api.market.BarSeries;
import java.util.Arrays;

/**
 * The features of one bar, computed point-in-time from that bar and the bars before it, together
 * with the read-only history they came from.
 *
 * <p>Shape: {@code double[schema.size()]} in schema order. Every value is finite: the host emits
 * frames only once every feature is warmed up. Immutable.
 *
 * @since 1.0.0
 */
@Stable(since = "1.0.0")
public final class FeatureFrame {

    private final FeatureSchema schema;
    private final BarSeries history;
    private final double[] values;
    private final FeatureFrame previous;

    /**
     * Creates a frame for the last bar of {@code history}.
     *
     * @param schema the vector layout
     * @param history bars up to and including the decision bar, nothing after it
     * @param values feature values in schema order; copied
     * @throws QuiverInputException with code {@code BAD_FEATURE} naming the feature, the bar and
     *     the value if a value is NaN or infinite, or {@code SCHEMA_MISMATCH} if the length differs
     *     from the schema
     */
    public FeatureFrame(FeatureSchema schema, BarSeries history, double[] values) {
        this(schema, history, values, null);
    }

    /**
     * Creates a frame for the last bar of {@code history}, chained to the frame of the bar before
     * it, so that sequence models can read a window of earlier rows point-in-time ({@link
     * #window}).
     *
     * @param schema the vector layout
     * @param history bars up to and including the decision bar, nothing after it
     * @param values feature values in schema order; copied
     * @param previous the frame of the bar before the decision bar (same schema), or {@code null}
     *     when that bar has no frame (before warm-up)
     * @throws QuiverInputException as {@link #FeatureFrame(FeatureSchema, BarSeries, double[])}, or
     *     with code {@code BAD_FRAME_CHAIN} if {@code previous} is not the frame of the bar before,
     *     with the same schema
     * @since 1.1.0
     */
    public FeatureFrame(
            FeatureSchema schema, BarSeries history, double[] values, FeatureFrame previous) {
        if (previous != null
                && (history.size() < 2
                        || !previous.schema.equals(schema)
                        || !previous.bar()
                                .start()
                                .equals(history.get(history.size() - 2).start()))) {
            throw new QuiverInputException(
                    "BAD_FRAME_CHAIN",
                    "previous",
                    "feature frame at bar " + history.last().start(),
                    previous.bar().start(),
                    "is not the frame of the bar before, with the same schema");
        }
        this.previous = previous;
        this.schema = schema;
        this.history = history;
        if (values.length != schema.size()) {
            throw new QuiverInputException(
                    "SCHEMA_MISMATCH",
                    "values",
                    "feature frame at bar " + history.last().start(),
                    values.length,
                    "length differs from schema " + schema.name() + " size " + schema.size());
        }
        for (int i = 0; i < values.length; i++) {
            if (!Double.isFinite(values[i])) {
                throw new QuiverInputException(
                        "BAD_FEATURE",
                        schema.names().get(i),
                        "feature frame at bar " + history.last().start(),
                        values[i],
                        "is not finite");
            }
        }
        this.values = values.clone();
    }

    /**
     * The vector layout.
     *
     * @return the schema
     */
    public FeatureSchema schema() {
        return schema;
    }

    /**
     * Bars up to and including the decision bar.
     *
     * @return a point-in-time view
     */
    public BarSeries history() {
        return history;
    }

    /**
     * The decision bar (the last closed bar).
     *
     * @return {@code history().last()}
     */
    public Bar bar() {
        return history.last();
    }

    /**
     * The frame of the bar before the decision bar, if it has one.
     *
     * @return the previous frame, or {@code null} before warm-up or when the host did not chain
     *     frames
     * @since 1.1.0
     */
    public FeatureFrame previous() {
        return previous;
    }

    /**
     * The feature rows of the last {@code rows} bars, oldest first, ending with this frame's bar:
     * the input of a sequence model. Point-in-time by construction (frames chain backwards only).
     *
     * <p>Shape: {@code double[rows][schema().size()]}; each row a copy.
     *
     * @param rows window length in bars, {@code >= 1}
     * @return the window
     * @throws QuiverInputException with code {@code SHORT_HISTORY} if fewer than {@code rows}
     *     chained frames end at this bar (the start of a series, or before warm-up)
     * @since 1.1.0
     */
    public double[][] window(int rows) {
        if (rows < 1) {
            throw new QuiverInputException(
                    "SHORT_HISTORY",
                    "rows",
                    "feature window at bar " + bar().start(),
                    rows,
                    "must be >= 1");
        }
        double[][] out = new double[rows][];
        FeatureFrame f = this;
        for (int k = rows - 1; k >= 0; k--) {
            if (f == null) {
                throw new QuiverInputException(
                        "SHORT_HISTORY",
                        "window",
                        "feature window at bar " + bar().start(),
                        rows - 1 - k,
                        "has fewer than " + rows + " chained feature rows");
            }
            out[k] = f.values.clone();
            f = f.previous;
        }
        return out;
    }

    /**
     * One feature by name.
     *
     * @param feature e.g. {@code rsi_14}
     * @return its finite value
     * @throws QuiverInputException if the schema has no such feature
     */
    public double get(String feature) {
        return values[schema.indexOf(feature)];
    }

    /**
     * One feature by position.
     *
     * @param index in {@code [0, schema().size())}
     * @return its finite value
     */
    public double get(int index) {
        return values[index];
    }

    /**
     * A copy of the vector.
     *
     * @return {@code double[schema().size()]}
     */
    public double[] toArray() {
        return values.clone();
    }

    @Override
    public String toString() {
        return "FeatureFrame[" + bar().start() + " " + Arrays.toString(values) + "]";
    }
}
