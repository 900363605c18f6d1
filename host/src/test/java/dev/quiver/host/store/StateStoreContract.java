package dev.quiver.host.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract of {@link StateStore}, run against each database: {@code SqliteStateStoreTest}
 * (unit, a temporary file) and {@code PostgresStateStoreIT} (a real PostgreSQL server started by
 * the build). Each test gets an empty database from {@link #freshDatabaseUrl()}.
 */
abstract class StateStoreContract {

    @TempDir Path home;

    private String url;
    private final List<StateStore> opened = new ArrayList<>();

    /** The JDBC URL of a new, empty database for one test. */
    abstract String freshDatabaseUrl() throws Exception;

    /** Removes what {@link #freshDatabaseUrl()} made, after the test's stores are closed. */
    void dropDatabase(String url) throws Exception {}

    @BeforeEach
    void freshDatabase() throws Exception {
        url = freshDatabaseUrl();
    }

    @AfterEach
    void closeStores() throws Exception {
        for (StateStore s : opened) {
            s.close();
        }
        dropDatabase(url);
    }

    StateStore open() {
        StateStore s = StateStore.open(Optional.of(url), home);
        opened.add(s);
        return s;
    }

    String url() {
        return url;
    }

    static final AccountRow ACCOUNT =
            new AccountRow("acct-1", "USD", 10_000.0, AccountMode.PAPER, 1_000L);

    static BarRow bar(long startMs, double close) {
        return new BarRow(startMs, close - 1, close + 2, close - 3, close, 12.5);
    }

    static FillRow fill(String id, double price) {
        return new FillRow("acct-1", id, "BTC-USD", Side.BUY, 0.25, price, 0.1, 5_000L);
    }

    static EventRow event(String kind, long timeMs) {
        return new EventRow(
                "acct-1",
                Optional.of("BTC-USD"),
                kind,
                Optional.of("daily_loss"),
                "{\"limit\":0.05}",
                timeMs,
                "engine",
                Optional.of("loss 6% > 5%"));
    }

    /** A store with ACCOUNT and an open BTC-USD session. */
    StateStore withSession() {
        StateStore s = open();
        s.createAccount(ACCOUNT);
        s.openSession(SessionRow.open("BTC-USD", "acct-1", "{\"bar\":\"4h\",\"k\":3}", 2_000L));
        return s;
    }

    // ---- accounts

    @Test
    void createAccountIsIdempotentAndAConflictNamesTheField() {
        StateStore s = open();
        assertThat(s.createAccount(ACCOUNT)).isEqualTo(ACCOUNT);
        // The same settings at another time: confirmed, the stored creation time kept.
        AccountRow again = new AccountRow("acct-1", "USD", 10_000.0, AccountMode.PAPER, 9_999L);
        assertThat(s.createAccount(again)).isEqualTo(ACCOUNT);
        assertThat(s.accounts()).containsExactly(ACCOUNT);

        assertThatThrownBy(
                        () ->
                                s.createAccount(
                                        new AccountRow(
                                                "acct-1",
                                                "EUR",
                                                10_000.0,
                                                AccountMode.PAPER,
                                                1_000L)))
                .isInstanceOfSatisfying(
                        StoreConflictException.class,
                        e -> {
                            assertThat(e.entity()).isEqualTo("account");
                            assertThat(e.key()).isEqualTo("acct-1");
                            assertThat(e.field()).isEqualTo("currency");
                            assertThat(e.storedValue()).isEqualTo("USD");
                            assertThat(e.offeredValue()).isEqualTo("EUR");
                            assertThat(e.operation()).isEqualTo("createAccount(acct-1)");
                            assertThat(e)
                                    .hasMessageStartingWith(
                                            "[Quiver/STATE_CONFLICT] createAccount(acct-1)")
                                    .hasMessageContaining("'currency'");
                        });
        // One ulp of difference is a different starting equity.
        assertThatThrownBy(
                        () ->
                                s.createAccount(
                                        new AccountRow(
                                                "acct-1",
                                                "USD",
                                                Math.nextUp(10_000.0),
                                                AccountMode.PAPER,
                                                1_000L)))
                .isInstanceOfSatisfying(
                        StoreConflictException.class,
                        e -> assertThat(e.field()).isEqualTo("starting_equity"));
        assertThatThrownBy(
                        () ->
                                s.createAccount(
                                        new AccountRow(
                                                "acct-1",
                                                "USD",
                                                10_000.0,
                                                AccountMode.EXTERNAL,
                                                1_000L)))
                .isInstanceOfSatisfying(
                        StoreConflictException.class,
                        e -> {
                            assertThat(e.field()).isEqualTo("mode");
                            assertThat(e.storedValue()).isEqualTo("paper");
                            assertThat(e.offeredValue()).isEqualTo("external");
                        });
        assertThat(s.account("acct-1")).contains(ACCOUNT);
    }

    @Test
    void accountsAreListedByIdAndAMissingOneIsEmpty() {
        StateStore s = open();
        AccountRow b = new AccountRow("b", "USD", 1.0, AccountMode.EXTERNAL, 3L);
        AccountRow a = new AccountRow("a", "EUR", 2.0, AccountMode.PAPER, 4L);
        s.createAccount(b);
        s.createAccount(a);
        assertThat(s.accounts()).containsExactly(a, b);
        assertThat(s.account("nope")).isEmpty();
    }

    // ---- sessions

    @Test
    void openSessionIsIdempotentOnEqualJsonAndConflictsOnOtherSettingsOrAccount() {
        StateStore s = open();
        s.createAccount(ACCOUNT);
        s.createAccount(new AccountRow("acct-2", "USD", 5.0, AccountMode.PAPER, 1L));
        SessionRow opened =
                SessionRow.open("BTC-USD", "acct-1", "{\"bar\":\"4h\",\"k\":3}", 2_000L);
        assertThat(s.openSession(opened)).isEqualTo(opened);
        // Same settings in another key order and spacing, opened again later: the stored row.
        assertThat(
                        s.openSession(
                                SessionRow.open(
                                        "BTC-USD",
                                        "acct-1",
                                        "{ \"k\": 3, \"bar\": \"4h\" }",
                                        7_000L)))
                .isEqualTo(opened);

        assertThatThrownBy(
                        () ->
                                s.openSession(
                                        SessionRow.open(
                                                "BTC-USD",
                                                "acct-1",
                                                "{\"bar\":\"4h\",\"k\":4}",
                                                2_000L)))
                .isInstanceOfSatisfying(
                        StoreConflictException.class,
                        e -> {
                            assertThat(e.entity()).isEqualTo("session");
                            assertThat(e.field()).isEqualTo("settings_json");
                            assertThat(e.storedValue()).isEqualTo("{\"bar\":\"4h\",\"k\":3}");
                        });
        assertThatThrownBy(
                        () ->
                                s.openSession(
                                        SessionRow.open(
                                                "BTC-USD",
                                                "acct-2",
                                                "{\"bar\":\"4h\",\"k\":3}",
                                                2_000L)))
                .isInstanceOfSatisfying(
                        StoreConflictException.class,
                        e -> assertThat(e.field()).isEqualTo("account_id"));
        assertThatThrownBy(() -> s.openSession(SessionRow.open("ETH-USD", "ghost", "{}", 1L)))
                .isExactlyInstanceOf(StoreException.class)
                .hasMessageContaining("openSession(ETH-USD)")
                .hasMessageContaining("no account 'ghost'");
        assertThat(s.session("ETH-USD")).isEmpty();
        assertThat(s.openSessions()).containsExactly(opened);
    }

    @Test
    void settingsMustBeAJsonObject() {
        assertThatThrownBy(() -> SessionRow.open("X", "a", "{\"k\":", 1L))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("SessionRow.settingsJson is not valid JSON");
        assertThatThrownBy(() -> SessionRow.open("X", "a", "[1]", 1L))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must be a JSON object");
    }

    @Test
    void aClosedSessionStaysClosed() {
        StateStore s = withSession();
        s.openSession(SessionRow.open("ETH-USD", "acct-1", "{}", 2_500L));
        SessionRow closed = s.closeSession("BTC-USD", 9_000L);
        assertThat(closed.closedMs()).isEqualTo(OptionalLong.of(9_000L));
        assertThat(s.session("BTC-USD")).contains(closed);
        assertThat(s.openSessions()).extracting(SessionRow::symbol).containsExactly("ETH-USD");
        // Closing again at the same time: nothing changes; at another time: a conflict.
        assertThat(s.closeSession("BTC-USD", 9_000L)).isEqualTo(closed);
        assertThatThrownBy(() -> s.closeSession("BTC-USD", 9_001L))
                .isInstanceOfSatisfying(
                        StoreConflictException.class,
                        e -> {
                            assertThat(e.field()).isEqualTo("closed_ms");
                            assertThat(e.storedValue()).isEqualTo("9000");
                            assertThat(e.offeredValue()).isEqualTo("9001");
                        });
        assertThatThrownBy(
                        () ->
                                s.openSession(
                                        SessionRow.open(
                                                "BTC-USD",
                                                "acct-1",
                                                "{\"bar\":\"4h\",\"k\":3}",
                                                10_000L)))
                .isInstanceOfSatisfying(
                        StoreConflictException.class,
                        e -> assertThat(e.field()).isEqualTo("closed_ms"));
        assertThatThrownBy(() -> s.appendBars("BTC-USD", List.of(bar(10_000L, 100))))
                .isExactlyInstanceOf(StoreException.class)
                .hasMessageContaining("closed at 9000");
        assertThatThrownBy(() -> s.closeSession("SOL-USD", 1L))
                .isExactlyInstanceOf(StoreException.class)
                .hasMessageContaining("no session for symbol 'SOL-USD'");
        assertThatThrownBy(() -> s.closeSession("ETH-USD", 2_499L))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("before the session was opened");
        assertThat(s.session("ETH-USD").orElseThrow().isOpen()).isTrue();
    }

    // ---- session generations (schema 3)

    @Test
    void aClosedSessionsSymbolOpensAsTheNextGenerationAndTheOldOnesStayStored() {
        StateStore s = withSession();
        s.appendBars("BTC-USD", List.of(bar(3_000L, 103), bar(4_000L, 104)));
        s.createAccount(new AccountRow("acct-2", "USD", 5.0, AccountMode.PAPER, 1L));
        s.createAccount(new AccountRow("acct-3", "USD", 5.0, AccountMode.PAPER, 1L));
        // An open session answers as openSession: the same one again, other settings refused.
        SessionRow g1 = s.session("BTC-USD").orElseThrow();
        assertThat(g1.generation()).isEqualTo(1);
        assertThat(
                        s.openNextGeneration(
                                SessionRow.open(
                                        "BTC-USD", "acct-1", "{\"k\":3,\"bar\":\"4h\"}", 9L)))
                .isEqualTo(g1);
        assertThatThrownBy(
                        () ->
                                s.openNextGeneration(
                                        SessionRow.open("BTC-USD", "acct-2", "{}", 9_000L)))
                .isInstanceOfSatisfying(
                        StoreConflictException.class,
                        e -> assertThat(e.field()).isEqualTo("account_id"));
        SessionRow closed = s.closeSession("BTC-USD", 5_000L);

        SessionRow g2 =
                s.openNextGeneration(SessionRow.open("BTC-USD", "acct-2", "{\"v\":2}", 6_000L));
        assertThat(g2.generation()).isEqualTo(2);
        assertThat(g2.isOpen()).isTrue();
        assertThat(s.session("BTC-USD")).contains(g2);
        assertThat(s.openSessions()).containsExactly(g2);
        // Fresh: no bars; the same start times are new to generation 2.
        assertThat(s.bars("BTC-USD")).isEmpty();
        s.appendBars("BTC-USD", List.of(bar(3_000L, 203)));
        assertThat(s.bars("BTC-USD")).containsExactly(bar(3_000L, 203));
        // Retried, it is the same generation; generation 1 is history.
        assertThat(s.openNextGeneration(SessionRow.open("BTC-USD", "acct-2", "{\"v\":2}", 7_000L)))
                .isEqualTo(g2);
        assertThat(s.sessionHistory("BTC-USD")).containsExactly(closed, g2);
        assertThat(s.generationBars("BTC-USD", 1))
                .containsExactly(bar(3_000L, 103), bar(4_000L, 104));
        assertThat(s.generationBars("BTC-USD", 2)).containsExactly(bar(3_000L, 203));
        assertThat(s.generationBars("BTC-USD", 3)).isEmpty();

        s.closeSession("BTC-USD", 8_000L);
        SessionRow g3 = s.openNextGeneration(SessionRow.open("BTC-USD", "acct-3", "{}", 9_000L));
        assertThat(g3.generation()).isEqualTo(3);
        assertThat(s.sessionHistory("BTC-USD"))
                .extracting(SessionRow::generation, SessionRow::accountId)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(1L, "acct-1"),
                        org.assertj.core.groups.Tuple.tuple(2L, "acct-2"),
                        org.assertj.core.groups.Tuple.tuple(3L, "acct-3"));
        assertThat(s.generationBars("BTC-USD", 2)).containsExactly(bar(3_000L, 203));
        assertThat(s.sessionHistory("SOL-USD")).isEmpty();
    }

    @Test
    void aDatabaseOfSchema2KeepsItsSessionsAsTheirFirstGeneration() throws SQLException {
        org.flywaydb.core.Flyway.configure(StateStore.class.getClassLoader())
                .dataSource(url(), null, null)
                .locations("classpath:db/migration")
                .placeholders(
                        java.util.Map.of(
                                "seq_pk",
                                url().startsWith("jdbc:sqlite:")
                                        ? "INTEGER PRIMARY KEY AUTOINCREMENT"
                                        : "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"))
                .target("2")
                .load()
                .migrate();
        try (Connection c = DriverManager.getConnection(url());
                Statement st = c.createStatement()) {
            st.executeUpdate(
                    "INSERT INTO accounts (id, currency, starting_equity, mode, created_ms) VALUES"
                            + " ('acct-1', 'USD', 10000.0, 'paper', 1000)");
            st.executeUpdate(
                    "INSERT INTO sessions (symbol, account_id, settings_json, opened_ms,"
                            + " closed_ms) VALUES ('BTC-USD', 'acct-1', '{}', 2000, 5000)");
            st.executeUpdate(
                    "INSERT INTO bars (symbol, start_ms, open, high, low, close, volume) VALUES"
                            + " ('BTC-USD', 3000, 99.0, 102.0, 97.0, 100.0, 12.5)");
            if (!c.getAutoCommit()) {
                c.commit();
            }
        }
        StateStore s = open();
        SessionRow old = s.session("BTC-USD").orElseThrow();
        assertThat(old.generation()).isEqualTo(1);
        assertThat(old.closedMs()).isEqualTo(OptionalLong.of(5_000L));
        assertThat(s.bars("BTC-USD")).containsExactly(bar(3_000L, 100));
        s.createAccount(new AccountRow("acct-2", "USD", 5.0, AccountMode.PAPER, 1L));
        assertThat(
                        s.openNextGeneration(SessionRow.open("BTC-USD", "acct-2", "{}", 6_000L))
                                .generation())
                .isEqualTo(2);
        assertThat(s.generationBars("BTC-USD", 1)).containsExactly(bar(3_000L, 100));
    }

    @Test
    void aNextGenerationIsAllOrNothing() {
        StateStore s = withSession();
        s.appendBars("BTC-USD", List.of(bar(3_000L, 103)));
        s.closeSession("BTC-USD", 5_000L);
        // The new session's account does not exist: nothing moves.
        assertThatThrownBy(
                        () ->
                                s.openNextGeneration(
                                        SessionRow.open("BTC-USD", "ghost", "{}", 6_000L)))
                .isExactlyInstanceOf(StoreException.class)
                .hasMessageContaining("no account 'ghost'");
        assertThat(s.session("BTC-USD").orElseThrow().closedMs()).isPresent();
        assertThat(s.bars("BTC-USD")).containsExactly(bar(3_000L, 103));
        assertThat(s.sessionHistory("BTC-USD")).hasSize(1);
        // Nor when the transaction it is part of fails later.
        s.createAccount(new AccountRow("acct-2", "USD", 5.0, AccountMode.PAPER, 1L));
        assertThatThrownBy(
                        () ->
                                s.inTransaction(
                                        tx -> {
                                            tx.openNextGeneration(
                                                    SessionRow.open(
                                                            "BTC-USD", "acct-2", "{}", 6_000L));
                                            throw new IllegalStateException("later step failed");
                                        }))
                .hasMessageContaining("later step failed");
        assertThat(s.session("BTC-USD").orElseThrow().generation()).isEqualTo(1);
        assertThat(s.bars("BTC-USD")).containsExactly(bar(3_000L, 103));
        assertThat(s.generationBars("BTC-USD", 1)).containsExactly(bar(3_000L, 103));
    }

    // ---- bars

    @Test
    void barsComeBackOrderedAndADuplicateRefusesTheWholeCall() {
        StateStore s = withSession();
        s.appendBars("BTC-USD", List.of(bar(3_000L, 103), bar(1_000L, 101)));
        s.appendBars("BTC-USD", List.of(bar(2_000L, 102)));
        s.appendBars("BTC-USD", List.of());
        assertThat(s.bars("BTC-USD"))
                .containsExactly(bar(1_000L, 101), bar(2_000L, 102), bar(3_000L, 103));
        assertThat(s.lastBar("BTC-USD")).contains(bar(3_000L, 103));

        assertThatThrownBy(
                        () -> s.appendBars("BTC-USD", List.of(bar(4_000L, 104), bar(2_000L, 999))))
                .isInstanceOfSatisfying(
                        StoreConflictException.class,
                        e -> {
                            assertThat(e.entity()).isEqualTo("bar");
                            assertThat(e.key()).isEqualTo("BTC-USD@2000");
                            assertThat(e.field()).isEqualTo("start_ms");
                            assertThat(e).hasMessageContaining("already stored");
                        });
        assertThatThrownBy(
                        () -> s.appendBars("BTC-USD", List.of(bar(5_000L, 105), bar(5_000L, 105))))
                .isInstanceOfSatisfying(
                        StoreConflictException.class,
                        e -> assertThat(e.key()).isEqualTo("BTC-USD@5000"));
        // Neither refused call left a bar behind.
        assertThat(s.bars("BTC-USD"))
                .extracting(BarRow::startMs)
                .containsExactly(1_000L, 2_000L, 3_000L);

        assertThatThrownBy(() -> s.appendBars("DOGE-USD", List.of(bar(1L, 1))))
                .isExactlyInstanceOf(StoreException.class)
                .hasMessageContaining("no session for symbol 'DOGE-USD'");
        assertThat(s.bars("DOGE-USD")).isEmpty();
        assertThat(s.lastBar("DOGE-USD")).isEmpty();
    }

    // ---- doubles

    /**
     * Finite doubles that are hard to keep: tiny, huge, subnormal, inexact decimals, random bits.
     */
    static List<Double> awkwardDoubles() {
        List<Double> values =
                new ArrayList<>(
                        List.of(
                                0.1 + 0.2,
                                1.0 / 3.0,
                                Math.PI,
                                Math.nextUp(1.0),
                                Math.nextDown(1.0),
                                Double.MIN_VALUE,
                                Double.MIN_NORMAL,
                                Math.nextDown(Double.MIN_NORMAL),
                                Double.MAX_VALUE,
                                -Double.MAX_VALUE,
                                1e-300,
                                123_456_789.123_456_789,
                                9_007_199_254_740_993.0,
                                -0.0,
                                0.0,
                                65_000.123_456_789_01));
        Random r = new Random(20261207L);
        while (values.size() < 200) {
            double d = Double.longBitsToDouble(r.nextLong());
            if (Double.isFinite(d)) {
                values.add(d);
            }
        }
        return values;
    }

    @Test
    void doublesRoundTripBitForBit() {
        StateStore s = withSession();
        List<Double> v = awkwardDoubles();
        List<BarRow> bars = new ArrayList<>();
        for (int i = 0; i + 4 < v.size(); i += 5) {
            bars.add(
                    new BarRow(
                            i, v.get(i), v.get(i + 1), v.get(i + 2), v.get(i + 3), v.get(i + 4)));
        }
        s.appendBars("BTC-USD", bars);
        List<FillRow> fills = new ArrayList<>();
        for (int i = 0; i + 2 < v.size(); i += 3) {
            fills.add(
                    new FillRow(
                            "acct-1",
                            "f" + i,
                            "BTC-USD",
                            Side.SELL,
                            v.get(i),
                            v.get(i + 1),
                            v.get(i + 2),
                            i));
        }
        for (FillRow f : fills) {
            assertThat(s.recordFill(f)).isEqualTo(FillOutcome.INSERTED);
        }
        List<AccountRow> accounts = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            accounts.add(
                    new AccountRow(
                            String.format("eq-%03d", i), "USD", v.get(i), AccountMode.PAPER, i));
            s.createAccount(accounts.get(i));
        }

        assertBits(s.bars("BTC-USD"), bars);
        assertBits(s.fills("acct-1"), fills);
        List<AccountRow> stored = s.accounts().subList(1, v.size() + 1);
        assertBits(stored, accounts);
        // Offering the same again is recognised as the same, bit for bit.
        for (FillRow f : fills) {
            assertThat(s.recordFill(f)).isEqualTo(FillOutcome.DUPLICATE);
        }
        for (AccountRow a : accounts) {
            assertThat(s.createAccount(a)).isEqualTo(a);
        }
    }

    /**
     * Record equality compares doubles with {@link Double#compare}, which tells -0.0 from 0.0; the
     * raw bits are checked too, value by value.
     */
    private static <T extends Record> void assertBits(List<T> actual, List<T> expected) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            assertThat(actual.get(i)).isEqualTo(expected.get(i));
            assertThat(doubleBits(actual.get(i))).isEqualTo(doubleBits(expected.get(i)));
        }
    }

    private static List<Long> doubleBits(Record r) {
        List<Long> bits = new ArrayList<>();
        for (var c : r.getClass().getRecordComponents()) {
            if (c.getType() == double.class) {
                try {
                    bits.add(Double.doubleToRawLongBits((double) c.getAccessor().invoke(r)));
                } catch (ReflectiveOperationException e) {
                    throw new AssertionError(e);
                }
            }
        }
        return bits;
    }

    @Test
    void negativeZeroIsZeroBeforeTheDatabase() {
        // SQLite keeps no sign of zero; the records agree in both databases.
        assertThat(Double.doubleToRawLongBits(new BarRow(1L, -0.0, 1, 1, 1, -0.0).volume()))
                .isEqualTo(Double.doubleToRawLongBits(0.0));
        assertThat(fill("f", -0.0)).isEqualTo(fill("f", 0.0));
        assertThat(new AccountRow("a", "USD", -0.0, AccountMode.PAPER, 1).startingEquity())
                .isEqualTo(0.0);
    }

    @Test
    void nonFiniteDoublesAreRefusedBeforeTheDatabase() {
        assertThatThrownBy(() -> new BarRow(1L, 1, Double.NaN, 1, 1, 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("BarRow.high must be a finite number (value: NaN)");
        assertThatThrownBy(
                        () ->
                                new FillRow(
                                        "a", "f", "X", Side.BUY, 1, Double.POSITIVE_INFINITY, 0, 1))
                .hasMessage("FillRow.price must be a finite number (value: Infinity)");
    }

    // ---- fills

    @Test
    void recordFillInsertsOnceKnowsDuplicatesAndNamesTheConflictingField() {
        StateStore s = withSession();
        FillRow f = fill("f-1", 65_000.5);
        assertThat(s.recordFill(f)).isEqualTo(FillOutcome.INSERTED);
        assertThat(s.recordFill(f)).isEqualTo(FillOutcome.DUPLICATE);
        assertThat(s.fills("acct-1")).containsExactly(f);

        assertConflict(
                s,
                new FillRow("acct-1", "f-1", "ETH-USD", Side.BUY, 0.25, 65_000.5, 0.1, 5_000L),
                "symbol");
        assertConflict(
                s,
                new FillRow("acct-1", "f-1", "BTC-USD", Side.SELL, 0.25, 65_000.5, 0.1, 5_000L),
                "side");
        assertConflict(
                s,
                new FillRow("acct-1", "f-1", "BTC-USD", Side.BUY, 0.5, 65_000.5, 0.1, 5_000L),
                "quantity");
        assertConflict(s, fill("f-1", Math.nextUp(65_000.5)), "price");
        assertConflict(
                s,
                new FillRow("acct-1", "f-1", "BTC-USD", Side.BUY, 0.25, 65_000.5, 0.2, 5_000L),
                "fee");
        assertConflict(
                s,
                new FillRow("acct-1", "f-1", "BTC-USD", Side.BUY, 0.25, 65_000.5, 0.1, 5_001L),
                "time_ms");
        assertThat(s.fills("acct-1")).containsExactly(f);

        assertThatThrownBy(
                        () -> s.recordFill(new FillRow("ghost", "f-1", "X", Side.BUY, 1, 1, 0, 1)))
                .isExactlyInstanceOf(StoreException.class)
                .hasMessageContaining("recordFill(ghost/f-1)")
                .hasMessageContaining("no account 'ghost'");
    }

    private static void assertConflict(StateStore s, FillRow f, String field) {
        assertThatThrownBy(() -> s.recordFill(f))
                .isInstanceOfSatisfying(
                        StoreConflictException.class,
                        e -> {
                            assertThat(e.entity()).isEqualTo("fill");
                            assertThat(e.key()).isEqualTo("acct-1/f-1");
                            assertThat(e.field()).isEqualTo(field);
                        });
    }

    @Test
    void fillsComeBackInInsertionOrderPerAccount() {
        StateStore s = withSession();
        s.createAccount(new AccountRow("acct-2", "USD", 1.0, AccountMode.EXTERNAL, 1L));
        List<FillRow> expected = new ArrayList<>();
        for (String id : List.of("z", "a", "m", "b")) {
            FillRow f = fill(id, 100 + id.charAt(0));
            expected.add(f);
            s.recordFill(f);
            s.recordFill(new FillRow("acct-2", id, "ETH-USD", Side.SELL, 1, 2, 0, 3));
        }
        s.recordFill(fill("a", 100 + 'a')); // a duplicate does not move it
        assertThat(s.fills("acct-1")).containsExactlyElementsOf(expected);
        assertThat(s.fills("acct-2"))
                .extracting(FillRow::clientFillId)
                .containsExactly("z", "a", "m", "b");
        assertThat(s.fills("nobody")).isEmpty();
    }

    // ---- events

    @Test
    void theLastEventOfAKindIsFoundPerAccountAndSymbol() {
        StateStore s = withSession();
        s.createAccount(new AccountRow("acct-2", "USD", 1.0, AccountMode.PAPER, 1L));
        java.util.function.BiFunction<String, String, EventRow> state =
                (account, symbol) ->
                        new EventRow(
                                account,
                                Optional.ofNullable(symbol),
                                "portfolio_decision",
                                Optional.empty(),
                                "{}",
                                5L,
                                "engine",
                                Optional.empty());
        assertThat(s.lastEvent("acct-1", "portfolio_decision", null)).isEmpty();
        long a = s.appendEvent(state.apply("acct-1", "BTC"));
        long b = s.appendEvent(state.apply("acct-1", "SPX"));
        s.appendEvent(state.apply("acct-2", "BTC"));
        s.appendEvent(event("breaker_tripped", 10L));
        assertThat(s.lastEvent("acct-1", "portfolio_decision", null).orElseThrow().seq())
                .isEqualTo(b);
        assertThat(s.lastEvent("acct-1", "portfolio_decision", "BTC").orElseThrow().seq())
                .isEqualTo(a);
        assertThat(s.lastEvent("acct-1", "portfolio_decision", "ETH")).isEmpty();
        assertThat(s.lastEvent("acct-1", "breaker_tripped", null).orElseThrow().event().kind())
                .isEqualTo("breaker_tripped");
    }

    @Test
    void eventsAreAppendedInOrderWithTheirOptionalFields() {
        StateStore s = withSession();
        s.createAccount(new AccountRow("acct-2", "USD", 1.0, AccountMode.PAPER, 1L));
        EventRow tripped = event("breaker_tripped", 10L);
        EventRow command =
                new EventRow(
                        "acct-1",
                        Optional.empty(),
                        "rearm_command",
                        Optional.empty(),
                        "{}",
                        11L,
                        "alice",
                        Optional.empty());
        EventRow other =
                new EventRow(
                        "acct-2",
                        Optional.empty(),
                        "breaker_rearmed",
                        Optional.of("p"),
                        "[1,2]",
                        12L,
                        "engine",
                        Optional.of("r"));
        long a = s.appendEvent(tripped);
        long b = s.appendEvent(other);
        long c = s.appendEvent(command);
        assertThat(a).isLessThan(b);
        assertThat(b).isLessThan(c);
        assertThat(s.events("acct-1"))
                .containsExactly(new StoredEvent(a, tripped), new StoredEvent(c, command));
        assertThat(s.events("acct-2")).containsExactly(new StoredEvent(b, other));
        assertThat(s.eventsExcept("acct-1", "breaker_tripped"))
                .containsExactly(new StoredEvent(c, command));
        assertThat(s.eventsExcept("acct-1", "none")).hasSize(2);
        assertThatThrownBy(
                        () ->
                                s.appendEvent(
                                        new EventRow(
                                                "ghost",
                                                Optional.empty(),
                                                "k",
                                                Optional.empty(),
                                                "{}",
                                                1L,
                                                "engine",
                                                Optional.empty())))
                .isExactlyInstanceOf(StoreException.class)
                .hasMessageContaining("no account 'ghost'");
        assertThatThrownBy(
                        () ->
                                new EventRow(
                                        "a",
                                        Optional.empty(),
                                        "k",
                                        Optional.empty(),
                                        "{oops",
                                        1L,
                                        "engine",
                                        Optional.empty()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("EventRow.detailJson is not valid JSON");
    }

    // ---- transactions

    @Test
    void aTransactionThatThrowsLeavesNothing() {
        StateStore s = withSession();
        IllegalStateException boom = new IllegalStateException("engine refused the bar");
        assertThatThrownBy(
                        () ->
                                s.inTransaction(
                                        tx -> {
                                            tx.appendBars("BTC-USD", List.of(bar(1_000L, 100)));
                                            tx.appendEvent(event("breaker_tripped", 1_000L));
                                            tx.recordFill(fill("f-1", 100));
                                            tx.createAccount(
                                                    new AccountRow(
                                                            "acct-9",
                                                            "USD",
                                                            1,
                                                            AccountMode.PAPER,
                                                            1));
                                            throw boom;
                                        }))
                .isSameAs(boom);
        assertThat(s.bars("BTC-USD")).isEmpty();
        assertThat(s.events("acct-1")).isEmpty();
        assertThat(s.fills("acct-1")).isEmpty();
        assertThat(s.account("acct-9")).isEmpty();

        // A conflict in the middle undoes what came before it in the same transaction.
        s.appendBars("BTC-USD", List.of(bar(1_000L, 100)));
        assertThatThrownBy(
                        () ->
                                s.inTransaction(
                                        tx -> {
                                            tx.appendEvent(event("breaker_tripped", 2_000L));
                                            tx.appendBars("BTC-USD", List.of(bar(2_000L, 100)));
                                            tx.appendBars("BTC-USD", List.of(bar(1_000L, 100)));
                                            return null;
                                        }))
                .isInstanceOf(StoreConflictException.class);
        assertThat(s.events("acct-1")).isEmpty();
        assertThat(s.bars("BTC-USD")).containsExactly(bar(1_000L, 100));

        // And one that returns commits everything together.
        long seq =
                s.inTransaction(
                        tx -> {
                            tx.appendBars("BTC-USD", List.of(bar(2_000L, 101)));
                            return tx.appendEvent(event("breaker_tripped", 2_000L));
                        });
        assertThat(s.events("acct-1")).extracting(StoredEvent::seq).containsExactly(seq);
        assertThat(s.lastBar("BTC-USD")).contains(bar(2_000L, 101));
    }

    @Test
    void insideATransactionOnlyItsOperationsMayBeUsed() {
        StateStore s = withSession();
        assertThatThrownBy(() -> s.inTransaction(tx -> s.bars("BTC-USD")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already in a transaction");
        AtomicReference<StateOperations> escaped = new AtomicReference<>();
        s.inTransaction(
                tx -> {
                    escaped.set(tx);
                    return null;
                });
        assertThatThrownBy(() -> escaped.get().bars("BTC-USD"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("transaction that has ended");
        // The store still works.
        assertThat(s.bars("BTC-USD")).isEmpty();
    }

    // ---- concurrency

    @Test
    void eightThreadsWritingAtOnceLoseNothing() throws Exception {
        StateStore s = open();
        s.createAccount(ACCOUNT);
        int threads = 8;
        int perThread = 40;
        for (int t = 0; t < threads; t++) {
            s.openSession(SessionRow.open("SYM-" + t, "acct-1", "{}", 1L));
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        try {
            for (int t = 0; t < threads; t++) {
                int thread = t;
                done.add(
                        pool.submit(
                                () -> {
                                    start.await();
                                    String symbol = "SYM-" + thread;
                                    for (int k = 0; k < perThread; k++) {
                                        s.appendBars(symbol, List.of(bar(k * 60_000L, 100 + k)));
                                        s.recordFill(
                                                new FillRow(
                                                        "acct-1",
                                                        "t" + thread + "-" + k,
                                                        symbol,
                                                        Side.BUY,
                                                        1,
                                                        100 + k,
                                                        0,
                                                        k));
                                        if (k % 10 == 9) {
                                            long at = k * 60_000L + 1;
                                            s.inTransaction(
                                                    tx -> {
                                                        tx.appendBars(symbol, List.of(bar(at, 1)));
                                                        return tx.appendEvent(
                                                                new EventRow(
                                                                        "acct-1",
                                                                        Optional.of(symbol),
                                                                        "checkpoint",
                                                                        Optional.empty(),
                                                                        "{}",
                                                                        at,
                                                                        "t" + thread,
                                                                        Optional.empty()));
                                                    });
                                        }
                                    }
                                    return null;
                                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
            assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        }

        List<FillRow> fills = s.fills("acct-1");
        assertThat(fills).hasSize(threads * perThread);
        for (int t = 0; t < threads; t++) {
            String symbol = "SYM-" + t;
            // Each thread's fills in the order it recorded them, whatever the interleaving.
            List<String> mine =
                    fills.stream()
                            .filter(f -> f.symbol().equals(symbol))
                            .map(FillRow::clientFillId)
                            .toList();
            List<String> want = new ArrayList<>();
            for (int k = 0; k < perThread; k++) {
                want.add("t" + t + "-" + k);
            }
            assertThat(mine).containsExactlyElementsOf(want);
            assertThat(s.bars(symbol)).hasSize(perThread + perThread / 10);
            assertThat(s.bars(symbol))
                    .isSortedAccordingTo((x, y) -> Long.compare(x.startMs(), y.startMs()));
        }
        assertThat(s.events("acct-1")).hasSize(threads * perThread / 10);
    }

    // ---- durability and migrations

    @Test
    void everythingIsThereAfterReopening() {
        AccountRow account;
        List<BarRow> bars = List.of(bar(1_000L, 0.1 + 0.2), bar(2_000L, 1.0 / 3));
        FillRow f = fill("f-1", 0.1 + 0.2);
        EventRow e = event("breaker_tripped", 3_000L);
        long seq;
        try (StateStore s = withSession()) {
            account = s.account("acct-1").orElseThrow();
            s.appendBars("BTC-USD", bars);
            s.recordFill(f);
            seq = s.appendEvent(e);
            s.openSession(SessionRow.open("ETH-USD", "acct-1", "{}", 5L));
            s.closeSession("ETH-USD", 6L);
        }
        try (StateStore s = open()) {
            assertThat(s.accounts()).containsExactly(account);
            assertThat(s.openSessions())
                    .containsExactly(
                            SessionRow.open(
                                    "BTC-USD", "acct-1", "{\"bar\":\"4h\",\"k\":3}", 2_000L));
            assertThat(s.session("ETH-USD"))
                    .contains(new SessionRow("ETH-USD", "acct-1", "{}", 5L, OptionalLong.of(6L)));
            assertThat(s.bars("BTC-USD")).containsExactlyElementsOf(bars);
            assertThat(s.fills("acct-1")).containsExactly(f);
            assertThat(s.events("acct-1")).containsExactly(new StoredEvent(seq, e));
            // Sequence numbers go on after the stored ones.
            assertThat(s.appendEvent(e)).isGreaterThan(seq);
        }
    }

    @Test
    void theMigrationIsAppliedOnceAndANewerSchemaIsRefused() throws SQLException {
        open().close();
        List<String> first = history();
        assertThat(first).hasSize(7);
        assertThat(first.get(0)).startsWith("1|V1__state_store.sql|true|");
        assertThat(first.get(1)).startsWith("2|V2__rollouts_and_alias_history.sql|true|");
        assertThat(first.get(2)).startsWith("3|V3__session_generations.sql|true|");
        assertThat(first.get(3))
                .startsWith("4|dev.quiver.host.store.V4__Rollout_kind_strategy|true|");
        assertThat(first.get(4)).startsWith("5|V5__halt.sql|true|");
        assertThat(first.get(5)).startsWith("6|V6__training_jobs.sql|true|");
        assertThat(first.get(6)).startsWith("7|V7__rollout_series.sql|true|");
        open().close();
        open().close();
        assertThat(history()).isEqualTo(first);

        // A database that a newer Quiver migrated further is refused, not used half-understood.
        try (Connection c = DriverManager.getConnection(url());
                Statement st = c.createStatement()) {
            st.executeUpdate(
                    "INSERT INTO flyway_schema_history (installed_rank, version, description, type,"
                            + " script, checksum, installed_by, execution_time, success) VALUES"
                            + " (99, '99', 'from the future', 'SQL', 'V99__from_the_future.sql', 1,"
                            + " 'test', 1, true)");
            if (!c.getAutoCommit()) {
                c.commit();
            }
        }
        assertThatThrownBy(this::open)
                .isExactlyInstanceOf(StoreException.class)
                .hasMessageStartingWith("[Quiver/STATE_STORE] migrate: ")
                .hasMessageContaining(
                        "was migrated by a newer Quiver: schema version(s) 99"
                                + " (V99__from_the_future.sql) are unknown to this one");
    }

    /**
     * Schema 4 widened {@code rollouts.kind} to strategy rollouts and kept the constraint: {@code
     * strategy} is stored, an unknown kind is still refused by the database.
     */
    @Test
    void aStrategyRolloutKindIsStoredAndAnUnknownKindIsRefused() throws SQLException {
        open().close();
        String insert =
                "INSERT INTO rollouts (id, kind, capability, spec_json, stage, stage_index,"
                        + " created_ms, stage_since_ms, looks, paired_n, paired_mean, paired_m2,"
                        + " pending_json, pending_dropped, positions_json, updated_ms) VALUES"
                        + " ('%s', '%s', 'strategy', '{}', 'shadow', 0, 1, 1, 0, 0, 0, 0, '[]', 0,"
                        + " '{}', 1)";
        try (Connection c = DriverManager.getConnection(url());
                Statement st = c.createStatement()) {
            st.executeUpdate(String.format(insert, "s1", "strategy"));
            if (!c.getAutoCommit()) {
                c.commit();
            }
            assertThatThrownBy(() -> st.executeUpdate(String.format(insert, "s2", "portfolio")))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("kind");
        }
    }

    /**
     * Schema 5, the kill switch's audit: commands come back in append order with who, why and when,
     * after a reopen too; the database refuses a kind other than halt and resume.
     */
    @Test
    void haltsAreKeptInOrderWithWhoAndWhyAndAnUnknownKindIsRefused() throws SQLException {
        HaltRow halt = new HaltRow(0, true, "ops-anna", "exchange outage", 1_000L);
        HaltRow resume = new HaltRow(0, false, "ops-ben", "exchange back", 2_000L);
        long first;
        long second;
        try (StateStore s = open()) {
            assertThat(s.halts()).isEmpty();
            first = s.appendHalt(halt);
            second = s.inTransaction(tx -> tx.appendHalt(resume));
            assertThat(second).isGreaterThan(first);
        }
        try (StateStore s = open()) {
            assertThat(s.halts())
                    .containsExactly(
                            new HaltRow(first, true, "ops-anna", "exchange outage", 1_000L),
                            new HaltRow(second, false, "ops-ben", "exchange back", 2_000L));
        }
        assertThatThrownBy(() -> new HaltRow(0, true, "ops", " ", 1L))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("reason");
        try (Connection c = DriverManager.getConnection(url());
                Statement st = c.createStatement()) {
            assertThatThrownBy(
                            () ->
                                    st.executeUpdate(
                                            "INSERT INTO halts (kind, actor, reason, time_ms)"
                                                    + " VALUES ('flatten', 'x', 'y', 1)"))
                    .isInstanceOf(SQLException.class);
        }
    }

    /** version|script|success|installed_on of every applied migration, by rank. */
    private List<String> history() throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url());
                Statement st = c.createStatement();
                ResultSet rs =
                        st.executeQuery(
                                "SELECT version, script, success, installed_on FROM"
                                        + " flyway_schema_history ORDER BY installed_rank")) {
            while (rs.next()) {
                rows.add(
                        rs.getString(1)
                                + "|"
                                + rs.getString(2)
                                + "|"
                                + rs.getBoolean(3)
                                + "|"
                                + rs.getString(4));
            }
        }
        return Collections.unmodifiableList(rows);
    }

    @Test
    void aClosedStoreRefusesWork() {
        StateStore s = open();
        s.close();
        s.close();
        assertThatThrownBy(s::accounts)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }

    // ---- rollouts and alias moves (schema 2)

    static RolloutFiguresRow figures(String role, double x) {
        boolean served = role.equals(RolloutFiguresRow.SERVED);
        return new RolloutFiguresRow(
                role,
                7,
                6,
                x,
                x / 3,
                4,
                -x,
                served ? OptionalLong.empty() : OptionalLong.of(5),
                served ? Optional.empty() : Optional.of(new MomentsRow(3, x, Math.abs(x))));
    }

    static RolloutTransitionRow transition(long timeMs, String from, String to) {
        return new RolloutTransitionRow(
                timeMs,
                from,
                to,
                "rule",
                "challenger better",
                "log_loss",
                "{\"champion\":{\"n\":3,\"log_loss\":0.1}}",
                Optional.of("{\"p_value\":1.0E-300}"),
                250);
    }

    static RolloutRow rollout(
            String id, long createdMs, String stage, double x, RolloutTransitionRow... ts) {
        return new RolloutRow(
                id,
                "prediction",
                "lstm",
                "{\"id\": \"" + id + "\", \"mode\": \"shadow\"}",
                stage,
                ts.length,
                createdMs,
                createdMs + ts.length,
                2,
                new MomentsRow(9, -x, x * x),
                "[{\"key\":\"BTC-USD\",\"close\":" + x + "}]",
                1,
                "{\"BTC-USD\":[0.5,1.0]}",
                List.of(
                        figures("champion", x),
                        figures("challenger", x * 2),
                        figures(RolloutFiguresRow.SERVED, x / 7)),
                List.of(ts),
                createdMs + 100);
    }

    @Test
    void aRolloutComesBackBitForBitAndASaveOnlyAddsTransitions() {
        StateStore s = open();
        List<RolloutRow> saved = new ArrayList<>();
        int i = 0;
        for (double v : awkwardDoubles()) {
            double x = v / 8;
            if (!Double.isFinite(x * x) || !Double.isFinite(x * 2) || x * x == 0 && x != 0) {
                continue; // the row derives x * x and x * 2: keep those exact too
            }
            RolloutRow r = rollout(String.format("r-%03d", i), 1_000L - i, "shadow", x);
            s.saveRollout(r);
            saved.add(r);
            i++;
        }
        assertThat(saved).hasSizeGreaterThan(100);
        List<RolloutRow> byStart = new ArrayList<>(saved);
        byStart.sort(java.util.Comparator.comparingLong(RolloutRow::createdMs));
        assertThat(s.rollouts()).isEqualTo(byStart);
        assertThat(s.rollout("r-000")).contains(saved.get(0));
        assertThat(s.rollout("ghost")).isEmpty();

        RolloutTransitionRow t1 = transition(5_000L, "shadow", "canary");
        RolloutTransitionRow t2 = transition(6_000L, "canary", "full");
        RolloutRow later = rollout("r-000", 1_000L, "canary", 0.25, t1);
        s.saveRollout(later);
        assertThat(s.rollout("r-000")).contains(later);
        RolloutRow latest = rollout("r-000", 1_000L, "full", 0.5, t1, t2);
        s.saveRollout(latest);
        assertThat(s.rollout("r-000")).contains(latest);

        // History is never rewritten: an older state, or one with another transition, is refused.
        assertConflict(() -> s.saveRollout(later), "transitions", "2 transitions", "1 transitions");
        assertConflict(
                () ->
                        s.saveRollout(
                                rollout(
                                        "r-000",
                                        1_000L,
                                        "full",
                                        0.5,
                                        t1,
                                        transition(6_001L, "canary", "full"))),
                "transitions",
                "[1] canary -> full by rule at 6000",
                "[1] canary -> full by rule at 6001");
        assertConflict(
                () -> s.saveRollout(rollout("r-000", 999L, "full", 0.5, t1, t2)),
                "created_ms",
                "1000",
                "999");
        assertConflict(
                () -> s.saveRollout(withSpec(latest, "{\"id\": \"r-000\", \"mode\": \"canary\"}")),
                "spec_json",
                "shadow",
                "canary");
        assertThat(s.rollout("r-000")).contains(latest);
        // the same spec in another key order and spacing is the same spec
        s.saveRollout(withSpec(latest, "{\"mode\":\"shadow\",\"id\":\"r-000\"}"));
        assertThat(s.rollout("r-000").orElseThrow().transitions()).hasSize(2);
    }

    private static RolloutRow withSpec(RolloutRow r, String specJson) {
        return new RolloutRow(
                r.id(),
                r.kind(),
                r.capability(),
                specJson,
                r.stage(),
                r.stageIndex(),
                r.createdMs(),
                r.stageSinceMs(),
                r.looks(),
                r.paired(),
                r.pendingJson(),
                r.pendingDropped(),
                r.positionsJson(),
                r.figures(),
                r.transitions(),
                r.updatedMs());
    }

    private static void assertConflict(
            org.assertj.core.api.ThrowableAssert.ThrowingCallable call,
            String field,
            String stored,
            String offered) {
        assertThatThrownBy(call)
                .isInstanceOfSatisfying(
                        StoreConflictException.class,
                        e -> {
                            assertThat(e.field()).isEqualTo(field);
                            assertThat(e.getMessage()).contains(stored).contains(offered);
                        });
    }

    @Test
    void aRolloutRowNamesWhatIsWrong() {
        RolloutRow ok = rollout("r", 1, "shadow", 1.0);
        assertThatThrownBy(
                        () ->
                                new RolloutRow(
                                        "r",
                                        "prediction",
                                        "lstm",
                                        "{}",
                                        "shadow",
                                        0,
                                        1,
                                        1,
                                        0,
                                        ok.paired(),
                                        "[]",
                                        0,
                                        "{}",
                                        List.of(figures("champion", 1), figures("champion", 1)),
                                        List.of(),
                                        1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("one row each for champion, challenger and served")
                .hasMessageContaining("[champion, champion]");
        assertThatThrownBy(
                        () ->
                                new RolloutFiguresRow(
                                        "served",
                                        1,
                                        1,
                                        0,
                                        0,
                                        0,
                                        0,
                                        OptionalLong.of(1),
                                        Optional.empty()))
                .hasMessageContaining("empty for served");
        assertThatThrownBy(() -> new MomentsRow(1, Double.NaN, 0))
                .hasMessage("MomentsRow.mean must be a finite number (value: NaN)");
        assertThatThrownBy(() -> rollout("r", 1, "shadow", Double.POSITIVE_INFINITY))
                .hasMessageContaining("must be a finite number");
    }

    @Test
    void rolloutEventsNeedTheirRolloutAndKeepTheirOrder() {
        StateStore s = open();
        RolloutEventRow e = new RolloutEventRow("r-1", "start", 5L, "{\"event\":\"start\"}");
        assertThatThrownBy(() -> s.appendRolloutEvent(e))
                .isExactlyInstanceOf(StoreException.class)
                .hasMessage(
                        "[Quiver/STATE_STORE] appendRolloutEvent(r-1, start): no rollout 'r-1':"
                                + " save it first (saveRollout)");
        s.saveRollout(rollout("r-1", 1L, "shadow", 0.5));
        s.saveRollout(rollout("r-2", 2L, "shadow", 0.5));
        long a = s.appendRolloutEvent(e);
        long b =
                s.appendRolloutEvent(
                        new RolloutEventRow("r-2", "registry", 4L, "{\"result\":\"ok\"}"));
        long c = s.appendRolloutEvent(new RolloutEventRow("r-1", "transition", 3L, "{}"));
        assertThat(a).isLessThan(b);
        assertThat(b).isLessThan(c);
        assertThat(s.rolloutEvents())
                .containsExactly(
                        new StoredRolloutEvent(a, e),
                        new StoredRolloutEvent(
                                b,
                                new RolloutEventRow("r-2", "registry", 4L, "{\"result\":\"ok\"}")),
                        new StoredRolloutEvent(
                                c, new RolloutEventRow("r-1", "transition", 3L, "{}")));
    }

    @Test
    void anAliasMoveIsRecordedOnceAndAsOfTakesTheLastMoveAtOrBeforeTheTime() {
        StateStore s = open();
        assertThat(s.observeAlias("m", "champion", "1", 1_000L))
                .contains(new AliasMoveRow("m", "champion", 1, 1_000L, Optional.empty(), "1"));
        assertThat(s.observeAlias("m", "champion", "1", 2_000L)).isEmpty();
        assertThat(s.observeAlias("m", "challenger", "2", 2_500L)).isPresent();
        assertThat(s.observeAlias("m", "champion", "2", 3_000L))
                .contains(new AliasMoveRow("m", "champion", 2, 3_000L, Optional.of("1"), "2"));
        assertThat(s.observeAlias("m", "champion", "1", 4_000L).orElseThrow().ordinal())
                .isEqualTo(3);
        assertThat(s.aliasMoves())
                .extracting(AliasMoveRow::observedMs)
                .containsExactly(1_000L, 2_500L, 3_000L, 4_000L);
        assertThat(s.aliasMoves("m", "champion"))
                .extracting(AliasMoveRow::toVersion)
                .containsExactly("1", "2", "1");
        assertThat(s.aliasAsOf("m", "champion", 999L)).isEmpty();
        assertThat(s.aliasAsOf("m", "champion", 1_000L).orElseThrow().toVersion()).isEqualTo("1");
        assertThat(s.aliasAsOf("m", "champion", 3_999L).orElseThrow().toVersion()).isEqualTo("2");
        assertThat(s.aliasAsOf("m", "champion", Long.MAX_VALUE).orElseThrow().ordinal())
                .isEqualTo(3);
        assertThat(s.aliasAsOf("m", "other", Long.MAX_VALUE)).isEmpty();
        assertThatThrownBy(() -> s.observeAlias("m", " ", "1", 1L))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("observeAlias.alias must not be blank");
    }
}
