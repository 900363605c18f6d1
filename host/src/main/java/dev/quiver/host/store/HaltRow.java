package dev.quiver.host.store;

/**
 * An operator's kill-switch command (table {@code halts}, schema 5): halt all new risk, or resume.
 *
 * @param seq the sequence number ({@code 0} before it is stored), giving the order
 * @param halt true for a halt, false for a resume
 * @param actor who, not blank
 * @param reason why, not blank
 * @param timeMs when, epoch milliseconds UTC
 */
public record HaltRow(long seq, boolean halt, String actor, String reason, long timeMs) {

    /**
     * Checks the fields.
     *
     * @throws IllegalArgumentException if the actor or the reason is blank
     */
    public HaltRow {
        Checks.text("HaltRow", "actor", actor);
        Checks.text("HaltRow", "reason", reason);
    }

    /**
     * The stored {@code kind}.
     *
     * @return {@code halt} or {@code resume}
     */
    public String kind() {
        return halt ? "halt" : "resume";
    }
}
