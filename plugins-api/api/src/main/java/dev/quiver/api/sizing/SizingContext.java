package dev.quiver.api.sizing;

import dev.quiver.api.Stable;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.error.QuiverInputException;

/**
 * What a sizing capability may know when it sizes the position for the next bar. Built by the host,
 * point-in-time.
 *
 * @param signal the fused signal of the decision bar
 * @param equity account equity at the decision bar's close, in quote currency, {@code > 0}
 * @param drawdown current drawdown from the equity peak, fraction in {@code [0, 1)}
 * @param maxFraction the host's position cap, fraction of equity, {@code > 0}; a decision above it
 *     is clipped by the risk guard
 * @param volatility average true range over the close, a fraction per bar, {@code >= 0}
 * @param payoffRatio {@code b}: trailing realised mean gain over mean loss of one-horizon returns,
 *     {@code > 0}
 * @since 1.0.0
 */
@Stable(since = "1.0.0")
public record SizingContext(
        FusedSignal signal,
        double equity,
        double drawdown,
        double maxFraction,
        double volatility,
        double payoffRatio) {

    /**
     * Validates.
     *
     * @throws QuiverInputException with code {@code BAD_SIZING_CONTEXT} naming the field if a value
     *     is non-finite or out of range
     */
    public SizingContext {
        if (signal == null) {
            throw new QuiverInputException(
                    "BAD_SIZING_CONTEXT", "signal", where(signal), null, "is missing");
        }
        if (!(equity > 0) || Double.isInfinite(equity)) {
            throw new QuiverInputException(
                    "BAD_SIZING_CONTEXT",
                    "equity",
                    where(signal),
                    equity,
                    "must be finite and > 0");
        }
        if (!(drawdown >= 0 && drawdown < 1)) {
            throw new QuiverInputException(
                    "BAD_SIZING_CONTEXT", "drawdown", where(signal), drawdown, "is not in [0, 1)");
        }
        if (!(maxFraction > 0) || Double.isInfinite(maxFraction)) {
            throw new QuiverInputException(
                    "BAD_SIZING_CONTEXT",
                    "maxFraction",
                    where(signal),
                    maxFraction,
                    "must be finite and > 0");
        }
        if (!(volatility >= 0) || Double.isInfinite(volatility)) {
            throw new QuiverInputException(
                    "BAD_SIZING_CONTEXT",
                    "volatility",
                    where(signal),
                    volatility,
                    "must be finite and >= 0");
        }
        if (!(payoffRatio > 0) || Double.isInfinite(payoffRatio)) {
            throw new QuiverInputException(
                    "BAD_SIZING_CONTEXT",
                    "payoffRatio",
                    where(signal),
                    payoffRatio,
                    "must be finite and > 0");
        }
    }

    private static String where(FusedSignal signal) {
        return "sizing context at bar " + (signal == null ? null : signal.barTime());
    }
}
