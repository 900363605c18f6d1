package dev.quiver.host.store;

import java.util.Optional;

/**
 * One stage change of a rollout (table {@code rollout_transitions}); its place in the rollout's
 * list is its index.
 *
 * @param timeMs when, epoch milliseconds UTC
 * @param fromStage the stage before, not blank
 * @param toStage the stage after, not blank
 * @param actor {@code rule} or {@code operator}, not blank
 * @param reason why, in words, not null
 * @param metric the rules' metric, not blank
 * @param figuresJson per role the figures of the stage that ended, a JSON object
 * @param testJson the test that decided, a JSON object, if there was one
 * @param stageSamples samples the deciding look used
 */
public record RolloutTransitionRow(
        long timeMs,
        String fromStage,
        String toStage,
        String actor,
        String reason,
        String metric,
        String figuresJson,
        Optional<String> testJson,
        long stageSamples) {

    /** Checks the fields. */
    public RolloutTransitionRow {
        Checks.text("RolloutTransitionRow", "fromStage", fromStage);
        Checks.text("RolloutTransitionRow", "toStage", toStage);
        Checks.text("RolloutTransitionRow", "actor", actor);
        java.util.Objects.requireNonNull(reason, "RolloutTransitionRow.reason must not be null");
        Checks.text("RolloutTransitionRow", "metric", metric);
        Checks.json("RolloutTransitionRow", "figuresJson", figuresJson, true);
        java.util.Objects.requireNonNull(
                testJson, "RolloutTransitionRow.testJson must not be null (use Optional.empty())");
        testJson.ifPresent(t -> Checks.json("RolloutTransitionRow", "testJson", t, true));
    }
}
