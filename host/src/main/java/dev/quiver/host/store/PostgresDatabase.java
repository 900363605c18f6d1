package dev.quiver.host.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * PostgreSQL through a small HikariCP pool (4 connections; the service runs on 2 cores),
 * auto-commit off, read committed. A commit is durable when it returns: each connection turns
 * {@code synchronous_commit} on if the server has it off; {@code fsync} is the server's (on by
 * default).
 */
final class PostgresDatabase implements Database {

    /** Connections in the pool. */
    static final int POOL_SIZE = 4;

    /** How long a transaction waits for a free connection, in milliseconds. */
    static final long CONNECTION_TIMEOUT_MS = 30_000;

    private final String displayUrl;
    private final HikariDataSource pool;

    PostgresDatabase(String url, String displayUrl) throws SQLException {
        this.displayUrl = displayUrl;
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setPoolName("quiver-state");
        config.setMaximumPoolSize(POOL_SIZE);
        config.setMinimumIdle(1);
        config.setAutoCommit(false);
        config.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
        config.setConnectionTimeout(CONNECTION_TIMEOUT_MS);
        // A commit returns once it is flushed to the server's WAL: a server configured with
        // synchronous_commit=off would acknowledge commits it can still lose. Stronger settings
        // (remote_write, remote_apply for synchronous replicas) are kept.
        config.setConnectionInitSql(
                "SELECT set_config('synchronous_commit', 'on', false)"
                        + " WHERE current_setting('synchronous_commit') = 'off'");
        // Fail at open, with the driver's reason, when the server cannot be reached.
        config.setInitializationFailTimeout(1);
        try {
            this.pool = new HikariDataSource(config);
        } catch (HikariPool.PoolInitializationException e) {
            if (e.getCause() instanceof SQLException sql) {
                throw sql;
            }
            throw new SQLException("cannot start the connection pool: " + e.getMessage(), e);
        }
    }

    /** A server setting as a connection of the pool sees it, for tests. */
    String setting(String name) throws SQLException {
        try (Connection c = pool.getConnection();
                var ps = c.prepareStatement("SELECT current_setting(?)")) {
            ps.setString(1, name);
            try (var rs = ps.executeQuery()) {
                rs.next();
                String value = rs.getString(1);
                c.rollback();
                return value;
            }
        }
    }

    @Override
    public Kind kind() {
        return Kind.POSTGRESQL;
    }

    @Override
    public Connection acquire() throws SQLException {
        return pool.getConnection();
    }

    @Override
    public void release(Connection c) throws SQLException {
        c.close();
    }

    /** The pool, for Flyway's migrations. */
    javax.sql.DataSource dataSource() {
        return pool;
    }

    @Override
    public javax.sql.DataSource sideDataSource() {
        return pool;
    }

    /** Auto-commit is off: the first statement starts the transaction. */
    @Override
    public void begin(Connection c) {}

    @Override
    public void commit(Connection c) throws SQLException {
        c.commit();
    }

    @Override
    public void rollback(Connection c) throws SQLException {
        c.rollback();
    }

    @Override
    public String displayUrl() {
        return displayUrl;
    }

    @Override
    public void close() {
        pool.close();
    }
}
