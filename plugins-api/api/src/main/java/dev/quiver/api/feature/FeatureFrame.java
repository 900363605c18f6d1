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
