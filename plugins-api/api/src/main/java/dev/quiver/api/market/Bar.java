package dev.quiver.api.market;

import dev.quiver.api.Stable;
import dev.quiver.api.error.QuiverInputException;
import java.time.Instant;

/**
 * One OHLCV bar (candle): prices in the quote currency, volume in base units, {@code start} the
 * instant the bar opens (UTC).
 *
 * <p>Invariants, checked in the constructor: every price finite and {@code > 0}; {@code low <=
 * open, close <= high}; volume finite and {@code >= 0}. Nothing is repaired: a violation throws.
 *
 * @param start bar open time, UTC
 * @param open first traded price
 * @param high highest traded price
 * @param low lowest traded price
 * @param close last traded price
 * @param volume traded volume, {@code >= 0}
 * @since 1.0.0
 */
@Stable(since = "1.0.0")
public record Bar(
        Instant start, double open, double high, double low, double close, double volume) {

    /**
     * Validates the invariants.
     *
     * @throws QuiverInputException with code {@code BAD_BAR} naming the field, the bar start and
     *     the value when an invariant fails
     */
    public Bar {
        if (start == null) {
            throw new QuiverInputException("BAD_BAR", "start", "bar", null, "is missing");
        }
        positive("open", open, start);
        positive("high", high, start);
        positive("low", low, start);
        positive("close", close, start);
        if (!Double.isFinite(volume) || volume < 0) {
            throw new QuiverInputException(
                    "BAD_BAR", "volume", "bar " + start, volume, "must be finite and >= 0");
        }
        if (high < low) {
            throw new QuiverInputException(
                    "BAD_BAR", "high", "bar " + start, high, "is below low " + low);
        }
        inRange("open", open, low, high, start);
        inRange("close", close, low, high, start);
    }

    private static void positive(String field, double value, Instant start) {
        if (!Double.isFinite(value) || value <= 0) {
            throw new QuiverInputException(
                    "BAD_BAR", field, "bar " + start, value, "must be a finite price > 0");
        }
    }

    private static void inRange(
            String field, double value, double low, double high, Instant start) {
        if (value < low || value > high) {
            throw new QuiverInputException(
                    "BAD_BAR",
                    field,
                    "bar " + start,
                    value,
                    "is outside [low, high] = [" + low + ", " + high + "]");
        }
    }
}
