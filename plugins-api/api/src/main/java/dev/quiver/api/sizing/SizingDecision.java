package dev.quiver.api.sizing;

import dev.quiver.api.NamedValues;
import dev.quiver.api.Stable;
import dev.quiver.api.error.QuiverInputException;
import java.util.Map;

/**
 * How much to hold over the next bar, long only, and why.
 *
 * @param fraction target position as a fraction of equity, finite and {@code >= 0} (0 = flat)
 * @param reason one line a person can read, e.g. {@code quarter-Kelly p=0.56 b=1.10 -> 0.040}
 * @param inputs the numbers the decision was made from (e.g. {@code p}, {@code b}), finite; copied
 *     into an unmodifiable map (iteration order unspecified); a {@link NamedValues} is kept as it
 *     is
 * @since 1.0.0
 */
@Stable(since = "1.0.0")
public record SizingDecision(double fraction, String reason, Map<String, Double> inputs) {

    /**
     * Validates and copies.
     *
     * @throws QuiverInputException with code {@code BAD_SIZING} if {@code fraction} is NaN,
     *     infinite or negative, the reason is blank or an input is not finite
     */
    public SizingDecision {
        if (!(fraction >= 0) || Double.isInfinite(fraction)) {
            throw new QuiverInputException(
                    "BAD_SIZING",
                    "fraction",
                    "sizing decision",
                    fraction,
                    "must be finite and >= 0");
        }
        if (reason == null || reason.isBlank()) {
            throw new QuiverInputException(
                    "BAD_SIZING", "reason", "sizing decision", reason, "is blank");
        }
        if (inputs instanceof NamedValues named) {
            // Immutable already: kept as it is, its values checked unboxed.
            for (int i = 0; i < named.size(); i++) {
                if (!Double.isFinite(named.value(i))) {
                    throw notFinite(named.name(i), named.value(i));
                }
            }
        } else {
            inputs = inputs == null ? Map.of() : Map.copyOf(inputs);
            // A plain loop, not forEach with a capturing lambda: this runs once per decision.
            for (Map.Entry<String, Double> e : inputs.entrySet()) {
                double v = e.getValue();
                if (!Double.isFinite(v)) {
                    throw notFinite(e.getKey(), v);
                }
            }
        }
    }

    private static QuiverInputException notFinite(String name, double value) {
        return new QuiverInputException(
                "BAD_SIZING", "inputs." + name, "sizing decision", value, "is not finite");
    }
}
