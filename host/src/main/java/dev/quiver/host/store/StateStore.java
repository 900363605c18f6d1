package dev.quiver.host.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationState;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * The durable store of live sessions (accounts, session settings, bars, fills and events), rollouts
 * (state, transitions and audit log) and the alias history of served models, in SQLite (the
 * default, {@code QUIVER_HOME/state.db}) or PostgreSQL ({@code jdbc:postgresql://...}, from {@code
 * --state-url} or {@code QUIVER_STATE_URL}).
 *
 * <p><b>Durability.</b> Every write method commits before it returns: SQLite in WAL mode with
 * {@code synchronous=FULL}, PostgreSQL with {@code synchronous_commit} at least {@code on} (turned
 * on for the store's connections if the server has it off) and the server's {@code fsync}. A write
 * that returned survives a SIGKILL of the process (and, for SQLite, a power loss); a write that
 * threw left nothing. {@link #inTransaction} makes several writes one (all or nothing).
 *
 * <p><b>Group commit.</b> Transactions of concurrent threads are committed together: each runs in a
 * savepoint of one shared database transaction and returns after the one commit (one {@code fsync})
 * that holds it (see {@link GroupCommit}); a transaction that throws is rolled back to its
 * savepoint alone. Durability per call is unchanged; the cost of a commit is shared. The
 * transactions of a batch run one after the other on the thread of one of their callers.
 *
 * <p><b>Schema.</b> {@link #open} applies the Flyway migrations in {@code db/migration} that the
 * database has not seen yet (each once, recorded in {@code flyway_schema_history}) and refuses a
 * database migrated by a newer Quiver.
 *
 * <p><b>Threads.</b> Thread-safe. Transactions of this process take turns on one connection at a
 * time (the group commit's), their commits shared; other processes wait up to SQLite's 10 s busy
 * timeout. PostgreSQL: a pool of 4 connections, of which the batches use one at a time.
 *
 * <p>See {@code docs/state-store.md}.
 */
public final class StateStore implements StateOperations, AutoCloseable {

    /** The environment variable naming the store's JDBC URL. */
    public static final String URL_ENV = "QUIVER_STATE_URL";

    /** The SQLite file in {@code QUIVER_HOME} used when no URL is given. */
    public static final String DEFAULT_FILE = "state.db";

    private static final Pattern PASSWORD = Pattern.compile("(?i)(password=)[^&;]*");

    private static final ThreadLocal<JdbcOperations> CURRENT = new ThreadLocal<>();

    private final Database database;
    private final GroupCommit commits;
    private volatile boolean closed;

    private StateStore(Database database) {
        this.database = database;
        this.commits = new GroupCommit(database);
    }

    /**
     * The store URL a command uses: its {@code --state-url} option, else {@value #URL_ENV}; empty
     * when neither is set (then {@link #open} uses {@code QUIVER_HOME/state.db}).
     *
     * @param option the command's option value, or null
     * @return the URL, if any
     */
    public static Optional<String> configuredUrl(String option) {
        String url = option;
        if (url == null || url.isBlank()) {
            url = System.getenv(URL_ENV);
        }
        return url == null || url.isBlank() ? Optional.empty() : Optional.of(url.strip());
    }

    /**
     * Opens the store and brings its schema up to date.
     *
     * @param url a JDBC URL: {@code jdbc:sqlite:/path/to/file.db} or {@code
     *     jdbc:postgresql://host:port/db?user=U&password=P}; empty for the SQLite file {@code
     *     quiverHome/state.db}
     * @param quiverHome the Quiver home folder (created if missing when the default file is used)
     * @return the open store; close it
     * @throws IllegalArgumentException if the URL is neither SQLite nor PostgreSQL, names an
     *     in-memory SQLite database (not durable), or declares a SQLite {@code synchronous} other
     *     than {@code FULL} (the default) or {@code NORMAL} (a commit survives a crash of the
     *     process, not a power loss: {@code jdbc:sqlite:FILE?synchronous=NORMAL})
     * @throws StoreException if the database cannot be opened or migrated (operation {@code open}
     *     or {@code migrate}; the message names the URL without its password)
     */
    public static StateStore open(Optional<String> url, Path quiverHome) {
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(quiverHome, "quiverHome");
        String jdbc;
        if (url.isEmpty()) {
            Path file = quiverHome.resolve(DEFAULT_FILE).toAbsolutePath();
            jdbc = "jdbc:sqlite:" + file;
        } else {
            jdbc = url.get().strip();
        }
        String display = PASSWORD.matcher(jdbc).replaceAll("$1***");
        Database.Kind kind;
        if (jdbc.startsWith("jdbc:sqlite:")) {
            kind = Database.Kind.SQLITE;
            prepareSqliteFile(jdbc, display);
        } else if (jdbc.startsWith("jdbc:postgresql:")) {
            kind = Database.Kind.POSTGRESQL;
        } else {
            throw new IllegalArgumentException(
                    "[Quiver/"
                            + StoreException.CODE
                            + "] state store URL '"
                            + display
                            + "' is not supported: expected jdbc:sqlite:FILE or"
                            + " jdbc:postgresql://HOST:PORT/DB (from --state-url or "
                            + URL_ENV
                            + ")");
        }
        Database db;
        try {
            if (kind == Database.Kind.SQLITE) {
                // Migrate first: the store's connection is opened on the migrated file.
                migrate(kind, SqliteDatabase.migrationSource(jdbc), display);
                db = new SqliteDatabase(jdbc);
            } else {
                // Pool first: Flyway then connects through it (its messages would show the URL).
                PostgresDatabase pg = new PostgresDatabase(jdbc, display);
                try {
                    migrate(kind, pg.dataSource(), display);
                } catch (RuntimeException e) {
                    pg.close();
                    throw e;
                }
                db = pg;
            }
        } catch (SQLException e) {
            throw new StoreException("open", "cannot open the state store at " + display, e);
        }
        return new StateStore(db);
    }

    private static void prepareSqliteFile(String jdbc, String display) {
        try {
            SqliteDatabase.synchronous(jdbc);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    e.getMessage() + " (state store URL '" + display + "')", e);
        }
        String rest = jdbc.substring("jdbc:sqlite:".length());
        int query = rest.indexOf('?');
        String file = query < 0 ? rest : rest.substring(0, query);
        if (file.startsWith("file:")) {
            file = file.substring("file:".length());
        }
        if (file.isBlank() || file.contains(":memory:") || jdbc.contains("mode=memory")) {
            throw new IllegalArgumentException(
                    "[Quiver/"
                            + StoreException.CODE
                            + "] state store URL '"
                            + display
                            + "' names an in-memory SQLite database, which does not survive the"
                            + " process: give a file, jdbc:sqlite:/path/state.db");
        }
        Path parent = Path.of(file).toAbsolutePath().getParent();
        if (parent != null) {
            try {
                Files.createDirectories(parent);
            } catch (IOException e) {
                throw new StoreException(
                        "open", "cannot create the folder " + parent + " of " + display, e);
            }
        }
    }

    private static void migrate(Database.Kind kind, DataSource source, String display) {
        try {
            Flyway flyway =
                    Flyway.configure(StateStore.class.getClassLoader())
                            .dataSource(source)
                            .locations("classpath:db/migration")
                            .placeholders(kind.placeholders())
                            .javaMigrations(new V4__Rollout_kind_strategy())
                            .failOnMissingLocations(true)
                            // A database migrated by a newer Quiver is refused, not ignored.
                            .ignoreMigrationPatterns(new String[0])
                            .load();
            List<String> newer = new ArrayList<>();
            for (MigrationInfo m : flyway.info().all()) {
                if (m.getState() == MigrationState.FUTURE_SUCCESS
                        || m.getState() == MigrationState.FUTURE_FAILED) {
                    newer.add(m.getVersion() + " (" + m.getScript() + ")");
                }
            }
            if (!newer.isEmpty()) {
                throw new StoreException(
                        "migrate",
                        display
                                + " was migrated by a newer Quiver: schema version(s) "
                                + String.join(", ", newer)
                                + " are unknown to this one. Run the newer Quiver, or give this"
                                + " one another database",
                        null);
            }
            MigrateResult result = flyway.migrate();
            if (!result.success) {
                throw new StoreException(
                        "migrate",
                        "schema migration of "
                                + display
                                + " did not succeed (target "
                                + result.targetSchemaVersion
                                + ")",
                        null);
            }
        } catch (FlywayException e) {
            throw new StoreException(
                    "migrate", "cannot bring the schema of " + display + " up to date", e);
        }
    }

    /**
     * Whether this store is SQLite (else PostgreSQL), for libraries that need to know the dialect.
     *
     * @return true for SQLite
     */
    public boolean isSqlite() {
        return database.kind() == Database.Kind.SQLITE;
    }

    /**
     * Connections to the store's database for a library that manages its own transactions (the
     * training jobs' scheduler, db-scheduler, on its table {@code scheduled_tasks}, schema 6).
     * SQLite: each call opens a new connection with the store's durability settings; PostgreSQL:
     * the store's pool.
     *
     * @return the data source
     */
    public DataSource sideDataSource() {
        return database.sideDataSource();
    }

    /**
     * Runs a function in one transaction: it commits when the function returns and rolls back
     * (nothing of it is stored) when it throws. Use only the {@link StateOperations} handed to the
     * function; calling the store itself inside is refused. With group commit the function may run
     * on another caller's thread (the leader of the batch it joins) while this one waits: it must
     * not wait for a lock or monitor the calling thread holds, nor rely on the calling thread's
     * thread-locals.
     *
     * <pre>{@code
     * store.inTransaction(tx -> {
     *     tx.appendBars("BTC-USD", List.of(bar));
     *     tx.appendEvent(tripped);
     *     return null;
     * });
     * }</pre>
     *
     * @param work what to do; its exceptions are rethrown as they are, after the rollback
     * @param <T> what it returns
     * @return what {@code work} returned, once committed
     * @throws StoreException if the database fails, including at commit (then the message says
     *     whether the outcome is known)
     * @throws IllegalStateException if called inside a transaction, or after {@link #close}
     */
    public <T> T inTransaction(Function<StateOperations, T> work) {
        return transaction("inTransaction", work);
    }

    private <T> T transaction(String operation, Function<StateOperations, T> work) {
        Objects.requireNonNull(work, "work");
        if (CURRENT.get() != null) {
            throw new IllegalStateException(
                    operation
                            + ": this thread is already in a transaction of the state store; use"
                            + " the StateOperations handed to inTransaction, not the store");
        }
        if (closed) {
            throw new IllegalStateException(operation + ": the state store is closed");
        }
        return commits.run(
                operation,
                work,
                tx -> {
                    if (tx == null) {
                        CURRENT.remove();
                    } else {
                        CURRENT.set(tx);
                    }
                });
    }

    private <T> T single(String operation, Function<StateOperations, T> work) {
        return transaction(operation, work);
    }

    @Override
    public AccountRow createAccount(AccountRow account) {
        return single("createAccount", tx -> tx.createAccount(account));
    }

    @Override
    public Optional<AccountRow> account(String id) {
        return single("account", tx -> tx.account(id));
    }

    @Override
    public List<AccountRow> accounts() {
        return single("accounts", StateOperations::accounts);
    }

    @Override
    public SessionRow openSession(SessionRow session) {
        return single("openSession", tx -> tx.openSession(session));
    }

    @Override
    public SessionRow closeSession(String symbol, long closedMs) {
        return single("closeSession", tx -> tx.closeSession(symbol, closedMs));
    }

    @Override
    public Optional<SessionRow> session(String symbol) {
        return single("session", tx -> tx.session(symbol));
    }

    @Override
    public List<SessionRow> openSessions() {
        return single("openSessions", StateOperations::openSessions);
    }

    @Override
    public SessionRow openNextGeneration(SessionRow session) {
        return single("openNextGeneration", tx -> tx.openNextGeneration(session));
    }

    @Override
    public List<SessionRow> sessionHistory(String symbol) {
        return single("sessionHistory", tx -> tx.sessionHistory(symbol));
    }

    @Override
    public List<BarRow> generationBars(String symbol, long generation) {
        return single("generationBars", tx -> tx.generationBars(symbol, generation));
    }

    @Override
    public void appendBars(String symbol, List<BarRow> bars) {
        single(
                "appendBars",
                tx -> {
                    tx.appendBars(symbol, bars);
                    return null;
                });
    }

    @Override
    public List<BarRow> bars(String symbol) {
        return single("bars", tx -> tx.bars(symbol));
    }

    @Override
    public Optional<BarRow> lastBar(String symbol) {
        return single("lastBar", tx -> tx.lastBar(symbol));
    }

    @Override
    public FillOutcome recordFill(FillRow fill) {
        return single("recordFill", tx -> tx.recordFill(fill));
    }

    @Override
    public List<FillRow> fills(String accountId) {
        return single("fills", tx -> tx.fills(accountId));
    }

    @Override
    public long appendEvent(EventRow event) {
        return single("appendEvent", tx -> tx.appendEvent(event));
    }

    @Override
    public List<StoredEvent> events(String accountId) {
        return single("events", tx -> tx.events(accountId));
    }

    @Override
    public List<StoredEvent> eventsExcept(String accountId, String kind) {
        return single("eventsExcept", tx -> tx.eventsExcept(accountId, kind));
    }

    @Override
    public Optional<StoredEvent> lastEvent(String accountId, String kind, String symbol) {
        return single("lastEvent", tx -> tx.lastEvent(accountId, kind, symbol));
    }

    @Override
    public long appendHalt(HaltRow halt) {
        return single("appendHalt", tx -> tx.appendHalt(halt));
    }

    @Override
    public List<HaltRow> halts() {
        return single("halts", StateOperations::halts);
    }

    @Override
    public void saveRollout(RolloutRow rollout) {
        single(
                "saveRollout",
                tx -> {
                    tx.saveRollout(rollout);
                    return null;
                });
    }

    @Override
    public Optional<RolloutRow> rollout(String id) {
        return single("rollout", tx -> tx.rollout(id));
    }

    @Override
    public List<RolloutRow> rollouts() {
        return single("rollouts", StateOperations::rollouts);
    }

    @Override
    public long appendRolloutEvent(RolloutEventRow event) {
        return single("appendRolloutEvent", tx -> tx.appendRolloutEvent(event));
    }

    @Override
    public List<StoredRolloutEvent> rolloutEvents() {
        return single("rolloutEvents", StateOperations::rolloutEvents);
    }

    @Override
    public void recordRolloutPoints(String rolloutId, List<RolloutPointRow> points) {
        single(
                "recordRolloutPoints",
                tx -> {
                    tx.recordRolloutPoints(rolloutId, points);
                    return null;
                });
    }

    @Override
    public List<RolloutPointRow> rolloutSeries(String rolloutId, int bars) {
        return single("rolloutSeries", tx -> tx.rolloutSeries(rolloutId, bars));
    }

    @Override
    public Optional<AliasMoveRow> observeAlias(
            String model, String alias, String version, long observedMs) {
        return single("observeAlias", tx -> tx.observeAlias(model, alias, version, observedMs));
    }

    @Override
    public List<AliasMoveRow> aliasMoves() {
        return single("aliasMoves", StateOperations::aliasMoves);
    }

    @Override
    public List<AliasMoveRow> aliasMoves(String model, String alias) {
        return single("aliasMoves", tx -> tx.aliasMoves(model, alias));
    }

    @Override
    public Optional<AliasMoveRow> aliasAsOf(String model, String alias, long atMs) {
        return single("aliasAsOf", tx -> tx.aliasAsOf(model, alias, atMs));
    }

    /**
     * Where the store is.
     *
     * @return its JDBC URL, password replaced by {@code ***}
     */
    public String displayUrl() {
        return database.displayUrl();
    }

    /**
     * How the store's calls shared commits since it was opened.
     *
     * @param commits database commits (batches), committed or failed
     * @param transactions calls whose work was in one of them (a call whose work threw is not
     *     counted)
     * @param commitNanos time spent in the database's {@code COMMIT} (SQLite: writing and, with
     *     {@code synchronous=FULL}, the {@code fsync} of the WAL), summed over the commits,
     *     nanoseconds
     * @param batchNanos time from a batch's begin to the end of its commit (its members' work
     *     included), summed over the batches, nanoseconds
     */
    public record CommitCounts(
            long commits, long transactions, long commitNanos, long batchNanos) {}

    /**
     * How many calls shared how many commits so far (group commit).
     *
     * @return the counts
     */
    public CommitCounts commitCounts() {
        long[] c = commits.counts();
        return new CommitCounts(c[0], c[1], c[2], c[3]);
    }

    /** The group commit, for tests of its batches. */
    GroupCommit commits() {
        return commits;
    }

    /** The database behind the store, for tests of its settings. */
    Database database() {
        return database;
    }

    /**
     * Closes the connections; waits for a running SQLite transaction to end. Idempotent.
     *
     * @throws StoreException if the database reports an error while closing
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            database.close();
        } catch (SQLException e) {
            throw new StoreException("close", "cannot close " + database.displayUrl(), e);
        }
    }
}
