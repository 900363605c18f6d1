package dev.quiver.host.store;

/** The side of a fill; stored as {@link #sql()}. */
public enum Side {
    /** Bought: position up. */
    BUY("buy"),
    /** Sold: position down. */
    SELL("sell");

    private final String sql;

    Side(String sql) {
        this.sql = sql;
    }

    /**
     * The stored value.
     *
     * @return {@code buy} or {@code sell}
     */
    public String sql() {
        return sql;
    }

    static Side fromSql(String value) {
        for (Side s : values()) {
            if (s.sql.equals(value)) {
                return s;
            }
        }
        throw new IllegalArgumentException("fills.side '" + value + "' is not 'buy' or 'sell'");
    }
}
