package dev.quiver.api.prediction;

import dev.quiver.api.NamedValues;
import dev.quiver.api.Stable;
import dev.quiver.api.error.QuiverInputException;
import java.time.Instant;
import java.util.Map;

/**
 * One source's probability that the close {@code horizonBars} bars after {@code barTime}'s bar is
 * above that bar's close.
 *
 * @param source the producing capability's name, e.g. {@code traditional}
 * @param barTime start of the decision bar
 * @param horizonBars forecast horizon in bars, {@code >= 1}
 * @param probabilityUp probability of an up move, in {@code [0, 1]}
 * @param details named diagnostic values (e.g. the indicator inputs), finite; copied into an
 *     unmodifiable map (iteration order unspecified); a {@link NamedValues} is kept as it is
 * @since 1.0.0
 */
@Stable(since = "1.0.0")
public record Forecast(
        String source,
        Instant barTime,
        int horizonBars,
        double probabilityUp,
        Map<String, Double> details) {

    /**
     * Validates and copies.
     *
     * @throws QuiverInputException with code {@code BAD_FORECAST} if {@code probabilityUp} is NaN,
     *     infinite or outside [0, 1], {@code horizonBars < 1}, or a detail is not finite
     */
    public Forecast {
        if (source == null || source.isBlank() || barTime == null) {
            throw new QuiverInputException(
                    "BAD_FORECAST",
                    source == null ? "source" : "barTime",
                    where(source, barTime),
                    null,
                    "is missing");
        }
        if (!(probabilityUp >= 0.0 && probabilityUp <= 1.0)) {
            throw new QuiverInputException(
                    "BAD_FORECAST",
                    "probabilityUp",
                    where(source, barTime),
                    probabilityUp,
                    "is not in [0, 1]");
        }
        if (horizonBars < 1) {
            throw new QuiverInputException(
                    "BAD_FORECAST",
                    "horizonBars",
                    where(source, barTime),
                    horizonBars,
                    "must be >= 1");
        }
        if (details instanceof NamedValues named) {
            // Immutable already: kept as it is, its values checked unboxed.
            for (int i = 0; i < named.size(); i++) {
                if (!Double.isFinite(named.value(i))) {
                    throw notFinite(named.name(i), named.value(i), source, barTime);
                }
            }
        } else {
            details = details == null ? Map.of() : Map.copyOf(details);
            // A plain loop, not forEach with a capturing lambda: this runs once per forecast, and
            // the loop's entries need not be allocated.
            for (Map.Entry<String, Double> e : details.entrySet()) {
                double v = e.getValue();
                if (!Double.isFinite(v)) {
                    throw notFinite(e.getKey(), v, source, barTime);
                }
            }
        }
    }

    private static QuiverInputException notFinite(
            String name, double value, String source, Instant barTime) {
        return new QuiverInputException(
                "BAD_FORECAST", "details." + name, where(source, barTime), value, "is not finite");
    }

    private static String where(String source, Instant barTime) {
        return "forecast of '" + source + "' at bar " + barTime;
    }
}
