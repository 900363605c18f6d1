package dev.quiver.host.store;

/**
 * An account (table {@code accounts}).
 *
 * @param id the account id, not blank
 * @param currency the currency equity is counted in, e.g. {@code USD}, not blank
 * @param startingEquity equity at creation, in {@code currency} units, finite
 * @param mode paper (simulated fills) or external (reported fills)
 * @param createdMs creation time, epoch milliseconds UTC
 */
public record AccountRow(
        String id, String currency, double startingEquity, AccountMode mode, long createdMs) {

    /** Checks the fields; -0.0 becomes 0.0 (SQLite does not keep the sign of zero). */
    public AccountRow {
        Checks.text("AccountRow", "id", id);
        Checks.text("AccountRow", "currency", currency);
        startingEquity = Checks.finite("AccountRow", "startingEquity", startingEquity);
        java.util.Objects.requireNonNull(mode, "AccountRow.mode must not be null");
    }
}
