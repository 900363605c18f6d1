package dev.quiver.host.store;

/** What {@link StateOperations#recordFill} did. */
public enum FillOutcome {
    /** The fill was new and is now stored. */
    INSERTED,
    /** The same fill (same id, identical content) was already stored; nothing changed. */
    DUPLICATE
}
