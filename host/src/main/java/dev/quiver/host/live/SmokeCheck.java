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
 * and, for each version it is given (one, for the service), builds a new instance of the prediction
 * with {@code <capability>.model=<sidecar>} ({@link ModelBinding#modelKey}, the call the serving
 * JVM makes too), runs the check and prints one result line as JSON on stdout. A malformed ONNX,
 * CatBoost or LightGBM file can crash a JVM in native code rather than throw; a crash, a non-zero
 * exit or a missed timeout of the child is a refusal of the version it was checking, with that
 * reason, and the serving JVM never touched the file. Then the same check runs in-process on the
 * instance that will serve ({@link #check}).
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
     * Runs the check in a child JVM on this JVM's class path: {@link #inChildJvm(Path, String,
     * String, List, Duration)} with one candidate.
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
        return inChildJvm(
                        pluginPath,
                        pluginId,
                        capability,
                        List.of(new Candidate(sidecar, smoke)),
                        timeout)
                .get(0);
    }

    /**
     * One model version to check in a child JVM.
     *
     * @param sidecar the version's sidecar, handed to the plugin as its {@code <capability>.model}
     *     ({@link ModelBinding#modelKey})
     * @param smoke the version's smoke file
     */
    public record Candidate(Path sidecar, Path smoke) {}

    /** Address-space cap of a child JVM ({@code ulimit -v}), in KiB: 3 GiB. */
    static final long CHILD_ADDRESS_SPACE_KIB = 3L * 1024 * 1024;

    /**
     * Checks candidates one after the other in child JVMs: the service's single check ({@link
     * #inChildJvm(Path, String, String, Path, Path, Duration)}) is this with one candidate.
     *
     * <p>A child JVM loads the one plugin (from its already expanded folder) once, then for each
     * candidate in order builds a new instance of the prediction with {@code
     * <capability>.model=<sidecar>} ({@link PluginRuntime#newPrediction}, the call the serving JVM
     * makes for a version that passed), runs {@link #check} on it, closes it and prints that
     * candidate's result line before it starts the next. Candidates are isolated from each other by
     * the instance boundary; a candidate that crashes the child (native fault, {@code exit}, out of
     * memory), that kills it, or that is not done within {@code timeoutEach} (the child's start-up
     * counts against the first candidate it runs) is failed with that reason, and a fresh child
     * resumes with the candidates after it. So a crash never passes anything and never costs
     * another candidate its verdict.
     *
     * <p>Limits of each child: heap {@code -Xmx256m}, direct memory 64 MiB, and on Linux an
     * address-space cap of {@value #CHILD_ADDRESS_SPACE_KIB} KiB ({@code ulimit -v}), so a native
     * allocation a hostile file asks for fails inside the child instead of exhausting the machine;
     * its working folder is a fresh temporary folder, so a relative path a native parser might
     * follow resolves there, not in the host's folder.
     *
     * @param pluginPath the plugin's loaded form (expanded folder or jar)
     * @param pluginId its id
     * @param capability the prediction that serves the versions, e.g. {@code xgboost}
     * @param candidates the versions, in the order to check them
     * @param timeoutEach how long one candidate may take
     * @return one result per candidate, in the same order
     */
    public static List<Result> inChildJvm(
            Path pluginPath,
            String pluginId,
            String capability,
            List<Candidate> candidates,
            Duration timeoutEach) {
        List<Result> results = new ArrayList<>();
        while (results.size() < candidates.size()) {
            int before = results.size();
            childRun(
                    pluginPath,
                    pluginId,
                    capability,
                    candidates.subList(before, candidates.size()),
                    timeoutEach,
                    results);
            if (results.size() == before) {
                // Cannot happen: a run always settles its first candidate; never loop forever.
                results.add(Result.failed("child JVM settled no candidate"));
            }
            if (Thread.currentThread().isInterrupted()) {
                while (results.size() < candidates.size()) {
                    results.add(Result.failed("interrupted before the child JVM ran it"));
                }
            }
        }
        return results;
    }

    /** End of the child's stdout, queued after its last line. */
    private static final String EOF = "\u0000EOF";

    /**
     * One child JVM over {@code batch}: appends the result of each candidate it settled, at least
     * the first one (a crash or timeout settles the candidate it was running).
     */
    private static void childRun(
            Path pluginPath,
            String pluginId,
            String capability,
            List<Candidate> batch,
            Duration timeoutEach,
            List<Result> results) {
        int settled = 0;
        Path work;
        try {
            work = Files.createTempDirectory("quiver-smoke-");
        } catch (IOException e) {
            results.add(Result.failed("cannot create a folder for the child JVM: " + e));
            return;
        }
        Path log = work.resolve("child.log");
        Process p = null;
        try {
            Path plugins = Files.createDirectory(work.resolve("plugins"));
            Files.createSymbolicLink(
                    plugins.resolve(pluginPath.getFileName()), pluginPath.toAbsolutePath());
            Path list = work.resolve("candidates.tsv");
            StringBuilder lines = new StringBuilder();
            for (Candidate c : batch) {
                lines.append(c.sidecar().toAbsolutePath())
                        .append('\t')
                        .append(c.smoke().toAbsolutePath())
                        .append('\n');
            }
            Files.writeString(list, lines, StandardCharsets.UTF_8);
            List<String> cmd = new ArrayList<>();
            if (System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux")
                    && Files.isExecutable(Path.of("/bin/sh"))) {
                cmd.addAll(
                        List.of(
                                "/bin/sh",
                                "-c",
                                "ulimit -v " + CHILD_ADDRESS_SPACE_KIB + " && exec \"$@\"",
                                "quiver-smoke"));
            }
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(
                    List.of(
                            "-XX:+UseSerialGC",
                            "-XX:TieredStopAtLevel=1",
                            "-Xmx256m",
                            "-XX:MaxDirectMemorySize=64m",
                            "-XX:CompressedClassSpaceSize=128m",
                            "-XX:ReservedCodeCacheSize=64m",
                            "-Djava.io.tmpdir=" + work,
                            "-cp",
                            System.getProperty("java.class.path"),
                            SmokeCheck.class.getName(),
                            plugins.toString(),
                            pluginId,
                            capability,
                            list.toString()));
            ProcessBuilder pb =
                    new ProcessBuilder(cmd)
                            .directory(work.toFile())
                            .redirectErrorStream(false)
                            .redirectError(log.toFile())
                            .redirectInput(ProcessBuilder.Redirect.from(nullFile()));
            // glibc: few malloc arenas, so the address-space cap is spent on data, not reserves.
            pb.environment().put("MALLOC_ARENA_MAX", "2");
            p = pb.start();
            Process child = p;
            var lineQueue = new java.util.concurrent.LinkedBlockingQueue<String>();
            Thread reader =
                    new Thread(
                            () -> {
                                try (var in =
                                        new java.io.BufferedReader(
                                                new java.io.InputStreamReader(
                                                        child.getInputStream(),
                                                        StandardCharsets.UTF_8))) {
                                    for (String l = in.readLine(); l != null; l = in.readLine()) {
                                        lineQueue.add(l);
                                    }
                                } catch (IOException e) {
                                    lineQueue.add(RESULT_PREFIX + "!stdout: " + e);
                                } finally {
                                    lineQueue.add(EOF);
                                }
                            },
                            "quiver-smoke-child-stdout");
            reader.setDaemon(true);
            reader.start();
            long deadline = System.nanoTime() + timeoutEach.toNanos();
            while (settled < batch.size()) {
                long left = deadline - System.nanoTime();
                String line = left <= 0 ? null : lineQueue.poll(left, TimeUnit.NANOSECONDS);
                if (line == null) {
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                    results.add(
                            Result.failed(
                                    "child JVM smoke check did not finish within "
                                            + timeoutEach.toSeconds()
                                            + " s (killed)"
                                            + tail(log)));
                    return;
                }
                if (line.equals(EOF)) {
                    int exit = p.waitFor(10, TimeUnit.SECONDS) ? p.exitValue() : -1;
                    results.add(
                            Result.failed(
                                    "child JVM exited with "
                                            + exit
                                            + describeExit(exit)
                                            + " without a result"
                                            + tail(log)));
                    return;
                }
                if (!line.startsWith(RESULT_PREFIX)) {
                    continue;
                }
                Result result = parseResult(line.substring(RESULT_PREFIX.length()), settled);
                results.add(
                        result.passed()
                                ? result
                                : new Result(
                                        false,
                                        result.cases(),
                                        result.maxAbsDiff(),
                                        "child JVM: " + result.reason()));
                settled++;
                deadline = System.nanoTime() + timeoutEach.toNanos();
            }
            if (!p.waitFor(timeoutEach.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
            int exit = p.isAlive() ? -1 : p.exitValue();
            if (exit != 0 && exit != 1) {
                // Every candidate reported, then the child failed: a pass it reported is not
                // trusted.
                for (int i = results.size() - settled; i < results.size(); i++) {
                    if (results.get(i).passed()) {
                        results.set(
                                i,
                                Result.failed(
                                        "child JVM reported a pass but exited with "
                                                + exit
                                                + describeExit(exit)
                                                + tail(log)));
                    }
                }
            }
        } catch (IOException e) {
            if (settled == 0) {
                results.add(Result.failed("child JVM smoke check could not run: " + e));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (settled == 0 || results.size() == 0) {
                results.add(Result.failed("interrupted while the child JVM ran"));
            }
        } finally {
            if (p != null && p.isAlive()) {
                p.destroyForcibly();
            }
            deleteQuietly(work);
        }
    }

    /** A child's result line; {@code expected} is the candidate index it must carry. */
    private static Result parseResult(String json, int expected) {
        JsonNode r;
        try {
            r = JSON.readTree(json);
        } catch (IOException e) {
            return Result.failed("unreadable result line from the child JVM: " + json);
        }
        if (r == null || r.path("index").asInt(-1) != expected) {
            return Result.failed(
                    "child JVM answered out of order (expected candidate "
                            + expected
                            + "): "
                            + json);
        }
        return new Result(
                r.path("passed").asBoolean(false),
                r.path("cases").asInt(),
                r.path("max_abs_diff").asDouble(Double.NaN),
                r.path("reason").asText(""));
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

    /**
     * Computes the feature frames of a bundled dataset and keeps them for the smoke checks on it,
     * as the first check would (about 1 s of CPU for the bundled BTC 4h series): a service start
     * computes them beside its other work instead of inside the check of its first model. The
     * checks themselves are unchanged.
     *
     * @param dataset a bundled dataset's id, e.g. {@code btc-usd-4h}
     * @throws IllegalArgumentException if no bundled dataset has that id
     */
    public static void prepare(String dataset) {
        features(dataset);
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
     * <p>Arguments: {@code PLUGINS_DIR PLUGIN_ID CAPABILITY CANDIDATES}, where {@code CANDIDATES}
     * is a file of lines {@code SIDECAR<TAB>SMOKE}. For each candidate, in order, prints one line
     * {@code QUIVER_SMOKE_RESULT {"index": .., "passed": .., "cases": .., "max_abs_diff": ..,
     * "reason": ..}} and flushes it before starting the next. Exits 0 if every candidate passed, 1
     * if not, 2 on bad arguments.
     *
     * @param args the arguments
     */
    public static void main(String[] args) {
        PrintStream out = System.out;
        if (args.length != 4) {
            System.err.println(
                    "usage: SmokeCheck PLUGINS_DIR PLUGIN_ID CAPABILITY CANDIDATES (got "
                            + Arrays.toString(args)
                            + ")");
            System.exit(2);
        }
        String pluginId = args[1];
        String capability = args[2];
        List<String[]> candidates = new ArrayList<>();
        try {
            for (String l : Files.readAllLines(Path.of(args[3]), StandardCharsets.UTF_8)) {
                if (!l.isBlank()) {
                    candidates.add(l.split("\t", 2));
                }
            }
        } catch (IOException e) {
            System.err.println("cannot read the candidates " + args[3] + ": " + e);
            System.exit(2);
        }
        boolean all = true;
        Map<String, String> config = new HashMap<>();
        config.put("quiver.plugin.isolation", "same-thread");
        PluginRuntime runtime = null;
        String noRuntime = null;
        try {
            // The folder holds a link to the loaded form of a plugin the parent's runtime admitted.
            runtime = PluginRuntime.startAdmitted(Path.of(args[0]), config);
        } catch (RuntimeException | LinkageError e) {
            noRuntime = "the plugin runtime did not start: " + e;
        }
        for (int i = 0; i < candidates.size(); i++) {
            String[] c = candidates.get(i);
            Result result;
            if (noRuntime != null) {
                result = Result.failed(noRuntime);
            } else if (c.length != 2) {
                result = Result.failed("bad candidate line " + (i + 1) + " in " + args[3]);
            } else {
                result = checkOne(runtime, pluginId, capability, Path.of(c[0]), Path.of(c[1]));
            }
            all &= result.passed();
            ObjectNode line = JSON.createObjectNode();
            line.put("index", i);
            line.put("passed", result.passed());
            line.put("cases", result.cases());
            line.put("max_abs_diff", result.maxAbsDiff());
            line.put("reason", result.reason());
            out.println(RESULT_PREFIX + line);
            out.flush();
        }
        if (runtime != null) {
            runtime.close();
        }
        System.exit(all ? 0 : 1);
    }

    /**
     * One candidate in the child: a new instance of the prediction built with the sidecar, the
     * smoke check on it, the instance closed.
     */
    private static Result checkOne(
            PluginRuntime runtime, String pluginId, String capability, Path sidecar, Path smoke) {
        SmokeSet set;
        try {
            set = SmokeSet.read(smoke);
        } catch (IOException | RuntimeException e) {
            return Result.failed(String.valueOf(e));
        }
        PredictionCapability p;
        try {
            p =
                    runtime.newPrediction(
                                    capability,
                                    Map.of(ModelBinding.modelKey(capability), sidecar.toString()))
                            .prediction();
        } catch (RuntimeException | LinkageError e) {
            String refusals =
                    runtime.refusals().stream()
                            .map(r -> innermost(r.message()))
                            .reduce((a, b) -> a + "; " + b)
                            .map(r -> " (refused at start: " + r + ")")
                            .orElse("");
            return Result.failed(
                    "plugin '"
                            + pluginId
                            + "' did not provide capability '"
                            + capability
                            + "' with this model: "
                            + innermost(String.valueOf(e.getMessage()))
                            + refusals);
        }
        try {
            return check(p, set);
        } finally {
            try {
                p.close();
            } catch (RuntimeException e) {
                System.err.println("closing the checked instance failed: " + e);
            }
        }
    }
}
