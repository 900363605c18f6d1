package dev.quiver.host.rollout;

import java.time.Instant;
import java.util.Map;

/**
 * A rollout's figures right after the outcomes of one bar were scored: one point of its figures
 * over time ({@code rollout_series} in the state store, {@code GET /v1/rollouts/{id}/series}).
 *
 * @param bar start of the latest outcome bar scored (a later-scored outcome of an earlier bar, from
 *     a lagging routing key, folds into this point)
 * @param stage the rollout's stage when it was scored
 * @param totals per role id ({@code champion}, {@code challenger}): all-time sums
 * @param served sums of the variant that acted on each scored bar
 */
public record SeriesPoint(
        Instant bar, String stage, Map<String, VariantTotals> totals, VariantTotals served) {

    /** Copies the map. */
    public SeriesPoint {
        totals = Map.copyOf(totals);
    }
}
