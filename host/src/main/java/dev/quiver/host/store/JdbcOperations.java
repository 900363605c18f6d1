package dev.quiver.host.store;

import com.fasterxml.jackson.databind.JsonNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The operations on one connection inside one transaction. Valid only while its transaction runs
 * and only on the thread that runs it. The SQL is the same for SQLite and PostgreSQL ({@code ON
 * CONFLICT DO NOTHING} and {@code RETURNING} exist in both).
 */
final class JdbcOperations implements StateOperations {

    private final Connection connection;
    private final Thread owner = Thread.currentThread();
    private boolean ended;

    JdbcOperations(Connection connection) {
        this.connection = connection;
    }

    void end() {
        ended = true;
    }

    private void check() {
        if (ended) {
            throw new IllegalStateException(
                    "these StateOperations belong to a transaction that has ended: use them only"
                            + " inside the function given to StateStore.inTransaction");
        }
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException(
                    "these StateOperations belong to a transaction of thread '"
                            + owner.getName()
                            + "': use them only on that thread");
        }
    }

    @FunctionalInterface
    private interface Sql<T> {
        T run() throws SQLException;
    }

    private <T> T sql(String operation, Sql<T> body) {
        check();
        try {
            return body.run();
        } catch (SQLException e) {
            throw new StoreException(operation, "database error", e);
        }
    }

    // ---- accounts

    private static final String ACCOUNT_COLUMNS = "id, currency, starting_equity, mode, created_ms";

    @Override
    public AccountRow createAccount(AccountRow a) {
        Objects.requireNonNull(a, "account");
        String op = "createAccount(" + a.id() + ")";
        return sql(
                op,
                () -> {
                    try (PreparedStatement ps =
                            connection.prepareStatement(
                                    "INSERT INTO accounts ("
                                            + ACCOUNT_COLUMNS
                                            + ") VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO"
                                            + " NOTHING")) {
                        ps.setString(1, a.id());
                        ps.setString(2, a.currency());
                        ps.setDouble(3, a.startingEquity());
                        ps.setString(4, a.mode().sql());
                        ps.setLong(5, a.createdMs());
                        if (ps.executeUpdate() == 1) {
                            return a;
                        }
                    }
                    AccountRow stored =
                            readAccount(a.id())
                                    .orElseThrow(
                                            () ->
                                                    new StoreException(
                                                            op,
                                                            "the insert was refused as a duplicate"
                                                                    + " but no account has this id",
                                                            null));
                    conflictIf(op, "account", a.id(), "currency", stored.currency(), a.currency());
                    conflictIf(
                            op,
                            "account",
                            a.id(),
                            "starting_equity",
                            stored.startingEquity(),
                            a.startingEquity());
                    conflictIf(op, "account", a.id(), "mode", stored.mode().sql(), a.mode().sql());
                    return stored;
                });
    }

    @Override
    public Optional<AccountRow> account(String id) {
        Objects.requireNonNull(id, "id");
        return sql("account(" + id + ")", () -> readAccount(id));
    }

    @Override
    public List<AccountRow> accounts() {
        return sql(
                "accounts()",
                () -> {
                    try (PreparedStatement ps =
                            connection.prepareStatement(
                                    "SELECT " + ACCOUNT_COLUMNS + " FROM accounts ORDER BY id")) {
                        List<AccountRow> out = new ArrayList<>();
                        try (ResultSet rs = ps.executeQuery()) {
                            while (rs.next()) {
                                out.add(account(rs));
                            }
                        }
                        return out;
                    }
                });
    }

    private Optional<AccountRow> readAccount(String id) throws SQLException {
        try (PreparedStatement ps =
                connection.prepareStatement(
                        "SELECT " + ACCOUNT_COLUMNS + " FROM accounts WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(account(rs)) : Optional.empty();
            }
        }
    }

    private static AccountRow account(ResultSet rs) throws SQLException {
        return new AccountRow(
                rs.getString(1),
                rs.getString(2),
                rs.getDouble(3),
                AccountMode.fromSql(rs.getString(4)),
                rs.getLong(5));
    }

    private void requireAccount(String op, String accountId) throws SQLException {
        if (readAccount(accountId).isEmpty()) {
            throw new StoreException(
                    op, "no account '" + accountId + "': create it first (createAccount)", null);
        }
    }

    // ---- sessions

    private static final String SESSION_COLUMNS =
            "symbol, account_id, settings_json, opened_ms, closed_ms";

    /** The columns read: schema 3 added the generation. */
    private static final String SESSION_READ = SESSION_COLUMNS + ", generation";

    @Override
    public SessionRow openSession(SessionRow s) {
        Objects.requireNonNull(s, "session");
        if (!s.isOpen()) {
            throw new IllegalArgumentException(
                    "openSession("
                            + s.symbol()
                            + "): the session given is closed (closedMs "
                            + s.closedMs().getAsLong()
                            + ")");
        }
        String op = "openSession(" + s.symbol() + ")";
        return sql(
                op,
                () -> {
                    Optional<SessionRow> existing = readSession(s.symbol());
                    if (existing.isEmpty()) {
                        requireAccount(op, s.accountId());
                        try (PreparedStatement ps =
                                connection.prepareStatement(
                                        "INSERT INTO sessions ("
                                                + SESSION_COLUMNS
                                                + ") VALUES (?, ?, ?, ?, NULL) ON CONFLICT (symbol)"
                                                + " DO NOTHING")) {
                            ps.setString(1, s.symbol());
                            ps.setString(2, s.accountId());
                            ps.setString(3, s.settingsJson());
                            ps.setLong(4, s.openedMs());
                            if (ps.executeUpdate() == 1) {
                                return s;
                            }
                        }
                        existing = readSession(s.symbol());
                    }
                    SessionRow stored =
                            existing.orElseThrow(
                                    () ->
                                            new StoreException(
                                                    op,
                                                    "the insert was refused as a duplicate but no"
                                                            + " session has this symbol",
                                                    null));
                    if (!stored.isOpen()) {
                        throw new StoreConflictException(
                                op,
                                "session",
                                s.symbol(),
                                "closed_ms",
                                stored.closedMs().getAsLong(),
                                "null (open)",
                                "the session was closed; a closed session is not reopened");
                    }
                    conflictIf(
                            op,
                            "session",
                            s.symbol(),
                            "account_id",
                            stored.accountId(),
                            s.accountId());
                    JsonNode storedSettings =
                            Checks.json("sessions", "settings_json", stored.settingsJson(), true);
                    JsonNode offered =
                            Checks.json("SessionRow", "settingsJson", s.settingsJson(), true);
                    if (!storedSettings.equals(offered)) {
                        throw new StoreConflictException(
                                op,
                                "session",
                                s.symbol(),
                                "settings_json",
                                stored.settingsJson(),
                                s.settingsJson(),
                                "the open session has other settings");
                    }
                    return stored;
                });
    }

    @Override
    public SessionRow closeSession(String symbol, long closedMs) {
        Objects.requireNonNull(symbol, "symbol");
        String op = "closeSession(" + symbol + ")";
        return sql(
                op,
                () -> {
                    SessionRow stored = requireSession(op, symbol);
                    if (stored.isOpen()) {
                        if (closedMs < stored.openedMs()) {
                            throw new IllegalArgumentException(
                                    op
                                            + ": closedMs "
                                            + closedMs
                                            + " is before the session was opened ("
                                            + stored.openedMs()
                                            + ")");
                        }
                        try (PreparedStatement ps =
                                connection.prepareStatement(
                                        "UPDATE sessions SET closed_ms = ? WHERE symbol = ? AND"
                                                + " closed_ms IS NULL")) {
                            ps.setLong(1, closedMs);
                            ps.setString(2, symbol);
                            if (ps.executeUpdate() == 1) {
                                return new SessionRow(
                                        stored.symbol(),
                                        stored.accountId(),
                                        stored.settingsJson(),
                                        stored.openedMs(),
                                        OptionalLong.of(closedMs),
                                        stored.generation());
                            }
                        }
                        stored = requireSession(op, symbol);
                    }
                    if (stored.closedMs().getAsLong() != closedMs) {
                        throw new StoreConflictException(
                                op,
                                "session",
                                symbol,
                                "closed_ms",
                                stored.closedMs().getAsLong(),
                                closedMs,
                                "the session was already closed at another time");
                    }
                    return stored;
                });
    }

    @Override
    public Optional<SessionRow> session(String symbol) {
        Objects.requireNonNull(symbol, "symbol");
        return sql("session(" + symbol + ")", () -> readSession(symbol));
    }

    @Override
    public List<SessionRow> openSessions() {
        return sql(
                "openSessions()",
                () -> {
                    try (PreparedStatement ps =
                            connection.prepareStatement(
                                    "SELECT "
                                            + SESSION_READ
                                            + " FROM sessions WHERE closed_ms IS NULL ORDER BY"
                                            + " symbol")) {
                        List<SessionRow> out = new ArrayList<>();
                        try (ResultSet rs = ps.executeQuery()) {
                            while (rs.next()) {
                                out.add(session(rs));
                            }
                        }
                        return out;
                    }
                });
    }

    private Optional<SessionRow> readSession(String symbol) throws SQLException {
        try (PreparedStatement ps =
                connection.prepareStatement(
                        "SELECT " + SESSION_READ + " FROM sessions WHERE symbol = ?")) {
            ps.setString(1, symbol);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(session(rs)) : Optional.empty();
            }
        }
    }

    private SessionRow requireSession(String op, String symbol) throws SQLException {
        return readSession(symbol)
                .orElseThrow(
                        () ->
                                new StoreException(
                                        op,
                                        "no session for symbol '"
                                                + symbol
                                                + "': open it first (openSession)",
                                        null));
    }

    /**
     * When the session was closed, empty while it is open; reads only that column (a bar is
     * appended per decision: the session's settings need not be read and checked each time).
     */
    private OptionalLong requireSessionClosedMs(String op, String symbol) throws SQLException {
        try (PreparedStatement ps =
                connection.prepareStatement("SELECT closed_ms FROM sessions WHERE symbol = ?")) {
            ps.setString(1, symbol);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new StoreException(
                            op,
                            "no session for symbol '" + symbol + "': open it first (openSession)",
                            null);
                }
                long closed = rs.getLong(1);
                return rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(closed);
            }
        }
    }

    private static SessionRow session(ResultSet rs) throws SQLException {
        long closed = rs.getLong(5);
        OptionalLong closedMs = rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(closed);
        return new SessionRow(
                rs.getString(1),
                rs.getString(2),
                rs.getString(3),
                rs.getLong(4),
                closedMs,
                rs.getLong(6));
    }

    @Override
    public SessionRow openNextGeneration(SessionRow s) {
        Objects.requireNonNull(s, "session");
        if (!s.isOpen()) {
            throw new IllegalArgumentException(
                    "openNextGeneration(" + s.symbol() + "): the session given is closed");
        }
        String op = "openNextGeneration(" + s.symbol() + ")";
        Optional<SessionRow> current = sql(op, () -> readSession(s.symbol()));
        if (current.isEmpty() || current.get().isOpen()) {
            return openSession(s);
        }
        return sql(
                op,
                () -> {
                    requireAccount(op, s.accountId());
                    SessionRow closed = current.get();
                    GenerationSql.archive(connection, closed);
                    long next = closed.generation() + 1;
                    GenerationSql.insertOpen(connection, s, next);
                    return new SessionRow(
                            s.symbol(),
                            s.accountId(),
                            s.settingsJson(),
                            s.openedMs(),
                            OptionalLong.empty(),
                            next);
                });
    }

    @Override
    public List<SessionRow> sessionHistory(String symbol) {
        Objects.requireNonNull(symbol, "symbol");
        return sql(
                "sessionHistory(" + symbol + ")",
                () -> {
                    List<SessionRow> out =
                            new ArrayList<>(GenerationSql.archived(connection, symbol));
                    readSession(symbol).ifPresent(out::add);
                    return out;
                });
    }

    @Override
    public List<BarRow> generationBars(String symbol, long generation) {
        Objects.requireNonNull(symbol, "symbol");
        return sql(
                "generationBars(" + symbol + ", " + generation + ")",
                () -> {
                    Optional<SessionRow> current = readSession(symbol);
                    if (current.isPresent() && current.get().generation() == generation) {
                        return readBars(symbol, "ORDER BY start_ms", Integer.MAX_VALUE);
                    }
                    return GenerationSql.archivedBars(connection, symbol, generation);
                });
    }

    // ---- bars

    private static final String BAR_COLUMNS = "start_ms, open, high, low, close, volume";

    @Override
    public void appendBars(String symbol, List<BarRow> bars) {
        Objects.requireNonNull(symbol, "symbol");
        Objects.requireNonNull(bars, "bars");
        String op = "appendBars(" + symbol + ")";
        sql(
                op,
                () -> {
                    OptionalLong closed = requireSessionClosedMs(op, symbol);
                    if (closed.isPresent()) {
                        throw new StoreException(
                                op,
                                "the session of '"
                                        + symbol
                                        + "' was closed at "
                                        + closed.getAsLong()
                                        + ": no bars are appended to a closed session",
                                null);
                    }
                    Set<Long> seen = new HashSet<>();
                    try (PreparedStatement ps =
                            connection.prepareStatement(
                                    "INSERT INTO bars (symbol, "
                                            + BAR_COLUMNS
                                            + ") VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (symbol,"
                                            + " start_ms) DO NOTHING")) {
                        for (int i = 0; i < bars.size(); i++) {
                            BarRow b = Objects.requireNonNull(bars.get(i), "bars[" + i + "]");
                            if (!seen.add(b.startMs())) {
                                throw new StoreConflictException(
                                        op,
                                        "bar",
                                        symbol + "@" + b.startMs(),
                                        "start_ms",
                                        b.startMs() + " (bars given earlier in this call)",
                                        b.startMs() + " (bars[" + i + "])",
                                        "two bars with the same start time");
                            }
                            ps.setString(1, symbol);
                            ps.setLong(2, b.startMs());
                            ps.setDouble(3, b.open());
                            ps.setDouble(4, b.high());
                            ps.setDouble(5, b.low());
                            ps.setDouble(6, b.close());
                            ps.setDouble(7, b.volume());
                            if (ps.executeUpdate() != 1) {
                                throw new StoreConflictException(
                                        op,
                                        "bar",
                                        symbol + "@" + b.startMs(),
                                        "start_ms",
                                        b.startMs() + " (already stored)",
                                        b.startMs() + " (bars[" + i + "])",
                                        "a bar with this start time is already stored; none of"
                                                + " the "
                                                + bars.size()
                                                + " bars of this call is stored");
                            }
                        }
                    }
                    return null;
                });
    }

    @Override
    public List<BarRow> bars(String symbol) {
        Objects.requireNonNull(symbol, "symbol");
        return sql(
                "bars(" + symbol + ")",
                () -> readBars(symbol, "ORDER BY start_ms", Integer.MAX_VALUE));
    }

    @Override
    public Optional<BarRow> lastBar(String symbol) {
        Objects.requireNonNull(symbol, "symbol");
        return sql(
                "lastBar(" + symbol + ")",
                () -> readBars(symbol, "ORDER BY start_ms DESC LIMIT 1", 1).stream().findFirst());
    }

    private List<BarRow> readBars(String symbol, String order, int limit) throws SQLException {
        try (PreparedStatement ps =
                connection.prepareStatement(
                        "SELECT " + BAR_COLUMNS + " FROM bars WHERE symbol = ? " + order)) {
            ps.setString(1, symbol);
            List<BarRow> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next() && out.size() < limit) {
                    out.add(
                            new BarRow(
                                    rs.getLong(1),
                                    rs.getDouble(2),
                                    rs.getDouble(3),
                                    rs.getDouble(4),
                                    rs.getDouble(5),
                                    rs.getDouble(6)));
                }
            }
            return out;
        }
    }

    // ---- fills

    private static final String FILL_COLUMNS =
            "account_id, client_fill_id, symbol, side, quantity, price, fee, time_ms";

    @Override
    public FillOutcome recordFill(FillRow f) {
        Objects.requireNonNull(f, "fill");
        String op = "recordFill(" + f.accountId() + "/" + f.clientFillId() + ")";
        return sql(
                op,
                () -> {
                    requireAccount(op, f.accountId());
                    try (PreparedStatement ps =
                            connection.prepareStatement(
                                    "INSERT INTO fills ("
                                            + FILL_COLUMNS
                                            + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT"
                                            + " (account_id, client_fill_id) DO NOTHING")) {
                        ps.setString(1, f.accountId());
                        ps.setString(2, f.clientFillId());
                        ps.setString(3, f.symbol());
                        ps.setString(4, f.side().sql());
                        ps.setDouble(5, f.quantity());
                        ps.setDouble(6, f.price());
                        ps.setDouble(7, f.fee());
                        ps.setLong(8, f.timeMs());
                        if (ps.executeUpdate() == 1) {
                            return FillOutcome.INSERTED;
                        }
                    }
                    FillRow stored;
                    try (PreparedStatement ps =
                            connection.prepareStatement(
                                    "SELECT "
                                            + FILL_COLUMNS
                                            + " FROM fills WHERE account_id = ? AND"
                                            + " client_fill_id = ?")) {
                        ps.setString(1, f.accountId());
                        ps.setString(2, f.clientFillId());
                        try (ResultSet rs = ps.executeQuery()) {
                            if (!rs.next()) {
                                throw new StoreException(
                                        op,
                                        "the insert was refused as a duplicate but no fill has"
                                                + " this id",
                                        null);
                            }
                            stored = fill(rs);
                        }
                    }
                    String key = f.accountId() + "/" + f.clientFillId();
                    conflictIf(op, "fill", key, "symbol", stored.symbol(), f.symbol());
                    conflictIf(op, "fill", key, "side", stored.side().sql(), f.side().sql());
                    conflictIf(op, "fill", key, "quantity", stored.quantity(), f.quantity());
                    conflictIf(op, "fill", key, "price", stored.price(), f.price());
                    conflictIf(op, "fill", key, "fee", stored.fee(), f.fee());
                    conflictIf(op, "fill", key, "time_ms", stored.timeMs(), f.timeMs());
                    return FillOutcome.DUPLICATE;
                });
    }

    @Override
    public List<FillRow> fills(String accountId) {
        Objects.requireNonNull(accountId, "accountId");
        return sql(
                "fills(" + accountId + ")",
                () -> {
                    try (PreparedStatement ps =
                            connection.prepareStatement(
                                    "SELECT "
                                            + FILL_COLUMNS
                                            + " FROM fills WHERE account_id = ? ORDER BY seq")) {
                        ps.setString(1, accountId);
                        List<FillRow> out = new ArrayList<>();
                        try (ResultSet rs = ps.executeQuery()) {
                            while (rs.next()) {
                                out.add(fill(rs));
                            }
                        }
                        return out;
                    }
                });
    }

    private static FillRow fill(ResultSet rs) throws SQLException {
        return new FillRow(
                rs.getString(1),
                rs.getString(2),
                rs.getString(3),
                Side.fromSql(rs.getString(4)),
                rs.getDouble(5),
                rs.getDouble(6),
                rs.getDouble(7),
                rs.getLong(8));
    }

    // ---- events

    private static final String EVENT_COLUMNS =
            "account_id, symbol, kind, policy, detail_json, time_ms, actor, reason";

    @Override
    public long appendEvent(EventRow e) {
        Objects.requireNonNull(e, "event");
        String op = "appendEvent(" + e.accountId() + ", " + e.kind() + ")";
        return sql(
                op,
                () -> {
                    requireAccount(op, e.accountId());
                    try (PreparedStatement ps =
                            connection.prepareStatement(
                                    "INSERT INTO events ("
                                            + EVENT_COLUMNS
                                            + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq")) {
                        ps.setString(1, e.accountId());
                        setOptional(ps, 2, e.symbol());
                        ps.setString(3, e.kind());
                        setOptional(ps, 4, e.policy());
                        ps.setString(5, e.detailJson());
                        ps.setLong(6, e.timeMs());
                        ps.setString(7, e.actor());
                        setOptional(ps, 8, e.reason());
                        try (ResultSet rs = ps.executeQuery()) {
                            if (!rs.next()) {
                                throw new StoreException(
                                        op, "the insert returned no sequence number", null);
                            }
                            return rs.getLong(1);
                        }
                    }
                });
    }

    @Override
    public long appendHalt(HaltRow h) {
        Objects.requireNonNull(h, "halt");
        String op = "appendHalt(" + h.kind() + ", " + h.actor() + ")";
        return sql(
                op,
                () -> {
                    try (PreparedStatement ps =
                            connection.prepareStatement(
                                    "INSERT INTO halts (kind, actor, reason, time_ms)"
                                            + " VALUES (?, ?, ?, ?) RETURNING seq")) {
                        ps.setString(1, h.kind());
                        ps.setString(2, h.actor());
                        ps.setString(3, h.reason());
                        ps.setLong(4, h.timeMs());
                        try (ResultSet rs = ps.executeQuery()) {
                            if (!rs.next()) {
                                throw new StoreException(
                                        op, "the insert returned no sequence number", null);
                            }
                            return rs.getLong(1);
                        }
                    }
                });
    }

    @Override
    public List<HaltRow> halts() {
        return sql(
                "halts()",
                () -> {
                    try (PreparedStatement ps =
                                    connection.prepareStatement(
                                            "SELECT seq, kind, actor, reason, time_ms FROM halts"
                                                    + " ORDER BY seq");
                            ResultSet rs = ps.executeQuery()) {
                        List<HaltRow> out = new ArrayList<>();
                        while (rs.next()) {
                            out.add(
                                    new HaltRow(
                                            rs.getLong(1),
                                            rs.getString(2).equals("halt"),
                                            rs.getString(3),
                                            rs.getString(4),
                                            rs.getLong(5)));
                        }
                        return out;
                    }
                });
    }

    @Override
    public Optional<StoredEvent> lastEvent(String accountId, String kind, String symbol) {
        Objects.requireNonNull(accountId, "accountId");
        Objects.requireNonNull(kind, "kind");
        return sql(
                "lastEvent(" + accountId + ", " + kind + ", " + symbol + ")",
                () -> {
                    try (PreparedStatement ps =
                            connection.prepareStatement(
                                    "SELECT seq, "
                                            + EVENT_COLUMNS
                                            + " FROM events WHERE account_id = ? AND kind = ?"
                                            + (symbol == null ? "" : " AND symbol = ?")
                                            + " ORDER BY seq DESC LIMIT 1")) {
                        ps.setString(1, accountId);
                        ps.setString(2, kind);
                        if (symbol != null) {
                            ps.setString(3, symbol);
                        }
                        try (ResultSet rs = ps.executeQuery()) {
                            if (!rs.next()) {
                                return Optional.<StoredEvent>empty();
                            }
                            return Optional.of(
                                    new StoredEvent(
                                            rs.getLong(1),
                                            new EventRow(
                                                    rs.getString(2),
                                                    Optional.ofNullable(rs.getString(3)),
                                                    rs.getString(4),
                                                    Optional.ofNullable(rs.getString(5)),
                                                    rs.getString(6),
                                                    rs.getLong(7),
                                                    rs.getString(8),
                                                    Optional.ofNullable(rs.getString(9)))));
                        }
                    }
                });
    }

    @Override
    public List<StoredEvent> events(String accountId) {
        Objects.requireNonNull(accountId, "accountId");
        return events(accountId, null);
    }

    @Override
    public List<StoredEvent> eventsExcept(String accountId, String kind) {
        Objects.requireNonNull(accountId, "accountId");
        Objects.requireNonNull(kind, "kind");
        return events(accountId, kind);
    }

    private List<StoredEvent> events(String accountId, String except) {
        return sql(
                "events(" + accountId + (except == null ? "" : ", except " + except) + ")",
                () -> {
                    try (PreparedStatement ps =
                            connection.prepareStatement(
                                    "SELECT seq, "
                                            + EVENT_COLUMNS
                                            + " FROM events WHERE account_id = ?"
                                            + (except == null ? "" : " AND kind <> ?")
                                            + " ORDER BY seq")) {
                        ps.setString(1, accountId);
                        if (except != null) {
                            ps.setString(2, except);
                        }
                        List<StoredEvent> out = new ArrayList<>();
                        try (ResultSet rs = ps.executeQuery()) {
                            while (rs.next()) {
                                out.add(
                                        new StoredEvent(
                                                rs.getLong(1),
                                                new EventRow(
                                                        rs.getString(2),
                                                        Optional.ofNullable(rs.getString(3)),
                                                        rs.getString(4),
                                                        Optional.ofNullable(rs.getString(5)),
                                                        rs.getString(6),
                                                        rs.getLong(7),
                                                        rs.getString(8),
                                                        Optional.ofNullable(rs.getString(9)))));
                            }
                        }
                        return out;
                    }
                });
    }

    private static void setOptional(PreparedStatement ps, int index, Optional<String> value)
            throws SQLException {
        if (value.isPresent()) {
            ps.setString(index, value.get());
        } else {
            ps.setNull(index, Types.VARCHAR);
        }
    }

    // ---- rollouts and alias history (schema 2; the SQL is in RolloutSql)

    @Override
    public void saveRollout(RolloutRow rollout) {
        Objects.requireNonNull(rollout, "rollout");
        String op = "saveRollout(" + rollout.id() + ")";
        sql(
                op,
                () -> {
                    RolloutSql.save(connection, op, rollout);
                    return null;
                });
    }

    @Override
    public Optional<RolloutRow> rollout(String id) {
        Objects.requireNonNull(id, "id");
        return sql("rollout(" + id + ")", () -> RolloutSql.read(connection, id));
    }

    @Override
    public List<RolloutRow> rollouts() {
        return sql("rollouts()", () -> RolloutSql.all(connection));
    }

    @Override
    public long appendRolloutEvent(RolloutEventRow event) {
        Objects.requireNonNull(event, "event");
        String op = "appendRolloutEvent(" + event.rolloutId() + ", " + event.kind() + ")";
        return sql(op, () -> RolloutSql.appendEvent(connection, op, event));
    }

    @Override
    public List<StoredRolloutEvent> rolloutEvents() {
        return sql("rolloutEvents()", () -> RolloutSql.events(connection));
    }

    @Override
    public void recordRolloutPoints(String rolloutId, List<RolloutPointRow> points) {
        Objects.requireNonNull(rolloutId, "rolloutId");
        Objects.requireNonNull(points, "points");
        String op = "recordRolloutPoints(" + rolloutId + ")";
        sql(
                op,
                () -> {
                    RolloutSql.recordPoints(connection, op, rolloutId, points);
                    return null;
                });
    }

    @Override
    public List<RolloutPointRow> rolloutSeries(String rolloutId, int bars) {
        Objects.requireNonNull(rolloutId, "rolloutId");
        if (bars < 1) {
            throw new IllegalArgumentException("bars must be >= 1 (value: " + bars + ")");
        }
        return sql(
                "rolloutSeries(" + rolloutId + ")",
                () -> RolloutSql.series(connection, rolloutId, bars));
    }

    @Override
    public Optional<AliasMoveRow> observeAlias(
            String model, String alias, String version, long observedMs) {
        Checks.text("observeAlias", "model", model);
        Checks.text("observeAlias", "alias", alias);
        Checks.text("observeAlias", "version", version);
        String op = "observeAlias(" + model + "@" + alias + " -> " + version + ")";
        return sql(op, () -> RolloutSql.observe(connection, op, model, alias, version, observedMs));
    }

    @Override
    public List<AliasMoveRow> aliasMoves() {
        return sql(
                "aliasMoves()",
                () -> RolloutSql.moves(connection, "ORDER BY seq", null, null, null));
    }

    @Override
    public List<AliasMoveRow> aliasMoves(String model, String alias) {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(alias, "alias");
        return sql(
                "aliasMoves(" + model + "@" + alias + ")",
                () ->
                        RolloutSql.moves(
                                connection,
                                "WHERE model = ? AND alias = ? ORDER BY ordinal",
                                model,
                                alias,
                                null));
    }

    @Override
    public Optional<AliasMoveRow> aliasAsOf(String model, String alias, long atMs) {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(alias, "alias");
        return sql(
                "aliasAsOf(" + model + "@" + alias + ", " + atMs + ")",
                () ->
                        RolloutSql.moves(
                                        connection,
                                        "WHERE model = ? AND alias = ? AND observed_ms <= ?"
                                                + " ORDER BY ordinal DESC LIMIT 1",
                                        model,
                                        alias,
                                        atMs)
                                .stream()
                                .findFirst());
    }

    // ---- conflicts

    static void conflictIf(
            String op, String entity, String key, String field, String stored, String offered) {
        if (!stored.equals(offered)) {
            throw new StoreConflictException(
                    op, entity, key, field, stored, offered, "the same key with other content");
        }
    }

    static void conflictIf(
            String op, String entity, String key, String field, long stored, long offered) {
        if (stored != offered) {
            throw new StoreConflictException(
                    op, entity, key, field, stored, offered, "the same key with other content");
        }
    }

    /** Doubles compare bit for bit: 0.1 + 0.2 is not 0.3 here either. */
    static void conflictIf(
            String op, String entity, String key, String field, double stored, double offered) {
        if (Double.doubleToLongBits(stored) != Double.doubleToLongBits(offered)) {
            throw new StoreConflictException(
                    op, entity, key, field, stored, offered, "the same key with other content");
        }
    }
}
