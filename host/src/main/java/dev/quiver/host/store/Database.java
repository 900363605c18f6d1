package dev.quiver.host.store;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Where connections come from. SQLite: one connection, handed to one transaction at a time (a fair
 * lock serialises writers in this process; other processes wait up to the busy timeout).
 * PostgreSQL: a small HikariCP pool.
 */
interface Database extends AutoCloseable {

    /** The kind of database. */
    enum Kind {
        SQLITE("INTEGER PRIMARY KEY AUTOINCREMENT", "BLOB", "TIMESTAMP"),
        POSTGRESQL(
                "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
                "BYTEA",
                "TIMESTAMP WITH TIME ZONE");

        private final String seqPrimaryKey;
        private final String blob;
        private final String timestamp;

        Kind(String seqPrimaryKey, String blob, String timestamp) {
            this.seqPrimaryKey = seqPrimaryKey;
            this.blob = blob;
            this.timestamp = timestamp;
        }

        /**
         * Flyway placeholders: {@code seq_pk} (an auto-increment key), {@code blob} (bytes) and
         * {@code timestamp} (an instant; db-scheduler's columns).
         */
        java.util.Map<String, String> placeholders() {
            return java.util.Map.of("seq_pk", seqPrimaryKey, "blob", blob, "timestamp", timestamp);
        }
    }

    Kind kind();

    /** A connection for one transaction; give it back with {@link #release}. */
    Connection acquire() throws SQLException;

    /** Starts a transaction on a connection from {@link #acquire}. */
    void begin(Connection connection) throws SQLException;

    /** Commits the transaction: durable when this returns. */
    void commit(Connection connection) throws SQLException;

    /** Rolls the transaction back. */
    void rollback(Connection connection) throws SQLException;

    /** Gives back a connection from {@link #acquire}. */
    void release(Connection connection) throws SQLException;

    /**
     * Connections beside the store's own, for a library that opens and commits its own (the
     * training scheduler): SQLite, a new connection per call with the store's settings (WAL, FULL
     * sync, busy timeout), so its writes wait for the store's; PostgreSQL, the pool.
     */
    javax.sql.DataSource sideDataSource();

    /** The URL, without passwords, for messages. */
    String displayUrl();

    @Override
    void close() throws SQLException;
}
