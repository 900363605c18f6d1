package dev.quiver.host.rollout;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * Everything a rollout is at one moment, as persisted (JSON): spec, stage, figures, the current
 * stage's test statistics, forecasts awaiting their outcome, each key's last positions and the
 * transitions so far. Restoring it gives a controller that routes, scores and decides exactly as
 * the one that wrote it.
 *
 * @param format file format version, {@value #FORMAT}
 * @param spec the spec, as {@link RolloutSpec#toJson()}
 * @param stage current stage id
 * @param stageIndex transitions so far
 * @param stageSince when the current stage began, ISO-8601
 * @param created when the rollout started, ISO-8601
 * @param totals per role id: all-time sums
 * @param served sums of the variant that acted on each scored bar (what the rollout delivered)
 * @param acted per role id: decisions it acted on
 * @param stageChampion the champion's losses in this stage (rule metric)
 * @param stageChallenger the challenger's losses in this stage
 * @param stagePaired per-bar differences challenger minus champion in this stage
 * @param looks looks taken in this stage
 * @param pending forecasts awaiting their outcome
 * @param pendingDropped forecasts dropped unscored (more than the per-key limit outstanding)
 * @param positions per routing key: last scored position of champion and challenger
 * @param transitions every transition, oldest first
 */
public record RolloutSnapshot(
        int format,
        JsonNode spec,
        String stage,
        int stageIndex,
        String stageSince,
        String created,
        Map<String, VariantTotals> totals,
        VariantTotals served,
        Map<String, Long> acted,
        Moments stageChampion,
        Moments stageChallenger,
        Moments stagePaired,
        int looks,
        List<PendingForecast> pending,
        long pendingDropped,
        Map<String, double[]> positions,
        List<Transition> transitions) {

    /** The current file format. */
    public static final int FORMAT = 1;
}
