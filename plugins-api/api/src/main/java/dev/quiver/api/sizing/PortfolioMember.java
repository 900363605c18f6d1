package dev.quiver.api.sizing;

import dev.quiver.api.Experimental;
import dev.quiver.api.error.QuiverInputException;

/**
 * One symbol of an account sized jointly: its own single-symbol sizing context and what a portfolio
 * policy needs beyond it.
 *
 * @param symbol the symbol or data-set name, e.g. {@code btc-usd-4h}; not blank
 * @param context the symbol's sizing context at its last closed bar (its calibrated signal, the
 *     account's equity and drawdown, the per-symbol cap in {@code maxFraction}, volatility, payoff
 *     ratio {@code b})
 * @param meanGain trailing mean gain of the symbol's winning one-bar returns, a fraction per bar,
 *     finite and {@code > 0}; with {@code p} and {@code b} it gives the expected one-bar return
 *     {@code p * meanGain - (1 - p) * meanGain / b}
 * @param barsPerCovariancePeriod how many of the symbol's bars make one period of the context's
 *     covariance, e.g. 6 for 4-hour bars and a daily covariance; finite and {@code > 0}
 * @param currentFraction the symbol's current weight in the account, fraction of equity, finite and
 *     {@code >= 0}
 * @since 1.4.0
 */
@Experimental(since = "1.4.0")
public record PortfolioMember(
        String symbol,
        SizingContext context,
        double meanGain,
        double barsPerCovariancePeriod,
        double currentFraction) {

    /**
     * Validates.
     *
     * @throws QuiverInputException with code {@code BAD_SIZING_CONTEXT} naming the field and the
     *     symbol if a value is missing, non-finite or out of range
     */
    public PortfolioMember {
        String where = "portfolio member " + symbol;
        if (symbol == null || symbol.isBlank()) {
            throw new QuiverInputException(
                    "BAD_SIZING_CONTEXT", "symbol", "portfolio member", symbol, "is blank");
        }
        if (context == null) {
            throw new QuiverInputException(
                    "BAD_SIZING_CONTEXT", "context", where, null, "is missing");
        }
        if (!(meanGain > 0) || Double.isInfinite(meanGain)) {
            throw new QuiverInputException(
                    "BAD_SIZING_CONTEXT", "meanGain", where, meanGain, "must be finite and > 0");
        }
        if (!(barsPerCovariancePeriod > 0) || Double.isInfinite(barsPerCovariancePeriod)) {
            throw new QuiverInputException(
                    "BAD_SIZING_CONTEXT",
                    "barsPerCovariancePeriod",
                    where,
                    barsPerCovariancePeriod,
                    "must be finite and > 0");
        }
        if (!(currentFraction >= 0) || Double.isInfinite(currentFraction)) {
            throw new QuiverInputException(
                    "BAD_SIZING_CONTEXT",
                    "currentFraction",
                    where,
                    currentFraction,
                    "must be finite and >= 0");
        }
    }
}
