package dev.quiver.host.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * PostgreSQL through a small HikariCP pool (4 connections; the service runs on 2 cores),
 * auto-commit off, read committed. Durability is the server's: {@code fsync} and {@code
 * synchronous_commit} on (the defaults) make a commit durable before it returns.
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
