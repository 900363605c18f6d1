package dev.quiver.host.store;

import java.util.Objects;

/**
 * A rollout event as stored, with its place in the append order.
 *
 * @param seq its sequence number: increasing in append order across all rollouts, from 1
 * @param event the event
 */
public record StoredRolloutEvent(long seq, RolloutEventRow event) {

    /** Checks the fields. */
    public StoredRolloutEvent {
        Objects.requireNonNull(event, "StoredRolloutEvent.event must not be null");
    }
}
