package dev.quiver.host.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.api.market.Bar;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.mlflow.LocalMlflow;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowException;
import dev.quiver.host.mlflow.MlflowHttp;
import dev.quiver.host.rollout.RolloutStore;
import dev.quiver.host.store.StateStore;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loop of issue 12 through the service a user runs ({@code bin/quiver serve} with the embedded
 * BTC bundle, the real MLflow server, SQLite): two sessions are fed real bars, one of BTC from just
 * before the bundle's training window (unshifted), one of the NASDAQ Composite from April 2000 (the
 * dot-com crash, re-timed onto 4-hour bars: another volatility regime); the declared drift trigger
 * (PSI of the one-bar log return above 0.25 over the last 300 bars) queues exactly one {@code
 * fit-strategy} job, naming the shifted session only; the job registers its bundle as {@code
 * @challenger} (never {@code @champion}) and starts a shadow rollout of it against the served
 * bundle, which the next bar of each session runs; every step is audited.
 */
class TrainingDriftIT {

    @TempDir Path work;

    private static final int WARMUP = 200;
    private static final int LIVE = 300;

    private static List<Map<String, Object>> json(List<Bar> bars) {
        List<Map<String, Object>> out = new ArrayList<>();
        bars.forEach(b -> out.add(StrategyParityIT.bar(b)));
        return out;
    }

    private static List<Bar> bars(BarData d, int from, int to, Instant retimedFrom) {
        List<Bar> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            Bar b = d.bar(i);
            out.add(
                    retimedFrom == null
                            ? b
                            : new Bar(
                                    retimedFrom.plus(Duration.ofHours(4L * (i - from))),
                                    b.open(),
                                    b.high(),
                                    b.low(),
                                    b.close(),
                                    b.volume()));
        }
        return out;
    }

    private static void open(ServeProcess serve, String symbol, List<Bar> all) throws Exception {
        Map<String, Object> open = new LinkedHashMap<>();
        open.put("interval", "PT4H");
        open.put("max_gap_bars", 10);
        open.put("warmup", Map.of("bars", json(all.subList(0, WARMUP))));
        serve.ok("PUT", "/v1/sessions/" + symbol, open);
        serve.ok(
                "POST",
                "/v1/sessions/" + symbol + "/bars",
                Map.of("bars", json(all.subList(WARMUP, WARMUP + LIVE))));
    }

    @Test
    void aShiftedSessionQueuesOneJobWhoseChallengerIsShadowedAndAnUnshiftedOneNone()
            throws Exception {
        long t0 = System.nanoTime();
        String uri = LocalMlflow.uri();
        String name = "it-drift-" + System.nanoTime();
        String state = "jdbc:sqlite:" + work.resolve("state.db");
        BarData btc = BundledData.BTC_USD_4H.load();
        BarData nasdaq = BundledData.NASDAQ_DAILY.load();
        int n = btc.size();
        // The embedded bundle's training window is 1,000 bars ending a few bars before the
        // series' end (2025-05-13T12:00..2025-10-27T04:00): BTC-SAME gets 300 bars ending before
        // it (after 200 of warm-up), VOL-SHIFT the NASDAQ from 2000-04-03.
        List<Bar> same = bars(btc, n - 1010 - LIVE - WARMUP, n - 1010 + 1, null);
        int crash = 0;
        while (nasdaq.startMillis[crash] < Instant.parse("2000-04-03T00:00:00Z").toEpochMilli()) {
            crash++;
        }
        // Re-timed to follow BTC's last bar, so the session's bars are as recent as the bundle.
        List<Bar> shifted =
                bars(
                        nasdaq,
                        crash - WARMUP,
                        crash + LIVE + 1,
                        btc.bar(n - 1).start().plus(Duration.ofHours(4)));
        try (ServeProcess serve =
                ServeProcess.start(
                        work,
                        "serve",
                        "--tracking-uri",
                        uri,
                        "--state-url",
                        state,
                        "--rollouts-dir",
                        work.resolve("rollouts").toString(),
                        "-D",
                        "quiver.training.trigger-check-ms=3600000",
                        "-D",
                        "quiver.training.poll-ms=200")) {
            open(serve, "BTC-SAME", same);
            open(serve, "VOL-SHIFT", shifted);

            // The challenger: a small fit on the S&P 500 (two folds), registered, then shadowed.
            Map<String, Object> params = new LinkedHashMap<>();
            params.put("dataset", "sp500-daily");
            params.put("until", BundledData.SP500_DAILY.load().bar(1500).start().toString());
            params.put("train_bars", 750);
            params.put("test_bars", 500);
            params.put("max_age", "P36500D");
            params.put("register", name);
            params.put(
                    "rollout",
                    Map.of(
                            "mode",
                            "shadow",
                            "rules",
                            Map.of("metric", "log_loss", "min_samples", 200)));
            Map<String, Object> trigger = new LinkedHashMap<>();
            trigger.put("name", "vol-drift");
            trigger.put("on", "drift");
            trigger.put("statistic", "psi");
            trigger.put("threshold", 0.25);
            trigger.put("bars", LIVE);
            trigger.put("features", List.of("log_return_1"));
            trigger.put("job", Map.of("kind", "fit-strategy", "params", params));
            JsonNode set =
                    serve.ok(
                            "PUT",
                            "/v1/training/triggers",
                            Map.of(
                                    "triggers",
                                    List.of(trigger),
                                    "actor",
                                    "it",
                                    "reason",
                                    "TrainingDriftIT"));
            assertThat(set.at("/triggers/0/cooldown").asText()).isEqualTo("PT24H");
            assertThat(set.at("/outcomes/vol-drift/outcome").asText()).isEqualTo("not checked");

            // A bad trigger is a 400 naming the field; the triggers stay as they were.
            Map<String, Object> bad = new LinkedHashMap<>(trigger);
            bad.put("threshold", -1);
            ServeProcess.Answer refused =
                    serve.put(
                            "/v1/training/triggers",
                            Map.of("triggers", List.of(bad), "actor", "it", "reason", "bad"));
            assertThat(refused.status()).as(refused.toString()).isEqualTo(400);
            assertThat(refused.body().path("field").asText()).isEqualTo("triggers[0].threshold");

            // The same through the CLI; a bad bar count is refused naming the field (exit 2).
            JsonNode drift =
                    ServeProcess.JSON.readTree(
                            ServeProcess.run(
                                    work,
                                    "drift",
                                    "training",
                                    "drift",
                                    "--bars",
                                    Integer.toString(LIVE),
                                    "--server",
                                    "http://127.0.0.1:" + serve.port));
            ServeProcess.Exit badBars =
                    ServeProcess.runExit(
                            work,
                            "drift-bad",
                            "training",
                            "drift",
                            "--bars",
                            "1",
                            "--server",
                            "http://127.0.0.1:" + serve.port);
            assertThat(badBars.exit()).as(badBars.toString()).isEqualTo(2);
            assertThat(badBars.err()).contains("\"field\" : \"bars\"");
            System.out.println("drift: " + drift);
            double psiSame = drift.at("/sessions/0/features/log_return_1/psi").asDouble();
            double psiShifted = drift.at("/sessions/1/features/log_return_1/psi").asDouble();
            assertThat(drift.at("/sessions/0/symbol").asText()).isEqualTo("BTC-SAME");
            assertThat(drift.at("/sessions/1/symbol").asText()).isEqualTo("VOL-SHIFT");
            assertThat(psiSame).isLessThanOrEqualTo(0.25);
            assertThat(psiShifted).isGreaterThan(0.25);

            JsonNode checked =
                    serve.ok(
                            "POST",
                            "/v1/training/triggers/check",
                            Map.of("actor", "it", "reason", "check now"));
            assertThat(checked.at("/checked/vol-drift/outcome").asText())
                    .as(checked.toString())
                    .isEqualTo("queued");
            String id = checked.at("/checked/vol-drift/job").asText();
            JsonNode again =
                    serve.ok(
                            "POST",
                            "/v1/training/triggers/check",
                            Map.of("actor", "it", "reason", "check again"));
            assertThat(again.at("/checked/vol-drift/outcome").asText()).isEqualTo("skipped");

            JsonNode jobs = serve.ok("GET", "/v1/training/jobs", null).path("jobs");
            assertThat(jobs.size()).isEqualTo(1);
            JsonNode job = jobs.get(0);
            assertThat(job.path("id").asText()).isEqualTo(id);
            assertThat(job.path("trigger").asText()).isEqualTo("drift:vol-drift");
            assertThat(job.path("actor").asText()).isEqualTo("trigger");
            String reason = job.path("reason").asText();
            assertThat(reason).contains("session VOL-SHIFT: psi of log_return_1 = ");
            assertThat(reason.substring(0, reason.indexOf("below it"))).doesNotContain("BTC-SAME");

            JsonNode done = awaitJob(serve, id);
            assertThat(done.path("state").asText()).as(done.toString()).isEqualTo("succeeded");
            String version = "models:/" + name + "/1";
            assertThat(done.at("/result/registered").asText()).isEqualTo(version);
            String rollout = "training-" + id;
            assertThat(done.at("/result/rollout/id").asText())
                    .as(done.toString())
                    .isEqualTo(rollout);
            assertThat(done.at("/result/rollout/stage").asText()).isEqualTo("shadow");
            assertThat(done.at("/result/rollout/refused").isMissingNode()).isTrue();

            JsonNode r = serve.ok("GET", "/v1/rollouts/" + rollout, null);
            assertThat(r.path("stage").asText()).isEqualTo("shadow");
            assertThat(r.toString()).contains(version);
            MlflowClient mlflow =
                    new MlflowClient(new MlflowHttp(uri, MlflowHttp.Settings.defaults()));
            assertThat(mlflow.versionByAlias(name, "challenger").path("version").asText())
                    .isEqualTo("1");
            assertThatThrownBy(() -> mlflow.versionByAlias(name, "champion"))
                    .isInstanceOf(MlflowException.class);

            // The next bar of a session is decided by the served bundle, the challenger shadows it.
            JsonNode d =
                    serve.ok(
                            "POST",
                            "/v1/sessions/BTC-SAME/bars",
                            Map.of("bars", json(same.subList(WARMUP + LIVE, WARMUP + LIVE + 1))));
            assertThat(d.at("/provenance/rollouts/0/rollout").asText()).isEqualTo(rollout);
            assertThat(d.at("/provenance/rollouts/0/acted").asText()).isEqualTo("champion");
            assertThat(d.at("/provenance/rollouts/0/shadow/bundle").asText())
                    .isEqualTo(name + "/1");
            assertThat(d.at("/provenance/rollouts/0/shadow/acted_on").asBoolean(true)).isFalse();
            // The figures are on /metrics.
            String metrics = metricsText(serve);
            assertThat(metrics)
                    .contains(
                            "quiver_feature_drift_psi{feature=\"log_return_1\",symbol=\"VOL-SHIFT\"}");
        }
        // The rollout's start is in the audit log: by training, naming the job.
        try (StateStore store = StateStore.open(Optional.of(state), work)) {
            List<String> audit = new RolloutStore(store).auditLines();
            assertThat(audit)
                    .anySatisfy(
                            l ->
                                    assertThat(l)
                                            .contains("\"event\":\"start\"")
                                            .contains("\"actor\":\"training\"")
                                            .contains("registered models:/" + name + "/1"));
        }
        System.out.printf(
                "TrainingDriftIT: the loop took %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    private static String metricsText(ServeProcess serve) throws Exception {
        var http = java.net.http.HttpClient.newHttpClient();
        return http.send(
                        java.net.http.HttpRequest.newBuilder(
                                        java.net.URI.create(
                                                "http://127.0.0.1:" + serve.port + "/metrics"))
                                .build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString())
                .body();
    }

    private static JsonNode awaitJob(ServeProcess serve, String id) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        JsonNode j = serve.ok("GET", "/v1/training/jobs/" + id, null);
        while (!List.of("succeeded", "failed", "cancelled").contains(j.path("state").asText())) {
            assertThat(System.nanoTime()).as("job %s: %s", id, j).isLessThan(deadline);
            Thread.sleep(200);
            j = serve.ok("GET", "/v1/training/jobs/" + id, null);
        }
        return j;
    }
}
