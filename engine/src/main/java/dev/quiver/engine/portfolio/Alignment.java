package dev.quiver.engine.portfolio;

import dev.quiver.engine.market.BarData;

/**
 * Which bar of a series a decision at a given time may see. Quiver's alignment is {@link
 * PointInTime#CLOSED_BY}; the interface exists so that {@link PointInTime#audit} can judge any
 * alignment, including a leaky one built in a test.
 */
@FunctionalInterface
public interface Alignment {

    /**
     * The last bar a decision at {@code decisionMillis} may see.
     *
     * @param data the series
     * @param decisionMillis the decision time, epoch milliseconds UTC
     * @return the bar's index, or -1 when no bar is visible yet
     */
    int visibleIndex(BarData data, long decisionMillis);
}
