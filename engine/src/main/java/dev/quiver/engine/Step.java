package dev.quiver.engine;

import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.prediction.Forecast;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What the engine did with one bar: the forecasts, the fused signal and each policy's decision at
 * the bar's close.
 *
 * @param barTime the bar's start
 * @param forecasts the sources' forecasts of the bar (empty before warm-up)
 * @param failures per source left out of this bar, why
 * @param signal the fused signal, or {@code null} when there is none
 * @param noSignalReason why there is no signal (warm-up, every source failed, the ensemble failed),
 *     or {@code null}
 * @param policies per policy, in the strategy's order
 */
public record Step(
        Instant barTime,
        List<Forecast> forecasts,
        Map<String, String> failures,
        FusedSignal signal,
        String noSignalReason,
        List<PolicyStep> policies) {}
