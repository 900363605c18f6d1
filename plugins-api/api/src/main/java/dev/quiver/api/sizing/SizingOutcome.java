package dev.quiver.api.sizing;

import dev.quiver.api.Stable;
import dev.quiver.api.error.QuiverInputException;

/**
 * What a long position decided in a past context earned: a training row for a sizing policy that
 * learns (e.g. the win probability of ML-enhanced Kelly).
 *
 * @param context the sizing context at the decision bar's close, as the policy saw it
 * @param forwardReturn simple return of holding one unit from the next bar's open to the open after
 *     it (the fill the decision would have had), before costs; finite
 * @since 1.1.0
 */
@Stable(since = "1.1.0")
public record SizingOutcome(SizingContext context, double forwardReturn) {

    /**
     * Validates.
     *
     * @throws QuiverInputException if {@code forwardReturn} is not finite
     */
    public SizingOutcome {
        if (!Double.isFinite(forwardReturn)) {
            throw new QuiverInputException(
                    "BAD_LABEL",
                    "forwardReturn",
                    "sizing outcome at bar " + context.signal().barTime(),
                    forwardReturn,
                    "is not finite");
        }
    }

    /**
     * Whether the position won before costs.
     *
     * @return {@code forwardReturn > 0}
     */
    public boolean won() {
        return forwardReturn > 0;
    }
}
