package dev.quiver.api.ensemble;

import dev.quiver.api.Stable;
import dev.quiver.api.prediction.Forecast;
import java.time.Instant;
import java.util.List;

/**
 * The forecasts of one past bar together with what happened: training data for an ensemble.
 *
 * @param barTime start of the bar the forecasts were made at
 * @param forecasts every source's forecast for that bar; copied
 * @param up whether the close {@code horizon} bars later was above that bar's close
 * @since 1.0.0
 */
@Stable(since = "1.0.0")
public record LabeledForecasts(Instant barTime, List<Forecast> forecasts, boolean up) {

    /** Copies. */
    public LabeledForecasts {
        forecasts = List.copyOf(forecasts);
    }
}
