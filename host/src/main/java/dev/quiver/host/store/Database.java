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
        SQLITE("INTEGER PRIMARY KEY AUTOINCREMENT"),
        POSTGRESQL("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY");

        private final String seqPrimaryKey;

        Kind(String seqPrimaryKey) {
            this.seqPrimaryKey = seqPrimaryKey;
        }

        /** The column type of an auto-increment key, Flyway placeholder {@code seq_pk}. */
        String seqPrimaryKey() {
            return seqPrimaryKey;
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

    /** The URL, without passwords, for messages. */
    String displayUrl();

    @Override
    void close() throws SQLException;
}
