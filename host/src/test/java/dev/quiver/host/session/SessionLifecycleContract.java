package dev.quiver.host.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.market.Bar;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.store.AccountMode;
import dev.quiver.host.store.BarRow;
import dev.quiver.host.store.Side;
import dev.quiver.host.store.StateStore;
import dev.quiver.host.store.StoredEvent;
import dev.quiver.host.strategy.StrategyBundle;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A session's life beyond the happy path, in process on a real state store (run against each
 * database: {@code SessionLifecycleSqliteTest}, {@code SessionLifecyclePostgresIT}): a re-warm
 * after a refused gap, generations of a symbol, a fill's effect on the account at once, plugin
 * failures replayed from the record, and a session whose replay fails quarantined while the others
 * serve. A "restart" is a new {@link SessionManager} on a newly opened store over the same
 * database, as {@code quiver serve} does after a SIGKILL (every input is committed before the
 * answer, so nothing the first manager holds in memory is needed).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class SessionLifecycleContract {

    static final BarData BTC = BundledData.BTC_USD_4H.load();
    static final int WARMUP = 300;
    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-06-01T00:00:00Z"), ZoneOffset.UTC);
    static final ObjectMapper JSON = new ObjectMapper();

    /** The index of the first BTC bar after 2024-03-01: the warm-up is the 300 bars before it. */
    static int first;

    StrategyBundle bundle;
    @TempDir Path home;
    String url;
    final List<AutoCloseable> opened = new ArrayList<>();

    /** The JDBC URL of a new, empty database for one test. */
    abstract String freshDatabaseUrl() throws Exception;

    /** Removes what {@link #freshDatabaseUrl()} made. */
    void dropDatabase(String url) throws Exception {}

    @BeforeAll
    void writeBundle(@TempDir Path dir) {
        bundle = TestStrategies.bundle(dir.resolve("bundle"));
        Instant t = Instant.parse("2024-03-01T00:00:00Z");
        first = 0;
        while (!BTC.bar(first).start().isAfter(t)) {
            first++;
        }
    }

    @BeforeEach
    void fresh() throws Exception {
        url = freshDatabaseUrl();
        TestStrategies.FAULTS.clear();
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
        opened.clear();
        TestStrategies.FAULTS.clear();
        dropDatabase(url);
    }

    /** A store and a recovered manager on the test's database: a (re)start of the service. */
    SessionManager start() {
        StateStore store = StateStore.open(Optional.of(url), home);
        opened.add(store);
        SessionManager m = new SessionManager(store, TestStrategies.catalog(bundle), CLOCK);
        opened.add(m);
        m.recover();
        return m;
    }

    StateStore store() {
        StateStore store = StateStore.open(Optional.of(url), home);
        opened.add(store);
        return store;
    }

    static Bar bar(int i) {
        return BTC.bar(first + i);
    }

    static List<Bar> bars(int from, int toExclusive) {
        List<Bar> out = new ArrayList<>();
        for (int i = from; i < toExclusive; i++) {
            out.add(bar(i));
        }
        return out;
    }

    static SessionManager.OpenRequest request(String symbol, String account, AccountMode mode) {
        return new SessionManager.OpenRequest(
                symbol,
                account,
                "USD",
                10_000,
                mode,
                Duration.ofHours(4),
                3,
                "fixed",
                bars(-WARMUP, 0));
    }

    static void step(SessionManager m, String symbol, int from, int toExclusive) {
        for (int i = from; i < toExclusive; i++) {
            m.bars(symbol, List.of(bar(i)));
        }
    }

    static QuiverInputException refused(ThrowingCallable call, String code, String field) {
        Throwable t = org.assertj.core.api.Assertions.catchThrowable(call);
        assertThat(t).isInstanceOf(QuiverInputException.class);
        QuiverInputException e = (QuiverInputException) t;
        assertThat(e.code()).as(e.getMessage()).isEqualTo(code);
        assertThat(e.field()).as(e.getMessage()).isEqualTo(field);
        return e;
    }

    /** The state and account as JSON text, so equality is the answers' equality. */
    static String snapshot(SessionManager m, String symbol, String account) throws Exception {
        return JSON.writeValueAsString(
                Map.of("session", m.state(symbol), "account", m.account(account)));
    }

    // ---- 1. re-warm ----------------------------------------------------------------------------

    @Test
    void aRefusedGapIsLeftByARewarmAndAReplayReproducesIt() throws Exception {
        SessionManager m = start();
        m.open(request("RW", "rw-acct", AccountMode.PAPER));
        step(m, "RW", 0, 30);
        // Not needed yet: refused, nothing stored.
        refused(
                () -> m.rewarm("RW", bars(30, 40), null, null),
                "SESSION_NOT_REWARM_REQUIRED",
                "state");

        refused(() -> m.bars("RW", List.of(bar(40))), "BAR_GAP", "bars[0].timestamp");
        assertThat(m.state("RW").get("state")).isEqualTo("rewarm_required");
        refused(() -> m.bars("RW", List.of(bar(41))), "SESSION_REWARM", "bars");
        StateStore store = store();
        int storedBefore = store.bars("RW").size();
        int eventsBefore = store.events("rw-acct").size();

        // Refused re-warms store nothing: no bar after the last one; a gap inside.
        QuiverInputException none =
                refused(() -> m.rewarm("RW", bars(20, 30), "ops", "gap"), "BAD_REWARM", "warmup");
        assertThat(none.getMessage()).contains("no bar after the session's last bar");
        List<Bar> holed = new ArrayList<>(bars(35, 60));
        holed.remove(10);
        holed.remove(10);
        holed.remove(10);
        QuiverInputException hole =
                refused(
                        () -> m.rewarm("RW", holed, "ops", "gap"),
                        "BAR_GAP",
                        "warmup.bars[10].timestamp");
        assertThat(hole.getMessage()).contains("a re-warm's bars must be continuous");
        assertThat(store.bars("RW")).hasSize(storedBefore);
        assertThat(store.events("rw-acct")).hasSize(eventsBefore);

        // History covering the gap (from before the last bar: those are skipped) re-warms it.
        Map<String, Object> rewarmed = m.rewarm("RW", bars(20, 100), "ops", "feed restored");
        @SuppressWarnings("unchecked")
        Map<String, Object> used = (Map<String, Object>) rewarmed.get("rewarm");
        assertThat(used.get("bars")).isEqualTo(70);
        assertThat(used.get("skipped_bars")).isEqualTo(10);
        assertThat(rewarmed.get("state")).isEqualTo("ready");
        assertThat(store.bars("RW")).hasSize(storedBefore + 70);
        List<StoredEvent> events = store.events("rw-acct");
        StoredEvent audit = events.get(events.size() - 1);
        assertThat(audit.event().kind()).isEqualTo("session_rewarmed");
        assertThat(audit.event().actor()).isEqualTo("ops");
        assertThat(audit.event().reason()).contains("feed restored");

        // It decides again from the bar after the re-warm; the account was kept.
        Map<String, Object> d = m.bars("RW", List.of(bar(100)));
        assertThat(d.get("fused")).isNotNull();
        step(m, "RW", 101, 120);
        String live = snapshot(m, "RW", "rw-acct");

        SessionManager again = start();
        assertThat(snapshot(again, "RW", "rw-acct")).isEqualTo(live);
        // and goes on identically
        Map<String, Object> next = again.bars("RW", List.of(bar(120)));
        assertThat(next.get("bar_time")).isEqualTo(bar(120).start().toString());
    }

    // ---- 2. generations ------------------------------------------------------------------------

    @Test
    void aClosedSessionRefusesBarsAndItsSymbolOpensAsTheNextGeneration() throws Exception {
        SessionManager m = start();
        Map<String, Object> g1 = m.open(request("GEN", null, AccountMode.EXTERNAL));
        assertThat(g1.get("generation")).isEqualTo(1L);
        step(m, "GEN", 0, 5);
        m.fill(
                "GEN-external",
                new SessionManager.FillRequest(
                        "f1",
                        "GEN",
                        Side.BUY,
                        0.1,
                        bar(4).close(),
                        1.0,
                        bar(4).start().plusSeconds(60)));
        StateStore store = store();
        List<BarRow> firstBars = store.bars("GEN");
        m.close("GEN");

        QuiverInputException gone =
                refused(() -> m.bars("GEN", List.of(bar(5))), "SESSION_CLOSED", "symbol");
        assertThat(gone.getMessage())
                .contains("generation 1")
                .contains("PUT /v1/sessions/GEN opens generation 2");
        refused(
                () ->
                        m.fill(
                                "GEN-external",
                                new SessionManager.FillRequest(
                                        "f2",
                                        "GEN",
                                        Side.SELL,
                                        0.1,
                                        bar(5).close(),
                                        0,
                                        bar(5).start())),
                "SESSION_CLOSED",
                "account");
        assertThat(m.state("GEN").get("state")).isEqualTo("closed");
        // The account of generation 1 is not reused.
        refused(
                () -> m.open(request("GEN", "GEN-external", AccountMode.EXTERNAL)),
                "SESSION_CONFLICT",
                "account");

        Map<String, Object> g2 = m.open(request("GEN", null, AccountMode.PAPER));
        assertThat(g2.get("generation")).isEqualTo(2L);
        @SuppressWarnings("unchecked")
        Map<String, Object> account = (Map<String, Object>) g2.get("account");
        assertThat(account.get("id")).isEqualTo("GEN-paper-g2");
        assertThat(account.get("equity")).isEqualTo(10_000.0);
        assertThat(account.get("position_units")).isEqualTo(0.0);
        // Fresh state: the same bars are new to generation 2.
        step(m, "GEN", 0, 8);
        String live = snapshot(m, "GEN", "GEN-paper-g2");

        assertThat(store.sessionHistory("GEN"))
                .extracting(r -> r.generation() + "/" + r.accountId() + "/" + r.isOpen())
                .containsExactly("1/GEN-external/false", "2/GEN-paper-g2/true");
        assertThat(store.generationBars("GEN", 1)).isEqualTo(firstBars);
        assertThat(store.generationBars("GEN", 2)).hasSize(WARMUP + 8);
        assertThat(store.fills("GEN-external")).hasSize(1);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> history =
                (List<Map<String, Object>>) m.generations("GEN").get("generations");
        assertThat(history).extracting(h -> h.get("state")).containsExactly("closed", "open");
        assertThat(history).extracting(h -> h.get("bars")).containsExactly(WARMUP + 5, WARMUP + 8);

        SessionManager again = start();
        assertThat(snapshot(again, "GEN", "GEN-paper-g2")).isEqualTo(live);
    }

    // ---- 3. a fill marks the account at once ---------------------------------------------------

    @Test
    void aFillShowsInTheAccountAtOnceValuedAtTheLastClose() throws Exception {
        SessionManager m = start();
        m.open(request("FM", "fm-acct", AccountMode.EXTERNAL));
        step(m, "FM", 0, 10);
        Map<String, Object> before = m.account("fm-acct");
        double close = bar(9).close();
        double price = close * 1.01; // bought above the close: worth less at once
        Map<String, Object> after =
                m.fill(
                        "fm-acct",
                        new SessionManager.FillRequest(
                                "b1",
                                "FM",
                                Side.BUY,
                                0.05,
                                price,
                                2.5,
                                bar(9).start().plusSeconds(3600)));
        @SuppressWarnings("unchecked")
        Map<String, Object> a = (Map<String, Object>) after.get("account");
        double cash = 10_000 - 0.05 * price - 2.5;
        double equity = cash + 0.05 * close;
        assertThat((double) a.get("cash")).isEqualTo(cash);
        assertThat((double) a.get("equity")).isEqualTo(equity);
        assertThat((double) a.get("high_water_mark")).isEqualTo(10_000.0);
        assertThat((double) a.get("drawdown")).isEqualTo(1 - equity / 10_000.0);
        assertThat((double) a.get("daily_pnl"))
                .isEqualTo((double) before.get("daily_pnl") + equity - 10_000.0);
        // The breakers see it at the next bar's open, as in the backtest: no event yet.
        assertThat(a.get("breaker_events")).isEqualTo(before.get("breaker_events"));
        assertThat(m.account("fm-acct").get("equity")).isEqualTo(equity);

        String live = snapshot(m, "FM", "fm-acct");
        SessionManager again = start();
        assertThat(snapshot(again, "FM", "fm-acct")).isEqualTo(live);
        Map<String, Object> next = again.bars("FM", List.of(bar(10)));
        @SuppressWarnings("unchecked")
        Map<String, Object> marked = (Map<String, Object>) next.get("account");
        assertThat((double) marked.get("equity")).isEqualTo(cash + 0.05 * bar(10).close());
    }

    // ---- 4. plugin failures are replayed from the record ---------------------------------------

    @Test
    void pluginFailuresLiveAreReplayedFromTheRecordNotCalledAgain() throws Exception {
        SessionManager m = start();
        m.open(request("PF", "pf-acct", AccountMode.PAPER));
        TestStrategies.FAULTS.source.add(bar(3).start());
        TestStrategies.FAULTS.source.add(bar(11).start());
        TestStrategies.FAULTS.ensemble.add(bar(6).start());
        TestStrategies.FAULTS.policy.add(bar(8).start());
        TestStrategies.FAULTS.policy.add(bar(15).start());
        List<Map<String, Object>> answers = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            answers.add(m.bars("PF", List.of(bar(i))));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> p3 = (Map<String, Object>) answers.get(3).get("provenance");
        assertThat(p3.get("failed_sources").toString()).contains("flaky timed out");
        assertThat(answers.get(6).get("no_signal").toString()).contains("mean ran out of memory");
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> d8 =
                (Map<String, Map<String, Object>>) answers.get(8).get("decisions");
        assertThat(d8.get("fixed").get("reason").toString()).contains("fixed lost its connection");
        String live = snapshot(m, "PF", "pf-acct");
        assertThat(store().events("pf-acct"))
                .filteredOn(e -> e.event().kind().equals("call_failures"))
                .hasSize(5);

        // The plugins would answer now: a replay that called them would decide otherwise.
        TestStrategies.FAULTS.clear();
        SessionManager again = start();
        assertThat(snapshot(again, "PF", "pf-acct")).isEqualTo(live);
    }

    // ---- 5. a session whose replay fails is quarantined ----------------------------------------

    @Test
    void aSessionThatCannotBeReplayedIsQuarantinedAndTheOthersServe() throws Exception {
        SessionManager m = start();
        m.open(request("OK", "ok-acct", AccountMode.PAPER));
        m.open(request("BAD", "bad-acct", AccountMode.EXTERNAL));
        step(m, "OK", 0, 5);
        step(m, "BAD", 0, 5);
        String okLive = snapshot(m, "OK", "ok-acct");
        corrupt(
                "UPDATE sessions SET settings_json = ? WHERE symbol = 'BAD'",
                "{\"symbol\":\"BAD\",\"account\":\"bad-acct\",\"interval\":\"four hours\"}");

        SessionManager again = start();
        assertThat(again.failedRecoveries()).containsOnlyKeys("BAD");
        assertThat(again.failedRecoveries().get("BAD")).contains("four hours");
        assertThat(again.list())
                .extracting(s -> s.get("symbol") + "=" + s.get("state"))
                .containsExactly("BAD=failed_recovery", "OK=ready");
        assertThat(again.state("BAD").get("reason").toString()).contains("four hours");
        StateStore store = store();
        int bars = store.bars("BAD").size();
        QuiverInputException e =
                refused(
                        () -> again.bars("BAD", List.of(bar(5))),
                        "SESSION_FAILED_RECOVERY",
                        "symbol");
        assertThat(e.getMessage()).contains("four hours").contains("DELETE /v1/sessions/BAD");
        refused(
                () ->
                        again.fill(
                                "bad-acct",
                                new SessionManager.FillRequest(
                                        "x", "BAD", Side.BUY, 0.1, 100, 0, bar(4).start())),
                "SESSION_FAILED_RECOVERY",
                "account");
        refused(
                () -> again.open(request("BAD", "bad-2", AccountMode.PAPER)),
                "SESSION_FAILED_RECOVERY",
                "symbol");
        assertThat(store.bars("BAD")).hasSize(bars);
        assertThat(store.fills("bad-acct")).isEmpty();

        // The others serve as if nothing happened.
        assertThat(snapshot(again, "OK", "ok-acct")).isEqualTo(okLive);
        again.bars("OK", List.of(bar(5)));

        // Closing it is the way out: the symbol opens again as generation 2.
        assertThat(again.close("BAD").get("state")).isEqualTo("closed");
        assertThat(again.failedRecoveries()).isEmpty();
        assertThat(again.open(request("BAD", "bad-2", AccountMode.PAPER)).get("generation"))
                .isEqualTo(2L);
        assertThat(start().failedRecoveries()).isEmpty();
    }

    @Test
    void aCommandAfterABarTheStoreLacksQuarantinesTheSessionNamingIt() throws Exception {
        SessionManager m = start();
        m.open(request("CMD", "cmd-acct", AccountMode.EXTERNAL));
        step(m, "CMD", 0, 3);
        m.fill(
                "cmd-acct",
                new SessionManager.FillRequest(
                        "c1", "CMD", Side.BUY, 0.1, bar(2).close(), 0, bar(2).start()));
        corrupt(
                "DELETE FROM bars WHERE symbol = 'CMD' AND start_ms = ?",
                bar(2).start().toEpochMilli());
        SessionManager again = start();
        assertThat(again.failedRecoveries().get("CMD"))
                .contains("stored commands follow bars the session does not have")
                .contains(String.valueOf(bar(2).start().toEpochMilli()));
        assertThatThrownBy(() -> again.account("cmd-acct"))
                .hasMessageContaining("SESSION_FAILED_RECOVERY");
    }

    /** Changes a stored row behind the store's back (as a damaged database would). */
    void corrupt(String sql, Object value) throws Exception {
        try (Connection c = DriverManager.getConnection(url);
                PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setObject(1, value);
            assertThat(ps.executeUpdate()).isEqualTo(1);
            if (!c.getAutoCommit()) {
                c.commit();
            }
        }
    }
}
