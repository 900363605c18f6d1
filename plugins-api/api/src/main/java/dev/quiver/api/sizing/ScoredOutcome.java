package dev.quiver.api.sizing;

import dev.quiver.api.Experimental;
import dev.quiver.api.error.QuiverInputException;
import java.time.Instant;

/**
 * A past bar's fused probability together with what then happened, handed to an {@link
 * OnlineCalibration} as soon as it is realised: the engine scores the fused signal of bar {@code t}
 * at bar {@code t + 1}'s close (the label of the forecast, {@code close[t+1] > close[t]}), before
 * it decides bar {@code t + 1}. So a calibrator only ever sees outcomes already realised.
 *
 * @param barTime start of the bar the fused signal was made at
 * @param probabilityUp the fused probability of an up move at that bar, in {@code [0, 1]}
 * @param up whether the next bar's close was above that bar's close
 * @since 1.4.0
 */
@Experimental(since = "1.4.0")
public record ScoredOutcome(Instant barTime, double probabilityUp, boolean up) {

    /**
     * Validates.
     *
     * @throws QuiverInputException with code {@code BAD_OUTCOME} if {@code barTime} is missing or
     *     {@code probabilityUp} is NaN or outside {@code [0, 1]}
     */
    public ScoredOutcome {
        if (barTime == null) {
            throw new QuiverInputException(
                    "BAD_OUTCOME", "barTime", "scored outcome", null, "is missing");
        }
        if (!(probabilityUp >= 0 && probabilityUp <= 1)) {
            throw new QuiverInputException(
                    "BAD_OUTCOME",
                    "probabilityUp",
                    "scored outcome of bar " + barTime,
                    probabilityUp,
                    "is not in [0, 1]");
        }
    }
}
