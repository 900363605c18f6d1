package dev.quiver.api.market;

import dev.quiver.api.Stable;
import java.time.Duration;

/**
 * A read-only, time-ordered view of bars of one symbol. Views handed to plugins end at the bar
 * being decided on: {@code get(size() - 1)} is the latest closed bar, and nothing after it is
 * reachable (point-in-time).
 *
 * <p>Host-implemented; thread-safe for reading.
 *
 * @since 1.0.0
 */
@Stable(since = "1.0.0")
public interface BarSeries {

    /**
     * Name of the series, e.g. {@code BTC-USD} or the data file's name.
     *
     * @return the symbol or data-set name
     */
    String symbol();

    /**
     * Nominal bar period, e.g. {@code PT4H} or {@code P1D} (as a {@link Duration}: 24 hours).
     *
     * @return the bar period
     */
    Duration period();

    /**
     * Number of bars visible in this view.
     *
     * @return {@code >= 0}
     */
    int size();

    /**
     * One bar.
     *
     * @param index in {@code [0, size())}, 0 the oldest
     * @return the bar
     * @throws IndexOutOfBoundsException if {@code index} is outside {@code [0, size())}, in
     *     particular any attempt to read past the decision bar
     */
    Bar get(int index);

    /**
     * The latest bar of the view.
     *
     * @return {@code get(size() - 1)}
     * @throws IndexOutOfBoundsException if the view is empty
     */
    default Bar last() {
        return get(size() - 1);
    }
}
