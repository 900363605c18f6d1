package dev.quiver.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.fusion.WeightedFusion;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.risk.CircuitBreakers;
import dev.quiver.engine.risk.RiskGuard;
import dev.quiver.host.backtest.BacktestResult;
import dev.quiver.host.backtest.Fold;
import dev.quiver.host.backtest.PolicyResult;
import dev.quiver.host.backtest.Progress;
import dev.quiver.host.backtest.ReportWriter;
import dev.quiver.host.backtest.WalkForwardBacktest;
import dev.quiver.host.bench.MainJobBench;
import dev.quiver.host.cli.Cli;
import dev.quiver.host.data.BadBarPolicy;
import dev.quiver.host.data.BarCsvReader;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.plugin.LoadedPlugin;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.strategy.StrategyFitter;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The main job's required properties with the real first-party plugins, loaded through PF4J from
 * the built zips of the distribution, on the real bundled bars: no look-ahead, the accounting
 * identity, and the {@code backtest} command end to end.
 */
class MainJobIT {

    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));
    static final Path CONFIG = DISTRIBUTION.resolve("config/quiver.properties");
    static final WalkForwardBacktest.Config DEFAULTS = WalkForwardBacktest.Config.defaults();

    /**
     * The "full" series of the look-ahead check: long enough for 9 folds, short enough to be quick.
     */
    static final BarData BTC = BundledData.BTC_USD_4H.load().truncate(6_000);

    @TempDir static Path pluginsDir;
    static PluginRuntime plugins;
    static BacktestResult btcFull;

    @BeforeAll
    static void loadRealPlugins() throws IOException {
        copyZips(DISTRIBUTION.resolve("plugins"), pluginsDir);
        plugins = PluginRuntime.start(pluginsDir, distributionConfig());
        assertThat(plugins.refusals()).isEmpty();
        assertThat(plugins.plugins())
                .extracting(LoadedPlugin::id)
                .containsExactlyInAnyOrder(
                        "ensemble-gbm",
                        "ensemble-selector",
                        "prediction-analogs",
                        "prediction-catboost",
                        "prediction-lstm",
                        "prediction-lstm3",
                        "prediction-regime",
                        "prediction-traditional",
                        "sizing-adaptive",
                        "sizing-dqn",
                        "sizing-fixed",
                        "sizing-kelly");
        btcFull = run(BTC);
    }

    @AfterAll
    static void unload() {
        if (plugins != null) {
            plugins.close();
        }
    }

    private static BacktestResult run(BarData bars) {
        return new WalkForwardBacktest(DEFAULTS)
                .run(
                        FeaturePipeline.compute(bars),
                        plugins.predictions(),
                        new WeightedFusion(),
                        plugins.sizings(),
                        new RiskGuard(),
                        Progress.NONE);
    }

    /**
     * Decision bars relative to the full run's folds: 3rd fold's inside, the last bar of the 3rd
     * fold and the first of the 4th (a refit of the fusion between them), and the full series' last
     * bars.
     */
    static int decisionBar(String where) {
        List<Fold> folds = btcFull.folds();
        return switch (where) {
            case "inside-fold-3" -> folds.get(2).testFirst() + 123;
            case "last-of-fold-3" -> folds.get(2).testLast();
            case "first-of-fold-4" -> folds.get(3).testFirst();
            case "near-end" -> BTC.size() - 3;
            case "second-to-last" -> BTC.size() - 2;
            default -> throw new IllegalArgumentException(where);
        };
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "inside-fold-3",
                "last-of-fold-3",
                "first-of-fold-4",
                "near-end",
                "second-to-last"
            })
    void decisionsAndEquityUpToTAreTheSameWhenTheSeriesEndsAtT(String where) {
        int t = decisionBar(where);
        BacktestResult cut = run(BTC.truncate(t + 1));
        int first = btcFull.folds().get(0).testFirst();
        assertThat(cut.folds().get(0).testFirst()).isEqualTo(first);
        int k = t - first;
        assertThat(cut.testTimes()).hasSize(k + 1);
        assertThat(cut.policies())
                .containsOnlyKeys("fixed", "kelly", "kelly_ml", "kelly_ts", "dqn");
        assertThat(btcFull.policies())
                .containsOnlyKeys("fixed", "kelly", "kelly_ml", "kelly_ts", "dqn");
        List<String> names = new ArrayList<>(btcFull.policies().keySet());
        names.add(WalkForwardBacktest.BUY_AND_HOLD);
        for (String policy : names) {
            PolicyResult a = policy(btcFull, policy);
            PolicyResult b = policy(cut, policy);
            for (int i = 0; i <= k; i++) {
                // boxed: buy-and-hold's target is NaN after its entry, and NaN equals NaN here
                assertThat(Double.valueOf(b.targetFraction()[i]))
                        .as(policy + " target at test bar " + i)
                        .isEqualTo(Double.valueOf(a.targetFraction()[i]));
                assertThat(b.reasons()[i])
                        .as(policy + " reason at test bar " + i)
                        .isEqualTo(a.reasons()[i]);
                assertThat(b.equity()[i])
                        .as(policy + " equity at test bar " + i)
                        .isEqualTo(a.equity()[i]);
            }
        }
        // the check compares real decisions: every policy traded in the compared span, and the
        // targets varied (with six sources the fused signal can stay on one side for the whole
        // span, so fixed may hold one target while kelly's still moves)
        long mostDistinctTargets = 0;
        for (String policy : btcFull.policies().keySet()) {
            PolicyResult b = cut.policies().get(policy);
            if (policy.equals("dqn")) {
                // these 6,000 bars end in 2019, before its training span's end (2020-12-31): flat
                assertThat(b.trades()).as("dqn trades up to t").isEmpty();
                continue;
            }
            assertThat(b.trades()).as(policy + " trades up to t").isNotEmpty();
            mostDistinctTargets =
                    Math.max(
                            mostDistinctTargets,
                            Arrays.stream(b.targetFraction()).distinct().count());
        }
        assertThat(mostDistinctTargets).as("distinct targets up to t").isGreaterThan(1);
    }

    /**
     * The drawdown breaker bounds what it names on real data: every policy's max drawdown over the
     * BTC test bars stays within the 15% limit plus the largest loss from one bar's open to the
     * next (the breaker trips at an open or a close and its exit fills at the next open).
     */
    @Test
    void theDrawdownBreakerHoldsEveryPolicyWithinItsLimitPlusTheLargestOneBarMove() {
        double limit = DEFAULTS.breakers().maxDrawdown();
        int first = btcFull.folds().get(0).testFirst();
        double largestMove = 0;
        for (int t = first; t + 1 < BTC.size(); t++) {
            largestMove = Math.max(largestMove, 1 - BTC.open[t + 1] / BTC.open[t]);
        }
        assertThat(btcFull.circuitBreakerEvents())
                .as("a drawdown breaker tripped, so the bound is exercised")
                .anyMatch(e -> e.breaker() == CircuitBreakers.Breaker.MAX_DRAWDOWN);
        for (PolicyResult p : btcFull.policies().values()) {
            assertThat(p.metrics().maxDrawdown())
                    .as(
                            "%s max drawdown vs limit %.2f + largest open-to-open loss %.4f",
                            p.name(), limit, largestMove)
                    .isLessThanOrEqualTo(limit + largestMove);
        }
        System.out.printf(
                "drawdown breaker on BTC: limit %.2f, largest one-bar move %.4f, max drawdowns %s%n",
                limit,
                largestMove,
                btcFull.policies().values().stream()
                        .map(p -> p.name() + " " + p.metrics().maxDrawdown())
                        .toList());
    }

    private static PolicyResult policy(BacktestResult r, String name) {
        return name.equals(WalkForwardBacktest.BUY_AND_HOLD)
                ? r.buyAndHold()
                : r.policies().get(name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"btc-usd-4h", "sp500-daily"})
    void finalEquityIsInitialPlusTradePnlMinusCostsForEveryPolicy(String dataset) {
        BarData bars = BundledData.byId(dataset).orElseThrow().load();
        BacktestResult r = run(bars);
        assertThat(r.bars()).isEqualTo(bars.size());
        List<PolicyResult> all = new ArrayList<>(r.policies().values());
        all.add(r.buyAndHold());
        assertThat(all)
                .extracting(PolicyResult::name)
                .containsExactlyInAnyOrder(
                        "fixed",
                        "kelly",
                        "kelly_ml",
                        "kelly_ts",
                        "dqn",
                        WalkForwardBacktest.BUY_AND_HOLD);
        for (PolicyResult p : all) {
            if (p.name().equals("dqn") && dataset.equals("sp500-daily")) {
                // its training span ends 2020-12-31, after the series' last bar: flat throughout
                assertThat(p.trades()).as("dqn trades on " + dataset).isEmpty();
                assertThat(p.totalCosts()).isZero();
            } else {
                assertThat(p.trades()).as(p.name() + " trades").isNotEmpty();
                assertThat(p.totalCosts()).as(p.name() + " costs").isPositive();
            }
            double finalEquity = p.equity()[p.equity().length - 1];
            double expected = DEFAULTS.initialEquity() + p.grossPnl() - p.totalCosts();
            assertThat(finalEquity)
                    .as(dataset + " " + p.name() + ": initial + gross P&L - costs")
                    .isCloseTo(expected, within(1e-6 * Math.abs(finalEquity)));
            assertThat(p.metrics().finalEquity()).isEqualTo(finalEquity);
        }
    }

    @Test
    void backtestCommandWritesTheReportsForACsvFile(@TempDir Path dir) throws IOException {
        Path csv = dir.resolve("sp500.csv");
        copyResource("/data/sp500-daily-1999-2018.csv", csv);
        Path out = dir.resolve("out");
        Path pluginsCopy = Files.createDirectory(dir.resolve("plugins"));
        copyZips(DISTRIBUTION.resolve("plugins"), pluginsCopy);
        StringWriter stdout = new StringWriter();
        StringWriter stderr = new StringWriter();

        int code =
                Cli.execute(
                        new PrintWriter(stdout),
                        new PrintWriter(stderr),
                        "backtest",
                        "--data",
                        csv.toString(),
                        "--out",
                        out.toString(),
                        "--plugins-dir",
                        pluginsCopy.toString(),
                        "--config",
                        CONFIG.toString());

        assertThat(code).as("exit code; stderr: " + stderr).isZero();
        Path reportDir = out.resolve("sp500");
        assertThat(stdout.toString())
                .contains("report: " + reportDir.resolve("report.html").toAbsolutePath());
        JsonNode root = new ObjectMapper().readTree(reportDir.resolve("report.json").toFile());
        assertThat(root.get("dataset").asText()).isEqualTo("sp500");
        assertThat(root.get("bars").isInt()).isTrue();
        assertThat(root.get("bars").asInt()).isEqualTo(5031);
        assertThat(keys(root.get("policies")))
                .containsExactly("buy_and_hold", "dqn", "fixed", "kelly", "kelly_ml", "kelly_ts");
        // dqn is evaluated only after its training span, which ends after this series' last bar
        assertThat(root.get("policies").get("dqn").get("trades").asInt()).isZero();
        assertThat(root.get("later_bars")).hasSize(1);
        assertThat(root.get("later_bars").get(0).get("policy").asText()).isEqualTo("dqn");
        assertThat(root.get("later_bars").get(0).get("test_bars_after").asInt()).isZero();
        assertThat(root.get("circuit_breaker_events").isArray()).isTrue();
        for (String policy : List.of("fixed", "kelly", "kelly_ml", "kelly_ts", "buy_and_hold")) {
            assertThat(root.get("policies").get(policy).get("sharpe_ci").size()).isEqualTo(2);
            assertThat(root.get("policies").get(policy).get("max_drawdown_ci").size()).isEqualTo(2);
            JsonNode p = root.get("policies").get(policy);
            for (String metric :
                    List.of("cagr", "sharpe", "sortino", "max_drawdown", "hit_rate", "trades")) {
                assertNumberOrNull(p, policy + "." + metric, metric);
            }
            assertThat(p.get("trades").isIntegralNumber()).as(policy + ".trades").isTrue();
            assertThat(p.get("trades").asInt()).as(policy + ".trades").isPositive();
            assertThat(p.get("max_drawdown").isNumber()).as(policy + ".max_drawdown").isTrue();
            assertThat(p.get("max_drawdown").asDouble()).isBetween(0.0, 1.0);
        }
        assertThat(keys(root.get("forecasts")))
                .containsExactly(
                        "analogs",
                        "catboost",
                        "fused",
                        "fused/selector",
                        "fused@kelly_ts",
                        "lightgbm",
                        "lstm",
                        "lstm3",
                        "random_forest",
                        "regime",
                        "traditional",
                        "xgboost");
        for (String source :
                List.of(
                        "traditional",
                        "lstm",
                        "lstm3",
                        "catboost",
                        "xgboost",
                        "lightgbm",
                        "random_forest",
                        "analogs",
                        "regime",
                        "fused",
                        "fused/selector",
                        "fused@kelly_ts")) {
            JsonNode f = root.get("forecasts").get(source);
            for (String metric : List.of("log_loss", "brier", "ece", "hit_rate")) {
                assertNumberOrNull(f, source + "." + metric, metric);
            }
            assertThat(f.get("brier").isNumber()).as(source + ".brier").isTrue();
            assertThat(f.get("brier").asDouble()).isBetween(0.0, 1.0);
            assertThat(f.get("hit_rate").asDouble()).isBetween(0.0, 1.0);
            assertThat(f.get("log_loss").asDouble()).isPositive();
        }
        // The three-class source: its confusion matrix covers exactly the bars it was scored on;
        // the two-class ones carry none.
        JsonNode classes = root.get("forecasts").get("lstm3").get("classes");
        assertThat(classes.get("sideways_band_atr_multiple").asDouble()).isEqualTo(0.25);
        int cells = 0;
        for (JsonNode row : classes.get("confusion_rows_true_columns_predicted")) {
            assertThat(row).hasSize(3);
            for (JsonNode c : row) {
                cells += c.asInt();
            }
        }
        assertThat(cells)
                .isEqualTo(classes.get("n").asInt())
                .isEqualTo(root.get("forecasts").get("lstm3").get("n").asInt());
        assertThat(keys(classes.get("per_class_accuracy")))
                .containsExactly("down", "sideways", "up");
        assertThat(root.get("forecasts").get("lstm").has("classes")).isFalse();
        assertThat(root.get("throughput_bars_per_s").isNumber()).isTrue();
        assertThat(root.get("throughput_bars_per_s").asDouble()).isPositive();
        String html = Files.readString(reportDir.resolve("report.html"), StandardCharsets.UTF_8);
        assertThat(html).contains("<html").contains("kelly").contains("buy_and_hold");

        // quiver bench --main-job times this very job: its run on the same bars, with plugins
        // started as the command starts them, writes the same report figure for figure (the
        // throughput aside), so its recording wrappers hide nothing from the walk-forward (the
        // recalibrating policy's fused@kelly_ts, the compared ensemble's fused/selector).
        BarData sp500 = new BarCsvReader(BadBarPolicy.FAIL).read(csv, "sp500").data();
        Path benchPlugins = Files.createDirectory(dir.resolve("bench-plugins"));
        copyZips(DISTRIBUTION.resolve("plugins"), benchPlugins);
        MainJobBench.Result bench;
        try (PluginRuntime fresh = PluginRuntime.start(benchPlugins, distributionConfig())) {
            EnsembleCapability ensemble = StrategyFitter.ensembleOf(fresh);
            bench =
                    MainJobBench.run(
                            sp500,
                            fresh.predictions(),
                            ensemble,
                            StrategyFitter.comparedEnsembles(fresh, ensemble),
                            fresh.sizings(),
                            DEFAULTS,
                            Runtime.getRuntime().availableProcessors(),
                            Progress.NONE);
        }
        Path benchReport = new ReportWriter().write(bench.result(), dir.resolve("bench"));
        ObjectNode fromBench =
                (ObjectNode)
                        new ObjectMapper()
                                .readTree(benchReport.resolveSibling("report.json").toFile());
        ObjectNode fromCommand = (ObjectNode) root;
        fromBench.remove("throughput_bars_per_s");
        fromCommand.remove("throughput_bars_per_s");
        assertThat(fromBench)
                .as("the bench's main job against quiver backtest")
                .isEqualTo(fromCommand);
        assertThat(bench.bareCalls())
                .as("bare calls replayed")
                .containsKeys(
                        "kelly_ts.observe", "kelly_ts.calibrate", "selector.fit", "selector.fuse");
    }

    @Test
    void aMalformedRowStopsTheRunWithFileLineAndFieldUnlessSkipped(@TempDir Path dir)
            throws IOException {
        Path good = dir.resolve("good.csv");
        copyResource("/data/sp500-daily-1999-2018.csv", good);
        List<String> lines = new ArrayList<>(Files.readAllLines(good, StandardCharsets.UTF_8));
        // line 17 of the file (the header is line 1): close far above the row's high
        int lineNo = 17;
        String[] cells = lines.get(lineNo - 1).split(",", -1);
        double high = Double.parseDouble(cells[2]);
        cells[4] = Double.toString(high * 2);
        lines.set(lineNo - 1, String.join(",", cells));
        Path bad = dir.resolve("prices.csv");
        Files.write(bad, lines, StandardCharsets.UTF_8);
        Path pluginsCopy = Files.createDirectory(dir.resolve("plugins"));
        copyZips(DISTRIBUTION.resolve("plugins"), pluginsCopy);

        StringWriter stdout = new StringWriter();
        StringWriter stderr = new StringWriter();
        int code =
                Cli.execute(
                        new PrintWriter(stdout),
                        new PrintWriter(stderr),
                        "backtest",
                        "--data",
                        bad.toString(),
                        "--out",
                        dir.resolve("out-fail").toString(),
                        "--plugins-dir",
                        pluginsCopy.toString());
        assertThat(code).isEqualTo(2);
        assertThat(stderr.toString())
                .startsWith("[Quiver/BAD_BAR] prices.csv line 17: field 'close' ")
                .contains("(value: " + cells[4] + ")");
        assertThat(dir.resolve("out-fail")).doesNotExist();

        StringWriter skipOut = new StringWriter();
        StringWriter skipErr = new StringWriter();
        int skipped =
                Cli.execute(
                        new PrintWriter(skipOut),
                        new PrintWriter(skipErr),
                        "backtest",
                        "--data",
                        bad.toString(),
                        "--on-bad-bar=skip",
                        "--out",
                        dir.resolve("out-skip").toString(),
                        "--plugins-dir",
                        pluginsCopy.toString());
        assertThat(skipped).as("exit code; stderr: " + skipErr).isZero();
        assertThat(skipErr.toString())
                .contains("skipped 1 malformed row(s)")
                .contains("prices.csv line 17");
        JsonNode root =
                new ObjectMapper().readTree(dir.resolve("out-skip/prices/report.json").toFile());
        assertThat(root.get("bars").asInt()).isEqualTo(5031 - 1);
    }

    private static void assertNumberOrNull(JsonNode parent, String what, String field) {
        assertThat(parent.has(field)).as(what + " present").isTrue();
        JsonNode v = parent.get(field);
        assertThat(v.isNumber() || v.isNull()).as(what + " is a number or null: " + v).isTrue();
        if (v.isNumber()) {
            assertThat(Double.isFinite(v.asDouble())).as(what + " finite").isTrue();
        }
    }

    private static Set<String> keys(JsonNode node) {
        Set<String> out = new TreeSet<>();
        node.fieldNames().forEachRemaining(out::add);
        return out;
    }

    private static Map<String, String> distributionConfig() throws IOException {
        Properties props = new Properties();
        try (Reader r = Files.newBufferedReader(CONFIG, StandardCharsets.UTF_8)) {
            props.load(r);
        }
        Map<String, String> values = new HashMap<>();
        props.forEach((k, v) -> values.put(k.toString(), v.toString().trim()));
        return values;
    }

    private static void copyResource(String resource, Path target) throws IOException {
        try (InputStream in = MainJobIT.class.getResourceAsStream(resource)) {
            assertThat(in).as(resource).isNotNull();
            Files.copy(in, target);
        }
    }

    static void copyZips(Path from, Path to) throws IOException {
        try (Stream<Path> zips = Files.list(from)) {
            List<Path> all = zips.filter(p -> p.toString().endsWith(".zip")).toList();
            assertThat(all).as("plugin zips in " + from).hasSize(12);
            for (Path zip : all) {
                Files.copy(zip, to.resolve(zip.getFileName()));
            }
        }
    }
}
