package dev.quiver.engine.trading;

/**
 * Host-side exits in multiples of the ATR at entry, enforced by the backtest whatever the sizing
 * policy says: a stop-loss below the entry price, a take-profit above it and a trailing stop below
 * the highest high since entry. A multiple of 0 turns that exit off.
 *
 * <p>At entry (a fill from flat at bar {@code t}'s open, decided at bar {@code t - 1}'s close) the
 * ATR is {@code atr_pct_14[t - 1] * entry price}. On each bar with a position, the effective stop
 * is {@code max(entry - stopLossAtr * ATR, highestHigh - trailingAtr * ATR)}, the highest high
 * taken over the bars before this one (and the entry price), since the order of prices inside a bar
 * is unknown. If the open is at or beyond a level, the position exits at the open (a gap through
 * the level); otherwise if the bar's low reaches the stop it exits at the stop, else if the high
 * reaches the take-profit it exits there. When both could have been hit within one bar, the stop is
 * assumed first (the conservative reading). Costs are charged on the exit like on any fill. The
 * policy may re-enter at a later close.
 *
 * @param stopLossAtr stop-loss distance below the entry, ATRs, finite and {@code >= 0}
 * @param takeProfitAtr take-profit distance above the entry, ATRs, finite and {@code >= 0}
 * @param trailingAtr trailing-stop distance below the highest high, ATRs, finite and {@code >= 0}
 */
public record Stops(double stopLossAtr, double takeProfitAtr, double trailingAtr) {

    /** No host-side exits. */
    public static final Stops NONE = new Stops(0, 0, 0);

    /**
     * Stop 2 ATR, take-profit 3 ATR, trailing 3 ATR: common textbook values (a 1.5 reward-to-risk
     * bracket), fixed before looking at any result.
     */
    public static final Stops DEFAULT = new Stops(2, 3, 3);

    /**
     * Validates.
     *
     * @throws IllegalArgumentException naming the field if a value is NaN, infinite or negative
     */
    public Stops {
        check(stopLossAtr, "stopLossAtr");
        check(takeProfitAtr, "takeProfitAtr");
        check(trailingAtr, "trailingAtr");
    }

    private static void check(double v, String field) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(
                    "stops: field '" + field + "' must be finite and >= 0, was " + v);
        }
    }

    /**
     * Whether any exit is on.
     *
     * @return true if a multiple is positive
     */
    public boolean any() {
        return stopLossAtr > 0 || takeProfitAtr > 0 || trailingAtr > 0;
    }
}
