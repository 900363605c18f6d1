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
import dev.quiver.host.bench.AliasMoveBench;
import dev.quiver.host.bench.Bench;
import dev.quiver.host.bench.BundleLoadBench;
import dev.quiver.host.bench.DecisionLatency;
import dev.quiver.host.bench.MainJobBench;
import dev.quiver.host.bench.SessionHttpBench;
import dev.quiver.host.bench.SessionStepBench;
import dev.quiver.host.bench.StallBench;
import dev.quiver.host.bench.SwapBench;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.strategy.BundleLoader;
import dev.quiver.host.strategy.StrategyBundle;
import dev.quiver.host.strategy.StrategyFitter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
            defaultValue = "21",
            description =
                    "Timed rounds, one run of Quiver and of ta4j DoubleNum each (default:"
                            + " ${DEFAULT-VALUE}).")
    int runs;

    @Option(
            names = "--warmup-runs",
            defaultValue = "30",
            description =
                    "Untimed warm-up rounds before them, same for both sides (default:"
                            + " ${DEFAULT-VALUE}).")
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
                            + " threads), and main_job_cpu{cpu_s, bare_cpu_s, cpu_ratio,"
                            + " load_average}: the process's CPU time during the job and during"
                            + " the bare calls (not moved by the machine's load as wall_s is),"
                            + " and main_job_threads{...}: where the job's CPU went per group of"
                            + " threads and how the account pass spent its wall time (on a CPU,"
                            + " waiting for one, blocked), from Linux's per-thread scheduler"
                            + " statistics.")
    boolean mainJob;

    @Option(
            names = "--timeline",
            description =
                    "With --main-job: also print the job's timeline, one line per second: CPU"
                            + " seconds of the account pass, the workers, the JIT and the GC, and"
                            + " the account pass's wait for a core.")
    boolean timeline;

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

    @Option(
            names = "--session",
            negatable = true,
            defaultValue = "true",
            fallbackValue = "true",
            description =
                    "Also bench live sessions and the strategy bundle: an in-process session step"
                            + " against its plugin calls, the fused decision through the bundle"
                            + " against the plugins' own path, the bundle's load time, and"
                            + " session decisions over HTTP against the same server's GET"
                            + " /health/live (default: ${DEFAULT-VALUE}).")
    boolean session;

    @Option(
            names = "--backtest-only",
            description =
                    "Only the backtest throughput against ta4j (no decision latency, no session or"
                            + " bundle benches).")
    boolean backtestOnly;

    @Option(
            names = "--session-only",
            description =
                    "Only the session and bundle benches (no backtest, no decision latency, so no"
                            + " fused comparison with today's path).")
    boolean sessionOnly;

    @Option(
            names = "--strategy",
            paramLabel = "DIR",
            description =
                    "Strategy bundle for the session bench (default: the distribution's,"
                            + " QUIVER_HOME/strategies/btc-usd-4h).")
    Path strategyDir;

    @Option(
            names = "--session-connections",
            defaultValue = "16",
            description =
                    "HTTP connections, one session (symbol) each (default: ${DEFAULT-VALUE}).")
    int sessionConnections;

    @Option(
            names = "--session-warmup-until",
            paramLabel = "TIME",
            defaultValue = "2021-01-01T00:00:00Z",
            description =
                    "Sessions warm up on the bundled BTC bars up to TIME; the bars after it are"
                            + " posted (default: ${DEFAULT-VALUE}).")
    Instant sessionWarmupUntil;

    @Option(
            names = "--session-warmup-seconds",
            defaultValue = "10",
            description =
                    "Untimed HTTP load per phase, seconds: long enough for the JIT to finish"
                            + " (default: ${DEFAULT-VALUE}).")
    int sessionWarmupSeconds;

    @Option(
            names = "--session-seconds",
            defaultValue = "10",
            description = "Timed HTTP load per phase, seconds (default: ${DEFAULT-VALUE}).")
    int sessionSeconds;

    @Option(
            names = "--session-synchronous",
            paramLabel = "FULL|NORMAL",
            defaultValue = "FULL",
            description =
                    "SQLite synchronous setting of the HTTP bench's state store: FULL (the default,"
                            + " as serve runs: every commit fsynced) or NORMAL (as a state URL with"
                            + " ?synchronous=NORMAL: commits survive a crash of the process, not a"
                            + " power loss) (default: ${DEFAULT-VALUE}).")
    String sessionSynchronous;

    @Option(
            names = "--training-load",
            description =
                    "Only the decision latency under training (issue 12): the session step's p50"
                            + " and p99 (--step-rows bars x --step-rounds) steady, then again while a"
                            + " fit-strategy job (the job kind the service runs, on one thread at"
                            + " minimum priority, as the training pool runs it) fits on the bundled"
                            + " BTC series; prints both and the p99 ratio against the target 1.5x.")
    boolean trainingLoad;

    @Option(
            names = "--step-rows",
            defaultValue = "2000",
            description = "Bars each timed session-step round steps (default: ${DEFAULT-VALUE}).")
    int stepRows;

    @Option(
            names = "--step-rounds",
            defaultValue = "3",
            description = "Timed session-step rounds, 0 to skip (default: ${DEFAULT-VALUE}).")
    int stepRounds;

    @Option(
            names = "--alias-moves",
            defaultValue = "3",
            description =
                    "With a registry (--tracking-uri or MLFLOW_TRACKING_URI): alias moves timed"
                            + " from the move to a session's first decision by the new bundle"
                            + " version, 0 to skip (default: ${DEFAULT-VALUE}).")
    int aliasMoves;

    @Option(
            names = "--stalling-plugin",
            description =
                    "Instead: decision latency over HTTP (POST /v1/decisions, 300 real bars each,"
                            + " the service in this JVM with the configured isolation) while a"
                            + " plugin hangs on 1 call in --stall-every until the host cuts it"
                            + " off at --deadline-ms; prints p50/p99/max and exits 1 when the p99 is"
                            + " above --budget-p99-ms (RELIABILITY.md P2), a request fails, or the"
                            + " plugin was quarantined.")
    boolean stallingPlugin;

    @Option(
            names = "--decisions",
            defaultValue = "3000",
            description = "Timed decisions for --stalling-plugin (default: ${DEFAULT-VALUE}).")
    int decisions;

    @Option(
            names = "--warmup-decisions",
            defaultValue = "300",
            description = "Untimed decisions before them (default: ${DEFAULT-VALUE}).")
    int warmupDecisions;

    @Option(
            names = "--stall-every",
            defaultValue = "20",
            paramLabel = "N",
            description =
                    "The plugin hangs on 1 call in N (default: ${DEFAULT-VALUE}: 1 missed deadline"
                            + " in any 20 calls, under the quarantine rate of 3 in 20 with room for"
                            + " a stray miss).")
    int stallEvery;

    @Option(
            names = "--deadline-ms",
            defaultValue = "50",
            description = "The plugins' per-call deadline, ms (default: ${DEFAULT-VALUE}).")
    int deadlineMs;

    @Option(
            names = "--budget-p99-ms",
            defaultValue = "60",
            description =
                    "The p99 a decision must stay within, ms (default: ${DEFAULT-VALUE}, the"
                            + " budget of RELIABILITY.md P2).")
    double budgetP99Ms;

    private AliasMoveBench.Outcome aliasMove;

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

    private int stallingPluginBench() throws Exception {
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
        var plan =
                new StallBench.Plan(
                        decisions,
                        warmupDecisions,
                        stallEvery,
                        Duration.ofMillis(deadlineMs),
                        budgetP99Ms);
        StallBench.Result r =
                StallBench.run(plan, host.pluginsDir(), host.configuration(), bars, System.err);
        PrintWriter o = spec.commandLine().getOut();
        o.printf(
                Locale.ROOT,
                "stalling-plugin bench: %,d decisions over HTTP (POST /v1/decisions, %s, 300 bars"
                        + " each, one client) while plugin '%s' hangs on 1 call in %d;"
                        + " deadline %d ms, isolation %s%n",
                r.decisions(),
                bars.symbol(),
                StallBench.PLUGIN_ID,
                stallEvery,
                deadlineMs,
                r.isolation());
        var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        o.printf(
                Locale.ROOT,
                "  machine: load average %.1f on %d cores at the end of the run%n",
                os.getSystemLoadAverage(),
                os.getAvailableProcessors());
        o.printf(
                Locale.ROOT,
                "  decision time  p50 %.2f ms  p99 %.2f ms  max %.2f ms  (budget: p99 <= %.0f ms)%n",
                r.p50Millis(),
                r.p99Millis(),
                r.maxMillis(),
                budgetP99Ms);
        o.printf(
                Locale.ROOT,
                "  decisions that fell back at the plugin's deadline: %,d (p50 %.2f ms, max %.2f"
                        + " ms); with another failed source: %,d; failed requests: %,d%n",
                r.stalledDecisions(),
                r.stalledP50Millis(),
                r.stalledMaxMillis(),
                r.otherFailedSources(),
                r.failedRequests());
        o.printf(
                Locale.ROOT,
                "  plugin %s: %s, %,d calls, %,d missed deadlines%n",
                r.plugin().pluginId(),
                r.plugin().state(),
                r.plugin().calls(),
                r.plugin().deadlineMisses());
        String failure = r.failure(budgetP99Ms);
        o.println(failure == null ? "  check: passed" : "  check: FAILED, " + failure);
        o.flush();
        return failure == null ? 0 : 1;
    }

    @Override
    public Integer call() throws Exception {
        if (stallingPlugin) {
            return stallingPluginBench();
        }
        if (swap) {
            return swapBench();
        }
        if (mainJob) {
            return mainJobBench();
        }
        if (sessionOnly) {
            return sessionOnly();
        }
        if (trainingLoad) {
            return trainingLoad();
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
                    "  ta4j DoubleNum                %,14.0f bars/s   quiver is %.1fx (target >= 5x%s)%n",
                    r.ta4jDoubleBarsPerSecond(),
                    r.speedupOverDouble(),
                    r.speedupOverDouble() >= 5 ? "" : ", not met");
            o.printf(
                    Locale.ROOT,
                    "  ta4j DecimalNum (default)     %,14.0f bars/s   quiver is %.1fx (target >= 50x%s)%n",
                    r.ta4jDecimalBarsPerSecond(),
                    r.speedupOverDecimal(),
                    r.speedupOverDecimal() >= 50 ? "" : ", not met");
            o.printf(
                    Locale.ROOT,
                    "  its plugin calls alone        %,14.0f bars/s   the ceiling: %.1fx ta4j DoubleNum%n",
                    r.pluginCallsBarsPerSecond(),
                    r.pluginCallsOverDouble());
            o.printf(
                    Locale.ROOT,
                    "  trades: quiver %d, ta4j %d, identical: %s%s%n",
                    r.quiverTrades(),
                    r.ta4jTrades(),
                    r.identicalTrades(),
                    r.identicalTrades() ? "" : " (" + r.firstDifference() + ")");
            o.flush();
            if (backtestOnly) {
                if (out != null) {
                    write(last);
                }
                return last.identicalTrades() ? 0 : 1;
            }
            latency = latency(bars, plugins, o);
            if (session) {
                bundleAndStep(plugins);
            }
        }
        if (latency != null) {
            nativeXgb = nativeXgboost(bars);
            print(spec.commandLine().getOut());
        }
        if (session && bundleDir != null) {
            http = httpBench();
            printSession(spec.commandLine().getOut());
        }
        if (out != null) {
            write(last);
        }
        return last.identicalTrades() ? 0 : 1;
    }

    /** The job's timeline, one line per second (the sampler's intervals summed). */
    private static void printTimeline(PrintWriter o, List<MainJobBench.Interval> intervals) {
        o.printf(
                Locale.ROOT,
                "  timeline (CPU seconds per second of the job; wait = the account pass runnable,"
                        + " waiting for a core):%n"
                        + "    %5s %8s %8s %8s %8s %8s%n",
                "t_s",
                "account",
                "wait",
                "workers",
                "jit",
                "gc");
        double[] acc = new double[5];
        int second = 1;
        for (MainJobBench.Interval i : intervals) {
            acc[0] += i.cpuSeconds().get("account_pass");
            acc[1] += i.accountWaitSeconds();
            acc[2] += i.cpuSeconds().get("workers");
            acc[3] += i.cpuSeconds().get("jit");
            acc[4] += i.cpuSeconds().get("gc");
            if (i.endSeconds() >= second || i == intervals.get(intervals.size() - 1)) {
                o.printf(
                        Locale.ROOT,
                        "    %5d %8.2f %8.2f %8.2f %8.2f %8.2f%n",
                        second,
                        acc[0],
                        acc[1],
                        acc[2],
                        acc[3],
                        acc[4]);
                java.util.Arrays.fill(acc, 0);
                second = (int) Math.floor(i.endSeconds()) + 1;
            }
        }
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
            EnsembleCapability ensemble = StrategyCommand.ensembleOf(plugins);
            r =
                    MainJobBench.run(
                            bars,
                            plugins.predictions(),
                            ensemble,
                            StrategyFitter.comparedEnsembles(plugins, ensemble),
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
                "main_job_cpu{cpu_s=%.2f, bare_cpu_s=%.2f, cpu_ratio=%.2f, load_average=%.1f}%n",
                r.cpuSeconds(),
                r.bareCpuSeconds(),
                r.cpuRatio(),
                r.loadAverage());
        double[] split = r.accountPassSplit();
        if (split != null) {
            Map<String, Double> c = r.threadCpu();
            o.printf(
                    Locale.ROOT,
                    "main_job_threads{account_pass_cpu_s=%.2f, account_pass_runqueue_s=%.2f,"
                            + " account_pass_blocked_s=%.2f, workers_cpu_s=%.2f, jit_cpu_s=%.2f,"
                            + " gc_cpu_s=%.2f, other_cpu_s=%.2f}%n",
                    split[0],
                    split[1],
                    split[2],
                    c.get("workers"),
                    c.get("jit"),
                    c.get("gc"),
                    c.get("other"));
        }
        if (timeline) {
            printTimeline(o, r.timeline());
        }
        o.printf(
                Locale.ROOT,
                "  ratio = wall_s / (bare_calls_s / threads), target <= 1.5; cpu_ratio = the"
                        + " process's CPU time during the job / during the bare calls' replay"
                        + " (JIT and GC included; not exposed to the machine's load as wall_s is)%n"
                        + "  bare calls, each timed alone on one thread (s, calls):%n");
        r.bareCalls()
                .forEach(
                        (k, v) ->
                                o.printf(
                                        Locale.ROOT,
                                        "    %-22s %8.2f s %,9d%s%n",
                                        k,
                                        v[0],
                                        (long) v[1],
                                        v[2] > 0 ? "  (" + (long) v[2] + " failed)" : ""));
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
            m.put("cpu_s", r.cpuSeconds());
            m.put("bare_cpu_s", r.bareCpuSeconds());
            m.put("cpu_ratio", r.cpuRatio());
            m.put("load_average", r.loadAverage());
            if (split != null) {
                Map<String, Object> th = new LinkedHashMap<>(r.threadCpu());
                th.put("account_pass_blocked", split[2]);
                m.put("thread_cpu_s", th);
                m.put(
                        "timeline",
                        r.timeline().stream()
                                .map(
                                        i -> {
                                            Map<String, Object> row = new LinkedHashMap<>();
                                            row.put("t_s", i.endSeconds());
                                            row.putAll(i.cpuSeconds());
                                            row.put("account_pass_wait", i.accountWaitSeconds());
                                            return row;
                                        })
                                .toList());
            }
            m.put("cores", Runtime.getRuntime().availableProcessors());
            Map<String, Object> calls = new LinkedHashMap<>();
            r.bareCalls()
                    .forEach(
                            (k, v) ->
                                    calls.put(
                                            k,
                                            Map.of(
                                                    "s",
                                                    v[0],
                                                    "calls",
                                                    (long) v[1],
                                                    "failed",
                                                    (long) v[2])));
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
    private Path bundleDir;
    private BundleLoadBench.Result bundleLoad;
    private Map<String, double[]> bundleFused;
    private SessionStepBench.Result step;
    private SessionHttpBench.Result http;
    private double[] nativeXgb;
    private Bench.Result last;
    private int stackFirst;
    private EnsembleCapability latencyEnsemble;
    private SizingCapability latencyPolicy;
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
        latencyEnsemble = ensemble;
        latencyPolicy = policy;
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

    private int sessionOnly() throws Exception {
        try (PluginRuntime plugins =
                PluginRuntime.start(host.pluginsDir(), host.batchConfiguration())) {
            bundleAndStep(plugins);
        }
        if (bundleDir == null) {
            return 1;
        }
        http = httpBench();
        printSession(spec.commandLine().getOut());
        if (out != null) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("session", sessionJson());
            json.put("strategy_bundle", bundleJson());
            writeJson(json);
        }
        return http.failed() == 0 ? 0 : 1;
    }

    /**
     * Decision latency (the in-process session step) steady and while a {@code fit-strategy} job
     * runs beside it on a minimum-priority thread; printed, never judged here.
     */
    private int trainingLoad() throws Exception {
        if (stepRounds < 1 || stepRows < 1) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] --step-rows and --step-rounds must be >= 1 with"
                            + " --training-load");
        }
        Path dir =
                strategyDir != null
                        ? strategyDir
                        : HostOptions.home().resolve("strategies").resolve("btc-usd-4h");
        if (!Files.isRegularFile(dir.resolve(StrategyBundle.MANIFEST))) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] --strategy: no strategy bundle at " + dir);
        }
        StrategyBundle bundle = StrategyBundle.open(dir);
        BarData btc = BundledData.BTC_USD_4H.load();
        Path work = Files.createTempDirectory("quiver-bench-training-");
        PrintWriter out = spec.commandLine().getOut();
        try (PluginRuntime plugins =
                PluginRuntime.start(host.pluginsDir(), host.batchConfiguration())) {
            System.err.printf(
                    Locale.ROOT,
                    "bench: session step steady, %d bars after %s x %d rounds%n",
                    stepRows,
                    sessionWarmupUntil,
                    stepRounds);
            SessionStepBench.Result steady =
                    SessionStepBench.run(
                            plugins,
                            bundle,
                            btc,
                            sessionWarmupUntil,
                            "BENCH-STEADY",
                            stepRows,
                            stepRounds);
            dev.quiver.host.training.FitStrategyJob fit =
                    new dev.quiver.host.training.FitStrategyJob(
                            () -> PluginRuntime.start(host.pluginsDir(), host.batchConfiguration()),
                            java.util.Optional.empty(),
                            work);
            var params =
                    fit.validate(
                            RolloutCommand.JSON
                                    .createObjectNode()
                                    .put("dataset", BundledData.BTC_USD_4H.id()));
            java.util.concurrent.atomic.AtomicReference<String> note =
                    new java.util.concurrent.atomic.AtomicReference<>("not started");
            java.util.concurrent.atomic.AtomicReference<Throwable> failed =
                    new java.util.concurrent.atomic.AtomicReference<>();
            dev.quiver.host.training.JobContext context =
                    new dev.quiver.host.training.JobContext() {
                        @Override
                        public String jobId() {
                            return "bench-fit";
                        }

                        @Override
                        public void progress(double fraction, String text) {
                            if (Thread.currentThread().isInterrupted()) {
                                throw new java.util.concurrent.CancellationException("bench over");
                            }
                            note.set(text);
                        }
                    };
            Thread job =
                    new Thread(
                            () -> {
                                try {
                                    fit.run(params, context);
                                } catch (Exception | Error e) {
                                    failed.set(e);
                                }
                            },
                            "quiver-training");
            job.setDaemon(true);
            job.setPriority(Thread.MIN_PRIORITY);
            job.start();
            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            while (!note.get().contains("fold") && job.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            System.err.println("bench: session step while the fit runs (" + note.get() + ")");
            SessionStepBench.Result loaded =
                    SessionStepBench.run(
                            plugins,
                            bundle,
                            btc,
                            sessionWarmupUntil,
                            "BENCH-LOADED",
                            stepRows,
                            stepRounds);
            boolean ranThrough = job.isAlive();
            String at = note.get();
            job.interrupt();
            job.join(Duration.ofMinutes(2).toMillis());
            out.printf(
                    Locale.ROOT,
                    "decision latency (session step, %d bars x %d rounds, %d cores):%n"
                            + "  steady:                       p50 %8.1f us  p99 %8.1f us%n"
                            + "  while a fit-strategy job runs: p50 %8.1f us  p99 %8.1f us  (fit %s:"
                            + " %s)%n"
                            + "  p99 ratio %.2f (target <= 1.5)%n",
                    stepRows,
                    stepRounds,
                    Runtime.getRuntime().availableProcessors(),
                    steady.stepP50(),
                    steady.stepP99(),
                    loaded.stepP50(),
                    loaded.stepP99(),
                    ranThrough ? "still running at the end" : "ended before the end",
                    failed.get() == null
                                    || failed.get()
                                            instanceof java.util.concurrent.CancellationException
                            ? at
                            : "failed: " + failed.get(),
                    loaded.stepP99() / steady.stepP99());
            out.flush();
        } finally {
            try (var files = Files.walk(work)) {
                for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
        return 0;
    }

    /** The bundle's load time, its fused decision against today's, and the session step. */
    private void bundleAndStep(PluginRuntime plugins) {
        Path dir =
                strategyDir != null
                        ? strategyDir
                        : HostOptions.home().resolve("strategies").resolve("btc-usd-4h");
        if (!Files.isRegularFile(dir.resolve(StrategyBundle.MANIFEST))) {
            System.err.println(
                    "bench: no strategy bundle at "
                            + dir
                            + " (the build fits one; --strategy DIR names another): session"
                            + " bench skipped");
            return;
        }
        bundleDir = dir;
        System.err.println("bench: strategy bundle load time, " + dir);
        bundleLoad = BundleLoadBench.run(dir, plugins, 7);
        aliasMove =
                AliasMoveBench.runOrSkip(
                        HostOptions.trackingUri(trackingUri), dir, plugins, aliasMoves, System.err);
        StrategyBundle bundle = StrategyBundle.open(dir);
        BarData btc = BundledData.BTC_USD_4H.load();
        if (latency != null) {
            System.err.println("bench: fused decision, bundle vs plugins as fitted here");
            try (BundleLoader.Loaded loaded = BundleLoader.load(bundle, plugins)) {
                List<PredictionCapability> today =
                        plugins.predictions().stream()
                                .filter(
                                        p ->
                                                latency.bareP50P99()
                                                        .containsKey(
                                                                p.descriptor().name()
                                                                        + ".forecast"))
                                .toList();
                SizingCapability kelly =
                        loaded.strategy().policies().stream()
                                .filter(x -> x.descriptor().name().equals("kelly"))
                                .findFirst()
                                .orElse(loaded.strategy().policies().get(0));
                bundleFused =
                        DecisionLatency.fused(
                                features,
                                List.of(
                                        new DecisionLatency.Chain(
                                                "today", today, latencyEnsemble, latencyPolicy),
                                        new DecisionLatency.Chain(
                                                "bundle",
                                                loaded.strategy().sources(),
                                                loaded.strategy().ensemble(),
                                                kelly)),
                                stackFirst + 1000,
                                latencyRows,
                                latencyRounds);
            }
        }
        if (stepRounds < 1) {
            return;
        }
        System.err.printf(
                Locale.ROOT,
                "bench: session step, %d bars after %s x %d rounds%n",
                stepRows,
                sessionWarmupUntil,
                stepRounds);
        step =
                SessionStepBench.run(
                        plugins,
                        bundle,
                        btc,
                        sessionWarmupUntil,
                        "BENCH-STEP",
                        stepRows,
                        stepRounds);
    }

    /** Session decisions over HTTP, with the live isolation (as serve). */
    private SessionHttpBench.Result httpBench() throws Exception {
        Path state = Files.createTempDirectory("quiver-session-bench-");
        try (PluginRuntime plugins = PluginRuntime.start(host.pluginsDir(), host.configuration())) {
            return SessionHttpBench.run(
                    new SessionHttpBench.Plan(
                            sessionConnections,
                            sessionWarmupUntil,
                            Duration.ofSeconds(sessionWarmupSeconds),
                            Duration.ofSeconds(sessionSeconds),
                            "BENCH"),
                    plugins,
                    StrategyBundle.open(bundleDir),
                    BundledData.BTC_USD_4H.load(),
                    state,
                    sessionSynchronous,
                    System.err);
        } finally {
            deleteTree(state);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private void printSession(PrintWriter o) {
        if (aliasMove != null) {
            o.println(aliasMove.line());
        }
        if (bundleLoad != null) {
            o.printf(
                    Locale.ROOT,
                    "strategy bundle %s: load (open + sha256 + restore) first %.1f ms, p50 %.1f ms,"
                            + " min %.1f ms over %d loads%n",
                    bundleDir,
                    bundleLoad.firstMs(),
                    bundleLoad.p50Ms(),
                    bundleLoad.minMs(),
                    bundleLoad.runs() - 1);
        }
        if (bundleFused != null) {
            double[] t = bundleFused.get("today");
            double[] b = bundleFused.get("bundle");
            o.printf(
                    Locale.ROOT,
                    "  fused decision p50 / p99 us: plugins as fitted here %.2f / %.2f, through the"
                            + " bundle %.2f / %.2f   ratio p50 %.2fx (target <= 1.05)%n",
                    t[0],
                    t[1],
                    b[0],
                    b[1],
                    b[0] / t[0]);
        }
        if (step != null) {
            o.printf(
                    Locale.ROOT,
                    "session step (in-process, same-thread plugin calls): %d bars from %s, %d"
                            + " rounds, p50 / p99 us%n",
                    step.rows(),
                    step.firstBar(),
                    step.rounds());
            step.bare()
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
                    step.bareSumP50(),
                    step.bareSumP99());
            o.printf(
                    Locale.ROOT,
                    "  %-24s %9.2f %9.2f   ratio p50 %.2fx (target <= 1.2)%n",
                    "SymbolSession.append",
                    step.stepP50(),
                    step.stepP99(),
                    step.ratio());
        }
        if (http != null) {
            SessionHttpBench.Result h = http;
            o.printf(
                    Locale.ROOT,
                    "session decisions over HTTP: %d connections, one session (symbol) each, one"
                            + " real bar per request, %ds timed after %ds; state %s%n",
                    sessionConnections,
                    sessionSeconds,
                    sessionWarmupSeconds,
                    h.state());
            o.printf(
                    Locale.ROOT,
                    "  machine: load average %s (start of the first floor phase, of the decisions,"
                            + " end of the last floor phase) on %d cores%n",
                    h.loadAverage().stream()
                            .map(x -> String.format(Locale.ROOT, "%.1f", x))
                            .toList(),
                    Runtime.getRuntime().availableProcessors());
            phase(o, "POST .../bars", h.sessions());
            phase(o, "GET /health/live (before)", h.floorBefore());
            phase(o, "GET /health/live (after)", h.floorAfter());
            o.printf(
                    Locale.ROOT,
                    "  decisions / floor %.2fx (target >= 0.5); p99 / p50 %.1fx (target <= 10)%n",
                    h.ratio(),
                    h.sessions().p99Us() / h.sessions().p50Us());
            o.printf(
                    Locale.ROOT,
                    "  failed answers %d, decisions without a signal %d, with a failed source %d;"
                            + " %d bars posted per session from %s%n",
                    h.failed(),
                    h.noSignal(),
                    h.failedSources(),
                    h.barsPosted(),
                    h.firstPostedBar());
            o.printf(
                    Locale.ROOT,
                    "  state store: %d transactions in %d commits during the decisions (group"
                            + " commit, %.1f per commit); COMMIT (the WAL's fsync) %.0f us per"
                            + " commit, a batch %.0f us begin to commit; batches running %.0f%% of"
                            + " the phase%n",
                    h.sessionTransactions(),
                    h.sessionCommits(),
                    h.sessionTransactions() / (double) Math.max(1, h.sessionCommits()),
                    h.sessionCommitNanos() / 1e3 / Math.max(1, h.sessionCommits()),
                    h.sessionBatchNanos() / 1e3 / Math.max(1, h.sessionCommits()),
                    100.0 * h.sessionBatchNanos() / Math.max(1, h.sessionPhaseNanos()));
        }
        o.flush();
    }

    private static void phase(PrintWriter o, String what, SessionHttpBench.Phase p) {
        o.printf(
                Locale.ROOT,
                "  %-26s %,9.0f /s  p50 %8.0f us  p99 %8.0f us  max %8.0f us  (n=%,d;"
                        + " JVM CPU %,.0f us/request)%n",
                what,
                p.perSecond(),
                p.p50Us(),
                p.p99Us(),
                p.maxUs(),
                p.requests(),
                p.cpuUsPerRequest());
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
        backtest.put("plugin_calls_bars_per_s", r.pluginCallsBarsPerSecond());
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("dataset", r.dataset());
        json.put("bars", r.bars());
        json.put("runs", r.runs());
        json.put(
                "method",
                "median wall time of timed runs after warm-up, same JVM; Quiver = the walk-forward"
                        + " backtest stepping SymbolEngine, interleaved round by round with ta4j"
                        + " DoubleNum; data loading not timed");
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
        if (http != null || step != null) {
            json.put("session", sessionJson());
        }
        if (bundleLoad != null) {
            json.put("strategy_bundle", bundleJson());
        }
        writeJson(json);
    }

    private Map<String, Object> sessionJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (http != null) {
            SessionHttpBench.Result h = http;
            m.put("http_decisions_per_s", h.sessions().perSecond());
            m.put("http_floor_per_s", h.floor().perSecond());
            m.put("http_p50_us", h.sessions().p50Us());
            m.put("http_p99_us", h.sessions().p99Us());
        }
        if (step != null) {
            m.put("step_p50_us", step.stepP50());
            m.put("bare_sum_p50_us", step.bareSumP50());
        }
        if (http != null) {
            SessionHttpBench.Result h = http;
            m.put("http_over_floor", h.ratio());
            m.put("http_p99_over_p50", h.sessions().p99Us() / h.sessions().p50Us());
            m.put("http_connections", sessionConnections);
            m.put("http_decisions", h.sessions().requests());
            m.put("http_failed", h.failed());
            m.put("http_no_signal", h.noSignal());
            m.put("http_failed_sources", h.failedSources());
            m.put(
                    "http_floor_phases_per_s",
                    List.of(h.floorBefore().perSecond(), h.floorAfter().perSecond()));
            m.put("http_floor_p50_us", h.floor().p50Us());
            m.put("http_floor_p99_us", h.floor().p99Us());
            m.put("http_cpu_us_per_decision", h.sessions().cpuUsPerRequest());
            m.put("http_floor_cpu_us_per_request", h.floor().cpuUsPerRequest());
            m.put("http_state", h.state());
            m.put("http_load_average", h.loadAverage());
            m.put("http_synchronous", sessionSynchronous.toUpperCase(Locale.ROOT));
            m.put("http_store_commits", h.sessionCommits());
            m.put("http_store_transactions", h.sessionTransactions());
            m.put(
                    "http_store_commit_us",
                    h.sessionCommitNanos() / 1e3 / Math.max(1, h.sessionCommits()));
            m.put(
                    "http_store_batch_us",
                    h.sessionBatchNanos() / 1e3 / Math.max(1, h.sessionCommits()));
            m.put(
                    "http_store_busy",
                    h.sessionBatchNanos() / (double) Math.max(1, h.sessionPhaseNanos()));
        }
        if (step != null) {
            m.put("step_p99_us", step.stepP99());
            m.put("bare_sum_p99_us", step.bareSumP99());
            m.put("step_over_bare_p50", step.ratio());
            m.put("step_rows", step.rows());
            m.put("step_rounds", step.rounds());
            m.put("step_first_bar", step.firstBar());
            Map<String, Object> calls = new LinkedHashMap<>();
            step.bare().forEach((k, v) -> calls.put(k, Map.of("p50_us", v[0], "p99_us", v[1])));
            m.put("bare_calls", calls);
        }
        m.put(
                "method",
                "HTTP: the service in the bench's JVM with serve's plugin isolation (per-bar plugin"
                        + " calls on the request's thread under the call watchdog's deadline),"
                        + " the strategy bundle, a fresh SQLite state store (WAL,"
                        + " synchronous="
                        + sessionSynchronous.toUpperCase(Locale.ROOT)
                        + ", group commit, every bar committed before its"
                        + " answer); one session per connection (its own symbol, the bundled"
                        + " BTC 4h bars, warmed up to "
                        + sessionWarmupUntil
                        + "); closed-loop java.net.http clients, one keep-alive connection each,"
                        + " one new bar per request; the floor is GET /health/live with the same"
                        + " clients before and after (the higher counts); throughput = requests"
                        + " completed in the timed window / its length; latency send -> body"
                        + " received (HdrHistogram). Step: SymbolSession.append per bar,"
                        + " same-thread plugin calls, fresh instances per round; bare_sum ="
                        + " per-bar sum of each forecast, fuse and size timed alone on the inputs"
                        + " the step saw. Load generator and service share the machine's cores.");
        return m;
    }

    private Map<String, Object> bundleJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("bundle", bundleDir.toString());
        m.put("load_first_ms", bundleLoad.firstMs());
        m.put("load_p50_ms", bundleLoad.p50Ms());
        m.put("load_min_ms", bundleLoad.minMs());
        m.put("loads", bundleLoad.runs());
        if (aliasMove != null && aliasMove.result() != null) {
            m.put("alias_move_to_first_decision_ms", aliasMove.result().moveMillis());
            m.put("alias_move_poll_ms", aliasMove.result().poll().toMillis());
        } else if (aliasMove != null) {
            m.put("alias_move_skipped", aliasMove.skipped());
        }
        if (bundleFused != null) {
            m.put("fused_p50_us", bundleFused.get("bundle")[0]);
            m.put("fused_p99_us", bundleFused.get("bundle")[1]);
            m.put("today_fused_p50_us", bundleFused.get("today")[0]);
            m.put("today_fused_p99_us", bundleFused.get("today")[1]);
            m.put(
                    "fused_over_today_p50",
                    bundleFused.get("bundle")[0] / bundleFused.get("today")[0]);
        }
        m.put("alias_move_to_first_decision_ms", null);
        m.put(
                "method",
                "load = StrategyBundle.open (sha256 of every file) + BundleLoader.load (fresh"
                        + " instances, models and states restored), first in this JVM and p50 of"
                        + " the rest; fused = the decision-latency span (frame, forecasts, fusion,"
                        + " kelly through the risk guard) on the same rows with the bundle's"
                        + " instances vs the plugins' own fitted here (today's path), taking"
                        + " turns per round; alias_move_to_first_decision_ms: from setAlias"
                        + " returning to the session's first decision by the new version, 1 s"
                        + " poll included (AliasMoveBench), measured only with a tracking URI");
        return m;
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
