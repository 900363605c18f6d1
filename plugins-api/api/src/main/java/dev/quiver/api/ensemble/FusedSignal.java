package dev.quiver.api.ensemble;

import dev.quiver.api.Stable;
import dev.quiver.api.error.QuiverInputException;
import java.time.Instant;
import java.util.List;

/**
 * The ensemble's combined forecast for one bar.
 *
 * @param barTime start of the decision bar
 * @param probabilityUp fused probability of an up move, in [0, 1]
 * @param confidence {@code |2p - 1|}, in [0, 1]: distance from a coin flip
 * @param agreement weighted share of sources on the same side of 0.5 as the fused probability, in
 *     [0, 1]
 * @param contributions each source's probability and weight; copied
 * @since 1.0.0
 */
@Stable(since = "1.0.0")
public record FusedSignal(
        Instant barTime,
        double probabilityUp,
        double confidence,
        double agreement,
        List<SourceContribution> contributions) {

    /**
     * Validates and copies.
     *
     * @throws QuiverInputException with code {@code BAD_SIGNAL} if a value is NaN or out of range
     */
    public FusedSignal {
        check("probabilityUp", probabilityUp, barTime);
        check("confidence", confidence, barTime);
        check("agreement", agreement, barTime);
        contributions = List.copyOf(contributions);
    }

    private static void check(String field, double value, Instant barTime) {
        if (!(value >= 0 && value <= 1)) {
            throw new QuiverInputException(
                    "BAD_SIGNAL",
                    field,
                    "fused signal at bar " + barTime,
                    value,
                    "is not in [0, 1]");
        }
    }
}
