package dev.quiver.host.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.api.market.Bar;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.portfolio.PortfolioLimits;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.store.AccountMode;
import dev.quiver.host.store.StateStore;
import dev.quiver.host.store.StoredEvent;
import dev.quiver.host.strategy.StrategyBundle;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A live portfolio account beyond the happy path, in process on a real state store. What depends on
 * the database runs against each ({@code PortfolioLifecycleSqliteTest}, {@code
 * PortfolioLifecyclePostgresIT}): a member's close is one transaction; a failed write whose rebuild
 * fails too surfaces the first error. The SQLite test adds what does not: a quarantined member is
 * frozen and its close sells it out of the book; a restart keeps the rules stored with the book;
 * accounts share no portfolio policy state. Faults are real database faults (a trigger that refuses
 * a write, rows changed behind the store's back). A "restart" is a new {@link SessionManager} on a
 * newly opened store over the same database.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class PortfolioLifecycleContract {

    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-06-01T00:00:00Z"), ZoneOffset.UTC);
    static final ObjectMapper JSON = new ObjectMapper();

    /** Warm-up through this time; members are stepped from their next bar on. */
    static final Instant T = Instant.parse("2018-06-01T00:00:00Z");

    static final int WARMUP = 300;
    static final double GROSS_CAP = 0.6;
    static final PortfolioSettings SETTINGS =
            new PortfolioSettings(
                    "equal", new PortfolioLimits(0.5, GROSS_CAP, GROSS_CAP, 1, 1), 20);

    record Member(String symbol, BarData data, Duration interval) {}

    record Pending(String symbol, Bar bar, Instant close) {}

    static final BarData BTC = BundledData.BTC_USD_4H.load();
    static final BarData SPX = BundledData.SP500_DAILY.load();
    static final BarData NDX = BundledData.NASDAQ_DAILY.load();

    StrategyBundle bundle;
    @TempDir Path home;
    String url;
    final List<AutoCloseable> opened = new ArrayList<>();

    /** The JDBC URL of a new, empty database for one test. */
    abstract String freshDatabaseUrl() throws Exception;

    /** Removes what {@link #freshDatabaseUrl()} made. */
    void dropDatabase(String url) throws Exception {}

    /**
     * SQL that makes every write matching {@code what} fail from now on (a trigger raising an error
     * whose text contains {@code injected}), and the SQL that removes it.
     *
     * @param name the trigger's name
     * @param table the table
     * @param event e.g. {@code UPDATE OF closed_ms} or {@code INSERT}
     * @return the statements to create it, then the one to drop it (last)
     */
    abstract List<String> failingTrigger(String name, String table, String event);

    @BeforeAll
    void writeBundle(@TempDir Path dir) {
        bundle = TestStrategies.bundle(dir.resolve("bundle"));
    }

    @BeforeEach
    void fresh() throws Exception {
        url = freshDatabaseUrl();
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
        opened.clear();
        dropDatabase(url);
    }

    /** A store and a recovered manager on the test's database: a (re)start of the service. */
    SessionManager start() {
        return start(TestStrategies.portfolioCatalog(bundle, new TestStrategies.EqualPortfolio()));
    }

    SessionManager start(StrategyCatalog catalog) {
        StateStore store = store();
        SessionManager m = new SessionManager(store, catalog, CLOCK);
        opened.add(m);
        m.recover();
        return m;
    }

    StateStore store() {
        StateStore store = StateStore.open(Optional.of(url), home);
        opened.add(store);
        return store;
    }

    static List<Bar> warmup(BarData d) {
        int last = 0;
        while (last + 1 < d.size() && !d.bar(last + 1).start().isAfter(T)) {
            last++;
        }
        List<Bar> out = new ArrayList<>();
        for (int i = last - WARMUP + 1; i <= last; i++) {
            out.add(d.bar(i));
        }
        return out;
    }

    static void open(SessionManager m, String account, Member member) {
        m.open(
                new SessionManager.OpenRequest(
                        member.symbol(),
                        account,
                        "USD",
                        10_000,
                        AccountMode.PAPER,
                        member.interval(),
                        6,
                        "fixed",
                        warmup(member.data()),
                        0,
                        SETTINGS));
    }

    /** The members' bars after {@link #T}, in the order they close. */
    static List<Pending> stream(List<Member> members) {
        List<Pending> out = new ArrayList<>();
        for (Member m : members) {
            for (int i = 0; i < m.data().size(); i++) {
                Bar b = m.data().bar(i);
                if (b.start().isAfter(T)) {
                    out.add(new Pending(m.symbol(), b, b.start().plus(m.interval())));
                }
            }
        }
        out.sort(
                Comparator.comparing(Pending::close)
                        .thenComparing(
                                p ->
                                        members.stream()
                                                .map(Member::symbol)
                                                .toList()
                                                .indexOf(p.symbol())));
        return out;
    }

    static final Member BTC_USD = new Member("BTC-USD", BTC, Duration.ofHours(4));
    static final Member SPX_D = new Member("SPX", SPX, Duration.ofDays(1));

    static JsonNode account(SessionManager m, String id) {
        return JSON.valueToTree(m.account(id));
    }

    static JsonNode member(JsonNode account, String symbol) {
        for (JsonNode x : account.path("members")) {
            if (x.path("symbol").asText().equals(symbol)) {
                return x;
            }
        }
        throw new AssertionError(symbol + " is not a member of " + account);
    }

    /** Steps {@code stream} from {@code from} until {@code done} holds; returns the next index. */
    static int stepUntil(
            SessionManager m,
            List<Pending> stream,
            int from,
            java.util.function.Predicate<SessionManager> done) {
        int i = from;
        while (!done.test(m)) {
            Pending p = stream.get(i++);
            m.bars(p.symbol(), List.of(p.bar()));
            assertThat(i).as("bars stepped waiting for the condition").isLessThan(from + 400);
        }
        return i;
    }

    void sql(String... statements) throws Exception {
        try (Connection c = DriverManager.getConnection(url);
                Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
            if (!c.getAutoCommit()) {
                c.commit();
            }
        }
    }

    List<StoredEvent> portfolioEvents(String account) {
        return store().events(account).stream()
                .filter(e -> e.event().kind().equals(LivePortfolio.KIND))
                .toList();
    }

    @Test
    void closingAMemberIsOneTransaction() throws Exception {
        List<Pending> stream = stream(List.of(BTC_USD, SPX_D));
        SessionManager m = start();
        open(m, "pf", BTC_USD);
        open(m, "pf", SPX_D);
        stepUntil(m, stream, 0, x -> member(account(x, "pf"), "SPX").path("weight").asDouble() > 0);
        JsonNode before = account(m, "pf");
        int stored = portfolioEvents("pf").size();
        List<String> trigger = failingTrigger("quiver_test_fail_close", "sessions", "UPDATE");
        sql(trigger.subList(0, trigger.size() - 1).toArray(String[]::new));

        assertThatThrownBy(() -> m.close("SPX")).hasStackTraceContaining("injected");
        // nothing of the close is stored, and the book is back as stored
        assertThat(portfolioEvents("pf")).hasSize(stored);
        assertThat(store().session("SPX").orElseThrow().isOpen()).isTrue();
        assertThat(account(m, "pf").path("members")).isEqualTo(before.path("members"));
        SessionManager again = start();
        assertThat(account(again, "pf").path("members")).isEqualTo(before.path("members"));
        assertThat(again.failedRecoveries()).isEmpty();

        sql(trigger.get(trigger.size() - 1));
        assertThat(again.close("SPX").get("state")).isEqualTo("closed");
        SessionManager third = start();
        assertThat(member(account(third, "pf"), "SPX").path("left").asBoolean()).isTrue();
        assertThat(store().session("SPX").orElseThrow().isOpen()).isFalse();
        assertThat(portfolioEvents("pf")).hasSize(stored + 1);
    }

    @Test
    void aFailedWriteWhoseRebuildFailsTooSurfacesTheFirstErrorAndQuarantinesWithIt()
            throws Exception {
        List<Pending> stream = stream(List.of(BTC_USD, SPX_D));
        SessionManager m = start();
        open(m, "pf", BTC_USD);
        open(m, "pf", SPX_D);
        int next = stepUntil(m, stream, 0, x -> account(x, "pf").path("decisions").asInt() > 3);
        // the next bar's write fails, and the book's stored state is gone (its reload fails too)
        List<String> trigger = failingTrigger("quiver_test_fail_bars", "bars", "INSERT");
        sql(trigger.subList(0, trigger.size() - 1).toArray(String[]::new));
        sql("DELETE FROM events WHERE kind = '" + LivePortfolio.KIND + "'");
        Pending p = stream.get(next);

        Throwable thrown = null;
        try {
            m.bars(p.symbol(), List.of(p.bar()));
        } catch (RuntimeException e) {
            thrown = e;
        }
        assertThat(thrown).as("the bar's failed write").isNotNull();
        assertThat(thrown).hasStackTraceContaining("injected");
        assertThat(thrown.getMessage()).doesNotContain("no stored state");
        assertThat(thrown.getSuppressed())
                .anySatisfy(s -> assertThat(s).hasMessageContaining("no stored state"));
        // both members refuse work, and their state says why, the first error included
        assertThat(m.failedRecoveries()).containsOnlyKeys("BTC-USD", "SPX");
        for (String symbol : List.of("BTC-USD", "SPX")) {
            assertThat(m.state(symbol).get("reason").toString())
                    .contains("could not be put back from the store after a failed write")
                    .contains("injected")
                    .contains("no stored state");
        }
        // the other member is not rebuilt behind the quarantine: its next bar is refused
        Pending other =
                stream.subList(next + 1, stream.size()).stream()
                        .filter(x -> !x.symbol().equals(p.symbol()))
                        .findFirst()
                        .orElseThrow();
        assertThatThrownBy(() -> m.bars(other.symbol(), List.of(other.bar())))
                .hasMessageContaining("is quarantined");
        assertThat(m.failedRecoveries()).containsOnlyKeys("BTC-USD", "SPX");
        sql(trigger.get(trigger.size() - 1));
    }
}
