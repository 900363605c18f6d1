package dev.quiver.engine.trading;

/**
 * The UTC day of the last bar seen, for daily figures (an account's daily P&amp;L, the daily-loss
 * breaker): tells when a bar starts a new day. A bar of the same day as the last one costs two
 * comparisons; only a bar outside that day divides ({@code floorDiv(millis, 86,400,000)}), so most
 * bars skip the division (six a day at 4 h). Not thread-safe: one writer.
 */
public final class UtcDay {

    private static final long DAY_MILLIS = 86_400_000L;

    private long day = Long.MIN_VALUE;

    /** The day {@link #day} as {@code [firstMillis, endMillis)}; empty before the first bar. */
    private long firstMillis = Long.MAX_VALUE;

    private long endMillis = Long.MIN_VALUE;

    /** Creates a tracker that has seen no bar: the first {@link #advance} starts a day. */
    public UtcDay() {}

    /**
     * Moves to the UTC day of {@code millis}.
     *
     * @param millis a bar start, epoch ms
     * @return true if that day differs from the last call's (always on the first call)
     */
    public boolean advance(long millis) {
        if (millis >= firstMillis && millis < endMillis) {
            return false;
        }
        long d = Math.floorDiv(millis, DAY_MILLIS);
        long first = d * DAY_MILLIS;
        long end = first + DAY_MILLIS;
        if (first / DAY_MILLIS == d && first <= millis && end > first) {
            firstMillis = first;
            endMillis = end;
        } else {
            // Near the ends of the long range: no window, every call divides.
            firstMillis = Long.MAX_VALUE;
            endMillis = Long.MIN_VALUE;
        }
        boolean changed = d != day;
        day = d;
        return changed;
    }
}
