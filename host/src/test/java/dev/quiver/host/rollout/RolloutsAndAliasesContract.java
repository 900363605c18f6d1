package dev.quiver.host.rollout;

import static dev.quiver.host.rollout.RolloutControllerTest.blend;
import static dev.quiver.host.rollout.RolloutControllerTest.btc;
import static dev.quiver.host.rollout.RolloutControllerTest.champion;
import static dev.quiver.host.rollout.RolloutControllerTest.up;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.host.registry.AliasHistory;
import dev.quiver.host.store.RolloutPointRow;
import dev.quiver.host.store.StateStore;
import dev.quiver.host.store.StoreConflictException;
import dev.quiver.host.store.StoreException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rollouts and the alias history in the state store, run against each database: {@code
 * RolloutsAndAliasesSqliteTest} (a temporary file) and {@code RolloutsAndAliasesPostgresIT} (the
 * real PostgreSQL server the build starts). "Restart" is what a service restart does: the manager
 * and the store are closed, a new store is opened on the same database and a new manager restores
 * from it.
 */
abstract class RolloutsAndAliasesContract {

    @TempDir Path home;

    private String url;
    private final List<AutoCloseable> opened = new ArrayList<>();

    /** The JDBC URL of a new, empty database for one test. */
    abstract String freshDatabaseUrl() throws Exception;

    /** Removes what {@link #freshDatabaseUrl()} made, after the test's stores are closed. */
    void dropDatabase(String url) throws Exception {}

    @BeforeAll
    static void loadBars() {
        RolloutControllerTest.load();
    }

    @BeforeEach
    void freshDatabase() throws Exception {
        url = freshDatabaseUrl();
    }

    @AfterEach
    void closeStores() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
        dropDatabase(url);
    }

    /** A new store on the test's database (a new connection or pool). */
    StateStore open() {
        StateStore s = StateStore.open(Optional.of(url), home);
        opened.add(s);
        return s;
    }

    private RolloutManager manager(StateStore store) {
        RolloutManager m = RolloutManager.open(new RolloutStore(store), Optional.empty(), clock());
        opened.add(m);
        return m;
    }

    /** A clock with sub-millisecond digits, as the service's: the store keeps milliseconds. */
    private static Clock clock() {
        return Clock.fixed(
                Instant.parse("2026-11-27T10:00:00.123456789Z"), java.time.ZoneOffset.UTC);
    }

    /**
     * Runs spec(250) over BTC bars [100, to) of one key against the champion forecaster and a
     * challenger that blends in the outcome (so the rules promote it), through the manager.
     */
    private static void run(RolloutManager m, RolloutController c, int from, int to) {
        for (int i = from; i < to; i++) {
            Instant t = Instant.ofEpochMilli(btc.startMillis[i]);
            if (i > 100) {
                m.applied(
                        c,
                        c.resolve(
                                "BTC-USD",
                                Instant.ofEpochMilli(btc.startMillis[i - 1]),
                                t,
                                btc.close[i],
                                t));
            }
            double p = champion(i);
            c.record(
                    "BTC-USD",
                    t,
                    btc.close[i],
                    VariantOutput.forecast(p),
                    VariantOutput.forecast(blend(0.3).applyAsDouble(p, up(i) ? 1 : 0)),
                    c.route("BTC-USD"));
        }
    }

    @Test
    void everyTransitionIsOneCommittedAuditEventAndTheRolloutResumesAfterARestart()
            throws Exception {
        RolloutSpec spec = RolloutControllerTest.spec(250);
        StateStore db = open();
        RolloutManager first = manager(db);
        RolloutController c = first.start(spec);
        run(first, c, 100, 700);
        first.save(c);
        int transitions = c.transitions().size();
        assertThat(transitions).isEqualTo(2); // shadow -> canary -> full
        List<JsonNode> lines = new ArrayList<>();
        for (String l : first.store().auditLines()) {
            lines.add(RolloutStore.JSON.readTree(l));
        }
        assertThat(lines.get(0).path("event").asText()).isEqualTo("start");
        assertThat(lines.get(0).path("time").asText()).isEqualTo("2026-11-27T10:00:00.123456789Z");
        List<JsonNode> tl =
                lines.stream().filter(n -> n.path("event").asText().equals("transition")).toList();
        assertThat(tl).hasSize(transitions);
        for (int k = 0; k < transitions; k++) {
            JsonNode n = tl.get(k);
            Transition t = c.transitions().get(k);
            assertThat(n.path("rollout").asText()).isEqualTo("lstm-v4");
            assertThat(n.path("from").asText()).isEqualTo(t.from());
            assertThat(n.path("to").asText()).isEqualTo(t.to());
            assertThat(n.path("actor").asText()).isEqualTo("rule");
            assertThat(n.path("test").path("p_value").asDouble()).isEqualTo(t.test().pValue());
            assertThat(n.path("test").path("statistic").asDouble()).isEqualTo(t.test().statistic());
            assertThat(n.path("figures").path("challenger").path("log_loss").asDouble())
                    .isEqualTo(t.figures().get("challenger").logLoss());
        }
        String saved = RolloutStore.JSON.writeValueAsString(c.snapshot());
        assertThat(c.snapshot().created())
                .as("kept to the millisecond")
                .isEqualTo("2026-11-27T10:00:00.123Z");
        List<String> auditBefore = first.store().auditLines();
        first.close();
        db.close();

        StateStore db2 = open();
        RolloutManager second = manager(db2);
        RolloutController back = second.get("lstm-v4").orElseThrow();
        assertThat(RolloutStore.JSON.writeValueAsString(back.snapshot())).isEqualTo(saved);
        assertThat(back.stageStatus()).isEqualTo(c.stageStatus());
        assertThat(back.figures(Role.CHALLENGER)).isEqualTo(c.figures(Role.CHALLENGER));
        assertThat(second.store().auditLines()).isEqualTo(auditBefore);

        // The restored controller and the original go on identically (pending forecast included).
        for (RolloutController x : List.of(c, back)) {
            for (int i = 700; i < 800; i++) {
                Instant t = Instant.ofEpochMilli(btc.startMillis[i]);
                x.resolve(
                        "BTC-USD",
                        Instant.ofEpochMilli(btc.startMillis[i - 1]),
                        t,
                        btc.close[i],
                        t);
                double p = champion(i);
                // fewer outcomes than the next look needs: the rollout stays in full
                x.record(
                        "BTC-USD",
                        t,
                        btc.close[i],
                        VariantOutput.forecast(p),
                        VariantOutput.forecast(p),
                        x.route("BTC-USD"));
            }
        }
        assertThat(back.transitions()).isEqualTo(c.transitions());
        assertThat(back.stage()).isEqualTo(Stage.FULL);
        assertThat(back.snapshot().totals()).isEqualTo(c.snapshot().totals());

        Transition manual = second.rollback("lstm-v4", "operator test");
        assertThat(manual.actor()).isEqualTo("operator");
        List<String> audit = second.store().auditLines();
        assertThat(audit.get(audit.size() - 2))
                .contains("\"event\":\"transition\"")
                .contains("\"actor\":\"operator\"")
                .contains("\"to\":\"rolled_back\"");
        // the challenger is a model version: the alias step is audited (no registry here)
        assertThat(audit.get(audit.size() - 1))
                .contains("\"event\":\"registry\"")
                .contains("remove quiver-lstm@challenger (was 4)");
        assertThatThrownBy(() -> second.promote("lstm-v4", ""))
                .hasMessageContaining("ROLLOUT_FINISHED");

        // The operator's rollback was committed when the call returned: a third process sees it
        // while the second still runs.
        RolloutSnapshot seen =
                new RolloutStore(open())
                        .loadAll().stream()
                                .filter(s -> s.spec().path("id").asText().equals("lstm-v4"))
                                .findFirst()
                                .orElseThrow();
        assertThat(seen.stage()).isEqualTo("rolled_back");
        assertThat(seen.transitions()).hasSize(3);
    }

    @Test
    void aStateAndItsAuditEventsAreStoredTogetherOrNotAtAll() {
        StateStore db = open();
        RolloutStore store = new RolloutStore(db);
        RolloutController c =
                RolloutController.start(RolloutControllerTest.spec(250), Instant.EPOCH);
        ObjectNode ghost =
                RolloutStore.JSON
                        .createObjectNode()
                        .put("event", "start")
                        .put("time", "2026-11-27T10:00:00Z")
                        .put("rollout", "ghost");
        assertThatThrownBy(() -> store.save(c.snapshot(), List.of(ghost)))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("appendRolloutEvent(ghost, start)")
                .hasMessageContaining("no rollout 'ghost'");
        assertThat(store.loadAll()).as("the state of the failed transaction").isEmpty();
        assertThat(store.auditLines()).isEmpty();

        ObjectNode start = ghost.deepCopy().put("rollout", "lstm-v4");
        store.save(c.snapshot(), List.of(start));
        assertThat(store.loadAll()).hasSize(1);
        assertThat(store.auditLines()).containsExactly(start.toString());
        assertThatThrownBy(
                        () ->
                                store.appendAudit(
                                        RolloutStore.JSON.createObjectNode().put("event", "x")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("fields 'event' and 'rollout' are required");
    }

    /** Runs one statement on the test's database through a connection of its own. */
    private void sql(String statement) throws Exception {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(url);
                java.sql.Statement st = c.createStatement()) {
            st.execute(statement);
            if (!c.getAutoCommit()) {
                c.commit();
            }
        }
    }

    /** The first column of the first row of a query, through a connection of its own. */
    private long count(String query) throws Exception {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(url);
                java.sql.Statement st = c.createStatement();
                java.sql.ResultSet rs = st.executeQuery(query)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void aTransitionWhoseCommitFailedIsCommittedAuditedAndCarriedOutLater() throws Exception {
        StateStore db = open();
        RolloutManager m = manager(db);
        RolloutController c = m.start(RolloutControllerTest.spec(250));
        RolloutStore reader = new RolloutStore(open());
        int before = reader.auditLines().size(); // start + registry (skipped: no registry)

        // The audit table is away for a moment: the promotion's transaction fails whole.
        sql("ALTER TABLE rollout_events RENAME TO rollout_events_away");
        assertThatThrownBy(() -> m.promote("lstm-v4", "first"))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("rollout_events");
        assertThat(c.stage()).as("in memory").isEqualTo(Stage.CANARY);
        assertThat(reader.loadAll())
                .singleElement()
                .satisfies(s -> assertThat(s.stage()).isEqualTo("shadow"));
        assertThat(count("SELECT COUNT(*) FROM rollout_events_away")).isEqualTo(before);
        sql("ALTER TABLE rollout_events_away RENAME TO rollout_events");

        // The next commit of the rollout (the flusher's within a second, or the next operator
        // command, whichever comes first) carries the owed transition first, in order, once.
        m.promote("lstm-v4", "second");
        assertThat(reader.loadAll())
                .singleElement()
                .satisfies(s -> assertThat(s.stage()).isEqualTo("full"));
        Thread.sleep(2 * RolloutManager.FLUSH_MILLIS); // a flush that would repeat it has run
        List<String> transitions = new ArrayList<>();
        for (String l : reader.auditLines()) {
            JsonNode n = RolloutStore.JSON.readTree(l);
            if (n.path("event").asText().equals("transition")) {
                transitions.add(n.path("to").asText() + " " + n.path("reason").asText());
            }
        }
        assertThat(transitions).containsExactly("canary first", "full second");

        // A failed save leaves the state marked: the flusher stores it once the store is back.
        c.record(
                "BTC-USD",
                Instant.ofEpochMilli(btc.startMillis[500]),
                btc.close[500],
                VariantOutput.forecast(0.6),
                VariantOutput.forecast(0.7),
                c.route("BTC-USD"));
        sql("ALTER TABLE rollout_figures RENAME TO rollout_figures_away");
        assertThatThrownBy(() -> m.save(c)).isInstanceOf(StoreException.class);
        assertThat(count("SELECT LENGTH(pending_json) FROM rollouts")).as("[]").isEqualTo(2);
        sql("ALTER TABLE rollout_figures_away RENAME TO rollout_figures");
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (reader.loadAll().get(0).pending().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(reader.loadAll().get(0).pending()).hasSize(1);
    }

    @Test
    void theFiguresOverTimeAreOnePointPerOutcomeBarAndGoOnAfterARestart() throws Exception {
        StateStore db = open();
        RolloutManager first = manager(db);
        RolloutController c = first.start(RolloutControllerTest.spec(250));
        run(first, c, 100, 400);
        first.save(c);
        List<RolloutPointRow> rows = first.store().series("lstm-v4", 100_000);
        // One outcome per bar (one key): bars 101..399, three roles each, in bar order.
        assertThat(rows).hasSize(3 * 299);
        for (int k = 0; k < 299; k++) {
            List<RolloutPointRow> at = rows.subList(3 * k, 3 * k + 3);
            assertThat(at)
                    .extracting(RolloutPointRow::barMs)
                    .containsOnly(btc.startMillis[101 + k]);
            assertThat(at)
                    .extracting(RolloutPointRow::role)
                    .containsExactly("challenger", "champion", "served");
            assertThat(at.get(1).n()).as("champion's outcomes at point " + k).isEqualTo(k + 1);
        }
        // The last point holds the figures the state holds.
        VariantTotals champion = c.snapshot().totals().get("champion");
        RolloutPointRow last = rows.get(rows.size() - 2);
        assertThat(last.logLossSum()).isEqualTo(champion.logLossSum());
        assertThat(last.pnlSum()).isEqualTo(champion.pnlSum());
        assertThat(last.hits()).isEqualTo(champion.hits());
        assertThat(rows.get(rows.size() - 3).brierSum())
                .isEqualTo(c.snapshot().totals().get("challenger").brierSum());
        // Each point's stage is the stage it was scored in: the stages in order are the
        // rollout's, as its transitions moved it (the rules promoted the blended challenger).
        List<String> stages = new ArrayList<>();
        for (RolloutPointRow r : rows) {
            if (stages.isEmpty() || !stages.get(stages.size() - 1).equals(r.stage())) {
                stages.add(r.stage());
            }
        }
        List<String> expected = new ArrayList<>(List.of("shadow"));
        c.transitions().forEach(t -> expected.add(t.to()));
        assertThat(c.transitions()).isNotEmpty();
        assertThat(stages).isEqualTo(expected);
        assertThat(first.store().series("lstm-v4", 10))
                .hasSize(30)
                .first()
                .extracting(RolloutPointRow::barMs)
                .isEqualTo(btc.startMillis[390]);
        first.close();
        db.close();

        // After a restart the series goes on from the stored state (the pending forecast of bar
        // 399 is scored at 400).
        StateStore db2 = open();
        RolloutManager second = manager(db2);
        RolloutController back = second.get("lstm-v4").orElseThrow();
        run(second, back, 400, 450);
        second.save(back);
        List<RolloutPointRow> more = second.store().series("lstm-v4", 100_000);
        assertThat(more).hasSize(3 * 349);
        assertThat(more.subList(0, rows.size())).isEqualTo(rows);
        RolloutPointRow at400 = more.get(3 * 299 + 1);
        assertThat(at400.barMs()).isEqualTo(btc.startMillis[400]);
        assertThat(at400.n()).isEqualTo(300);

        // A late outcome of an earlier bar folds into the last point; the series stays monotone.
        long lastBar = btc.startMillis[449];
        db2.recordRolloutPoints(
                "lstm-v4",
                List.of(
                        new RolloutPointRow(
                                btc.startMillis[300], 1L, "full", "served", 999, 0, 0, 0, 0, 0)));
        List<RolloutPointRow> folded = db2.rolloutSeries("lstm-v4", 1);
        assertThat(folded).hasSize(3);
        assertThat(folded).extracting(RolloutPointRow::barMs).containsOnly(lastBar);
        assertThat(folded.get(2).n()).isEqualTo(999);
        assertThat(db2.rolloutSeries("lstm-v4", 100_000)).hasSize(3 * 349);
        assertThatThrownBy(() -> db2.recordRolloutPoints("ghost", List.of(folded.get(0))))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("no rollout 'ghost'");
        assertThatThrownBy(() -> db2.rolloutSeries("lstm-v4", 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bars must be >= 1");

        // A controller no manager stores (a backtest's) keeps no points.
        RolloutController bare =
                RolloutController.start(RolloutControllerTest.spec(250), Instant.EPOCH);
        bare.record(
                "BTC-USD",
                Instant.ofEpochMilli(btc.startMillis[100]),
                btc.close[100],
                VariantOutput.forecast(0.6),
                VariantOutput.forecast(0.7),
                bare.route("BTC-USD"));
        bare.resolve(
                "BTC-USD",
                Instant.ofEpochMilli(btc.startMillis[100]),
                Instant.ofEpochMilli(btc.startMillis[101]),
                btc.close[101],
                Instant.EPOCH);
        assertThat(bare.figures(Role.CHAMPION).n()).isEqualTo(1);
        assertThat(bare.unsavedSeries()).isEmpty();
    }

    @Test
    void anOlderStateNeverOverwritesANewerOne() {
        StateStore db = open();
        RolloutStore store = new RolloutStore(db);
        RolloutController c =
                RolloutController.start(RolloutControllerTest.spec(250), Instant.EPOCH);
        store.save(c.snapshot());
        RolloutSnapshot before = c.snapshot();
        c.promote("operator", Instant.parse("2026-11-27T10:00:00.001Z"));
        store.save(c.snapshot());
        assertThatThrownBy(() -> store.save(before))
                .isInstanceOf(StoreConflictException.class)
                .hasMessageContaining("saveRollout(lstm-v4)")
                .hasMessageContaining("transitions");
        assertThat(store.loadAll())
                .singleElement()
                .satisfies(s -> assertThat(s.stage()).isEqualTo("canary"));

        // another rollout under the same id is refused, naming the field
        RolloutController other =
                RolloutController.start(
                        RolloutSpecTest.spec(
                                x -> x.replace("\"min_samples\": 300", "\"min_samples\": 301")),
                        Instant.EPOCH);
        assertThatThrownBy(() -> store.save(other.snapshot()))
                .isInstanceOf(StoreConflictException.class)
                .hasMessageContaining("spec_json");
    }

    @Test
    void theAliasHistoryAnswersAsOfATimeAfterARestart() {
        StateStore db = open();
        AliasHistory h = new AliasHistory(db);
        Instant t0 = Instant.parse("2026-11-27T10:00:00Z");
        assertThat(h.observe("m", "champion", "1", t0)).isPresent();
        assertThat(h.observe("m", "champion", "1", t0.plusSeconds(5)))
                .as("unchanged: not recorded")
                .isEmpty();
        assertThat(h.observe("m", "challenger", "3", t0.plusSeconds(7))).isPresent();
        var move = h.observe("m", "champion", "2", t0.plusSeconds(60)).orElseThrow();
        assertThat(move.from()).hasValue("1");
        assertThat(h.observe("m", "champion", "1", t0.plusMillis(90_000_123)).orElseThrow().from())
                .hasValue("2");
        db.close();

        AliasHistory again = new AliasHistory(open());
        assertThat(again.moves()).hasSize(4);
        assertThat(again.moves("m", "champion"))
                .extracting(AliasHistory.Move::to)
                .containsExactly("1", "2", "1");
        assertThat(again.asOf("m", "champion", t0.minusMillis(1))).isEmpty();
        assertThat(again.asOf("m", "champion", t0).orElseThrow().to()).isEqualTo("1");
        assertThat(again.asOf("m", "champion", t0.plusSeconds(59)).orElseThrow().to())
                .isEqualTo("1");
        assertThat(again.asOf("m", "champion", t0.plusSeconds(60)).orElseThrow().to())
                .isEqualTo("2");
        assertThat(again.asOf("m", "champion", t0.plusMillis(90_000_122)).orElseThrow().to())
                .isEqualTo("2");
        assertThat(again.asOf("m", "champion", t0.plusMillis(90_000_123)).orElseThrow().to())
                .isEqualTo("1");
        assertThat(again.asOf("m", "challenger", t0.plusSeconds(600)).orElseThrow().to())
                .isEqualTo("3");
        assertThat(again.asOf("other", "champion", t0.plusSeconds(600))).isEmpty();
        assertThat(again.latest("m", "champion").orElseThrow().observedAt())
                .isEqualTo(t0.plusMillis(90_000_123));
    }

    @Test
    void observersOfOneAliasInTwoProcessesTakeTurns() throws Exception {
        // Two stores are two processes' connections; each thread flips the alias between two
        // versions. The moves must form one chain: ordinals 1..n, each move from its predecessor,
        // never a move to the version the alias was already at.
        List<AliasHistory> histories = List.of(new AliasHistory(open()), new AliasHistory(open()));
        int threads = 8;
        int perThread = 40;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Integer>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            AliasHistory h = histories.get(t % 2);
            int id = t;
            Callable<Integer> work =
                    () -> {
                        go.await();
                        int recorded = 0;
                        for (int i = 0; i < perThread; i++) {
                            String v = Integer.toString((id + i) % 3 + 1);
                            if (h.observe("m", "champion", v, Instant.ofEpochMilli(i))
                                    .isPresent()) {
                                recorded++;
                            }
                        }
                        return recorded;
                    };
            done.add(pool.submit(work));
        }
        go.countDown();
        int recorded = 0;
        for (Future<Integer> f : done) {
            recorded += f.get();
        }
        pool.shutdown();
        List<AliasHistory.Move> moves = histories.get(0).moves("m", "champion");
        assertThat(moves).hasSize(recorded);
        assertThat(recorded).isGreaterThan(1);
        for (int i = 1; i < moves.size(); i++) {
            assertThat(moves.get(i).from()).hasValue(moves.get(i - 1).to());
            assertThat(moves.get(i).to()).isNotEqualTo(moves.get(i - 1).to());
        }
        assertThat(moves.get(0).from()).isEmpty();
    }

    // ---- the files of earlier versions

    /** A rollouts folder written by the file-based store (Quiver before schema 2). */
    static final Path LEGACY_ROLLOUTS = Path.of("src/test/resources/legacy/rollouts");

    /** A model cache's alias-history.jsonl written by the file-based history. */
    static final Path LEGACY_CACHE = Path.of("src/test/resources/legacy/models");

    private static Path copy(Path from, Path to) throws Exception {
        try (var files = Files.walk(from)) {
            for (Path f : files.toList()) {
                Path target = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target);
                }
            }
        }
        return to;
    }

    @Test
    void oldRolloutFilesAreImportedOnceIntoAnEmptyStore() throws Exception {
        Path dir = copy(LEGACY_ROLLOUTS, home.resolve("rollouts"));
        List<String> oldAudit = Files.readAllLines(dir.resolve("audit.jsonl"));
        JsonNode oldState = RolloutStore.JSON.readTree(dir.resolve("state/lstm-v4.json").toFile());

        StateStore db = open();
        RolloutStore store = new RolloutStore(db);
        RolloutStore.Import done = store.importFiles(dir).orElseThrow();
        assertThat(done.rollouts()).isEqualTo(2);
        assertThat(done.auditLines()).isEqualTo(oldAudit.size());
        assertThat(Files.readString(done.marker()))
                .contains(db.displayUrl())
                .contains("2 rollout(s) [analogs-k50, lstm-v4]")
                .contains("no longer read");
        assertThat(store.auditLines()).isEqualTo(oldAudit);
        assertThat(store.importFiles(dir)).as("once").isEmpty();
        db.close();

        // After a restart the imported rollouts are what the files held (times to the ms).
        StateStore db2 = open();
        RolloutManager m = manager(db2);
        assertThat(m.list()).extracting(RolloutController::id).contains("lstm-v4", "analogs-k50");
        RolloutController c = m.get("lstm-v4").orElseThrow();
        RolloutController fromFile =
                RolloutController.restore(
                        RolloutStore.JSON.treeToValue(oldState, RolloutSnapshot.class));
        assertThat(c.stage()).isEqualTo(fromFile.stage());
        assertThat(c.snapshot().totals()).isEqualTo(fromFile.snapshot().totals());
        assertThat(c.snapshot().pending()).isEqualTo(fromFile.snapshot().pending());
        assertThat(c.snapshot().stagePaired()).isEqualTo(fromFile.snapshot().stagePaired());
        assertThat(c.transitions()).hasSameSizeAs(fromFile.transitions());
        for (int i = 0; i < c.transitions().size(); i++) {
            Transition a = c.transitions().get(i);
            Transition b = fromFile.transitions().get(i);
            assertThat(a.to()).isEqualTo(b.to());
            assertThat(a.figures()).isEqualTo(b.figures());
            assertThat(a.test()).isEqualTo(b.test());
            assertThat(Instant.parse(a.time()))
                    .isEqualTo(
                            Instant.parse(b.time())
                                    .truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
        }
        // and they go on: an operator command is committed like any other
        m.promote("lstm-v4", "after the import");
        assertThat(m.store().auditLines()).hasSize(oldAudit.size() + 2); // transition + registry
    }

    @Test
    void rolloutFilesAreNotImportedIntoAStoreThatHasRollouts() throws Exception {
        StateStore db = open();
        RolloutStore store = new RolloutStore(db);
        RolloutController c =
                RolloutController.start(RolloutControllerTest.spec(250), Instant.EPOCH);
        store.save(c.snapshot());
        Path dir = copy(LEGACY_ROLLOUTS, home.resolve("rollouts"));
        assertThat(store.importFiles(dir)).isEmpty();
        assertThat(store.loadAll()).hasSize(1);
        assertThat(store.auditLines()).isEmpty();
        assertThat(dir.resolve(RolloutStore.IMPORTED_MARKER)).doesNotExist();
        assertThat(store.importFiles(home.resolve("no-such-folder"))).isEmpty();
    }

    @Test
    void aDamagedOldAuditLineImportsNothingAndIsNamed() throws Exception {
        Path dir = copy(LEGACY_ROLLOUTS, home.resolve("rollouts"));
        Path audit = dir.resolve("audit.jsonl");
        List<String> lines = new ArrayList<>(Files.readAllLines(audit));
        lines.add(3, "{\"event\":\"transition\",\"rollout\":\"lstm-v4\",\"ti");
        Files.write(audit, lines);
        StateStore db = open();
        RolloutStore store = new RolloutStore(db);
        assertThatThrownBy(() -> store.importFiles(dir))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("[Quiver/ROLLOUT_IMPORT] " + audit + " line 4 ")
                .hasMessageContaining("nothing was imported");
        assertThat(store.loadAll()).isEmpty();
        assertThat(store.auditLines()).isEmpty();
        assertThat(dir.resolve(RolloutStore.IMPORTED_MARKER)).doesNotExist();

        lines.set(
                3,
                "{\"event\":\"registry\",\"rollout\":\"gone\",\"time\":\"2026-11-27T10:00:00Z\"}");
        Files.write(audit, lines);
        assertThatThrownBy(() -> store.importFiles(dir))
                .hasMessageContaining("line 4 names rollout 'gone', which has no state file");
        assertThat(store.loadAll()).isEmpty();
    }

    @Test
    void anOldAliasHistoryIsImportedOnce() throws Exception {
        Path cache = copy(LEGACY_CACHE, home.resolve("models"));
        List<String> lines = Files.readAllLines(cache.resolve(AliasHistory.FILE_NAME));
        StateStore db = open();
        AliasHistory h = new AliasHistory(db);
        AliasHistory.Import done = h.importFile(cache).orElseThrow();
        assertThat(done.moves()).isEqualTo(lines.size());
        assertThat(cache.resolve(AliasHistory.IMPORTED_MARKER)).exists();
        assertThat(h.importFile(cache)).as("once").isEmpty();
        List<AliasHistory.Move> moves = h.moves();
        assertThat(moves).hasSize(lines.size());
        for (int i = 0; i < lines.size(); i++) {
            JsonNode n = RolloutStore.JSON.readTree(lines.get(i));
            AliasHistory.Move m = moves.get(i);
            assertThat(m.model()).isEqualTo(n.path("model").asText());
            assertThat(m.alias()).isEqualTo(n.path("alias").asText());
            assertThat(m.to()).isEqualTo(n.path("to").asText());
            assertThat(m.from().orElse(null))
                    .isEqualTo(n.path("from").isNull() ? null : n.path("from").asText());
            assertThat(m.observedAt())
                    .isEqualTo(
                            Instant.parse(n.path("observed_at").asText())
                                    .truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
        }

        // a second cache with a history is not imported into a store that has moves
        Path other = copy(LEGACY_CACHE, home.resolve("models-2"));
        assertThat(h.importFile(other)).isEmpty();
        assertThat(h.moves()).hasSize(lines.size());
    }

    @Test
    void aDamagedOldAliasHistoryImportsNothingAndIsNamed() throws Exception {
        Path cache = copy(LEGACY_CACHE, home.resolve("models"));
        Path file = cache.resolve(AliasHistory.FILE_NAME);
        Files.writeString(file, "garbage\n", java.nio.file.StandardOpenOption.APPEND);
        int lines = Files.readAllLines(file).size();
        AliasHistory h = new AliasHistory(open());
        assertThatThrownBy(() -> h.importFile(cache))
                .hasMessageContaining("[Quiver/BAD_ALIAS_HISTORY]")
                .hasMessageContaining(file + " line " + lines)
                .hasMessageContaining("nothing was imported");
        assertThat(h.moves()).isEmpty();
    }
}
