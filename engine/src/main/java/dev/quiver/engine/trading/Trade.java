package dev.quiver.engine.trading;

import java.time.Instant;

/**
 * One trade: an episode from flat to a position (possibly rebalanced on the way) and back to flat.
 *
 * @param entry time of the first fill (a bar open)
 * @param exit time of the fill that went flat, or of the last bar's close when {@code closedAtEnd}
 * @param grossPnl sum of the episode's fill cash flows before costs (sells minus buys), plus the
 *     position marked at the last close when {@code closedAtEnd}; quote currency
 * @param costs fees and slippage of the episode's fills, {@code >= 0}
 * @param closedAtEnd whether the position was still open at the end and is closed at the last close
 *     for reporting only (no fill, no cost)
 */
public record Trade(
        Instant entry, Instant exit, double grossPnl, double costs, boolean closedAtEnd) {

    /**
     * P&amp;L after costs.
     *
     * @return {@code grossPnl - costs}
     */
    public double netPnl() {
        return grossPnl - costs;
    }
}
