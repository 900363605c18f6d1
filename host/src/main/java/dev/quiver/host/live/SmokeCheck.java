package dev.quiver.host.live;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.registry.SmokeSet;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The smoke prediction a model version must pass before it serves: the capability, built with the
 * version's files, forecasts every recorded bar of its {@link SmokeSet} and must reproduce every
 * recorded {@code p_up} within the set's tolerance.
 *
 * <p>Run first in a child JVM ({@link #inChildJvm}): {@code java -cp <this JVM's class path>
 * dev.quiver.host.live.SmokeCheck ...} loads only the one plugin (from its already expanded folder)
 * with {@code PLUGIN.CAPABILITY.model=<sidecar>} ({@link ModelBinding#configKey}, the key the
 * in-process instance is built with too) and prints one result line as JSON on stdout. A malformed
 * ONNX or LightGBM file can crash a JVM in native code rather than throw; a crash, a non-zero exit
 * or a missed timeout of the child is a refusal with that reason, and the serving JVM never touched
 * the file. Then the same check runs in-process on the instance that will serve ({@link #check}).
 *
 * <p>Recording ({@link #record}) is the same computation, on the bundled series' last bars.
 */
public final class SmokeCheck {

    /** Prefix of the child's result line on stdout. */
    static final String RESULT_PREFIX = "QUIVER_SMOKE_RESULT ";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, FeatureMatrix> FEATURES = new ConcurrentHashMap<>();

    private SmokeCheck() {}

    /**
     * Outcome of a check.
     *
     * @param passed every case reproduced within tolerance
     * @param cases cases run
     * @param maxAbsDiff largest {@code |p_up - recorded|} over the cases run (NaN if none ran)
     * @param reason why it failed, empty when passed
     */
    public record Result(boolean passed, int cases, double maxAbsDiff, String reason) {

        static Result failed(String reason) {
            return new Result(false, 0, Double.NaN, reason);
        }
    }

    /**
     * Records a smoke set: the capability's {@code p_up} on the last {@code count} bars of a
     * bundled series that it forecasts (bars it declines, e.g. inside its training span, are
     * skipped).
     *
     * @param prediction the capability, built with the model to record
     * @param pluginId its plugin
     * @param dataset bundled series
     * @param count cases wanted, {@code >= 1}
     * @param tolerance the tolerance to store, in (0, 0.5]
     * @return the set
     * @throws IllegalArgumentException if the capability forecasts none of those bars
     */
    public static SmokeSet record(
            PredictionCapability prediction,
            String pluginId,
            BundledData dataset,
            int count,
            double tolerance) {
        if (count < 1) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] --smoke-bars must be >= 1, was " + count);
        }
        FeatureMatrix features = features(dataset.id());
        BarData bars = features.bars();
        List<SmokeSet.Case> cases = new ArrayList<>();
        String lastProblem = "";
        for (int i = bars.size() - 1;
                i >= features.firstWarmIndex()
                        && cases.size() < count
                        && i >= bars.size() - 4 * count;
                i--) {
            try {
                Forecast f = prediction.forecast(features.frame(i));
                cases.add(0, new SmokeSet.Case(bars.bar(i).start(), f.probabilityUp()));
            } catch (RuntimeException e) {
                lastProblem = String.valueOf(e.getMessage());
            }
        }
        if (cases.isEmpty()) {
            throw new IllegalArgumentException(
                    "[Quiver/SMOKE_NOT_RECORDED] capability '"
                            + prediction.descriptor().name()
                            + "' forecast none of the last bars of "
                            + dataset.id()
                            + ": "
                            + lastProblem);
        }
        return new SmokeSet(
                pluginId, prediction.descriptor().name(), dataset.id(), tolerance, cases);
    }

    /**
     * Records a smoke set with a plugin from a plugins folder: its prediction is built with {@code
     * PLUGIN.CAPABILITY.model=sidecar} and run as in {@link #record(PredictionCapability, String,
     * BundledData, int, double)}.
     *
     * @param pluginsDir folder of plugin zips
     * @param pluginId the plugin, e.g. {@code prediction-lstm}
     * @param capability the plugin's prediction the model is for, e.g. {@code xgboost}; null for
     *     the plugin's only prediction
     * @param sidecar the model's sidecar
     * @param dataset bundled series id
     * @param count cases wanted
     * @param tolerance the tolerance to store
     * @return the set
     * @throws IllegalArgumentException if the plugin is not wired, does not provide that prediction
     *     (or, with no capability named, provides none or several), refuses the model, or the
     *     dataset is not bundled
     */
    public static SmokeSet record(
            Path pluginsDir,
            String pluginId,
            String capability,
            Path sidecar,
            String dataset,
            int count,
            double tolerance) {
        BundledData data =
                BundledData.byId(dataset)
                        .orElseThrow(
                                () ->
                                        new IllegalArgumentException(
                                                "[Quiver/BAD_OPTION] --smoke-dataset "
                                                        + dataset
                                                        + " is not one of "
                                                        + BundledData.ids()));
        Map<String, String> config = Map.of("quiver.plugin.isolation", "same-thread");
        try (PluginRuntime runtime = PluginRuntime.start(pluginsDir, config)) {
            List<String> provided =
                    runtime.plugins().stream()
                            .filter(p -> p.id().equals(pluginId))
                            .flatMap(p -> p.extensions().stream())
                            .filter(e -> e.startsWith("prediction:"))
                            .map(e -> e.substring("prediction:".length()))
                            .toList();
            if (provided.isEmpty()) {
                throw new IllegalArgumentException(
                        "[Quiver/BAD_OPTION] --plugin "
                                + pluginId
                                + ": no wired plugin of that id provides a prediction in "
                                + pluginsDir
                                + " (wired: "
                                + runtime.plugins().stream().map(p -> p.id()).toList()
                                + ")");
            }
            String cap;
            if (capability != null) {
                if (!provided.contains(capability)) {
                    throw new IllegalArgumentException(
                            "[Quiver/BAD_OPTION] --capability "
                                    + capability
                                    + ": plugin "
                                    + pluginId
                                    + " provides the predictions "
                                    + provided
                                    + ", not that one");
                }
                cap = capability;
            } else if (provided.size() == 1) {
                cap = provided.get(0);
            } else {
                throw new IllegalArgumentException(
                        "[Quiver/BAD_OPTION] --plugin "
                                + pluginId
                                + " provides several predictions "
                                + provided
                                + ": name the one this model is for with --capability");
            }
            PredictionCapability p =
                    runtime.newPrediction(
                                    cap,
                                    Map.of(
                                            ModelBinding.modelKey(cap),
                                            sidecar.toAbsolutePath().toString()))
                            .prediction();
            try {
                return record(p, pluginId, data, count, tolerance);
            } finally {
                p.close();
            }
        }
    }

    /**
     * Runs the check in this JVM.
     *
     * @param prediction the capability built with the version's files
     * @param set the recorded cases
     * @return the result; never throws for a failing capability
     */
    public static Result check(PredictionCapability prediction, SmokeSet set) {
        if (!prediction.descriptor().name().equals(set.capability())) {
            return Result.failed(
                    "smoke cases were recorded for capability '"
                            + set.capability()
                            + "', not '"
                            + prediction.descriptor().name()
                            + "'");
        }
        if (BundledData.byId(set.dataset()).isEmpty()) {
            return Result.failed(
                    "smoke dataset '"
                            + set.dataset()
                            + "' is not bundled with this host (bundled: "
                            + BundledData.ids()
                            + ")");
        }
        FeatureMatrix features = features(set.dataset());
        BarData bars = features.bars();
        double worst = 0;
        int n = 0;
        for (SmokeSet.Case c : set.cases()) {
            int i = indexOf(bars, c.barTime());
            if (i < features.firstWarmIndex()) {
                return new Result(
                        false,
                        n,
                        worst,
                        "smoke bar "
                                + c.barTime()
                                + " is not a warm bar of "
                                + set.dataset()
                                + " (absent, or inside the features' warm-up)");
            }
            double p;
            try {
                p = prediction.forecast(features.frame(i)).probabilityUp();
            } catch (RuntimeException | LinkageError e) {
                return new Result(
                        false, n, worst, "forecast of smoke bar " + c.barTime() + " failed: " + e);
            }
            double diff = Math.abs(p - c.probabilityUp());
            n++;
            worst = Math.max(worst, Double.isNaN(diff) ? Double.POSITIVE_INFINITY : diff);
            if (!(diff <= set.tolerance())) {
                return new Result(
                        false,
                        n,
                        worst,
                        String.format(
                                Locale.ROOT,
                                "smoke bar %s: p_up %.8f, recorded %.8f, |diff| %.3g > tolerance"
                                        + " %.3g",
                                c.barTime(),
                                p,
                                c.probabilityUp(),
                                diff,
                                set.tolerance()));
            }
        }
        return new Result(true, n, worst, "");
    }

    /**
     * Runs the check in a child JVM on this JVM's class path.
     *
     * @param pluginPath the plugin's loaded form (expanded folder or jar)
     * @param pluginId its id
     * @param capability the prediction that serves the version, e.g. {@code xgboost}
     * @param sidecar the version's sidecar, handed to the plugin as {@code PLUGIN.CAPABILITY.model}
     *     ({@link ModelBinding#configKey})
     * @param smoke the version's smoke file
     * @param timeout how long the child may take, start-up included
     * @return the result: a crash, a non-zero exit, a missing result line or a timeout fails it
     *     with that reason
     */
    public static Result inChildJvm(
            Path pluginPath,
            String pluginId,
            String capability,
            Path sidecar,
            Path smoke,
            Duration timeout) {
        Path work;
        try {
            work = Files.createTempDirectory("quiver-smoke-");
        } catch (IOException e) {
            return Result.failed("cannot create a folder for the child JVM: " + e);
        }
        Path log = work.resolve("child.log");
        Process p = null;
        try {
            Path plugins = Files.createDirectory(work.resolve("plugins"));
            Files.createSymbolicLink(
                    plugins.resolve(pluginPath.getFileName()), pluginPath.toAbsolutePath());
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(
                    List.of(
                            "-XX:+UseSerialGC",
                            "-XX:TieredStopAtLevel=1",
                            "-Xmx256m",
                            "-Djava.io.tmpdir=" + work,
                            "-cp",
                            System.getProperty("java.class.path"),
                            SmokeCheck.class.getName(),
                            plugins.toString(),
                            pluginId,
                            capability,
                            sidecar.toAbsolutePath().toString(),
                            smoke.toAbsolutePath().toString()));
            p =
                    new ProcessBuilder(cmd)
                            .redirectErrorStream(false)
                            .redirectError(log.toFile())
                            .redirectInput(ProcessBuilder.Redirect.from(nullFile()))
                            .start();
            Process child = p;
            var stdout = new java.util.concurrent.CompletableFuture<String>();
            Thread reader =
                    new Thread(
                            () -> {
                                try {
                                    stdout.complete(
                                            new String(
                                                    child.getInputStream().readAllBytes(),
                                                    StandardCharsets.UTF_8));
                                } catch (IOException e) {
                                    stdout.complete("");
                                }
                            },
                            "quiver-smoke-child-stdout");
            reader.setDaemon(true);
            reader.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                return Result.failed(
                        "child JVM smoke check did not finish within "
                                + timeout.toSeconds()
                                + " s (killed)"
                                + tail(log));
            }
            String out = stdout.get(5, TimeUnit.SECONDS);
            String line =
                    out.lines()
                            .filter(l -> l.startsWith(RESULT_PREFIX))
                            .reduce((a, b) -> b)
                            .orElse(null);
            int exit = p.exitValue();
            if (line == null) {
                return Result.failed(
                        "child JVM exited with "
                                + exit
                                + describeExit(exit)
                                + " without a result"
                                + tail(log));
            }
            JsonNode r = JSON.readTree(line.substring(RESULT_PREFIX.length()));
            Result result =
                    new Result(
                            r.path("passed").asBoolean(false),
                            r.path("cases").asInt(),
                            r.path("max_abs_diff").asDouble(Double.NaN),
                            r.path("reason").asText(""));
            if (exit != 0 && result.passed()) {
                return Result.failed("child JVM reported a pass but exited with " + exit);
            }
            return result.passed()
                    ? result
                    : new Result(
                            false,
                            result.cases(),
                            result.maxAbsDiff(),
                            "child JVM: " + result.reason());
        } catch (IOException
                | java.util.concurrent.ExecutionException
                | java.util.concurrent.TimeoutException e) {
            return Result.failed("child JVM smoke check could not run: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (p != null) {
                p.destroyForcibly();
            }
            return Result.failed("interrupted while the child JVM ran");
        } finally {
            deleteQuietly(work);
        }
    }

    /**
     * The plugin's own refusal inside a wrapped message (Guice and PF4J wrap it in several lines):
     * from its last {@code [Quiver/} code to the end of that line.
     */
    static String innermost(String message) {
        int i = message.lastIndexOf("[Quiver/");
        String tail = i < 0 ? message : message.substring(i);
        int nl = tail.indexOf('\n');
        return (nl < 0 ? tail : tail.substring(0, nl)).strip();
    }

    private static java.io.File nullFile() {
        return new java.io.File(
                System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("win")
                        ? "NUL"
                        : "/dev/null");
    }

    private static String describeExit(int exit) {
        // 128 + n: killed by signal n (SIGSEGV 11, SIGABRT 6 from a native crash).
        if (exit > 128 && exit < 160) {
            return " (signal " + (exit - 128) + ": the JVM crashed or was killed)";
        }
        return exit == 134 ? " (aborted)" : "";
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            List<String> last = lines.subList(Math.max(0, lines.size() - 3), lines.size());
            return last.isEmpty() ? "" : "; its last output: " + String.join(" | ", last).strip();
        } catch (IOException e) {
            return "";
        }
    }

    private static void deleteQuietly(Path dir) {
        try (var walk = Files.walk(dir)) {
            for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            // a temp folder left behind; nothing depends on it
        }
    }

    static FeatureMatrix features(String dataset) {
        return FEATURES.computeIfAbsent(
                dataset,
                id ->
                        FeaturePipeline.compute(
                                BundledData.byId(id)
                                        .orElseThrow(
                                                () ->
                                                        new IllegalArgumentException(
                                                                "[Quiver/BAD_OPTION] dataset "
                                                                        + id
                                                                        + " is not one of "
                                                                        + BundledData.ids()))
                                        .load()));
    }

    private static int indexOf(BarData bars, Instant t) {
        int i = Arrays.binarySearch(bars.startMillis, t.toEpochMilli());
        return i >= 0 ? i : -1;
    }

    /**
     * The child JVM's entry point.
     *
     * <p>Arguments: {@code PLUGINS_DIR PLUGIN_ID CAPABILITY SIDECAR SMOKE}. Prints one line {@code
     * QUIVER_SMOKE_RESULT {"passed": .., "cases": .., "max_abs_diff": .., "reason": ..}} and exits
     * 0 if it passed, 1 if not, 2 on bad arguments.
     *
     * @param args the arguments
     */
    public static void main(String[] args) {
        PrintStream out = System.out;
        if (args.length != 5) {
            System.err.println(
                    "usage: SmokeCheck PLUGINS_DIR PLUGIN_ID CAPABILITY SIDECAR SMOKE (got "
                            + Arrays.toString(args)
                            + ")");
            System.exit(2);
        }
        Result result;
        try {
            String pluginId = args[1];
            String capability = args[2];
            SmokeSet set = SmokeSet.read(Path.of(args[4]));
            Map<String, String> config = new HashMap<>();
            // The key the in-process instance is built with: the capability's, not the plugin's.
            config.put(ModelBinding.configKey(pluginId, capability), args[3]);
            config.put("quiver.plugin.isolation", "same-thread");
            // The folder holds a link to the loaded form of a plugin the parent's runtime admitted.
            try (PluginRuntime runtime = PluginRuntime.startAdmitted(Path.of(args[0]), config)) {
                PredictionCapability p =
                        runtime.predictions().stream()
                                .filter(x -> x.descriptor().name().equals(capability))
                                .findFirst()
                                .orElse(null);
                if (p == null) {
                    String why =
                            runtime.refusals().stream()
                                    .map(r -> innermost(r.message()))
                                    .reduce((a, b) -> a + "; " + b)
                                    .orElse("no refusal recorded");
                    result =
                            Result.failed(
                                    "plugin '"
                                            + pluginId
                                            + "' did not provide capability '"
                                            + capability
                                            + "' with this model: "
                                            + why);
                } else {
                    result = check(p, set);
                }
            }
        } catch (IOException | RuntimeException | LinkageError e) {
            result = Result.failed(String.valueOf(e));
        }
        ObjectNode line = JSON.createObjectNode();
        line.put("passed", result.passed());
        line.put("cases", result.cases());
        line.put("max_abs_diff", result.maxAbsDiff());
        line.put("reason", result.reason());
        out.println(RESULT_PREFIX + line);
        out.flush();
        System.exit(result.passed() ? 0 : 1);
    }
}
