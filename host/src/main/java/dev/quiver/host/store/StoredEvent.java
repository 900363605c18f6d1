package dev.quiver.host.store;

import java.util.Objects;

/**
 * An event as stored, with its place in the append order.
 *
 * @param seq its sequence number: increasing in append order across all accounts, from 1
 * @param event the event
 */
public record StoredEvent(long seq, EventRow event) {

    /** Checks the fields. */
    public StoredEvent {
        Objects.requireNonNull(event, "StoredEvent.event must not be null");
    }
}
