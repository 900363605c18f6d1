package dev.quiver.host.rollout;

import java.util.Locale;
import java.util.Optional;

/**
 * Where a rollout is. {@code shadow -> canary -> full -> completed} forward, or {@code rolled_back}
 * / {@code aborted} from any live stage. The last three are terminal.
 */
public enum Stage {
    /** Challenger computed and recorded, never acted on. */
    SHADOW,
    /** Challenger acts for the routing keys its share selects; the champion for the others. */
    CANARY,
    /** Challenger acts for every key; the champion is still computed and scored. */
    FULL,
    /** The challenger is the new champion (terminal). */
    COMPLETED,
    /** The challenger lost: the champion acts for every key (terminal). */
    ROLLED_BACK,
    /** Stopped by an operator without a verdict: the champion acts for every key (terminal). */
    ABORTED;

    /**
     * The lower-case name used in JSON and the audit log.
     *
     * @return e.g. {@code rolled_back}
     */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Whether nothing follows.
     *
     * @return true for completed, rolled back and aborted
     */
    public boolean terminal() {
        return this == COMPLETED || this == ROLLED_BACK || this == ABORTED;
    }

    /**
     * The stage a promotion leads to.
     *
     * @return shadow to canary, canary to full, full to completed; empty when terminal
     */
    public Optional<Stage> next() {
        return switch (this) {
            case SHADOW -> Optional.of(CANARY);
            case CANARY -> Optional.of(FULL);
            case FULL -> Optional.of(COMPLETED);
            default -> Optional.empty();
        };
    }

    /**
     * Parses a JSON name.
     *
     * @param id e.g. {@code canary}
     * @return the stage, empty if unknown
     */
    public static Optional<Stage> byId(String id) {
        for (Stage s : values()) {
            if (s.id().equals(id)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }
}
