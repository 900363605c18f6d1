package dev.quiver.api.prediction;

import dev.quiver.api.Stable;

/**
 * The three classes of a direction classifier's next-bar move: down, sideways (inside the band of a
 * {@link SidewaysBand}), up. Declaration order is the order of class probabilities everywhere in
 * the API ({@link DirectionForecast}) and in reports (confusion matrix rows and columns).
 *
 * @since 1.4.0
 */
@Stable(since = "1.4.0")
public enum Direction {
    /** The next bar's log return is at or below {@code -k * atr}. */
    DOWN,
    /** The next bar's log return is strictly inside {@code (-k * atr, k * atr)}. */
    SIDEWAYS,
    /** The next bar's log return is at or above {@code k * atr}. */
    UP
}
