package dev.quiver.host.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.host.live.SmokeCheck;
import dev.quiver.host.mlflow.LocalMlflow;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowException;
import dev.quiver.host.mlflow.MlflowHttp;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.registry.ModelResolver;
import dev.quiver.host.registry.ModelStore;
import dev.quiver.host.registry.ResolvedModel;
import dev.quiver.host.registry.SmokeSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Job kinds {@code train-source} and {@code evolve-params} through the service a user runs ({@code
 * bin/quiver serve}, a child JVM), the real MLflow server and a SQLite state store: an XGBoost job
 * registers a version that {@code serve --model} accepts (kind, tags, smoke cases that the pinned
 * model reproduces) with {@code @challenger}, never {@code @champion}; a CatBoost job runs the real
 * script {@code mlflow/train/catboost_model.py} as a child process with the pinned CatBoost venv
 * the build installs ({@code mlflow/catboost-venv.sh}), few trees ({@code iterations} 20), and
 * registers its version with {@code @challenger} in the real MLflow; an {@code evolve-params} job
 * asked with the CLI succeeds; a schedule of a new kind is accepted; bad requests name their field.
 */
class ServeTrainJobsIT {

    @TempDir Path work;

    private static Map<String, Object> job(String kind, Map<String, Object> params) {
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("kind", kind);
        b.put("params", params);
        b.put("actor", "it");
        b.put("reason", "ServeTrainJobsIT");
        return b;
    }

    private static JsonNode await(ServeProcess serve, String id, Duration within) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        JsonNode j = serve.ok("GET", "/v1/training/jobs/" + id, null);
        while (!List.of("succeeded", "failed", "cancelled").contains(j.path("state").asText())) {
            assertThat(System.nanoTime())
                    .as("job %s: %s\n%s", id, j, serve.stderr())
                    .isLessThan(deadline);
            Thread.sleep(200);
            j = serve.ok("GET", "/v1/training/jobs/" + id, null);
        }
        return j;
    }

    /**
     * The pinned CatBoost training venv's Python: runs the build's installer ({@code
     * mlflow/catboost-venv.sh}, a no-op when the venv matches the lock) and reads the path it
     * prints.
     */
    private Path catboostPython() throws Exception {
        String script = System.getProperty("quiver.catboost.script");
        assertThat(script)
                .as("system property quiver.catboost.script (set by host/pom.xml)")
                .isNotNull();
        Path out = work.resolve("venv.out");
        Path err = work.resolve("venv.err");
        Process p =
                new ProcessBuilder("bash", script)
                        .redirectOutput(out.toFile())
                        .redirectError(err.toFile())
                        .start();
        if (!p.waitFor(10, java.util.concurrent.TimeUnit.MINUTES) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new AssertionError(script + " failed:\n" + Files.readString(err));
        }
        List<String> lines = Files.readAllLines(out);
        assertThat(lines).as(script + " prints the venv's python").isNotEmpty();
        return Path.of(lines.get(lines.size() - 1).strip());
    }

    @Test
    void trainSourceRegistersAServableChallengerAndRunsThePythonScriptAsAChild() throws Exception {
        long t0 = System.nanoTime();
        String uri = LocalMlflow.uri();
        String name = "it-train-source-" + System.nanoTime();
        Path python = catboostPython();
        assertThat(Files.isExecutable(python)).as(python.toString()).isTrue();
        try (ServeProcess serve =
                ServeProcess.start(
                        work,
                        "serve",
                        "--strategy",
                        "none",
                        "--tracking-uri",
                        uri,
                        "--state-url",
                        "jdbc:sqlite:" + work.resolve("state.db"),
                        "-D",
                        "quiver.training.python=" + python)) {
            // XGBoost, fitted in Java, registered as the challenger.
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("source", "xgboost");
            p.put("train_bars", 800);
            p.put("register", name);
            ServeProcess.Answer asked = serve.post("/v1/training/jobs", job("train-source", p));
            assertThat(asked.status()).as(asked.toString()).isEqualTo(202);
            assertThat(asked.body().at("/params/aliases/0").asText()).isEqualTo("challenger");
            assertThat(asked.body().at("/params/dataset").asText()).isEqualTo("btc-usd-4h");
            JsonNode done = await(serve, asked.body().path("id").asText(), Duration.ofMinutes(5));
            assertThat(done.path("state").asText()).as(done.toString()).isEqualTo("succeeded");
            assertThat(done.at("/result/registered").asText()).isEqualTo("models:/" + name + "/1");
            assertThat(done.at("/result/rows").asInt()).isEqualTo(800);
            System.out.printf(
                    "ServeTrainJobsIT: xgboost job %s s, validation log-loss %.4f%n",
                    done.at("/result/seconds").asText(),
                    done.at("/result/valid_log_loss").asDouble());

            MlflowClient mlflow =
                    new MlflowClient(new MlflowHttp(uri, MlflowHttp.Settings.defaults()));
            assertThatThrownBy(() -> mlflow.versionByAlias(name, "champion"))
                    .isInstanceOf(MlflowException.class);
            ResolvedModel v =
                    new ModelResolver(Optional.of(mlflow), work.resolve("cache"))
                            .resolve("models:/" + name + "@challenger");
            assertThat(v.version()).isEqualTo("1");
            assertThat(v.tags())
                    .containsEntry(ModelStore.TAG_DATASET, "btc-usd-4h")
                    .containsKey(ModelStore.TAG_SMOKE);
            assertThat(v.tags().get(ModelStore.TAG_TRAINING_SPAN)).contains("..");
            JsonNode run = mlflow.getRun(v.runId());
            assertThat(
                            MlflowClient.byKey(run.path("data").path("params"))
                                    .get("training_job")
                                    .asText())
                    .isEqualTo(done.path("id").asText());
            try (var runtime =
                    PluginRuntime.start(
                            ServeProcess.DISTRIBUTION.resolve("plugins"),
                            Map.of("quiver.plugin.isolation", "same-thread"))) {
                var pinned =
                        runtime.newPrediction(
                                        "xgboost",
                                        Map.of(
                                                "xgboost.model",
                                                v.sidecar().orElseThrow().toString()))
                                .prediction();
                try (pinned) {
                    SmokeCheck.Result r =
                            SmokeCheck.check(
                                    pinned, SmokeSet.read(v.dir().resolve(SmokeSet.FILE_NAME)));
                    assertThat(r.passed()).as(r.reason()).isTrue();
                    assertThat(r.cases()).isEqualTo(8);
                }
            }

            // CatBoost: the real script as a child process under the pinned CatBoost venv, with
            // few trees (the job's iterations), registered as the challenger of its own model.
            long c0 = System.nanoTime();
            String cbName = name + "-catboost";
            ServeProcess.Answer cb =
                    serve.post(
                            "/v1/training/jobs",
                            job(
                                    "train-source",
                                    Map.of(
                                            "source",
                                            "catboost",
                                            "iterations",
                                            20,
                                            "register",
                                            cbName)));
            assertThat(cb.status()).as(cb.toString()).isEqualTo(202);
            JsonNode cbDone = await(serve, cb.body().path("id").asText(), Duration.ofMinutes(5));
            assertThat(cbDone.path("state").asText())
                    .as(cbDone + "\n" + serve.stderr())
                    .isEqualTo("succeeded");
            assertThat(cbDone.at("/result/registered").asText())
                    .isEqualTo("models:/" + cbName + "/1");
            assertThat(cbDone.at("/result/exit_code").asInt()).isZero();
            assertThat(cbDone.at("/result/training/params/iterations").asInt()).isEqualTo(20);
            assertThat(cbDone.at("/result/training/series").asText()).isEqualTo("btc-usd-4h");
            JsonNode oos = cbDone.at("/result/evaluation/btc-usd-4h out-of-sample 2019-01-01..");
            assertThat(oos.path("n").asInt()).isGreaterThan(10_000);
            assertThat(oos.path("log_loss").asDouble()).isBetween(0.6, 0.8);
            System.out.printf(
                    "ServeTrainJobsIT: catboost job (child process, 20 iterations) %.1f s,"
                            + " out-of-sample log-loss %.4f (base rate %.4f), %s%n",
                    (System.nanoTime() - c0) / 1e9,
                    oos.path("log_loss").asDouble(),
                    oos.path("log_loss_base_rate").asDouble(),
                    cbDone.at("/result/registered").asText());
            assertThat(mlflow.versionByAlias(cbName, "challenger").path("version").asText())
                    .isEqualTo("1");
            assertThatThrownBy(() -> mlflow.versionByAlias(cbName, "champion"))
                    .isInstanceOf(MlflowException.class);
            ResolvedModel cbVersion =
                    new ModelResolver(Optional.of(mlflow), work.resolve("cache"))
                            .resolve("models:/" + cbName + "@challenger");
            assertThat(cbVersion.tags()).containsKey(ModelStore.TAG_SMOKE);
            assertThat(
                            MlflowClient.byKey(
                                            mlflow.getRun(cbVersion.runId())
                                                    .path("data")
                                                    .path("params"))
                                    .get("iterations")
                                    .asText())
                    .isEqualTo("20");

            // evolve-params through the CLI: a small seeded search on the S&P 500's first half.
            String cli =
                    ServeProcess.run(
                            work,
                            "evolve",
                            "training",
                            "start",
                            "evolve-params",
                            "--server",
                            "http://127.0.0.1:" + serve.port,
                            "-p",
                            "dataset=sp500-daily",
                            "-p",
                            "until=2008-01-02T00:00:00Z",
                            "-p",
                            "population=4",
                            "-p",
                            "generations=2",
                            "-p",
                            "train_bars=750",
                            "-p",
                            "test_bars=250",
                            "--reason",
                            "it");
            JsonNode evolve = ServeProcess.JSON.readTree(cli);
            assertThat(evolve.at("/params/population").asInt()).isEqualTo(4);
            JsonNode evolved = await(serve, evolve.path("id").asText(), Duration.ofMinutes(5));
            assertThat(evolved.path("state").asText())
                    .as(evolved.toString())
                    .isEqualTo("succeeded");
            var sp500 = dev.quiver.host.data.BundledData.SP500_DAILY.load();
            long until = java.time.Instant.parse("2008-01-02T00:00:00Z").toEpochMilli();
            int inSpan = 0;
            while (sp500.startMillis[inSpan] <= until) {
                inSpan++;
            }
            assertThat(evolved.at("/result/search_span").asText())
                    .endsWith(
                            java.time.Instant.ofEpochMilli(sp500.startMillis[inSpan - 1])
                                    + " ("
                                    + inSpan
                                    + " bars)");
            assertThat(evolved.at("/result/history")).hasSize(2);
            // Its trials are in the service's MLflow: the parent run, finished.
            assertThat(
                            mlflow.getRun(evolved.at("/result/mlflow_run_id").asText())
                                    .at("/info/status")
                                    .asText())
                    .isEqualTo("FINISHED");
            System.out.printf(
                    "ServeTrainJobsIT: evolve-params job %s s: best %s, Sharpe %.3f search /"
                            + " %.3f held out (champion %.3f / %.3f): %s%n",
                    evolved.at("/result/seconds").asText(),
                    evolved.at("/result/best"),
                    evolved.at("/result/best_search/sharpe").asDouble(),
                    evolved.at("/result/best_held_out/sharpe").asDouble(),
                    evolved.at("/result/champion/search/sharpe").asDouble(),
                    evolved.at("/result/champion/held_out/sharpe").asDouble(),
                    evolved.at("/result/verdict").asText());

            // A schedule of a new kind.
            Map<String, Object> schedule = new LinkedHashMap<>();
            schedule.put("name", "weekly-xgboost");
            schedule.put("kind", "train-source");
            schedule.put("cron", "0 0 3 * * SUN");
            schedule.put("params", Map.of("source", "xgboost", "register", name));
            // The CLI: config --set, then config; a bad schedule and an unknown trigger refused
            // naming their field (exit 2).
            String server = "http://127.0.0.1:" + serve.port;
            Path schedules = work.resolve("schedules.json");
            Files.writeString(schedules, ServeProcess.JSON.writeValueAsString(List.of(schedule)));
            ServeProcess.run(
                    work,
                    "config-set",
                    "training",
                    "config",
                    "--set",
                    schedules.toString(),
                    "--reason",
                    "it",
                    "--server",
                    server);
            JsonNode config =
                    ServeProcess.JSON.readTree(
                            ServeProcess.run(
                                    work, "config", "training", "--server", server, "config"));
            assertThat(config.at("/schedules/0/name").asText()).isEqualTo("weekly-xgboost");
            assertThat(config.at("/schedules/0/params/aliases/0").asText()).isEqualTo("challenger");
            Map<String, Object> badCron = new LinkedHashMap<>(schedule);
            badCron.put("cron", "every sunday");
            Files.writeString(
                    schedules,
                    ServeProcess.JSON.writeValueAsString(Map.of("schedules", List.of(badCron))));
            ServeProcess.Exit refused =
                    ServeProcess.runExit(
                            work,
                            "config-bad",
                            "training",
                            "config",
                            "--set",
                            schedules.toString(),
                            "--reason",
                            "it",
                            "--server",
                            server);
            assertThat(refused.exit()).as(refused.toString()).isEqualTo(2);
            assertThat(refused.err()).contains("\"field\" : \"schedules[0].cron\"");
            ServeProcess.Exit unknown =
                    ServeProcess.runExit(
                            work,
                            "trigger-unknown",
                            "training",
                            "trigger",
                            "monthly-nothing",
                            "--reason",
                            "it",
                            "--server",
                            server);
            assertThat(unknown.exit()).as(unknown.toString()).isEqualTo(2);
            assertThat(unknown.err()).contains("HTTP 404").contains("\"field\" : \"schedule\"");

            // Bad requests name their field.
            assertField(serve, job("train-source", Map.of("source", "traditional")), "source");
            assertField(
                    serve,
                    job(
                            "train-source",
                            Map.of(
                                    "source",
                                    "xgboost",
                                    "register",
                                    name,
                                    "aliases",
                                    List.of("champion"))),
                    "aliases");
            assertField(
                    serve,
                    job("train-source", Map.of("source", "catboost", "train_bars", 500)),
                    "train_bars");
            assertField(
                    serve,
                    job("train-source", Map.of("source", "lstm", "iterations", 20)),
                    "iterations");
            assertField(serve, job("evolve-params", Map.of("population", -1)), "population");
            assertField(serve, job("evolve-params", Map.of("sources", List.of())), "sources");
        }
        System.out.printf("ServeTrainJobsIT: whole test %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    private static void assertField(ServeProcess serve, Map<String, Object> body, String field)
            throws Exception {
        ServeProcess.Answer a = serve.post("/v1/training/jobs", body);
        assertThat(a.status()).as(a.toString()).isEqualTo(400);
        assertThat(a.body().path("field").asText()).as(a.toString()).isEqualTo(field);
    }
}
