package dev.quiver.host.store;

/**
 * One bar a session received (table {@code bars}; the symbol is the session's). Stored as given:
 * checking order, gaps and OHLC consistency is the engine's job.
 *
 * @param startMs the bar's start time, epoch milliseconds UTC; unique per symbol
 * @param open open price, finite
 * @param high high price, finite
 * @param low low price, finite
 * @param close close price, finite
 * @param volume traded volume in base units, finite
 */
public record BarRow(
        long startMs, double open, double high, double low, double close, double volume) {

    /**
     * Checks that every value is finite; -0.0 becomes 0.0 (SQLite does not keep the sign of zero).
     */
    public BarRow {
        open = Checks.finite("BarRow", "open", open);
        high = Checks.finite("BarRow", "high", high);
        low = Checks.finite("BarRow", "low", low);
        close = Checks.finite("BarRow", "close", close);
        volume = Checks.finite("BarRow", "volume", volume);
    }
}
