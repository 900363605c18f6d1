package dev.quiver.host.store;

/**
 * One line of the rollouts' audit log (table {@code rollout_events}).
 *
 * @param rolloutId the rollout, which must be stored
 * @param kind what happened: {@code start}, {@code transition}, {@code registry}, {@code install},
 *     not blank
 * @param timeMs when, epoch milliseconds UTC
 * @param detailJson the whole event, a JSON object, stored as given
 */
public record RolloutEventRow(String rolloutId, String kind, long timeMs, String detailJson) {

    /** Checks the fields. */
    public RolloutEventRow {
        Checks.text("RolloutEventRow", "rolloutId", rolloutId);
        Checks.text("RolloutEventRow", "kind", kind);
        Checks.json("RolloutEventRow", "detailJson", detailJson, true);
    }
}
