package dev.quiver.host.live;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.market.Bar;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.cli.Cli;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.mlflow.LocalMlflow;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowHttp;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.registry.ModelResolver;
import dev.quiver.host.registry.ResolvedModel;
import dev.quiver.host.registry.SmokeSet;
import dev.quiver.host.web.DecisionRequests;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The user's whole path for every served model kind, against the real MLflow server the build
 * starts: a version is registered with an alias, the distribution's {@code bin/quiver serve
 * --tracking-uri URI --model CAP=models:/NAME@champion} (a separate JVM, as a user runs it) checks
 * it (child-JVM smoke included) and serves it, and {@code POST /v1/decisions} with real bundled
 * bars answers with that version in its provenance and the source's forecast, which equals the
 * registered model's own forecast on those bars.
 *
 * <ul>
 *   <li>{@code xgboost} and {@code lightgbm}: trained in Java by {@code quiver models train
 *       --source S --dataset sp500-daily --alias champion} (the issue's command).
 *   <li>{@code lstm} (ONNX) and {@code catboost} (.cbm): the plugins' bundled trained files,
 *       registered by {@code quiver models register --plugin ID --alias champion}. Their training
 *       is Python ({@code mlflow/train/*.py}, minutes and a TensorFlow venv); registering the files
 *       it produced walks the same register, resolve, check and serve path. Because those versions
 *       equal the bundled models, {@link #theChildJvmLoadsTheVersionsOwnFiles} shows separately
 *       that the child-JVM check loads the version's files, not the bundled ones.
 * </ul>
 *
 * <p>Also {@code backtest --model}, the batch path that hands a registered version to a prediction.
 * One MLflow server (the build's) and one {@code serve} process for all four bindings, so the class
 * costs one service start.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ServeRegisteredModelsIT {

    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));
    static final Path PLUGIN_SOURCES = Path.of("..", "plugins").toAbsolutePath().normalize();
    static final Path LSTM_DIR =
            PLUGIN_SOURCES.resolve(
                    "prediction-lstm/src/main/resources/dev/quiver/plugins/lstm/model");
    static final Path CATBOOST_DIR =
            PLUGIN_SOURCES.resolve(
                    "prediction-catboost/src/main/resources/dev/quiver/plugins/catboost/model");
    static final ObjectMapper JSON = new ObjectMapper();
    static final Pattern REGISTERED =
            Pattern.compile("registered models:/([^/\\s]+)/(\\d+) \\(run (\\w+)\\)");
    static final Pattern LISTENING =
            Pattern.compile("quiver serve: listening on http://127\\.0\\.0\\.1:(\\d+)/");

    /** A version registered by the CLI, as the test will look for it in the service. */
    record Registered(String capability, String plugin, String name, String version, String runId) {
        String pinned() {
            return "models:/" + name + "/" + version;
        }

        String requested() {
            return "models:/" + name + "@champion";
        }
    }

    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    final Map<String, Registered> registered = new LinkedHashMap<>();
    final Map<String, ResolvedModel> resolved = new LinkedHashMap<>();
    Path work;
    Path cliPlugins;
    Path servePlugins;
    Path serveOut;
    Path serveErr;
    Process serve;
    Throwable serveFailure;
    int port;
    String requestBody;
    FeatureFrame requestFrame;
    MlflowClient client;

    @BeforeAll
    void registerVersions(@TempDir Path dir) throws Exception {
        work = dir;
        // The CLI commands here and the service load the same zips from folders of their own.
        cliPlugins = copyPlugins(work.resolve("plugins-cli"));
        servePlugins = copyPlugins(work.resolve("plugins-serve"));
        String uri = LocalMlflow.uri();
        client = new MlflowClient(new MlflowHttp(uri, MlflowHttp.Settings.defaults()));
        String stem = Long.toString(System.nanoTime(), 36);

        for (String source : List.of("xgboost", "lightgbm")) {
            String name = "it-serve-" + source + "-" + stem;
            String out =
                    cli(
                            "models",
                            "train",
                            "--source",
                            source,
                            "--dataset",
                            "sp500-daily",
                            "--alias",
                            "champion",
                            "--name",
                            name,
                            "--out",
                            work.resolve("train-" + source).toString(),
                            "--tracking-uri",
                            uri,
                            "--plugins-dir",
                            cliPlugins.toString());
            registered.put(source, registeredIn(out, source, "ensemble-gbm"));
        }
        register("lstm", "prediction-lstm", LSTM_DIR.resolve("lstm.onnx"), uri, stem);
        register(
                "catboost", "prediction-catboost", CATBOOST_DIR.resolve("catboost.cbm"), uri, stem);

        ModelResolver resolver = new ModelResolver(Optional.of(client), work.resolve("test-cache"));
        for (Registered r : registered.values()) {
            resolved.put(r.capability(), resolver.resolve(r.pinned()));
        }
        for (String source : List.of("xgboost", "lightgbm")) {
            // Trained on sp500-daily: the smoke cases come from another series, all 8 forecast.
            SmokeSet smoke = SmokeSet.read(resolved.get(source).dir().resolve(SmokeSet.FILE_NAME));
            assertThat(smoke.dataset()).as(source).isEqualTo("nasdaq-daily");
            assertThat(smoke.cases()).as(source).hasSize(8);
            assertThat(smoke.capability()).isEqualTo(source);
        }

        BarData btc = BundledData.BTC_USD_4H.load();
        int n = 300;
        requestBody = DecisionRequests.lastBars(btc, n).toString();
        List<Bar> last = new ArrayList<>();
        for (int i = btc.size() - n; i < btc.size(); i++) {
            last.add(btc.bar(i));
        }
        // What the service computes from the request: the same bars, the same pipeline.
        FeatureMatrix features =
                FeaturePipeline.compute(new BarData(btc.symbol(), btc.period(), last));
        requestFrame = features.frame(n - 1);
    }

    /**
     * Starts {@code bin/quiver serve} with the four bindings on first use (the child-JVM test does
     * not need it); a start that failed fails every later use with the same message.
     */
    synchronized void serving() throws Exception {
        if (serveFailure != null) {
            throw new AssertionError(serveFailure.getMessage(), serveFailure);
        }
        if (serve != null) {
            return;
        }
        try {
            startServe();
        } catch (Exception | AssertionError e) {
            serveFailure = e;
            throw e;
        }
    }

    void startServe() throws Exception {
        String uri = LocalMlflow.uri();
        List<String> cmd = new ArrayList<>();
        cmd.add(DISTRIBUTION.resolve("bin/quiver").toString());
        cmd.addAll(
                List.of(
                        "serve",
                        "--port",
                        "0",
                        "--tracking-uri",
                        uri,
                        "--plugins-dir",
                        servePlugins.toString(),
                        "--model-cache",
                        work.resolve("serve-cache").toString(),
                        "--rollouts-dir",
                        work.resolve("serve-rollouts").toString(),
                        "--state-url",
                        "jdbc:sqlite:" + work.resolve("serve-state.db"),
                        "--watch-interval-ms",
                        "200",
                        "--poll-interval",
                        "2s",
                        // the bound models decide in the plugin pipeline, which serves only
                        // without a strategy bundle
                        "--strategy",
                        "none"));
        // The tests' trust list: the first-party plugins, and the rebuild dropped below.
        cmd.addAll(dev.quiver.host.plugin.Trusting.options());
        for (Registered r : registered.values()) {
            cmd.add("--model");
            cmd.add(r.capability() + "=" + r.requested());
        }
        serveOut = work.resolve("serve.out");
        serveErr = work.resolve("serve.err");
        ProcessBuilder pb =
                new ProcessBuilder(cmd)
                        .redirectOutput(serveOut.toFile())
                        .redirectError(serveErr.toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().remove("MLFLOW_TRACKING_URI");
        serve = pb.start();
        port = awaitListening(Duration.ofSeconds(240));
    }

    @AfterAll
    void stop() throws Exception {
        if (serve != null) {
            serve.destroy(); // SIGTERM: the service stops cleanly
            if (!serve.waitFor(30, TimeUnit.SECONDS)) {
                serve.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("quiver serve did not stop on SIGTERM within 30 s");
            }
        }
    }

    @Test
    @Order(1)
    void anXgboostTrainedByModelsTrainIsServed() throws Exception {
        assertServed("xgboost");
    }

    @Test
    @Order(2)
    void aLightgbmTrainedByModelsTrainIsServed() throws Exception {
        assertServed("lightgbm");
    }

    @Test
    @Order(3)
    void anLstmRegisteredWithItsPluginIsServed() throws Exception {
        assertServed("lstm");
    }

    @Test
    @Order(4)
    void aCatboostRegisteredWithItsPluginIsServed() throws Exception {
        assertServed("catboost");
    }

    /**
     * The child JVM builds the capability with the version's files: given a sidecar whose model
     * file is missing, it refuses naming that file, for every kind (a child that read another key
     * would serve the bundled model, or for GBM an unfitted source, instead).
     */
    @Test
    @Order(5)
    void theChildJvmLoadsTheVersionsOwnFiles() throws Exception {
        var softly = new SoftAssertions(); // every kind reported, not only the first to fail
        try (PluginRuntime runtime =
                PluginRuntime.start(cliPlugins, Map.of("quiver.plugin.isolation", "same-thread"))) {
            for (Registered r : registered.values()) {
                ResolvedModel m = resolved.get(r.capability());
                Path alone = Files.createDirectories(work.resolve("alone-" + r.capability()));
                Path sidecar = m.sidecar().orElseThrow();
                Files.copy(sidecar, alone.resolve(sidecar.getFileName()));
                Path pluginPath =
                        runtime.plugins().stream()
                                .filter(p -> p.id().equals(r.plugin()))
                                .findFirst()
                                .orElseThrow()
                                .path();
                SmokeCheck.Result result =
                        SmokeCheck.inChildJvm(
                                pluginPath,
                                r.plugin(),
                                r.capability(),
                                alone.resolve(sidecar.getFileName()),
                                m.dir().resolve(SmokeSet.FILE_NAME),
                                Duration.ofSeconds(90));
                softly.assertThat(result.passed())
                        .as(r.capability() + " passed: " + result.reason())
                        .isFalse();
                softly.assertThat(result.reason())
                        .as(r.capability())
                        .contains(m.modelFile().getFileName().toString());
            }
        }
        softly.assertAll();
        // The versions' complete files pass in a child JVM: serve's start ran exactly that.
    }

    /**
     * ensemble-gbm replaced in the running service (a rebuild, version 1.2.2): both GBM bindings
     * are served again from the new build, checked like new versions, with the same forecasts.
     */
    @Test
    @Order(6)
    void aReplacedGbmPluginServesBothBoundVersionsAgain() throws Exception {
        serving();
        Map<String, Double> before = new LinkedHashMap<>();
        JsonNode first = decide();
        for (String cap : List.of("xgboost", "lightgbm")) {
            before.put(cap, probability(first, cap));
        }
        Path zip = servePlugins.resolve("ensemble-gbm-1.3.0.zip");
        Path next = servePlugins.resolve(".ensemble-gbm.next");
        HotSwapIT.withPluginVersion(zip, next, "1.2.2");
        dev.quiver.host.plugin.Trusting.trust(next); // a rebuild, trusted before it is dropped
        Files.move(next, zip, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        try {
            HotSwapIT.await(
                    Duration.ofSeconds(180),
                    () -> {
                        JsonNode d = decide();
                        return d.at("/provenance/plugins/ensemble-gbm").asText().equals("1.2.2")
                                && servedVersion(d, "xgboost").equals(version("xgboost"))
                                && servedVersion(d, "lightgbm").equals(version("lightgbm"));
                    },
                    "the new ensemble-gbm build serving both bound versions");
        } catch (AssertionError e) {
            throw new AssertionError(
                    e.getMessage()
                            + "; /v1/models: "
                            + get("/v1/models").body()
                            + "; log:\n"
                            + tail(serveErr),
                    e);
        }
        JsonNode after = decide();
        assertThat(after.at("/provenance/failed_sources").has("xgboost")).isFalse();
        assertThat(after.at("/provenance/failed_sources").has("lightgbm")).isFalse();
        for (String cap : List.of("xgboost", "lightgbm")) {
            assertThat(probability(after, cap)).as(cap).isEqualTo(before.get(cap));
        }
        JsonNode models = JSON.readTree(get("/v1/models").body());
        for (JsonNode b : models.get("bindings")) {
            String cap = b.get("capability").asText();
            if (cap.equals("xgboost") || cap.equals("lightgbm")) {
                // The one swap: the bound version back in from the new build.
                assertThat(b.get("swaps").asLong()).as(cap).isEqualTo(1);
                assertThat(b.get("refused")).as(cap).isEmpty();
                assertThat(b.at("/serving/version").asText()).isEqualTo(version(cap));
            }
        }
        for (String cap : List.of("xgboost", "lightgbm")) {
            Registered r = registered.get(cap);
            HotSwapIT.await(
                    Duration.ofSeconds(10),
                    () ->
                            Files.readString(serveErr)
                                    .contains("plugin replaced: " + r.pinned() + " serving again"),
                    cap + " logged as served again");
        }
    }

    /**
     * {@code backtest --model} hands the model to the prediction it names, with the same key: the
     * XGBoost from {@code models train} is served pinned through the walk-forward (trained once on
     * its span), while LightGBM beside it is still fitted per fold; the plugin id alone is refused,
     * as ensemble-gbm provides two predictions.
     */
    @Test
    @Order(7)
    void aBacktestServesTheTrainedXgboostNamedByItsCapability() throws Exception {
        Path plugins = Files.createDirectories(work.resolve("plugins-backtest"));
        for (String id : List.of("ensemble-gbm", "sizing-fixed")) {
            try (var zips = Files.newDirectoryStream(cliPlugins, id + "-*.zip")) {
                for (Path zip : zips) {
                    Files.copy(zip, plugins.resolve(zip.getFileName()));
                }
            }
        }
        Registered r = registered.get("xgboost");
        List<String> common =
                List.of(
                        "backtest",
                        "--dataset",
                        "nasdaq-daily",
                        "--plugins-dir",
                        plugins.toString(),
                        "--out",
                        work.resolve("backtest").toString(),
                        "--models-dir",
                        work.resolve("backtest-models").toString(),
                        "--tracking-uri",
                        LocalMlflow.uri());

        var refusedErr = new StringWriter();
        List<String> byPlugin = new ArrayList<>(common);
        byPlugin.addAll(List.of("--model", "ensemble-gbm=" + r.requested()));
        int refused =
                Cli.execute(
                        new PrintWriter(new StringWriter()),
                        new PrintWriter(refusedErr),
                        byPlugin.toArray(String[]::new));
        assertThat(refused).isNotZero();
        assertThat(refusedErr.toString())
                .contains("[Quiver/BAD_OPTION] --model ensemble-gbm=" + r.requested())
                .contains("provides several predictions")
                .contains("xgboost")
                .contains("lightgbm");

        List<String> byCapability = new ArrayList<>(common);
        byCapability.addAll(List.of("--model", "xgboost=" + r.requested()));
        var out = new StringWriter();
        var err = new StringWriter();
        int code =
                Cli.execute(
                        new PrintWriter(out),
                        new PrintWriter(err),
                        byCapability.toArray(String[]::new));
        assertThat(code).as("stdout: %s%nstderr: %s", out, err).isZero();
        assertThat(err.toString())
                .contains("model xgboost: " + r.pinned())
                .contains("served by ensemble-gbm/xgboost");
        JsonNode forecasts =
                JSON.readTree(work.resolve("backtest/nasdaq-daily/report.json").toFile())
                        .get("forecasts");
        assertThat(forecasts.at("/xgboost/training").asText())
                .startsWith("trained once on sp500-daily");
        assertThat(forecasts.at("/xgboost/n").asInt()).isPositive();
        assertThat(forecasts.at("/lightgbm/training").asText()).startsWith("trained per walk");
    }

    /**
     * {@code models register --plugin ensemble-gbm} of a GBM file (trained elsewhere) records its
     * smoke cases with the prediction named by {@code --capability}; without it the plugin's two
     * predictions are named instead of one being picked.
     */
    @Test
    @Order(8)
    void registeringAGbmModelWithItsPluginNamesTheCapability() throws Exception {
        ResolvedModel m = resolved.get("xgboost");
        List<String> args =
                new ArrayList<>(
                        List.of(
                                "models",
                                "register",
                                "--tracking-uri",
                                LocalMlflow.uri(),
                                "--name",
                                registered.get("xgboost").name() + "-again",
                                "--model",
                                m.modelFile().toString(),
                                "--sidecar",
                                m.sidecar().orElseThrow().toString(),
                                "--plugin",
                                "ensemble-gbm",
                                "--plugins-dir",
                                cliPlugins.toString()));
        var err = new StringWriter();
        int code =
                Cli.execute(
                        new PrintWriter(new StringWriter()),
                        new PrintWriter(err),
                        args.toArray(String[]::new));
        assertThat(code).isNotZero();
        assertThat(err.toString())
                .contains("--plugin ensemble-gbm provides several predictions")
                .contains("xgboost")
                .contains("lightgbm")
                .contains("--capability");

        args.addAll(List.of("--capability", "xgboost"));
        String out = cli(args.toArray(String[]::new));
        assertThat(out).contains("smoke: 8 cases of btc-usd-4h recorded by ensemble-gbm/xgboost");
    }

    void assertServed(String cap) throws Exception {
        serving();
        Registered r = registered.get(cap);
        JsonNode d = decide();
        JsonNode provenance = d.get("provenance");
        JsonNode model = provenance.get("models").get(cap);
        assertThat(model).as("provenance.models: " + provenance.get("models")).isNotNull();
        assertThat(model.get("name").asText()).isEqualTo(r.name());
        assertThat(model.get("version").asText()).isEqualTo(r.version());
        assertThat(model.get("run_id").asText()).isEqualTo(r.runId());
        assertThat(model.get("requested").asText()).isEqualTo(r.requested());
        assertThat(model.get("plugin_id").asText()).isEqualTo(r.plugin());
        assertThat(model.get("sha256").asText()).isEqualTo(resolved.get(cap).sha256());
        assertThat(provenance.get("failed_sources").has(cap))
                .as("failed_sources: " + provenance.get("failed_sources"))
                .isFalse();
        // The forecast is the registered model's own on the request's last bar.
        assertThat(probability(d, cap)).isEqualTo(expectedProbability(cap));

        JsonNode binding = null;
        for (JsonNode b : JSON.readTree(get("/v1/models").body()).get("bindings")) {
            if (b.get("capability").asText().equals(cap)) {
                binding = b;
            }
        }
        assertThat(binding).isNotNull();
        assertThat(binding.at("/serving/version").asText()).isEqualTo(r.version());
        assertThat(binding.at("/serving/origin").asText()).isEqualTo("registry");
        assertThat(binding.get("refused")).isEmpty();
        assertThat(Files.readString(serveErr))
                .contains(
                        "serve: "
                                + cap
                                + " <- "
                                + r.requested()
                                + ": serving "
                                + r.pinned()
                                + " (run "
                                + r.runId());
    }

    /** The registered version's forecast on the request's last bar, computed in this JVM. */
    double expectedProbability(String cap) {
        ResolvedModel m = resolved.get(cap);
        try (PluginRuntime runtime =
                        PluginRuntime.start(
                                cliPlugins, Map.of("quiver.plugin.isolation", "same-thread"));
                var p =
                        runtime.newPrediction(
                                        cap,
                                        Map.of(
                                                cap + ".model",
                                                m.sidecar().orElseThrow().toString()))
                                .prediction()) {
            return p.forecast(requestFrame).probabilityUp();
        }
    }

    void register(String cap, String plugin, Path model, String uri, String stem) {
        String name = "it-serve-" + cap + "-" + stem;
        Path sidecar = model.resolveSibling(cap + ".json");
        String out =
                cli(
                        "models",
                        "register",
                        "--tracking-uri",
                        uri,
                        "--name",
                        name,
                        "--model",
                        model.toString(),
                        "--sidecar",
                        sidecar.toString(),
                        "--plugin",
                        plugin,
                        "--plugins-dir",
                        cliPlugins.toString(),
                        "--alias",
                        "champion");
        assertThat(out).contains("smoke: 8 cases of btc-usd-4h recorded by " + plugin + "/" + cap);
        registered.put(cap, registeredIn(out, cap, plugin));
    }

    static Registered registeredIn(String out, String cap, String plugin) {
        Matcher m = REGISTERED.matcher(out);
        assertThat(m.find()).as(out).isTrue();
        assertThat(out).contains("@champion -> " + m.group(2));
        return new Registered(cap, plugin, m.group(1), m.group(2), m.group(3));
    }

    static String cli(String... args) {
        var out = new StringWriter();
        var err = new StringWriter();
        int code = Cli.execute(new PrintWriter(out), new PrintWriter(err), args);
        assertThat(code).as("quiver %s%nstdout: %s%nstderr: %s", args[1], out, err).isZero();
        return out.toString();
    }

    static Path copyPlugins(Path to) throws IOException {
        Files.createDirectories(to);
        try (var zips = Files.newDirectoryStream(DISTRIBUTION.resolve("plugins"), "*.zip")) {
            for (Path zip : zips) {
                Files.copy(zip, to.resolve(zip.getFileName()));
            }
        }
        return to;
    }

    int awaitListening(Duration max) throws Exception {
        long deadline = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < deadline) {
            Matcher m = LISTENING.matcher(Files.readString(serveOut, StandardCharsets.UTF_8));
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
            if (!serve.isAlive()) {
                throw new AssertionError(
                        "quiver serve exited with "
                                + serve.exitValue()
                                + " before listening; stderr:\n"
                                + Files.readString(serveErr, StandardCharsets.UTF_8));
            }
            Thread.sleep(100);
        }
        throw new AssertionError(
                "quiver serve did not listen within "
                        + max.toSeconds()
                        + " s; stderr:\n"
                        + Files.readString(serveErr, StandardCharsets.UTF_8));
    }

    String version(String cap) {
        return registered.get(cap).version();
    }

    static String servedVersion(JsonNode decision, String cap) {
        return decision.at("/provenance/models/" + cap + "/version").asText();
    }

    static double probability(JsonNode decision, String source) {
        for (JsonNode c : decision.get("fused").get("contributions")) {
            if (c.get("source").asText().equals(source)) {
                return c.get("p_up").asDouble();
            }
        }
        throw new AssertionError("no " + source + " contribution in " + decision);
    }

    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    JsonNode decide() throws Exception {
        HttpResponse<String> r =
                http.send(
                        HttpRequest.newBuilder(
                                        URI.create("http://127.0.0.1:" + port + "/v1/decisions"))
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(requestBody))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    HttpResponse<String> get(String path) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
