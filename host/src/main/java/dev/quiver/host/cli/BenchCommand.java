package dev.quiver.host.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.fusion.WeightedFusion;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.trading.CostModel;
import dev.quiver.host.backtest.Progress;
import dev.quiver.host.backtest.WalkForwardBacktest;
import dev.quiver.host.bench.Bench;
import dev.quiver.host.bench.DecisionLatency;
import dev.quiver.host.bench.MainJobBench;
import dev.quiver.host.bench.SwapBench;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.plugin.PluginRuntime;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code quiver bench}: throughput against ta4j, with a trade-for-trade check. */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description =
                "Backtest throughput (bars/s) of the traditional signal with fixed sizing, beside"
                        + " ta4j (DoubleNum and DecimalNum) computing the same indicators and rule on"
                        + " the same bars, and whether both trade identically.")
final class BenchCommand implements Callable<Integer> {

    @Option(names = "--out", paramLabel = "DIR", description = "Also write DIR/bench.json.")
    Path out;

    @Option(
            names = "--dataset",
            paramLabel = "ID",
            defaultValue = "btc-usd-4h",
            description = "Bundled series to run on (default: ${DEFAULT-VALUE}).")
    String dataset;

    @Option(
            names = "--runs",
            defaultValue = "7",
            description = "Timed runs per side (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(
            names = "--warmup-runs",
            defaultValue = "5",
            description = "Untimed warm-up runs per side (default: ${DEFAULT-VALUE}).")
    int warmupRuns;

    @Option(
            names = "--decimal-runs",
            defaultValue = "3",
            description =
                    "Timed runs for ta4j DecimalNum, the slow side (default: ${DEFAULT-VALUE}).")
    int decimalRuns;

    @Option(
            names = "--latency-rows",
            defaultValue = "4000",
            description =
                    "Real feature rows the per-bar latency cycles through (default: ${DEFAULT-VALUE}).")
    int latencyRows;

    @Option(
            names = "--latency-rounds",
            defaultValue = "5",
            description = "Timed passes over those rows (default: ${DEFAULT-VALUE}).")
    int latencyRounds;

    @Option(
            names = "--main-job",
            description =
                    "Instead: time the main job (features and the walk-forward backtest of"
                            + " --dataset with every plugin, as `quiver backtest` runs it, report"
                            + " writing aside) and, in the same run, the bare library calls it"
                            + " made (every fit, forecast, fuse and size called again directly,"
                            + " summed); prints main_job{wall_s, bare_calls_s, ratio,"
                            + " test_bars_per_s, threads} with ratio = wall_s / (bare_calls_s /"
                            + " threads).")
    boolean mainJob;

    @Option(
            names = "--threads",
            paramLabel = "N",
            description = "Threads for --main-job (default: the machine's cores).")
    Integer threads;

    @Option(
            names = "--swap",
            description =
                    "Instead: decision latency over HTTP in steady state and while a model alias"
                            + " moves (--swaps times between the two --swap-versions of"
                            + " --swap-model, through the bench's own alias 'bench'), and the time"
                            + " from each alias move to the new version serving. Needs"
                            + " --tracking-uri (or MLFLOW_TRACKING_URI).")
    boolean swap;

    @Option(
            names = "--tracking-uri",
            paramLabel = "URI",
            description = "MLflow server for --swap (default: MLFLOW_TRACKING_URI).")
    String trackingUri;

    @Option(
            names = "--swap-model",
            paramLabel = "NAME",
            defaultValue = "quiver-lstm",
            description = "Registered model for --swap (default: ${DEFAULT-VALUE}).")
    String swapModel;

    @Option(
            names = "--swap-capability",
            paramLabel = "CAP",
            defaultValue = "lstm",
            description = "Capability it serves (default: ${DEFAULT-VALUE}).")
    String swapCapability;

    @Option(
            names = "--swap-versions",
            paramLabel = "A,B",
            defaultValue = "1,2",
            split = ",",
            description = "The two versions the alias moves between (default: ${DEFAULT-VALUE}).")
    List<String> swapVersions;

    @Option(
            names = "--swaps",
            defaultValue = "20",
            description = "Alias moves (default: ${DEFAULT-VALUE}).")
    int swaps;

    @Option(
            names = "--swap-clients",
            defaultValue = "4",
            description = "HTTP client threads (default: ${DEFAULT-VALUE}).")
    int swapClients;

    @Option(
            names = "--swap-steady-requests",
            defaultValue = "500",
            description = "Timed steady-state requests per client (default: ${DEFAULT-VALUE}).")
    int swapSteadyRequests;

    @Option(
            names = "--poll-interval",
            defaultValue = "200ms",
            paramLabel = "DURATION",
            description =
                    "The service's alias poll interval for --swap (default: ${DEFAULT-VALUE}).")
    String pollInterval;

    @Mixin HostOptions host;

    @Spec CommandSpec spec;

    private int swapBench() throws Exception {
        if (swapVersions.size() != 2 || swaps < 1 || swapClients < 1 || swapSteadyRequests < 1) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] --swap needs --swap-versions A,B (two versions), --swaps,"
                            + " --swap-clients and --swap-steady-requests >= 1");
        }
        MlflowClient registry = ModelsCommand.client(trackingUri);
        var plan =
                new SwapBench.Plan(
                        swapModel,
                        swapCapability,
                        "bench",
                        swapVersions.get(0),
                        swapVersions.get(1),
                        swaps,
                        swapClients,
                        200,
                        swapSteadyRequests,
                        ServeCommand.duration("--poll-interval", pollInterval));
        Path cache = Files.createTempDirectory("quiver-swap-bench-");
        SwapBench.Result r;
        // The live service's isolation: every plugin call on its pool, under its deadline.
        try (PluginRuntime plugins = PluginRuntime.start(host.pluginsDir(), host.configuration())) {
            r = SwapBench.run(plan, plugins, registry, cache, BundledData.BTC_USD_4H.load());
        }
        PrintWriter o = spec.commandLine().getOut();
        o.printf(
                Locale.ROOT,
                "swap bench: %s=models:/%s@bench, versions %s <-> %s, %d swaps, %d HTTP clients,"
                        + " 300 real BTC-USD 4h bars per request, poll interval %s%n",
                swapCapability,
                swapModel,
                plan.versionA(),
                plan.versionB(),
                swaps,
                swapClients,
                pollInterval);
        o.printf(
                Locale.ROOT,
                "  steady state   n=%,7d  p50 %7.2f ms  p99 %7.2f ms%n",
                r.steadyN(),
                r.steadyP50(),
                r.steadyP99());
        o.printf(
                Locale.ROOT,
                "  during swaps   n=%,7d  p50 %7.2f ms  p99 %7.2f ms  (p99 %.2fx steady; target <= 2x)%n",
                r.swapN(),
                r.swapP50(),
                r.swapP99(),
                r.swapP99() / r.steadyP99());
        o.printf(
                Locale.ROOT,
                "  alias move -> serving: p50 %.0f ms, max %.0f ms (includes up to one poll interval;"
                        + " the first move to each version also runs the child-JVM smoke check)%n",
                r.moveToServingP50(),
                r.moveToServingMax());
        o.printf(
                Locale.ROOT,
                "  failed requests: %d; swaps the service reported: %d%n",
                r.failed(),
                r.swapsDone());
        o.flush();
        return r.failed() == 0 ? 0 : 1;
    }

    @Override
    public Integer call() throws Exception {
        if (swap) {
            return swapBench();
        }
        if (mainJob) {
            return mainJobBench();
        }
        if (runs < 1 || decimalRuns < 1 || warmupRuns < 0) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] --runs and --decimal-runs must be >= 1, --warmup-runs >= 0");
        }
        var bars =
                BundledData.byId(dataset)
                        .orElseThrow(
                                () ->
                                        new IllegalArgumentException(
                                                "[Quiver/BAD_OPTION] --dataset "
                                                        + dataset
                                                        + " is not one of "
                                                        + BundledData.ids()))
                        .load();
        try (PluginRuntime plugins =
                PluginRuntime.start(host.pluginsDir(), host.batchConfiguration())) {
            PredictionCapability traditional =
                    pick(plugins.predictions(), "prediction", "traditional");
            SizingCapability fixed = pick(plugins.sizings(), "sizing", "fixed");
            Bench.Result r =
                    new Bench(bars, traditional, fixed, CostModel.DEFAULT, System.err)
                            .run(warmupRuns, runs, decimalRuns);
            last = r;
            PrintWriter o = spec.commandLine().getOut();
            o.printf(
                    Locale.ROOT,
                    "bench %s: %,d bars, median of %d timed runs per side (DecimalNum: %d)%n",
                    r.dataset(),
                    r.bars(),
                    r.runs(),
                    decimalRuns);
            o.printf(
                    Locale.ROOT,
                    "  quiver (traditional + fixed)  %,14.0f bars/s%n",
                    r.quiverBarsPerSecond());
            o.printf(
                    Locale.ROOT,
                    "  ta4j DoubleNum                %,14.0f bars/s   quiver is %.1fx (target >= 5x)%n",
                    r.ta4jDoubleBarsPerSecond(),
                    r.speedupOverDouble());
            o.printf(
                    Locale.ROOT,
                    "  ta4j DecimalNum (default)     %,14.0f bars/s   quiver is %.1fx (target >= 50x)%n",
                    r.ta4jDecimalBarsPerSecond(),
                    r.speedupOverDecimal());
            o.printf(
                    Locale.ROOT,
                    "  trades: quiver %d, ta4j %d, identical: %s%s%n",
                    r.quiverTrades(),
                    r.ta4jTrades(),
                    r.identicalTrades(),
                    r.identicalTrades() ? "" : " (" + r.firstDifference() + ")");
            o.flush();
            latency = latency(bars, plugins, o);
        }
        if (latency != null) {
            nativeXgb = nativeXgboost(bars);
            print(spec.commandLine().getOut());
        }
        if (out != null) {
            write(last);
        }
        return last.identicalTrades() ? 0 : 1;
    }

    private int mainJobBench() {
        int n = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        if (n < 1) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] --threads must be >= 1, was " + n);
        }
        BarData bars = bundled(dataset);
        MainJobBench.Result r;
        try (PluginRuntime plugins =
                PluginRuntime.start(host.pluginsDir(), host.batchConfiguration())) {
            if (plugins.predictions().isEmpty() || plugins.sizings().isEmpty()) {
                throw new IllegalArgumentException(
                        "[Quiver/NOTHING_TO_RUN] the plugins folder "
                                + host.pluginsDir()
                                + " has no prediction or no sizing plugin that started");
            }
            System.err.printf(
                    Locale.ROOT,
                    "bench %s: main job on %d thread%s, then its calls again, bare%n",
                    bars.symbol(),
                    n,
                    n == 1 ? "" : "s");
            r =
                    MainJobBench.run(
                            bars,
                            plugins.predictions(),
                            StrategyCommand.ensembleOf(plugins),
                            plugins.sizings(),
                            WalkForwardBacktest.Config.defaults(),
                            n,
                            Progress.stderr());
        }
        PrintWriter o = spec.commandLine().getOut();
        o.printf(
                Locale.ROOT,
                "main job %s: %,d bars, %d folds, %,d test bars, %d thread%s on %d cores;"
                        + " one cold run, plugin loading not timed%n",
                r.dataset(),
                r.bars(),
                r.folds(),
                r.testBars(),
                r.threads(),
                r.threads() == 1 ? "" : "s",
                Runtime.getRuntime().availableProcessors());
        o.printf(
                Locale.ROOT,
                "main_job{wall_s=%.2f, bare_calls_s=%.2f, ratio=%.2f, test_bars_per_s=%.0f,"
                        + " threads=%d}%n",
                r.wallSeconds(),
                r.bareCallsSeconds(),
                r.ratio(),
                r.testBarsPerSecond(),
                r.threads());
        o.printf(
                Locale.ROOT,
                "  ratio = wall_s / (bare_calls_s / threads), target <= 1.5%n"
                        + "  bare calls, each timed alone on one thread (s, calls):%n");
        r.bareCalls()
                .forEach(
                        (k, v) ->
                                o.printf(
                                        Locale.ROOT,
                                        "    %-22s %8.2f s %,9d%n",
                                        k,
                                        v[0],
                                        (long) v[1]));
        o.flush();
        if (out != null) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("dataset", r.dataset());
            json.put("bars", r.bars());
            json.put("folds", r.folds());
            json.put("test_bars", r.testBars());
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("wall_s", r.wallSeconds());
            m.put("bare_calls_s", r.bareCallsSeconds());
            m.put("ratio", r.ratio());
            m.put("test_bars_per_s", r.testBarsPerSecond());
            m.put("threads", r.threads());
            m.put("cores", Runtime.getRuntime().availableProcessors());
            Map<String, Object> calls = new LinkedHashMap<>();
            r.bareCalls().forEach((k, v) -> calls.put(k, Map.of("s", v[0], "calls", (long) v[1])));
            m.put("bare_calls", calls);
            m.put(
                    "method",
                    "one cold run of features + walk-forward (intervals included), plugin loading"
                            + " and report writing not timed; bare calls = every fit, forecast,"
                            + " fuse and size call of the run made again directly on the same"
                            + " instances, in the same order per instance, one thread, each timed"
                            + " alone; ratio = wall_s / (bare_calls_s / threads)");
            json.put("main_job", m);
            writeJson(json);
        }
        return 0;
    }

    private static BarData bundled(String id) {
        return BundledData.byId(id)
                .orElseThrow(
                        () ->
                                new IllegalArgumentException(
                                        "[Quiver/BAD_OPTION] --dataset "
                                                + id
                                                + " is not one of "
                                                + BundledData.ids()))
                .load();
    }

    private void writeJson(Map<String, Object> json) {
        try {
            Files.createDirectories(out);
            new ObjectMapper()
                    .enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValue(out.resolve("bench.json").toFile(), json);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out.resolve("bench.json"), e);
        }
    }

    private DecisionLatency.Result latency;
    private double[] nativeXgb;
    private Bench.Result last;
    private int stackFirst;
    private FeatureMatrix features;

    /** Latency of the fused decision; null when the plugins folder lacks the model sources. */
    private DecisionLatency.Result latency(BarData bars, PluginRuntime plugins, PrintWriter o) {
        features = FeaturePipeline.compute(bars);
        // After the LSTM/CatBoost training span (through 2018-12-31) so every source serves.
        long from = Instant.parse("2019-01-01T00:00:00Z").toEpochMilli();
        stackFirst = 0;
        while (stackFirst < bars.size() && bars.startMillis[stackFirst] < from) {
            stackFirst++;
        }
        if (stackFirst + 1000 + latencyRows > bars.size() || stackFirst < 1100) {
            o.println("latency: series too short for the decision-latency bench, skipped");
            return null;
        }
        EnsembleCapability ensemble =
                plugins.ensembles().stream()
                        .filter(e -> e.descriptor().name().equals("stack"))
                        .findFirst()
                        .orElseGet(WeightedFusion::new);
        SizingCapability policy =
                plugins.sizings().stream()
                        .filter(x -> x.descriptor().name().equals("kelly"))
                        .findFirst()
                        .orElse(plugins.sizings().get(0));
        System.err.printf(
                Locale.ROOT,
                "bench %s: decision latency, %d rows x %d rounds%n",
                bars.symbol(),
                latencyRows,
                latencyRounds);
        return DecisionLatency.run(
                features,
                plugins.predictions(),
                ensemble,
                policy,
                stackFirst + 1000,
                latencyRows,
                latencyRounds,
                1000,
                1000);
    }

    /** xgboost4j's own single-row predict through the same source (serving=xgboost4j). */
    private double[] nativeXgboost(BarData bars) {
        Map<String, String> config = new HashMap<>(host.batchConfiguration());
        config.put("ensemble-gbm.xgboost.serving", "xgboost4j");
        try (PluginRuntime plugins = PluginRuntime.start(host.pluginsDir(), config)) {
            var xgb =
                    plugins.predictions().stream()
                            .filter(p -> p.descriptor().name().equals("xgboost"))
                            .findFirst();
            if (xgb.isEmpty()) {
                return null;
            }
            int trainLast = stackFirst - 6;
            return DecisionLatency.forecastLatency(
                    features,
                    xgb.get(),
                    trainLast - 999,
                    trainLast,
                    stackFirst + 1000,
                    Math.min(latencyRows, 2000),
                    1);
        }
    }

    private void print(PrintWriter o) {
        DecisionLatency.Result l = latency;
        o.printf(
                Locale.ROOT,
                "decision latency: %d real rows from %s, %d rounds, p50 / p99 us per bar%n",
                l.rows(),
                l.firstRow(),
                l.rounds());
        l.bareP50P99()
                .forEach(
                        (k, v) ->
                                o.printf(
                                        Locale.ROOT,
                                        "  %-24s %9.2f %9.2f%n",
                                        "bare " + k,
                                        v[0],
                                        v[1]));
        o.printf(
                Locale.ROOT,
                "  %-24s %9.2f %9.2f%n",
                "bare calls, sum per bar",
                l.bareSumP50(),
                l.bareSumP99());
        o.printf(
                Locale.ROOT,
                "  %-24s %9.2f %9.2f   ratio p50 %.2fx (target <= 1.10), p99 %.2fx (target <= 1.20),"
                        + " p99 %s 250 us%n",
                "fused decision",
                l.fusedP50(),
                l.fusedP99(),
                l.fusedP50() / l.bareSumP50(),
                l.fusedP99() / l.bareSumP99(),
                l.fusedP99() <= 250 ? "<=" : ">");
        if (nativeXgb != null) {
            o.printf(
                    Locale.ROOT,
                    "  xgboost serving (Java trees) p50 %.2f us; xgboost4j single-row predict p50"
                            + " %.2f us (%.0fx)%n",
                    xgbServing()[0],
                    nativeXgb[0],
                    nativeXgb[0] / xgbServing()[0]);
        }
        o.println("  ensemble: " + l.ensembleState());
        o.flush();
    }

    private double[] xgbServing() {
        double[] v = latency.bareP50P99().get("xgboost.forecast");
        return v == null ? new double[] {Double.NaN, Double.NaN} : v;
    }

    private void write(Bench.Result r) {
        Map<String, Object> backtest = new LinkedHashMap<>();
        backtest.put("quiver_bars_per_s", r.quiverBarsPerSecond());
        backtest.put("ta4j_double_bars_per_s", r.ta4jDoubleBarsPerSecond());
        backtest.put("ta4j_decimal_bars_per_s", r.ta4jDecimalBarsPerSecond());
        backtest.put("identical_trades", r.identicalTrades());
        backtest.put("speedup_over_double", r.speedupOverDouble());
        backtest.put("speedup_over_decimal", r.speedupOverDecimal());
        backtest.put("trades", r.quiverTrades());
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("dataset", r.dataset());
        json.put("bars", r.bars());
        json.put("runs", r.runs());
        json.put(
                "method",
                "median wall time of timed runs after warm-up, same JVM; data loading not timed");
        json.put("backtest", backtest);
        if (latency != null) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("fused_p50_us", latency.fusedP50());
            d.put("fused_p99_us", latency.fusedP99());
            d.put("bare_sum_p50_us", latency.bareSumP50());
            d.put("bare_sum_p99_us", latency.bareSumP99());
            d.put("xgboost_serving_p50_us", xgbServing()[0]);
            d.put("xgboost4j_single_row_p50_us", nativeXgb == null ? null : nativeXgb[0]);
            d.put("fused_over_bare_p50", latency.fusedP50() / latency.bareSumP50());
            d.put("fused_over_bare_p99", latency.fusedP99() / latency.bareSumP99());
            d.put("rows", latency.rows());
            d.put("rounds", latency.rounds());
            d.put("first_row", latency.firstRow());
            Map<String, Object> calls = new LinkedHashMap<>();
            latency.bareP50P99()
                    .forEach((k, v) -> calls.put(k, Map.of("p50_us", v[0], "p99_us", v[1])));
            d.put("bare_calls", calls);
            d.put(
                    "method",
                    "per-bar wall time (System.nanoTime) cycling through real feature rows after"
                            + " the LSTM/CatBoost training span; sources fitted on the 1000 bars"
                            + " before a 1000-bar stacking span, ensemble fitted on that span's"
                            + " forecasts; fused = frame + all forecasts + fusion + sizing through"
                            + " the risk guard; bare_sum = per-bar sum of each call timed alone");
            json.put("decision", d);
        }
        try {
            Files.createDirectories(out);
            new ObjectMapper()
                    .enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValue(out.resolve("bench.json").toFile(), json);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out.resolve("bench.json"), e);
        }
    }

    private static <T> T pick(List<T> capabilities, String kind, String name) {
        return capabilities.stream()
                .filter(c -> nameOf(c).equals(name))
                .findFirst()
                .orElseThrow(
                        () ->
                                new IllegalArgumentException(
                                        "[Quiver/NOTHING_TO_RUN] bench needs the "
                                                + kind
                                                + " capability '"
                                                + name
                                                + "' from the plugins folder"));
    }

    private static String nameOf(Object c) {
        if (c instanceof PredictionCapability p) {
            return p.descriptor().name();
        }
        return ((SizingCapability) c).descriptor().name();
    }
}
