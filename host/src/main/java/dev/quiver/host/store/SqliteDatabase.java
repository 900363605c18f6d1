package dev.quiver.host.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Semaphore;
import javax.sql.DataSource;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * SQLite: one connection in WAL mode with {@code synchronous=FULL} (every commit is in the WAL on
 * disk before it returns), foreign keys enforced and a busy timeout for other processes.
 * Transactions of this process take turns on a fair semaphore (the store's {@link GroupCommit}
 * batches concurrent ones into one) and are {@code BEGIN IMMEDIATE} (the write lock is taken at the
 * start, so a transaction never fails half-way because another process wrote, and is held only
 * while a transaction runs). The connection stays in auto-commit mode between transactions: the
 * driver's own transaction handling would keep a transaction (and with IMMEDIATE, the write lock)
 * open between ours.
 */
final class SqliteDatabase implements Database {

    /** How long a transaction waits for another process's write lock, in milliseconds. */
    static final int BUSY_TIMEOUT_MS = 10_000;

    private final String url;
    private final Connection connection;
    // A semaphore, not a lock: with group commit one thread acquires the connection for a batch
    // and another (the batch's committer) releases it.
    private final Semaphore lock = new Semaphore(1, true);

    SqliteDatabase(String url) throws SQLException {
        this.url = url;
        this.connection = config().createConnection(url);
        try {
            verify();
        } catch (SQLException | RuntimeException e) {
            try {
                connection.close();
            } catch (SQLException c) {
                e.addSuppressed(c);
            }
            throw e;
        }
    }

    private static SQLiteConfig config() {
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
        config.enforceForeignKeys(true);
        config.setBusyTimeout(BUSY_TIMEOUT_MS);
        return config;
    }

    /**
     * Connections for Flyway's migrations, with the same settings; used before the store's own
     * connection is opened.
     */
    static DataSource migrationSource(String url) {
        SQLiteDataSource source = new SQLiteDataSource(config());
        source.setUrl(url);
        return source;
    }

    @Override
    public DataSource sideDataSource() {
        return migrationSource(url);
    }

    /** Reads the settings back: a file system or URL that cannot give them is refused. */
    private void verify() throws SQLException {
        Map<String, String> want = new LinkedHashMap<>();
        want.put("journal_mode", "wal");
        want.put("synchronous", "2");
        want.put("foreign_keys", "1");
        want.put("busy_timeout", Integer.toString(BUSY_TIMEOUT_MS));
        Map<String, String> got = pragmas();
        for (var e : want.entrySet()) {
            String actual = got.get(e.getKey());
            if (!e.getValue().equals(actual)) {
                throw new SQLException(
                        "SQLite PRAGMA "
                                + e.getKey()
                                + " is "
                                + actual
                                + ", expected "
                                + e.getValue()
                                + " (journal_mode=wal, synchronous=FULL(2), foreign_keys=on,"
                                + " busy_timeout="
                                + BUSY_TIMEOUT_MS
                                + ")");
            }
        }
    }

    /** The durability settings as SQLite reports them, for checks and tests. */
    Map<String, String> pragmas() throws SQLException {
        Map<String, String> got = new LinkedHashMap<>();
        lock.acquireUninterruptibly();
        try (Statement s = connection.createStatement()) {
            for (String p :
                    new String[] {"journal_mode", "synchronous", "foreign_keys", "busy_timeout"}) {
                try (var rs = s.executeQuery("PRAGMA " + p)) {
                    got.put(p, rs.next() ? rs.getString(1).toLowerCase(Locale.ROOT) : null);
                }
            }
        } finally {
            lock.release();
        }
        return got;
    }

    @Override
    public Kind kind() {
        return Kind.SQLITE;
    }

    @Override
    public Connection acquire() {
        lock.acquireUninterruptibly();
        return connection;
    }

    @Override
    public void begin(Connection c) throws SQLException {
        exec(c, "BEGIN IMMEDIATE");
    }

    @Override
    public void commit(Connection c) throws SQLException {
        exec(c, "COMMIT");
    }

    @Override
    public void rollback(Connection c) throws SQLException {
        exec(c, "ROLLBACK");
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    @Override
    public void release(Connection c) {
        lock.release();
    }

    @Override
    public String displayUrl() {
        return url;
    }

    @Override
    public void close() throws SQLException {
        lock.acquireUninterruptibly();
        try {
            connection.close();
        } finally {
            lock.release();
        }
    }
}
