package dev.quiver.host.data;

/** What the CSV reader does with a malformed bar ({@code --on-bad-bar}). */
public enum BadBarPolicy {
    /** Stop at the first malformed bar with an error naming file, line, field and value. */
    FAIL,
    /** Leave the malformed bar out, count it and keep its reason; nothing is repaired. */
    SKIP,
    /**
     * Audit every row ({@link BarAudit}): malformed bars quarantined with a reason code into a
     * quarantine file, identical repeats merged, gaps flagged and filled only by the declared rule;
     * every row counted.
     */
    QUARANTINE
}
