package dev.quiver.host.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.mlflow.LocalMlflow;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowException;
import dev.quiver.host.mlflow.MlflowHttp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training jobs through the service a user runs ({@code bin/quiver serve}, a child JVM), the real
 * MLflow server and a SQLite state store: a {@code fit-strategy} job asked over REST registers its
 * bundle as a new version with {@code @challenger} and never moves {@code @champion}; bad requests
 * name their field; a job killed with its service (SIGKILL) is failed after the restart and never
 * runs twice; a running job is cancelled.
 */
class ServeTrainingIT {

    @TempDir Path work;

    private static Map<String, Object> job(Map<String, Object> params) {
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("kind", "fit-strategy");
        b.put("params", params);
        b.put("actor", "it");
        b.put("reason", "ServeTrainingIT");
        return b;
    }

    private static Map<String, Object> sp500(String until) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("dataset", "sp500-daily");
        p.put("until", until);
        p.put("train_bars", 750);
        p.put("test_bars", 500);
        p.put("max_age", "P36500D");
        return p;
    }

    private static JsonNode await(
            ServeProcess serve, String id, Predicate<JsonNode> done, Duration within)
            throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        JsonNode j = serve.ok("GET", "/v1/training/jobs/" + id, null);
        while (!done.test(j)) {
            assertThat(System.nanoTime())
                    .as("job %s: %s\n%s", id, j, serve.stderr())
                    .isLessThan(deadline);
            Thread.sleep(100);
            j = serve.ok("GET", "/v1/training/jobs/" + id, null);
        }
        return j;
    }

    private static boolean finished(JsonNode j) {
        return List.of("succeeded", "failed", "cancelled").contains(j.path("state").asText());
    }

    @Test
    void aFitStrategyJobRegistersAChallengerNeverTheChampionAndBadRequestsNameTheirField()
            throws Exception {
        String uri = LocalMlflow.uri();
        String name = "it-training-" + System.nanoTime();
        BarData bars = BundledData.SP500_DAILY.load();
        String until = bars.bar(bars.size() - 300).start().toString();
        try (ServeProcess serve =
                ServeProcess.start(
                        work,
                        "serve",
                        "--strategy",
                        "none",
                        "--tracking-uri",
                        uri,
                        "--state-url",
                        "jdbc:sqlite:" + work.resolve("state.db"))) {
            Map<String, Object> p = sp500(until);
            p.put("register", name);
            ServeProcess.Answer asked = serve.post("/v1/training/jobs", job(p));
            assertThat(asked.status()).as(asked.toString()).isEqualTo(202);
            assertThat(asked.body().path("state").asText()).isEqualTo("queued");
            assertThat(asked.body().at("/params/aliases/0").asText()).isEqualTo("challenger");
            String id = asked.body().path("id").asText();

            JsonNode done = await(serve, id, ServeTrainingIT::finished, Duration.ofMinutes(10));
            assertThat(done.path("state").asText()).as(done.toString()).isEqualTo("succeeded");
            assertThat(done.path("progress").asDouble()).isEqualTo(1.0);
            assertThat(done.path("attempts").asInt()).isEqualTo(1);
            String registered = done.at("/result/registered").asText();
            assertThat(registered).isEqualTo("models:/" + name + "/1");
            assertThat(Files.isRegularFile(Path.of(done.at("/result/report").asText()))).isTrue();

            MlflowClient mlflow =
                    new MlflowClient(new MlflowHttp(uri, MlflowHttp.Settings.defaults()));
            assertThat(mlflow.versionByAlias(name, "challenger").path("version").asText())
                    .isEqualTo("1");
            assertThatThrownBy(() -> mlflow.versionByAlias(name, "champion"))
                    .isInstanceOf(MlflowException.class);

            // The list shows it, and the CLI reads the same job.
            JsonNode list = serve.ok("GET", "/v1/training/jobs", null);
            assertThat(list.path("kinds").toString()).contains("fit-strategy");
            assertThat(list.at("/jobs/0/id").asText()).isEqualTo(id);
            String cli =
                    ServeProcess.run(
                            work,
                            "status",
                            "training",
                            "status",
                            id,
                            "--server",
                            "http://127.0.0.1:" + serve.port);
            assertThat(cli).contains("\"state\" : \"succeeded\"").contains(registered);

            // Bad requests: a 400 naming the field; nothing queued.
            Map<String, Object> champion = sp500(until);
            champion.put("register", name);
            champion.put("aliases", List.of("champion"));
            assertField(serve, job(champion), "aliases");
            Map<String, Object> kind = job(sp500(until));
            kind.put("kind", "evolve");
            assertField(serve, kind, "kind");
            Map<String, Object> dataset = sp500(until);
            dataset.put("dataset", "nasdaq-weekly");
            assertField(serve, job(dataset), "dataset");
            Map<String, Object> bars0 = sp500(until);
            bars0.put("test_bars", -5);
            assertField(serve, job(bars0), "test_bars");
            Map<String, Object> noReason = job(sp500(until));
            noReason.remove("reason");
            assertField(serve, noReason, "reason");
            assertThat(serve.get("/v1/training/jobs/job-nope").status()).isEqualTo(404);
            assertThat(
                            serve.post(
                                            "/v1/training/jobs/" + id + "/cancel",
                                            Map.of("actor", "it", "reason", "late"))
                                    .status())
                    .isEqualTo(409);
            assertThat(serve.ok("GET", "/v1/training/jobs", null).path("jobs").size()).isEqualTo(1);
        }
    }

    /** Asks for a job; answers its id. */
    private static String submit(ServeProcess serve, Map<String, Object> body) throws Exception {
        ServeProcess.Answer a = serve.post("/v1/training/jobs", body);
        assertThat(a.status()).as(a.toString()).isEqualTo(202);
        return a.body().path("id").asText();
    }

    private static void assertField(ServeProcess serve, Map<String, Object> body, String field)
            throws Exception {
        ServeProcess.Answer a = serve.post("/v1/training/jobs", body);
        assertThat(a.status()).as(a.toString()).isEqualTo(400);
        assertThat(a.body().path("field").asText()).as(a.toString()).isEqualTo(field);
    }

    @Test
    void aJobKilledWithItsServiceIsFailedAfterTheRestartNeverRunsTwiceAndARunningJobCancels()
            throws Exception {
        String state = "jdbc:sqlite:" + work.resolve("state.db");
        String uri = LocalMlflow.uri();
        String[] args = {
            "--strategy",
            "none",
            "--tracking-uri",
            uri,
            "--state-url",
            state,
            "-D",
            "quiver.training.heartbeat-ms=500",
            "-D",
            "quiver.training.poll-ms=200"
        };
        // The whole BTC series at the default fold sizes: long enough to be killed mid-way.
        Map<String, Object> btc = new LinkedHashMap<>();
        btc.put("dataset", "btc-usd-4h");
        String id;
        try (ServeProcess first = ServeProcess.start(work, "first", args)) {
            id = submit(first, job(btc));
            JsonNode running =
                    await(
                            first,
                            id,
                            j -> j.path("progress_note").asText().contains("fold"),
                            Duration.ofMinutes(5));
            assertThat(running.path("state").asText()).isEqualTo("running");
            first.kill(); // SIGKILL mid-job
        }
        try (ServeProcess second = ServeProcess.start(work, "second", args)) {
            JsonNode failed = await(second, id, ServeTrainingIT::finished, Duration.ofMinutes(2));
            assertThat(failed.path("state").asText()).as(failed.toString()).isEqualTo("failed");
            assertThat(failed.path("error").asText())
                    .startsWith("interrupted: the service stopped while the job ran (attempt 1)");
            Thread.sleep(3_000); // several polls: nothing picks it again
            JsonNode after = second.ok("GET", "/v1/training/jobs/" + id, null);
            assertThat(after.path("state").asText()).isEqualTo("failed");
            assertThat(after.path("attempts").asInt()).isEqualTo(1);
            assertThat(second.stderr())
                    .doesNotContain("training job " + id + " (fit-strategy) started");

            // A running job asked to register is cancelled within its current source fit (the
            // walk-forward checks the interrupt before each fit and every 32 bars): cancelled, no
            // result, nothing registered.
            String name = "it-cancelled-" + System.nanoTime();
            Map<String, Object> registering = new LinkedHashMap<>(btc);
            registering.put("register", name);
            String next = submit(second, job(registering));
            await(
                    second,
                    next,
                    j -> j.path("progress_note").asText().contains("fold"),
                    Duration.ofMinutes(5));
            long t0 = System.nanoTime();
            second.ok(
                    "POST",
                    "/v1/training/jobs/" + next + "/cancel",
                    Map.of("actor", "it", "reason", "wrong series"));
            JsonNode cancelled =
                    await(second, next, ServeTrainingIT::finished, Duration.ofMinutes(1));
            System.out.printf(
                    "running fit-strategy job cancelled in %.0f ms%n",
                    (System.nanoTime() - t0) / 1e6);
            assertThat(cancelled.path("state").asText()).isEqualTo("cancelled");
            assertThat(cancelled.path("error").asText()).isEqualTo("cancelled by it: wrong series");
            assertThat(cancelled.has("result")).as(cancelled.toString()).isFalse();
            MlflowClient mlflow =
                    new MlflowClient(new MlflowHttp(uri, MlflowHttp.Settings.defaults()));
            assertThatThrownBy(() -> mlflow.versionByAlias(name, "challenger"))
                    .isInstanceOf(MlflowException.class)
                    .matches(e -> ((MlflowException) e).notFound());
        }
    }
}
