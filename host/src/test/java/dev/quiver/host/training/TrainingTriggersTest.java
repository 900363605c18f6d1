package dev.quiver.host.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.store.AccountMode;
import dev.quiver.host.store.AccountRow;
import dev.quiver.host.store.BarRow;
import dev.quiver.host.store.SessionRow;
import dev.quiver.host.store.StateStore;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The drift and bundle-age triggers on a real state store (SQLite) and a real scheduler, with
 * sessions' bars from the bundled series: a session fed bars of another volatility regime (the
 * NASDAQ Composite of 2000-2002, re-timed onto 4-hour bars) fires the drift trigger and queues
 * exactly one job; a session fed BTC bars of the same regime (the 300 bars before the training
 * window) does not. The job kind is a test kind that counts: the thing under test is the trigger.
 */
class TrainingTriggersTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path home;

    private StateStore store;
    private TrainingService training;
    private TrainingTriggers triggers;
    private PrometheusMeterRegistry metrics;
    private final AtomicReference<Instant> now =
            new AtomicReference<>(Instant.parse("2025-11-01T00:00:00Z"));
    private DriftMonitor.TrainingWindow window;

    private final Clock clock =
            new Clock() {
                @Override
                public java.time.ZoneId getZone() {
                    return ZoneOffset.UTC;
                }

                @Override
                public Clock withZone(java.time.ZoneId zone) {
                    return this;
                }

                @Override
                public Instant instant() {
                    return now.get();
                }
            };

    private static final BarData BTC = BundledData.BTC_USD_4H.load();

    @BeforeEach
    void start() {
        store = StateStore.open(Optional.of("jdbc:sqlite:" + home.resolve("state.db")), home);
        training = startTraining();
        // A window like the embedded bundle's: BTC's last 1,000 bars (train_bars of quiver
        // backtest).
        int n = BTC.size();
        window =
                new DriftMonitor.TrainingWindow(
                        "test-bundle",
                        "btc-usd-4h",
                        BTC.bar(n - 1000).start(),
                        BTC.bar(n - 1).start(),
                        BTC.bar(n - 1).start().plus(Duration.ofHours(4)));
        metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        triggers = startTriggers();
    }

    private TrainingService startTraining() {
        return TrainingService.start(
                store,
                List.of(countKind()),
                new TrainingService.Settings(1, Duration.ofMillis(100), Duration.ofMillis(200), 4),
                now::get); // the triggers' clock: cooldowns compare job times with it
    }

    private TrainingTriggers startTriggers() {
        return TrainingTriggers.start(
                training,
                new DriftMonitor(store, () -> Optional.of(window), metrics),
                () -> Optional.of(window),
                clock,
                Duration.ZERO);
    }

    @AfterEach
    void stop() {
        triggers.close();
        training.close();
        store.close();
    }

    /** {@code count}: accepts any parameters, reports progress once, answers. */
    private static JobKind countKind() {
        return new JobKind() {
            @Override
            public String name() {
                return "count";
            }

            @Override
            public ObjectNode validate(ObjectNode params) {
                if (params.has("n") && !params.get("n").isInt()) {
                    throw TrainingService.bad("n", params.get("n"), "is not an integer");
                }
                return params;
            }

            @Override
            public ObjectNode run(ObjectNode params, JobContext context) {
                context.progress(1, "counted");
                return JSON.createObjectNode().put("counted", 1);
            }
        };
    }

    /** Opens a session in the store: warm-up bars then live bars, as the service stores them. */
    private void session(String symbol, List<BarRow> warmup, List<BarRow> live) {
        store.createAccount(new AccountRow(symbol + "-paper", "USD", 10_000, AccountMode.PAPER, 0));
        ObjectNode settings = JSON.createObjectNode();
        settings.put("symbol", symbol);
        settings.put("account", symbol + "-paper");
        settings.put("interval", "PT4H");
        settings.put("max_gap_bars", 1);
        settings.put("policy", "kelly");
        settings.put("warmup_bars", warmup.size());
        settings.put("bundle", "test-bundle");
        store.openSession(SessionRow.open(symbol, symbol + "-paper", settings.toString(), 0));
        List<BarRow> all = new ArrayList<>(warmup);
        all.addAll(live);
        store.appendBars(symbol, all);
    }

    private static List<BarRow> rows(BarData d, int from, int to, Instant retimedFrom) {
        List<BarRow> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            long t =
                    retimedFrom == null
                            ? d.startMillis[i]
                            : retimedFrom.plus(Duration.ofHours(4L * (i - from))).toEpochMilli();
            out.add(new BarRow(t, d.open[i], d.high[i], d.low[i], d.close[i], d.volume[i]));
        }
        return out;
    }

    /** BTC's 300 bars before the training window, after 200 bars of warm-up. */
    private void unshiftedSession() {
        int n = BTC.size();
        session(
                "BTC-SAME",
                rows(BTC, n - 1500, n - 1300, null),
                rows(BTC, n - 1300, n - 1000, null));
    }

    /** The NASDAQ Composite from April 2000 (the dot-com crash), re-timed onto 4-hour bars. */
    private void shiftedSession() {
        BarData nq = BundledData.NASDAQ_DAILY.load();
        int crash = 0;
        while (nq.startMillis[crash] < Instant.parse("2000-04-03T00:00:00Z").toEpochMilli()) {
            crash++;
        }
        Instant t0 = Instant.parse("2025-01-01T00:00:00Z");
        List<BarRow> all = rows(nq, crash - 200, crash + 300, t0);
        session("VOL-SHIFT", all.subList(0, 200), all.subList(200, 500));
    }

    private static JsonNode tree(String json) throws Exception {
        return JSON.readTree(json);
    }

    private void declare(String json) throws Exception {
        triggers.configure(tree(json), "test", "TrainingTriggersTest");
    }

    private static final String PSI_TRIGGER =
            "[{\"name\": \"vol-drift\", \"on\": \"drift\", \"statistic\": \"psi\","
                    + " \"threshold\": 0.25, \"bars\": 300, \"features\": [\"log_return_1\"],"
                    + " \"job\": {\"kind\": \"count\", \"params\": {\"n\": 1}}}]";

    @Test
    void aSessionInAnotherVolatilityRegimeQueuesExactlyOneJobAnUnshiftedOneNone() throws Exception {
        declare(PSI_TRIGGER);
        unshiftedSession();
        Map<String, Map<String, Object>> first = triggers.check();
        System.out.println("unshifted only: " + first);
        assertThat(first.get("vol-drift").get("outcome")).isEqualTo("quiet");
        assertThat(training.jobs(10)).isEmpty();
        DriftMonitor.SessionDrift same = triggers.drift().measure("BTC-SAME", 300);
        System.out.println("BTC-SAME drift: " + same.describe());
        assertThat(same.worst("psi", List.of("log_return_1")).orElseThrow().getValue())
                .isLessThanOrEqualTo(0.25);

        shiftedSession();
        DriftMonitor.SessionDrift shifted = triggers.drift().measure("VOL-SHIFT", 300);
        System.out.println("VOL-SHIFT drift: " + shifted.describe());
        Map<String, Map<String, Object>> second = triggers.check();
        assertThat(second.get("vol-drift").get("outcome"))
                .as(second.toString())
                .isEqualTo("queued");
        List<TrainingJob> jobs = training.jobs(10);
        assertThat(jobs).hasSize(1);
        TrainingJob job = jobs.get(0);
        assertThat(job.trigger()).isEqualTo("drift:vol-drift");
        assertThat(job.actor()).isEqualTo("trigger");
        assertThat(job.reason())
                .contains("session VOL-SHIFT: psi of ")
                .contains("training window " + window.firstBar() + ".." + window.lastBar())
                .contains("below it: session BTC-SAME");
        assertThat(job.reason().substring(0, job.reason().indexOf("below it")))
                .doesNotContain("BTC-SAME");

        // Checked again at once, and after the job ended: still exactly one job.
        Map<String, Map<String, Object>> third = triggers.check();
        assertThat(third.get("vol-drift").get("outcome")).isEqualTo("skipped");
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!training.job(job.id()).state().finished()) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.sleep(50);
        }
        Map<String, Map<String, Object>> fourth = triggers.check();
        assertThat(fourth.get("vol-drift").get("outcome")).isEqualTo("skipped");
        assertThat((String) fourth.get("vol-drift").get("detail")).contains("within its cooldown");
        assertThat(training.jobs(10)).hasSize(1);

        // The figures are exported as gauges.
        String scrape = metrics.scrape();
        assertThat(scrape)
                .containsPattern(
                        "quiver_feature_drift_psi\\{feature=\"log_return_1\",symbol=\"VOL-SHIFT\"\\}"
                                + " [0-9.]+");
        assertThat(scrape)
                .contains("quiver_feature_drift_ks{feature=\"rsi_14\",symbol=\"BTC-SAME\"}");

        // After the cooldown the trigger may ask again (the drift is still there).
        now.set(now.get().plus(Duration.ofHours(25)));
        assertThat(triggers.check().get("vol-drift").get("outcome")).isEqualTo("queued");
        assertThat(training.jobs(10)).hasSize(2);
    }

    @Test
    void theKsStatisticFiresTooAndAShortSessionIsUnavailable() throws Exception {
        declare(
                "[{\"name\": \"ks-drift\", \"on\": \"drift\", \"statistic\": \"ks\","
                        + " \"threshold\": 0.3, \"bars\": 300, \"job\": {\"kind\": \"count\"}}]");
        int n = BTC.size();
        session("SHORT", rows(BTC, n - 1300, n - 1100, null), rows(BTC, n - 1100, n - 1050, null));
        Map<String, Object> o = triggers.check().get("ks-drift");
        assertThat(o.get("outcome")).isEqualTo("unavailable");
        assertThat((String) o.get("detail"))
                .contains("SHORT: the session has stepped 50 bars; 300");
        shiftedSession();
        assertThat(triggers.check().get("ks-drift").get("outcome")).isEqualTo("queued");
        assertThat(training.jobs(10).get(0).reason()).contains("session VOL-SHIFT: ks of ");
        assertThat(
                        JSON.valueToTree(triggers.describe().get("triggers"))
                                .at("/0/features")
                                .toString())
                .isEqualTo("[\"log_return_1\",\"volume_ratio_20\"]");
    }

    @Test
    void theBundleAgeTriggerFiresOnceTheServedBundleIsOlderThanDeclared() throws Exception {
        declare(
                "[{\"name\": \"stale\", \"on\": \"bundle-age\", \"older_than\": \"P20D\","
                        + " \"cooldown\": \"P7D\", \"job\": {\"kind\": \"count\"}}]");
        now.set(window.servesFrom().plus(Duration.ofDays(19)));
        Map<String, Object> quiet = triggers.check().get("stale");
        assertThat(quiet.get("outcome")).isEqualTo("quiet");
        assertThat((String) quiet.get("detail")).contains("PT456H old, not older than PT480H");
        now.set(window.servesFrom().plus(Duration.ofDays(21)));
        assertThat(triggers.check().get("stale").get("outcome")).isEqualTo("queued");
        TrainingJob j = training.jobs(10).get(0);
        assertThat(j.trigger()).isEqualTo("bundle-age:stale");
        assertThat(j.reason())
                .contains("bundle test-bundle is PT504H old")
                .contains("older than PT480H");
        assertThat(triggers.check().get("stale").get("outcome")).isEqualTo("skipped");
        assertThat(training.jobs(10)).hasSize(1);
    }

    @Test
    void badTriggersAreRefusedNamingTheFieldAndGoodOnesSurviveARestart() throws Exception {
        assertField(
                "[{\"name\": \"x\", \"on\": \"drift\", \"statistic\": \"psi\", \"threshold\":"
                        + " -1, \"bars\": 300, \"job\": {\"kind\": \"count\"}}]",
                "triggers[0].threshold");
        assertField(
                "[{\"name\": \"x\", \"on\": \"drift\", \"statistic\": \"psi\", \"threshold\":"
                        + " 0.2, \"bars\": 10, \"job\": {\"kind\": \"count\"}}]",
                "triggers[0].bars");
        assertField(
                "[{\"name\": \"x\", \"on\": \"drift\", \"statistic\": \"chi2\", \"threshold\":"
                        + " 0.2, \"bars\": 300, \"job\": {\"kind\": \"count\"}}]",
                "triggers[0].statistic");
        assertField(
                "[{\"name\": \"x\", \"on\": \"drift\", \"statistic\": \"psi\", \"threshold\":"
                        + " 0.2, \"bars\": 300, \"features\": [\"rsi_15\"], \"job\": {\"kind\":"
                        + " \"count\"}}]",
                "triggers[0].features");
        assertField(
                "[{\"name\": \"x\", \"on\": \"bundle-age\", \"older_than\": \"soon\", \"job\":"
                        + " {\"kind\": \"count\"}}]",
                "triggers[0].older_than");
        assertField(
                "[{\"name\": \"x\", \"on\": \"bundle-age\", \"older_than\": \"P1D\", \"job\":"
                        + " {\"kind\": \"evolve\"}}]",
                "triggers[0].job.kind");
        assertField(
                "[{\"name\": \"x\", \"on\": \"bundle-age\", \"older_than\": \"P1D\", \"job\":"
                        + " {\"kind\": \"count\", \"params\": {\"n\": \"two\"}}}]",
                "triggers[0].job.params.n");
        assertField(
                "[{\"name\": \"x\", \"on\": \"weather\", \"job\": {\"kind\": \"count\"}}]",
                "triggers[0].on");
        assertThat(triggers.describe().get("triggers")).isEqualTo(List.of());

        declare(PSI_TRIGGER);
        // A restart: a new scheduler on the same database finds them.
        triggers.close();
        training.close();
        training = startTraining();
        triggers = startTriggers();
        Map<String, Object> d = triggers.describe();
        assertThat(d.get("set_by")).isEqualTo("test");
        assertThat(JSON.valueToTree(d.get("triggers")).at("/0/name").asText())
                .isEqualTo("vol-drift");
        assertThat(JSON.valueToTree(d.get("triggers")).at("/0/cooldown").asText())
                .isEqualTo("PT24H");
    }

    private void assertField(String json, String field) throws Exception {
        assertThatThrownBy(() -> declare(json))
                .isInstanceOfSatisfying(
                        QuiverInputException.class, e -> assertThat(e.field()).isEqualTo(field));
    }
}
