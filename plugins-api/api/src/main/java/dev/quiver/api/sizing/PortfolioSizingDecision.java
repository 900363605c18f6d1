package dev.quiver.api.sizing;

import dev.quiver.api.Experimental;
import dev.quiver.api.error.QuiverInputException;
import java.util.List;

/**
 * A portfolio sizing capability's answer: one decision per member of the context, in member order.
 * Each decision's inputs should carry the numbers behind it (e.g. {@code mu}, {@code kelly_raw}),
 * which the host records as provenance beside the allocation after its caps.
 *
 * @param decisions one per member, in the context's member order; copied
 * @since 1.4.0
 */
@Experimental(since = "1.4.0")
public record PortfolioSizingDecision(List<SizingDecision> decisions) {

    /**
     * Validates and copies.
     *
     * @throws QuiverInputException with code {@code BAD_SIZING} if the list is null or holds null
     */
    public PortfolioSizingDecision {
        if (decisions == null || decisions.contains(null)) {
            throw new QuiverInputException(
                    "BAD_SIZING",
                    "decisions",
                    "portfolio sizing decision",
                    decisions,
                    "is missing or holds null");
        }
        decisions = List.copyOf(decisions);
    }
}
