package dev.quiver.host.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.trading.CostModel;
import dev.quiver.host.backtest.Progress;
import dev.quiver.host.backtest.WalkForwardBacktest;
import dev.quiver.host.cli.Cli;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.store.StateStore;
import dev.quiver.host.store.TestStores;
import dev.quiver.host.web.QuiverServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code backtest --rollout} on real bundled data with real plugins from the distribution.
 *
 * <p>The main replay runs through the CLI: {@code prediction-analogs} with k = 5 (noisy) against
 * the same plugin with k = 50 on the first 3,500 BTC-USD 4h bars, shadow start, log-loss rules with
 * min_samples 100. Its report is then checked against independent recomputation: per-variant
 * figures from {@code rollout-bars.csv} with the test's own formulas, and the transition timeline
 * by feeding the same forecasts through a fresh {@link RolloutController}. The canary share over
 * per-bar keys and the service's routing of the same keys are checked with {@code
 * prediction-traditional}.
 */
class RolloutBacktestIT {

    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));
    static final ObjectMapper JSON = new ObjectMapper();
    static final int BARS = 3500;

    @TempDir static Path dir;
    static Path report;
    static JsonNode rollout;
    static List<String[]> csv;
    static String stdout;

    static final String ANALOGS_SPEC =
            """
            {"id": "analogs-k50",
             "capability": {"kind": "prediction", "name": "analogs", "plugin": "prediction-analogs"},
             "champion": {"config": {"k": 5}},
             "challenger": {"config": {"k": 50}},
             "mode": "shadow",
             "routing": {"key": "symbol", "canary_percent": 10},
             "rules": {"metric": "log_loss", "min_samples": 100, "alpha": 0.05}}
            """;

    static int cli(StringWriter out, String... args) {
        StringWriter err = new StringWriter();
        int code = Cli.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
        out.append(err.toString());
        return code;
    }

    @BeforeAll
    static void replay() throws Exception {
        Path data = dir.resolve("btc-usd-4h.csv");
        BarData btc = BundledData.BTC_USD_4H.load().truncate(BARS);
        StringBuilder b = new StringBuilder("timestamp,open,high,low,close,volume\n");
        for (int i = 0; i < btc.size(); i++) {
            b.append(btc.bar(i).start())
                    .append(',')
                    .append(btc.open[i])
                    .append(',')
                    .append(btc.high[i])
                    .append(',')
                    .append(btc.low[i])
                    .append(',')
                    .append(btc.close[i])
                    .append(',')
                    .append(btc.volume[i])
                    .append('\n');
        }
        Files.writeString(data, b);
        Path spec = dir.resolve("spec.json");
        Files.writeString(spec, ANALOGS_SPEC);
        StringWriter out = new StringWriter();
        int code =
                cli(
                        out,
                        "backtest",
                        "--rollout",
                        spec.toString(),
                        "--data",
                        data.toString(),
                        "--train-bars",
                        "500",
                        "--test-bars",
                        "500",
                        "--plugins-dir",
                        DISTRIBUTION.resolve("plugins").toString(),
                        "--out",
                        dir.resolve("out").toString());
        stdout = out.toString();
        assertThat(code).as(stdout).isZero();
        report = dir.resolve("out").resolve("rollout-analogs-k50");
        rollout = JSON.readTree(report.resolve("report.json").toFile()).path("rollout");
        csv = new ArrayList<>();
        List<String> lines = Files.readAllLines(report.resolve("rollout-bars.csv"));
        for (String line : lines.subList(1, lines.size())) {
            csv.add(line.split(",", -1));
        }
        System.out.println(stdout);
    }

    static double parse(String s) {
        return s.isEmpty() ? Double.NaN : Double.parseDouble(s);
    }

    @Test
    void perVariantFiguresEqualThoseRecomputedFromTheForecasts() {
        assertThat(csv).hasSize(rollout.path("bars").asInt()).hasSizeGreaterThan(2000);
        assertThat(Files.isRegularFile(report.resolve("rollout.png"))).isTrue();
        double cost = 15 / 10_000.0;
        for (int v = 0; v < 2; v++) {
            String role = v == 0 ? "champion" : "challenger";
            double ll = 0, brier = 0, pnl = 0, last = 0;
            long n = 0, hits = 0, routed = 0;
            for (String[] row : csv) {
                double close = parse(row[3]), next = parse(row[4]);
                double p = parse(row[5 + v]);
                if (row[10].equals(role)) {
                    routed++;
                }
                if (Double.isNaN(p)) {
                    continue;
                }
                double y = next > close ? 1 : 0;
                ll -= y * Math.log(Math.max(p, 1e-15)) + (1 - y) * Math.log(Math.max(1 - p, 1e-15));
                brier += (p - y) * (p - y);
                hits += (p > 0.5) == (y == 1) ? 1 : 0;
                double w = p > 0.5 ? 1 : 0;
                pnl += w * (next / close - 1) - cost * Math.abs(w - last);
                last = w;
                n++;
            }
            JsonNode f = rollout.path("variants").path(role).path("figures");
            assertThat(n).isGreaterThan(2000);
            assertThat(f.path("n").asLong()).as(role).isEqualTo(n);
            assertThat(f.path("logLoss").asDouble()).as(role).isCloseTo(ll / n, within(1e-12));
            assertThat(f.path("brier").asDouble()).as(role).isCloseTo(brier / n, within(1e-12));
            assertThat(f.path("hitRate").asDouble()).as(role).isEqualTo((double) hits / n);
            assertThat(f.path("pnl").asDouble()).as(role).isCloseTo(pnl, within(1e-9));
            assertThat(rollout.path("variants").path(role).path("bars_routed").asLong())
                    .isEqualTo(routed);
            assertThat(stdout).contains(String.format(java.util.Locale.ROOT, "%.4f", ll / n));
        }
        // the two variants really differ (k = 5 vs k = 50)
        assertThat(csv.stream().filter(r -> !r[5].equals(r[6])).count()).isGreaterThan(1000);
    }

    @Test
    void transitionTimelineAgreesWithRerunningTheController() {
        RolloutSpec spec = RolloutSpec.parse(ANALOGS_SPEC, "test", null);
        RolloutController c = RolloutController.start(spec, Instant.EPOCH);
        List<Object[]> expected = new ArrayList<>();
        String[] prev = null;
        for (String[] row : csv) {
            Instant t = Instant.parse(row[0]);
            if (prev != null) {
                for (Transition tr :
                        c.resolve(row[1], Instant.parse(prev[0]), t, parse(row[3]), t)) {
                    expected.add(
                            new Object[] {
                                t.toString(),
                                tr.from(),
                                tr.to(),
                                tr.test().pValue(),
                                tr.stageSamples()
                            });
                }
            }
            Role routed = c.route(row[2]);
            assertThat(routed.id()).as("routed at " + row[0]).isEqualTo(row[9]);
            double pc = parse(row[5]), px = parse(row[6]);
            c.record(
                    row[1],
                    t,
                    parse(row[3]),
                    Double.isNaN(pc) ? null : VariantOutput.forecast(pc),
                    Double.isNaN(px) ? null : VariantOutput.forecast(px),
                    Role.valueOf(row[10].toUpperCase(java.util.Locale.ROOT)));
            prev = row;
        }
        JsonNode timeline = rollout.path("timeline");
        assertThat(timeline.size()).isEqualTo(expected.size());
        assertThat(expected)
                .as("the rules reached at least one verdict on these forecasts")
                .isNotEmpty();
        for (int i = 0; i < expected.size(); i++) {
            JsonNode e = timeline.get(i);
            Object[] x = expected.get(i);
            assertThat(e.path("bar_time").asText()).isEqualTo(x[0]);
            assertThat(e.path("from").asText()).isEqualTo(x[1]);
            assertThat(e.path("to").asText()).isEqualTo(x[2]);
            assertThat(e.path("test").path("pValue").asDouble()).isEqualTo((double) x[3]);
            assertThat(e.path("stage_samples").asLong()).isEqualTo((long) x[4]);
            assertThat(e.path("test").path("n").asLong())
                    .isGreaterThanOrEqualTo(spec.rules().minSamples());
        }
        assertThat(rollout.path("final_stage").asText()).isEqualTo(c.stage().id());
        assertThat(stdout).contains(expected.get(0)[0] + "  " + expected.get(0)[1]);
    }

    static RolloutSpec traditionalCanary(String key, double percent) {
        return RolloutSpec.parse(
                """
                {"id": "traditional-canary",
                 "capability": {"kind": "prediction", "name": "traditional", "plugin": "prediction-traditional"},
                 "champion": {},
                 "challenger": {"plugin_zip": "%s"},
                 "mode": "canary",
                 "routing": {"key": "%s", "canary_percent": %s},
                 "rules": {"metric": "log_loss", "min_samples": 100, "automatic": false}}
                """
                        .formatted(
                                DISTRIBUTION.resolve("plugins/prediction-traditional-1.0.0.zip"),
                                key,
                                percent),
                "RolloutBacktestIT",
                null);
    }

    static RolloutBacktest.Result traditionalReplay(
            RolloutSpec spec, List<BarData> series, RolloutBacktest.KeyMode key, Path work) {
        List<FeatureMatrix> features = new ArrayList<>();
        for (BarData b : series) {
            features.add(FeaturePipeline.compute(b));
        }
        Path plugins = DISTRIBUTION.resolve("plugins");
        try (VariantRuntime champion =
                        VariantRuntime.start(
                                spec, Role.CHAMPION, plugins, Map.of(), Optional.empty(), work);
                VariantRuntime challenger =
                        VariantRuntime.start(
                                spec, Role.CHALLENGER, plugins, Map.of(), Optional.empty(), work)) {
            return new RolloutBacktest(
                            WalkForwardBacktest.Config.defaults()
                                    .withWindows(500, 5, 500)
                                    .withCosts(CostModel.DEFAULT),
                            key)
                    .run(
                            spec,
                            features,
                            champion.prediction(),
                            challenger.prediction(),
                            Progress.NONE);
        }
    }

    @Test
    void canaryShareOverPerBarKeysOfTheThreeSeriesIsWithinOnePointOfTheTarget(@TempDir Path work) {
        List<BarData> series = new ArrayList<>();
        for (BundledData d : BundledData.values()) {
            series.add(d.load());
        }
        RolloutBacktest.Result r =
                traditionalReplay(
                        traditionalCanary("symbol", 10), series, RolloutBacktest.KeyMode.BAR, work);
        assertThat(r.rows()).hasSizeGreaterThan(10_000);
        long toChallenger = r.rows().stream().filter(x -> x.routed() == Role.CHALLENGER).count();
        double share = 100.0 * toChallenger / r.rows().size();
        System.out.printf("canary 10%%: %.2f%% of %,d per-bar keys%n", share, r.rows().size());
        assertThat(share).isCloseTo(10.0, within(1.0));
        // interleaved in time: bars of all three series, never going back in time
        assertThat(r.rows().stream().map(RolloutBacktest.Row::series).distinct()).hasSize(3);
        for (int i = 1; i < r.rows().size(); i++) {
            assertThat(r.rows().get(i).barStart()).isAfterOrEqualTo(r.rows().get(i - 1).barStart());
        }
        // with key = series a series is routed as a whole
        RolloutBacktest.Result bySeries =
                traditionalReplay(
                        traditionalCanary("symbol", 50),
                        series,
                        RolloutBacktest.KeyMode.SERIES,
                        work);
        Map<String, java.util.Set<Role>> perSeries = new HashMap<>();
        bySeries.rows()
                .forEach(
                        x ->
                                perSeries
                                        .computeIfAbsent(x.series(), k -> new java.util.HashSet<>())
                                        .add(x.routed()));
        assertThat(perSeries.values()).allSatisfy(s -> assertThat(s).hasSize(1));
    }

    @Test
    void aSizingRolloutIsRefusedNamingWhy() {
        RolloutSpec sizing =
                RolloutSpec.parse(
                        """
                        {"id": "fixed-half",
                         "capability": {"kind": "sizing", "name": "fixed", "plugin": "sizing-fixed"},
                         "champion": {}, "challenger": {"config": {"fraction": 0.5}},
                         "rules": {"metric": "pnl", "min_samples": 100}}
                        """,
                        "test",
                        null);
        assertThatThrownBy(
                        () ->
                                new RolloutBacktest(
                                                WalkForwardBacktest.Config.defaults(),
                                                RolloutBacktest.KeyMode.SERIES)
                                        .run(sizing, List.of(), null, null, Progress.NONE))
                .hasMessageContaining("sizing capability")
                .hasMessageContaining("fixed-half");
    }

    @Test
    void theServiceRoutesTheSameKeysToTheSameVariants(@TempDir Path plugins, @TempDir Path state)
            throws Exception {
        // the service's key is the request's account; the backtest's per-bar key is sent as it
        RolloutSpec spec = traditionalCanary("account", 50);
        BarData btc = BundledData.BTC_USD_4H.load().truncate(1700);
        RolloutBacktest.Result r =
                traditionalReplay(
                        spec, List.of(btc), RolloutBacktest.KeyMode.BAR, state.resolve("w"));
        for (String zip : List.of("prediction-traditional-1.0.0.zip", "sizing-fixed-1.0.0.zip")) {
            Files.copy(DISTRIBUTION.resolve("plugins").resolve(zip), plugins.resolve(zip));
        }
        HttpClient http = HttpClient.newHttpClient();
        Map<Instant, Integer> index = new HashMap<>();
        for (int i = 0; i < btc.size(); i++) {
            index.put(btc.bar(i).start(), i);
        }
        try (PluginRuntime runtime = PluginRuntime.start(plugins, Map.of());
                StateStore db = TestStores.sqlite(state)) {
            LiveRollouts rollouts =
                    LiveRollouts.open(
                            RolloutManager.open(
                                    new RolloutStore(db), Optional.empty(), Clock.systemUTC()),
                            plugins,
                            Map.of(),
                            Optional.empty(),
                            state.resolve("variants"));
            rollouts.start(spec);
            QuiverServer server =
                    QuiverServer.start(runtime, "127.0.0.1", 0, 1.0, Optional.of(rollouts));
            try {
                int checked = 0;
                java.util.Set<String> seen = new java.util.HashSet<>();
                List<RolloutBacktest.Row> rows = r.rows();
                for (RolloutBacktest.Row row : rows.subList(rows.size() - 60, rows.size())) {
                    int end = index.get(row.barStart());
                    ObjectNode body =
                            dev.quiver.host.web.DecisionRequests.body(
                                    row.series(), btc, end - 199, end);
                    body.put("account", row.key());
                    HttpResponse<String> resp =
                            http.send(
                                    HttpRequest.newBuilder(
                                                    URI.create(
                                                            "http://127.0.0.1:"
                                                                    + server.port()
                                                                    + "/v1/decisions"))
                                            .header("Content-Type", "application/json")
                                            .POST(
                                                    HttpRequest.BodyPublishers.ofString(
                                                            body.toString()))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString());
                    assertThat(resp.statusCode()).as(resp.body()).isEqualTo(200);
                    JsonNode ro =
                            JSON.readTree(resp.body()).path("provenance").path("rollouts").get(0);
                    assertThat(ro.path("routing_key").asText()).isEqualTo(row.key());
                    assertThat(ro.path("routed").asText())
                            .as(row.key())
                            .isEqualTo(row.routed().id());
                    seen.add(row.routed().id());
                    checked++;
                }
                assertThat(checked).isEqualTo(60);
                assertThat(seen).containsExactlyInAnyOrder("champion", "challenger");
            } finally {
                server.close();
                rollouts.close();
            }
        }
    }
}
