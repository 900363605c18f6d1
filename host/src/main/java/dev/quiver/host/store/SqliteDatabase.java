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
 * disk before it returns), foreign keys enforced and a busy timeout for other processes. The URL
 * may declare {@code synchronous=NORMAL} instead ({@code jdbc:sqlite:FILE?synchronous=NORMAL}): a
 * commit is then written to the WAL but not {@code fsync}ed, so it survives a crash of the process
 * (a SIGKILL) but not a power loss or a crash of the operating system; no other value is taken.
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

    /** The {@code synchronous} settings the store takes, as SQLite reports them. */
    enum Synchronous {
        /** The default: a commit survives a power loss. */
        FULL("2"),
        /** Declared in the URL: a commit survives a crash of the process, not a power loss. */
        NORMAL("1");

        final String pragma;

        Synchronous(String pragma) {
            this.pragma = pragma;
        }
    }

    private final String url;
    private final Synchronous synchronous;
    private final Connection connection;
    // A semaphore, not a lock: with group commit one thread acquires the connection for a batch
    // and another (the batch's committer) releases it.
    private final Semaphore lock = new Semaphore(1, true);

    SqliteDatabase(String url) throws SQLException {
        this.url = url;
        this.synchronous = synchronous(url);
        this.connection = config(synchronous).createConnection(url);
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

    /**
     * The {@code synchronous} setting a URL declares ({@code ?synchronous=NORMAL}), {@code FULL}
     * when it declares none.
     *
     * @param url the JDBC URL
     * @return the setting
     * @throws IllegalArgumentException if the URL declares another value, naming it
     */
    static Synchronous synchronous(String url) {
        int query = url.indexOf('?');
        Synchronous found = Synchronous.FULL;
        if (query < 0) {
            return found;
        }
        for (String p : url.substring(query + 1).split("&")) {
            int eq = p.indexOf('=');
            String key = eq < 0 ? p : p.substring(0, eq);
            if (!key.equalsIgnoreCase("synchronous")) {
                continue;
            }
            String value = eq < 0 ? "" : p.substring(eq + 1).toUpperCase(Locale.ROOT);
            if (value.equals("FULL")) {
                found = Synchronous.FULL;
            } else if (value.equals("NORMAL")) {
                found = Synchronous.NORMAL;
            } else {
                throw new IllegalArgumentException(
                        "[Quiver/"
                                + StoreException.CODE
                                + "] state store URL parameter synchronous="
                                + (eq < 0 ? "" : p.substring(eq + 1))
                                + " is not taken: FULL (the default: a commit survives a power"
                                + " loss) or NORMAL (a commit survives a crash of the process, not"
                                + " a power loss or a crash of the operating system)");
            }
        }
        return found;
    }

    private static SQLiteConfig config(Synchronous synchronous) {
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(
                synchronous == Synchronous.NORMAL
                        ? SQLiteConfig.SynchronousMode.NORMAL
                        : SQLiteConfig.SynchronousMode.FULL);
        config.enforceForeignKeys(true);
        config.setBusyTimeout(BUSY_TIMEOUT_MS);
        return config;
    }

    /**
     * Connections for Flyway's migrations, with the same settings; used before the store's own
     * connection is opened.
     */
    static DataSource migrationSource(String url) {
        SQLiteDataSource source = new SQLiteDataSource(config(synchronous(url)));
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
        want.put("synchronous", synchronous.pragma);
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
                                + " (journal_mode=wal, synchronous="
                                + synchronous
                                + "("
                                + synchronous.pragma
                                + "), foreign_keys=on,"
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
