package dev.quiver.api.ensemble;

import dev.quiver.api.Stable;
import dev.quiver.api.error.QuiverInputException;

/**
 * One source's part in a fused signal.
 *
 * @param source source name, e.g. {@code traditional}
 * @param probabilityUp the source's (possibly calibrated) probability of an up move, in [0, 1]
 * @param weight the source's weight in the fusion, finite and {@code >= 0}
 * @since 1.0.0
 */
@Stable(since = "1.0.0")
public record SourceContribution(String source, double probabilityUp, double weight) {

    /**
     * Validates.
     *
     * @throws QuiverInputException if a value is out of range
     */
    public SourceContribution {
        if (!(probabilityUp >= 0 && probabilityUp <= 1)) {
            throw new QuiverInputException(
                    "BAD_SIGNAL",
                    "probabilityUp",
                    "source " + source,
                    probabilityUp,
                    "is not in [0, 1]");
        }
        if (!(weight >= 0) || Double.isInfinite(weight)) {
            throw new QuiverInputException(
                    "BAD_SIGNAL", "weight", "source " + source, weight, "must be finite and >= 0");
        }
    }
}
