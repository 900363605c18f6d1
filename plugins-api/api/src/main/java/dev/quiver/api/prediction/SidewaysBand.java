package dev.quiver.api.prediction;

import dev.quiver.api.Stable;
import dev.quiver.api.error.QuiverInputException;

/**
 * The label rule of a three-class direction classifier: the move of bar {@code t} is {@link
 * Direction#SIDEWAYS} when {@code |ln(close[t + 1] / close[t])| < k * atr_pct_14[t]}, else {@link
 * Direction#UP} or {@link Direction#DOWN} by the sign of the log return. {@code atr_pct_14} is the
 * 14-bar average true range (Wilder 1978) over the close of bar {@code t}, the feature of schema
 * {@code quiver-core} v1 of that name: known at the decision bar, so the band is point-in-time;
 * only the label needs bar {@code t + 1}.
 *
 * <p>One rule, used by the plugin that trains and serves the classifier (in Python, through the
 * sidecar) and by the host that scores it, so both label a bar the same way.
 *
 * @param atrMultiple {@code k}, the half-width of the band in units of {@code atr_pct_14}, finite
 *     and {@code > 0}
 * @since 1.4.0
 */
@Stable(since = "1.4.0")
public record SidewaysBand(double atrMultiple) {

    /**
     * Validates.
     *
     * @throws QuiverInputException with code {@code BAD_BAND} if {@code atrMultiple} is not finite
     *     and {@code > 0}
     */
    public SidewaysBand {
        if (!(atrMultiple > 0) || Double.isInfinite(atrMultiple)) {
            throw new QuiverInputException(
                    "BAD_BAND",
                    "atrMultiple",
                    "sideways band",
                    atrMultiple,
                    "must be finite and > 0");
        }
    }

    /**
     * The class of a move.
     *
     * @param nextLogReturn {@code ln(close[t + 1] / close[t])}, finite
     * @param atrFraction {@code atr_pct_14[t]}: ATR(14) over the close of bar {@code t}, finite and
     *     {@code >= 0}
     * @return {@link Direction#SIDEWAYS} if {@code |nextLogReturn| < k * atrFraction}, else {@link
     *     Direction#UP} for a positive and {@link Direction#DOWN} for a negative or zero log return
     * @throws QuiverInputException with code {@code BAD_LABEL} if an argument is not finite or
     *     {@code atrFraction < 0}
     */
    public Direction classify(double nextLogReturn, double atrFraction) {
        if (!Double.isFinite(nextLogReturn)) {
            throw new QuiverInputException(
                    "BAD_LABEL",
                    "nextLogReturn",
                    "sideways band k=" + atrMultiple,
                    nextLogReturn,
                    "is not finite");
        }
        if (!(atrFraction >= 0) || Double.isInfinite(atrFraction)) {
            throw new QuiverInputException(
                    "BAD_LABEL",
                    "atrFraction",
                    "sideways band k=" + atrMultiple,
                    atrFraction,
                    "must be finite and >= 0");
        }
        if (Math.abs(nextLogReturn) < atrMultiple * atrFraction) {
            return Direction.SIDEWAYS;
        }
        return nextLogReturn > 0 ? Direction.UP : Direction.DOWN;
    }
}
