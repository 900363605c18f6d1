package dev.quiver.host.store;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * A live session of one symbol (table {@code sessions}).
 *
 * @param symbol the symbol, e.g. {@code BTC-USD}, not blank; one session per symbol
 * @param accountId the account it trades in, which must exist
 * @param settingsJson the session's settings as a JSON object (the engine's format); compared as
 *     JSON (key order and spacing do not matter), stored as given
 * @param openedMs when it was opened, epoch milliseconds UTC
 * @param closedMs when it was closed, epoch milliseconds UTC; empty while open
 * @param generation which opening of the symbol this is, from 1 (schema 3): a closed session's
 *     symbol opened again is the next generation
 */
public record SessionRow(
        String symbol,
        String accountId,
        String settingsJson,
        long openedMs,
        OptionalLong closedMs,
        long generation) {

    /** Checks the fields. */
    public SessionRow {
        Checks.text("SessionRow", "symbol", symbol);
        Checks.text("SessionRow", "accountId", accountId);
        Checks.json("SessionRow", "settingsJson", settingsJson, true);
        Objects.requireNonNull(
                closedMs, "SessionRow.closedMs must not be null (use OptionalLong.empty())");
        if (closedMs.isPresent() && closedMs.getAsLong() < openedMs) {
            throw new IllegalArgumentException(
                    "SessionRow.closedMs "
                            + closedMs.getAsLong()
                            + " is before openedMs "
                            + openedMs);
        }
        if (generation < 1) {
            throw new IllegalArgumentException(
                    "SessionRow.generation must be >= 1, was " + generation);
        }
    }

    /**
     * A session of the first generation.
     *
     * @param symbol the symbol
     * @param accountId the account
     * @param settingsJson the settings, a JSON object
     * @param openedMs when, epoch milliseconds UTC
     * @param closedMs when closed, or empty while open
     */
    public SessionRow(
            String symbol,
            String accountId,
            String settingsJson,
            long openedMs,
            OptionalLong closedMs) {
        this(symbol, accountId, settingsJson, openedMs, closedMs, 1);
    }

    /**
     * An open session (of the first generation; {@link StateOperations#openNextGeneration} numbers
     * the ones after it).
     *
     * @param symbol the symbol
     * @param accountId the account
     * @param settingsJson the settings, a JSON object
     * @param openedMs when, epoch milliseconds UTC
     * @return the row, not closed
     */
    public static SessionRow open(
            String symbol, String accountId, String settingsJson, long openedMs) {
        return new SessionRow(symbol, accountId, settingsJson, openedMs, OptionalLong.empty());
    }

    /**
     * Whether the session is open.
     *
     * @return true until it is closed
     */
    public boolean isOpen() {
        return closedMs.isEmpty();
    }
}
