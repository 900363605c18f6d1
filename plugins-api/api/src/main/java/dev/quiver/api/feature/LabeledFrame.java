package dev.quiver.api.feature;

import dev.quiver.api.Stable;
import dev.quiver.api.error.QuiverInputException;

/**
 * One past bar's features with what happened next: a training row for a prediction source.
 *
 * <p>The label is known only {@code horizonBars} bars after the frame's bar; the host hands out a
 * row only once that time lies before the bars the trained source will forecast (minus the
 * embargo).
 *
 * @param frame features of the bar, point-in-time
 * @param horizonBars bars between the bar's close and the close the label compares it with, {@code
 *     >= 1}
 * @param forwardLogReturn {@code ln(close[t + horizon] / close[t])}, finite
 * @since 1.1.0
 */
@Stable(since = "1.1.0")
public record LabeledFrame(FeatureFrame frame, int horizonBars, double forwardLogReturn) {

    /**
     * Validates.
     *
     * @throws QuiverInputException if {@code horizonBars < 1} or the return is not finite
     */
    public LabeledFrame {
        if (horizonBars < 1) {
            throw new QuiverInputException(
                    "BAD_LABEL", "horizonBars", "labelled frame", horizonBars, "must be >= 1");
        }
        if (!Double.isFinite(forwardLogReturn)) {
            throw new QuiverInputException(
                    "BAD_LABEL",
                    "forwardLogReturn",
                    "labelled frame at bar " + frame.bar().start(),
                    forwardLogReturn,
                    "is not finite");
        }
    }

    /**
     * The direction label.
     *
     * @return whether the close {@code horizonBars} later was above this bar's close
     */
    public boolean up() {
        return forwardLogReturn > 0;
    }
}
