package dev.quiver.host.store;

/** How an account's fills come about; stored as {@link #sql()}. */
public enum AccountMode {
    /** Fills simulated by Quiver. */
    PAPER("paper"),
    /** Fills reported by an external venue. */
    EXTERNAL("external");

    private final String sql;

    AccountMode(String sql) {
        this.sql = sql;
    }

    /**
     * The stored value.
     *
     * @return {@code paper} or {@code external}
     */
    public String sql() {
        return sql;
    }

    static AccountMode fromSql(String value) {
        for (AccountMode m : values()) {
            if (m.sql.equals(value)) {
                return m;
            }
        }
        throw new IllegalArgumentException(
                "accounts.mode '" + value + "' is not 'paper' or 'external'");
    }
}
