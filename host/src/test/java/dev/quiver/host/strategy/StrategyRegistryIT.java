package dev.quiver.host.strategy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.host.cli.Cli;
import dev.quiver.host.mlflow.LocalMlflow;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowException;
import dev.quiver.host.mlflow.MlflowHttp;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.registry.ModelRegistrar;
import dev.quiver.host.registry.ModelStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Strategy bundles in the real MLflow registry: {@code strategy fit --register} on real BTC-USD 4h
 * bars (a short series, small windows), then resolution by alias and by version, {@code strategy
 * show} and {@code backtest --strategy} with the URI, the cache when the registry is down, and the
 * refusals: a tampered file, a tampered manifest, a model version, a decision that differs from the
 * recorded one.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StrategyRegistryIT {

    static final Path PLUGINS =
            Path.of(System.getProperty("quiver.distribution")).resolve("plugins");

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir static Path work;

    String uri;
    MlflowClient client;
    String name;
    String version;
    String runId;
    Path data;
    Path bundle;
    String fitOut;

    /** BTC-USD 4h bars from May 2016 to February 2017, as the bundled file has them. */
    static Path shortSeries(Path dir) throws IOException {
        Path csv = dir.resolve("btc-usd-4h.csv");
        List<String> lines = new ArrayList<>();
        try (var in =
                new BufferedReader(
                        new InputStreamReader(
                                StrategyRegistryIT.class.getResourceAsStream(
                                        "/data/coinbase-btc-usd-4h-2016-2025.csv"),
                                StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (lines.isEmpty() || line.compareTo("2017-03-01") < 0) {
                    lines.add(line);
                }
            }
        }
        Files.write(csv, lines);
        return csv;
    }

    record Run(int code, String out, String err) {}

    static Run cli(String... args) {
        var out = new StringWriter();
        var err = new StringWriter();
        int code = Cli.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    @BeforeAll
    void fitAndRegister() throws IOException {
        uri = LocalMlflow.uri();
        client = new MlflowClient(new MlflowHttp(uri, MlflowHttp.Settings.defaults()));
        name = "it-strategy-" + System.nanoTime();
        data = shortSeries(work);
        bundle = work.resolve("bundle");
        Run fit =
                cli(
                        "strategy",
                        "fit",
                        "--data",
                        data.toString(),
                        "--until",
                        "2017-01-15T00:00:00Z",
                        "--train-bars",
                        "300",
                        "--test-bars",
                        "200",
                        "--out",
                        bundle.toString(),
                        "--plugins-dir",
                        PLUGINS.toString(),
                        "--tracking-uri",
                        uri,
                        "--register",
                        name,
                        "--alias",
                        "challenger");
        assertThat(fit.code()).as(fit.out() + "\n" + fit.err()).isZero();
        fitOut = fit.out();
        Matcher m =
                Pattern.compile(
                                "registered models:/"
                                        + Pattern.quote(name)
                                        + "/(\\d+) \\(run (\\w+)")
                        .matcher(fit.out());
        assertThat(m.find()).as(fit.out()).isTrue();
        version = m.group(1);
        runId = m.group(2);
    }

    private StrategyResolver resolver(Path cache) {
        return new StrategyResolver(Optional.of(client), cache);
    }

    @Test
    void theFitIsLoggedAsARunAndRegisteredWithItsTagsAndOnlyTheNamedAlias() throws IOException {
        JsonNode manifest = JSON.readTree(bundle.resolve(StrategyBundle.MANIFEST).toFile());
        JsonNode run = client.getRun(runId);
        Map<String, JsonNode> params = MlflowClient.byKey(run.path("data").path("params"));
        Map<String, JsonNode> metrics = MlflowClient.byKey(run.path("data").path("metrics"));
        assertThat(params.get("dataset").asText()).isEqualTo("btc-usd-4h");
        assertThat(params.get("until").asText()).isEqualTo("2017-01-15T00:00:00Z");
        assertThat(params.get("settings.train_bars").asText()).isEqualTo("300");
        assertThat(params.get("settings.test_bars").asText()).isEqualTo("200");
        assertThat(params.get("serves_from").asText()).isEqualTo("2017-01-15T04:00:00Z");
        assertThat(params.get("plugin.sizing-kelly").asText())
                .isEqualTo(manifest.path("plugins").path("sizing-kelly").asText());
        assertThat(params.get("feature_schema_hash").asText())
                .isEqualTo(manifest.path("feature_schema").path("hash").asText());
        JsonNode wf = manifest.path("walk_forward");
        for (String policy : List.of("fixed", "kelly", "kelly_ml")) {
            for (String figure : List.of("cagr", "sharpe", "max_drawdown")) {
                assertThat(metrics.get("wf." + policy + "." + figure).asDouble())
                        .as(policy + " " + figure)
                        .isEqualTo(wf.path("policies").path(policy).path(figure).asDouble());
            }
        }
        for (String figure : List.of("log_loss", "brier", "ece")) {
            assertThat(metrics.get("wf.fused." + figure).asDouble())
                    .isEqualTo(wf.path("forecasts").path("fused").path(figure).asDouble());
        }
        assertThat(run.path("info").path("status").asText()).isEqualTo("FINISHED");

        JsonNode v = client.modelVersion(name, version);
        Map<String, String> tags = new TreeMap<>();
        MlflowClient.byKey(v.path("tags")).forEach((k, n) -> tags.put(k, n.asText()));
        assertThat(tags)
                .containsEntry("quiver.kind", "quiver-strategy")
                .containsEntry("quiver.bundle_format", "quiver-strategy/1")
                .containsEntry(
                        "quiver.manifest_sha256",
                        ModelStore.sha256(bundle.resolve(StrategyBundle.MANIFEST)))
                .containsEntry(
                        "quiver.feature_schema_hash",
                        manifest.path("feature_schema").path("hash").asText())
                .containsEntry("quiver.dataset", "btc-usd-4h")
                .containsEntry("quiver.serves_from", "2017-01-15T04:00:00Z")
                .containsEntry("quiver.smoke", "smoke.json")
                .containsEntry(
                        "quiver.wf.kelly.sharpe",
                        wf.path("policies").path("kelly").path("sharpe").asText())
                .containsEntry(
                        "quiver.wf.fused.log_loss",
                        wf.path("forecasts").path("fused").path("log_loss").asText())
                .containsKey("quiver.smoke_sha256");
        assertThat(tags.get("quiver.training_span")).matches("2016-.*\\.\\.2017-01-1.*");
        assertThat(v.path("run_id").asText()).isEqualTo(runId);

        assertThat(client.versionByAlias(name, "challenger").path("version").asText())
                .isEqualTo(version);
        JsonNode aliases =
                client.http()
                        .get("registered-models/get", Map.of("name", name))
                        .path("registered_model")
                        .path("aliases");
        assertThat(aliases.size()).as("training never moves @champion unless told").isEqualTo(1);
        assertThat(aliases.get(0).path("alias").asText()).isEqualTo("challenger");
        assertThatThrownBy(() -> client.versionByAlias(name, "champion"))
                .isInstanceOf(MlflowException.class)
                .hasMessageContaining("alias champion not found");
        assertThat(fitOut).contains("smoke: 8 decisions recorded on btc-usd-4h");
    }

    @Test
    void resolvesByAliasAndByVersionIntoAVerifiedCacheThatNamesTheVersion(@TempDir Path cache)
            throws IOException {
        ResolvedStrategy byAlias = resolver(cache).resolve("models:/" + name + "@challenger");
        assertThat(byAlias.origin()).isEqualTo("registry");
        assertThat(byAlias.version()).isEqualTo(version);
        assertThat(byAlias.runId()).isEqualTo(runId);
        assertThat(byAlias.dir()).startsWith(cache.toRealPath());
        assertThat(byAlias.bundle().id()).isEqualTo(name + "/" + version);
        assertThat(byAlias.bundle().provenance())
                .containsEntry("name", name)
                .containsEntry("version", version)
                .containsEntry("run_id", runId);
        assertThat(
                        Files.mismatch(
                                byAlias.dir().resolve(StrategyBundle.MANIFEST),
                                bundle.resolve(StrategyBundle.MANIFEST)))
                .isEqualTo(-1L);
        assertThat(byAlias.dir().resolve(StrategyBundle.REGISTRY_FILE)).isRegularFile();
        StrategySmoke smoke = byAlias.readSmoke().orElseThrow();
        assertThat(smoke.cases()).hasSize(8);
        assertThat(smoke.window()).isEqualTo("after-fit");
        assertThat(smoke.cases().get(0).barTime().toString()).isEqualTo("2017-01-15T04:00:00Z");

        ResolvedStrategy byVersion = resolver(cache).resolve("models:/" + name + "/" + version);
        assertThat(byVersion.dir()).isEqualTo(byAlias.dir());
        assertThat(byVersion.tags()).isEqualTo(byAlias.tags());
        assertThat(resolver(cache).currentVersion("models:/" + name + "@challenger"))
                .isEqualTo(version);

        ResolvedStrategy folder = resolver(cache).resolve(bundle.toString());
        assertThat(folder.origin()).isEqualTo("folder");
        assertThat(folder.name()).isEmpty();

        assertThatThrownBy(() -> resolver(cache).resolve("models:/" + name + "@no-such-alias"))
                .isInstanceOf(StrategyRefusedException.class)
                .hasMessageContaining("the registry answered");
    }

    @Test
    void showAndBacktestTakeTheUri(@TempDir Path tmp) throws IOException {
        String models = tmp.resolve("models").toString();
        Run show =
                cli(
                        "strategy",
                        "show",
                        "models:/" + name + "@challenger",
                        "--tracking-uri",
                        uri,
                        "--models-dir",
                        models);
        assertThat(show.code()).as(show.out() + show.err()).isZero();
        assertThat(show.out())
                .contains("strategy bundle " + name + "/" + version + " (quiver-strategy/1)")
                .contains("registered models:/" + name + "/" + version + " (run " + runId + ")")
                .contains("smoke: 8 recorded decisions on btc-usd-4h");

        Path out = tmp.resolve("out");
        Run bt =
                cli(
                        "backtest",
                        "--strategy",
                        "models:/" + name + "@challenger",
                        "--data",
                        data.toString(),
                        "--tracking-uri",
                        uri,
                        "--models-dir",
                        models,
                        "--plugins-dir",
                        PLUGINS.toString(),
                        "--out",
                        out.toString());
        assertThat(bt.code()).as(bt.out() + bt.err()).isZero();
        assertThat(bt.err())
                .contains(
                        "smoke: 8 recorded decisions of models:/"
                                + name
                                + "/"
                                + version
                                + " reproduced");
        assertThat(bt.out()).contains("strategy bundle " + name + "/" + version);
        List<String> decisions = Files.readAllLines(out.resolve("btc-usd-4h/decisions.csv"));
        assertThat(decisions.size()).isGreaterThan(200);
        assertThat(decisions.get(1)).startsWith("2017-01-15T04:00:00Z");
    }

    @Test
    void anUnreachableRegistryServesTheLastVerifiedCachedVersionAndSaysSo(@TempDir Path cache)
            throws IOException {
        String alias = "models:/" + name + "@challenger";
        assertThat(resolver(cache).resolve(alias).origin()).isEqualTo("registry");
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        var quick =
                new MlflowHttp.Settings(
                        Duration.ofMillis(500),
                        Duration.ofMillis(700),
                        2,
                        Duration.ofMillis(50),
                        Duration.ofMillis(100));
        var down = new MlflowClient(new MlflowHttp("http://127.0.0.1:" + closed, quick));
        ResolvedStrategy r = new StrategyResolver(Optional.of(down), cache).resolve(alias);
        assertThat(r.origin()).isEqualTo("cache");
        assertThat(r.version()).isEqualTo(version);
        assertThat(r.note())
                .contains("registry unreachable")
                .contains("REGISTRY_UNAVAILABLE")
                .contains("serving version " + version)
                .contains("the last verified version of @challenger in the cache");
        assertThat(r.bundle().id()).isEqualTo(name + "/" + version);

        Run show =
                cli(
                        "strategy",
                        "show",
                        alias,
                        "--tracking-uri",
                        "http://127.0.0.1:" + closed,
                        "--models-dir",
                        cache.toString());
        assertThat(show.code()).as(show.err()).isZero();
        assertThat(show.err()).contains("registry unreachable").contains("serving version");
        assertThat(show.out()).contains("resolved from cache: registry unreachable");

        assertThatThrownBy(
                        () ->
                                new StrategyResolver(Optional.of(down), cache)
                                        .resolve("models:/never-seen@champion"))
                .isInstanceOf(MlflowException.class)
                .hasMessageContaining("REGISTRY_UNAVAILABLE");
    }

    /** The bundle's files as {@link BundleRegistrar#registerFiles} takes them. */
    private Map<String, Path> files(Path bundleDir, Path smoke) {
        Map<String, Path> files = new TreeMap<>();
        BundleRegistrar.filesUnder(bundleDir).forEach((rel, p) -> files.put("bundle/" + rel, p));
        files.put("smoke.json", smoke);
        return files;
    }

    private Path smokeFile() {
        return work.resolve("bundle-report").resolve(StrategySmoke.FILE_NAME);
    }

    @Test
    void aVersionWithATamperedFileIsRefusedWithItsSha256(@TempDir Path tmp) throws IOException {
        Path copy = tmp.resolve("copy");
        for (var e : BundleRegistrar.filesUnder(bundle).entrySet()) {
            Path target = copy.resolve(e.getKey());
            Files.createDirectories(target.getParent());
            Files.copy(e.getValue(), target);
        }
        // Still valid XGBoost JSON, one byte more: only its checksum can tell.
        Path model = copy.resolve("sources/xgboost/xgboost.json");
        Files.writeString(model, Files.readString(model) + " ");
        StrategyBundle real = StrategyBundle.open(bundle);
        var registrar = new BundleRegistrar(client);
        String tampered = name + "-tampered";
        var v =
                registrar.registerFiles(
                        BundleRegistrar.EXPERIMENT,
                        tampered,
                        files(copy, smokeFile()),
                        BundleRegistrar.tagsFor(real, Optional.of(smokeFile())),
                        Map.of(),
                        Map.of(),
                        Optional.empty());
        Path cache = tmp.resolve("cache");
        assertThatThrownBy(() -> resolver(cache).resolve("models:/" + tampered + "/" + v.version()))
                .isInstanceOf(StrategyRefusedException.class)
                .hasMessageContaining("STRATEGY_REFUSED")
                .hasMessageContaining("sources/xgboost/xgboost.json")
                .hasMessageContaining("has sha256")
                .hasMessageContaining("but the manifest says")
                .hasMessageContaining("the version is not served");
        assertThat(cache.resolve(tampered).resolve(v.version())).doesNotExist();

        // A manifest edited to match nothing the registry recorded: its own sha256 is checked.
        Path copy2 = tmp.resolve("copy2");
        for (var e : BundleRegistrar.filesUnder(bundle).entrySet()) {
            Path target = copy2.resolve(e.getKey());
            Files.createDirectories(target.getParent());
            Files.copy(e.getValue(), target);
        }
        ObjectNode m = (ObjectNode) JSON.readTree(copy2.resolve("manifest.json").toFile());
        m.put("max_age", "P3650D");
        JSON.writeValue(copy2.resolve("manifest.json").toFile(), m);
        var v2 =
                registrar.registerFiles(
                        BundleRegistrar.EXPERIMENT,
                        tampered,
                        files(copy2, smokeFile()),
                        BundleRegistrar.tagsFor(real, Optional.of(smokeFile())),
                        Map.of(),
                        Map.of(),
                        Optional.empty());
        assertThatThrownBy(
                        () -> resolver(cache).resolve("models:/" + tampered + "/" + v2.version()))
                .isInstanceOf(StrategyRefusedException.class)
                .hasMessageContaining("sha256 of bundle/manifest.json is")
                .hasMessageContaining("quiver.manifest_sha256");
    }

    @Test
    void aModelVersionIsRefusedNamingItsKind(@TempDir Path cache) throws IOException {
        String model = name + "-model";
        Path dir = bundle.resolve("sources/xgboost");
        new ModelRegistrar(client)
                .register(
                        model,
                        dir.resolve("xgboost.json"),
                        Optional.of(dir.resolve("xgboost-sidecar.json")),
                        List.of("champion"));
        assertThatThrownBy(() -> resolver(cache).resolve("models:/" + model + "@champion"))
                .isInstanceOf(StrategyRefusedException.class)
                .hasMessageContaining("is not a strategy bundle")
                .hasMessageContaining("it is a model version")
                .hasMessageContaining("quiver.model_file = xgboost.json")
                .hasMessageContaining("quiver.kind = quiver-strategy");
        assertThat(cache.resolve(model)).doesNotExist();

        Run show =
                cli(
                        "strategy",
                        "show",
                        "models:/" + model + "@champion",
                        "--tracking-uri",
                        uri,
                        "--models-dir",
                        cache.toString());
        assertThat(show.code()).isEqualTo(2);
        assertThat(show.err()).contains("is not a strategy bundle: it is a model version");
    }

    @Test
    void aDownloadThatDecidesDifferentlyFromTheRecordedCasesFailsTheCheck(@TempDir Path cache)
            throws IOException {
        ResolvedStrategy r = resolver(cache).resolve("models:/" + name + "/" + version);
        StrategySmoke recorded = r.readSmoke().orElseThrow();
        List<StrategySmoke.Case> cases = new ArrayList<>(recorded.cases());
        StrategySmoke.Case third = cases.get(2);
        Map<String, Double> fractions = new TreeMap<>(third.fractions());
        fractions.put("kelly", fractions.get("kelly") + 0.01);
        cases.set(
                2,
                new StrategySmoke.Case(
                        third.barTime(),
                        third.probabilityUp(),
                        third.noSignal(),
                        third.sources(),
                        third.failed(),
                        fractions));
        StrategySmoke changed =
                new StrategySmoke(
                        recorded.manifestSha256(),
                        recorded.symbol(),
                        recorded.interval(),
                        recorded.window(),
                        recorded.note(),
                        recorded.tolerance(),
                        recorded.warmUpBars(),
                        recorded.bars(),
                        cases);
        Path file = cache.resolve("changed-smoke.json");
        changed.write(file);
        try (PluginRuntime plugins =
                PluginRuntime.start(PLUGINS, Map.of("quiver.plugin.isolation", "same-thread"))) {
            assertThat(recorded.check(r.bundle(), plugins).passed()).isTrue();
            StrategySmoke.Result result = StrategySmoke.read(file).check(r.bundle(), plugins);
            assertThat(result.passed()).isFalse();
            assertThat(result.reason())
                    .contains("case 3 (bar " + third.barTime() + ")")
                    .contains("policy kelly fraction")
                    .contains("> tolerance");
        }
    }
}
