package dev.quiver.host.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.api.QuiverApi;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.plugin.PluginHealth;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.plugin.PluginTrust;
import dev.quiver.host.plugin.TrustList;
import dev.quiver.host.web.DecisionRequests;
import dev.quiver.host.web.QuiverServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Decision latency end to end while a plugin hangs at its deadline (RELIABILITY.md P2: "the host
 * stays within its latency budget"; the budget, p99 of a decision while a plugin is cut off at a 50
 * ms deadline, is 60 ms).
 *
 * <p>Setup (not timed): a plugins folder of its own with the distribution's {@code
 * prediction-traditional} and {@code sizing-fixed} archives and {@code bench-stalling}, an archive
 * the bench writes from {@link StallingForecaster} (a prediction that hangs on every {@code
 * stallEvery}-th call until interrupted); a trust list of its own: a copy of the configured one
 * plus the bench's archive. The service runs in this JVM as {@code quiver serve --strategy none}
 * does (the configured isolation, the service's {@code watchdog} by default; the deadline set to
 * the plan's), on a free loopback port.
 *
 * <p>Load: one closed-loop {@link HttpClient} posts {@code POST /v1/decisions} bodies of 300 real
 * BTC-USD 4h bars (a window sliding one bar per request) and waits for each answer: {@code warmup}
 * untimed decisions first, in a service of their own over the same folder with a 60 s deadline and
 * no stalls (so a cold JVM's slow first calls quarantine nothing), then {@code decisions} timed,
 * from send to whole body received, by a fresh service with the plan's deadline. The service
 * serialises stateless decisions, so one client is the service's whole load. Each answer is read
 * (untimed): a decision whose {@code provenance.failed_sources} names {@code stalling} with {@code
 * PLUGIN_DEADLINE} was decided without the stalled plugin (the host's fallback).
 *
 * <p>With {@code stallEvery} 20 (the command's default) the plugin misses 1 deadline in any 20
 * calls, below the declared quarantine rate (3 in 20) with room for one stray miss of a loaded
 * machine, so it keeps stalling for the whole run and 5 % of the decisions wait for its deadline:
 * the p99 is a stalled decision's time.
 */
public final class StallBench {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The bench plugin's id. */
    public static final String PLUGIN_ID = "bench-stalling";

    /** Bars per request. */
    static final int REQUEST_BARS = 300;

    /**
     * What to run.
     *
     * @param decisions timed decisions, {@code >= 1}
     * @param warmup untimed decisions before them, {@code >= 0}
     * @param stallEvery the plugin hangs on every this-many-th call, {@code >= 1}
     * @param deadline the plugins' per-call deadline ({@code quiver.plugin.deadline-ms})
     * @param budgetP99Millis the p99 a decision must stay within, ms
     */
    public record Plan(
            int decisions, int warmup, int stallEvery, Duration deadline, double budgetP99Millis) {

        /** Validates. */
        public Plan {
            if (decisions < 1 || warmup < 0 || stallEvery < 1 || deadline.toMillis() < 1) {
                throw new IllegalArgumentException(
                        "[Quiver/BAD_OPTION] --decisions and --stall-every must be >= 1,"
                                + " --warmup-decisions >= 0, --deadline-ms >= 1 (got "
                                + decisions
                                + ", "
                                + stallEvery
                                + ", "
                                + warmup
                                + ", "
                                + deadline.toMillis()
                                + ")");
            }
        }
    }

    /**
     * Figures.
     *
     * @param decisions timed decisions answered
     * @param p50Millis median decision time, ms
     * @param p99Millis 99th percentile (nearest rank), ms
     * @param maxMillis slowest decision, ms
     * @param failedRequests timed requests not answered 200
     * @param stalledDecisions timed decisions that fell back because the plugin missed its deadline
     * @param stalledP50Millis median time of those decisions, ms (NaN if none)
     * @param stalledMaxMillis the slowest of them, ms (NaN if none)
     * @param otherFailedSources timed decisions in which another source failed
     * @param plugin the stalling plugin's health after the run
     * @param isolation the isolation the service ran with ({@code watchdog}, {@code thread}, ...)
     */
    public record Result(
            int decisions,
            double p50Millis,
            double p99Millis,
            double maxMillis,
            long failedRequests,
            long stalledDecisions,
            double stalledP50Millis,
            double stalledMaxMillis,
            long otherFailedSources,
            PluginHealth plugin,
            String isolation) {

        /**
         * Why the run fails its check, or null if it passes: the p99 above the budget, a request
         * not answered, no stalled decision measured, or the plugin quarantined (its stalls then
         * stop and the figure no longer measures them).
         *
         * @param budgetP99Millis the budget, ms
         * @return the reason, or null
         */
        public String failure(double budgetP99Millis) {
            if (failedRequests > 0) {
                return failedRequests + " requests were not answered 200";
            }
            if (plugin.quarantined()) {
                return "the stalling plugin was quarantined ("
                        + plugin.reason()
                        + "): the figure does not measure its stalls; raise --stall-every";
            }
            if (stalledDecisions == 0) {
                return "no decision waited for the plugin's deadline";
            }
            if (p99Millis > budgetP99Millis) {
                return String.format(
                        Locale.ROOT,
                        "p99 %.2f ms is over the budget of %.0f ms",
                        p99Millis,
                        budgetP99Millis);
            }
            return null;
        }
    }

    private StallBench() {}

    /**
     * Runs the plan.
     *
     * @param plan what to run
     * @param distributionPlugins the plugins folder holding {@code prediction-traditional-*.zip}
     *     and {@code sizing-fixed-*.zip}
     * @param config host configuration (isolation, trust); the deadline is set from the plan
     * @param bars the bars requests are cut from, {@code > 300}
     * @param progress where progress lines go
     * @return the figures
     * @throws IOException if the folder cannot be prepared or the service cannot be reached
     * @throws InterruptedException if interrupted
     * @throws IllegalStateException if the plugins needed are missing or not wired
     */
    public static Result run(
            Plan plan,
            Path distributionPlugins,
            Map<String, String> config,
            BarData bars,
            PrintStream progress)
            throws IOException, InterruptedException {
        if (bars.size() <= REQUEST_BARS) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] the stalling-plugin bench needs more than "
                            + REQUEST_BARS
                            + " bars, the series has "
                            + bars.size());
        }
        Path dir = Files.createTempDirectory("quiver-stall-bench-");
        try {
            Path plugins = Files.createDirectories(dir.resolve("plugins"));
            copyFirst(distributionPlugins, "prediction-traditional-", plugins);
            copyFirst(distributionPlugins, "sizing-fixed-", plugins);
            Path stalling = writePlugin(plugins);
            Path trust = dir.resolve("trusted-plugins");
            var source = PluginTrust.trustListOf(config);
            if (source.isPresent() && Files.isRegularFile(source.get())) {
                Files.copy(source.get(), trust);
            }
            TrustList.add(
                    trust,
                    new TrustList.Entry(
                            sha256(stalling),
                            PLUGIN_ID,
                            "1.0.0",
                            stalling.getFileName().toString()));
            Map<String, String> cfg = new HashMap<>(config);
            cfg.put(PluginTrust.TRUST_LIST_KEY, trust.toString());
            cfg.put("quiver.plugin.deadline-ms", String.valueOf(plan.deadline().toMillis()));
            cfg.put(PLUGIN_ID + ".stall-every", String.valueOf(plan.stallEvery()));
            HttpClient http =
                    HttpClient.newBuilder()
                            .version(HttpClient.Version.HTTP_1_1)
                            .connectTimeout(Duration.ofSeconds(5))
                            .build();
            int windows = bars.size() - REQUEST_BARS + 1;
            if (plan.warmup() > 0) {
                // Warm-up in a service of its own with a 60 s deadline and no stalls: a cold JVM's
                // first calls (class loading, interpreted code) would otherwise miss a 50 ms
                // deadline and quarantine the plugins before anything is measured.
                Map<String, String> warm = new HashMap<>(cfg);
                warm.put("quiver.plugin.deadline-ms", "60000");
                warm.put(PLUGIN_ID + ".stall-every", String.valueOf(Integer.MAX_VALUE));
                try (PluginRuntime runtime = PluginRuntime.start(plugins, warm);
                        QuiverServer server = QuiverServer.start(runtime, "127.0.0.1", 0, 1.0)) {
                    URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/decisions");
                    for (int k = 0; k < plan.warmup(); k++) {
                        post(http, uri, bars, k % windows);
                    }
                }
            }
            try (PluginRuntime runtime = PluginRuntime.start(plugins, cfg);
                    QuiverServer server = QuiverServer.start(runtime, "127.0.0.1", 0, 1.0)) {
                List<String> wired =
                        runtime.predictions().stream().map(p -> p.descriptor().name()).toList();
                if (!wired.contains(StallingForecaster.NAME)
                        || !wired.contains("traditional")
                        || runtime.sizings().isEmpty()) {
                    throw new IllegalStateException(
                            "[Quiver/NOTHING_TO_RUN] the stalling-plugin bench needs"
                                    + " prediction-traditional, sizing-fixed and its own plugin"
                                    + " wired; wired predictions "
                                    + wired
                                    + ", refusals "
                                    + runtime.refusals());
                }
                String isolation = runtime.isolation().mode().name().toLowerCase(Locale.ROOT);
                progress.printf(
                        Locale.ROOT,
                        "stalling-plugin bench: %d warm-up + %d timed decisions, plugin '%s'"
                                + " hangs on every %d%s call, deadline %d ms, isolation %s%n",
                        plan.warmup(),
                        plan.decisions(),
                        PLUGIN_ID,
                        plan.stallEvery(),
                        ordinal(plan.stallEvery()),
                        plan.deadline().toMillis(),
                        isolation);
                URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/decisions");
                double[] millis = new double[plan.decisions()];
                double[] stalledMillis = new double[plan.decisions()];
                long failed = 0;
                long stalled = 0;
                long other = 0;
                for (int i = 0; i < plan.decisions(); i++) {
                    String body =
                            DecisionRequests.body(
                                            bars.symbol(),
                                            bars,
                                            (plan.warmup() + i) % windows,
                                            (plan.warmup() + i) % windows + REQUEST_BARS - 1)
                                    .toString();
                    long t0 = System.nanoTime();
                    HttpResponse<String> response = send(http, uri, body);
                    long nanos = System.nanoTime() - t0;
                    millis[i] = nanos / 1e6;
                    if (response.statusCode() != 200) {
                        failed++;
                        continue;
                    }
                    JsonNode sources =
                            JSON.readTree(response.body()).at("/provenance/failed_sources");
                    JsonNode mine = sources.get(StallingForecaster.NAME);
                    if (mine != null && mine.asText().contains("[PLUGIN_DEADLINE]")) {
                        stalledMillis[(int) stalled++] = millis[i];
                    }
                    if (sources.size() > (mine == null ? 0 : 1)) {
                        other++;
                    }
                }
                PluginHealth health =
                        runtime.health().stream()
                                .filter(h -> h.pluginId().equals(PLUGIN_ID))
                                .findFirst()
                                .orElseThrow();
                double[] sorted = millis.clone();
                Arrays.sort(sorted);
                double[] stalledSorted = Arrays.copyOf(stalledMillis, (int) stalled);
                Arrays.sort(stalledSorted);
                return new Result(
                        plan.decisions(),
                        SwapBench.percentile(sorted, 50),
                        SwapBench.percentile(sorted, 99),
                        sorted[sorted.length - 1],
                        failed,
                        stalled,
                        SwapBench.percentile(stalledSorted, 50),
                        stalled == 0 ? Double.NaN : stalledSorted[stalledSorted.length - 1],
                        other,
                        health,
                        isolation);
            }
        } finally {
            delete(dir, progress);
        }
    }

    private static HttpResponse<String> post(HttpClient http, URI uri, BarData bars, int first)
            throws IOException, InterruptedException {
        return send(
                http,
                uri,
                DecisionRequests.body(bars.symbol(), bars, first, first + REQUEST_BARS - 1)
                        .toString());
    }

    private static HttpResponse<String> send(HttpClient http, URI uri, String body)
            throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(uri)
                        .header("Content-Type", "application/json")
                        .timeout(Duration.ofSeconds(120))
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String ordinal(int n) {
        return n % 100 >= 11 && n % 100 <= 13
                ? "th"
                : switch (n % 10) {
                    case 1 -> "st";
                    case 2 -> "nd";
                    case 3 -> "rd";
                    default -> "th";
                };
    }

    private static void copyFirst(Path from, String prefix, Path to) throws IOException {
        Path found;
        try (Stream<Path> s = Files.list(from)) {
            found =
                    s.filter(p -> p.getFileName().toString().startsWith(prefix))
                            .filter(p -> p.getFileName().toString().endsWith(".zip"))
                            .sorted()
                            .findFirst()
                            .orElseThrow(
                                    () ->
                                            new IllegalStateException(
                                                    "[Quiver/NOTHING_TO_RUN] the stalling-plugin"
                                                            + " bench needs "
                                                            + prefix
                                                            + "*.zip in "
                                                            + from));
        }
        Files.copy(found, to.resolve(found.getFileName()));
    }

    /**
     * Writes {@code bench-stalling-1.0.0.zip}: PF4J's zip layout ({@code classes/}), a manifest
     * with the plugin's id, version, the plugins-api range of this host and its capability, the
     * extension index naming {@link StallingForecaster}, and that class's bytes.
     */
    static Path writePlugin(Path dir) throws IOException {
        var mf = new Manifest();
        Attributes a = mf.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.put(new Attributes.Name("Plugin-Id"), PLUGIN_ID);
        a.put(new Attributes.Name("Plugin-Version"), "1.0.0");
        int major = Integer.parseInt(QuiverApi.VERSION.split("\\.")[0]);
        a.put(
                new Attributes.Name("Plugin-Requires"),
                ">=" + major + ".0.0 & <" + (major + 1) + ".0.0");
        a.put(
                new Attributes.Name("Provide-Capability"),
                "quiver.prediction; name=" + StallingForecaster.NAME + "; horizon=1");
        String extension = StallingForecaster.class.getName();
        String file = extension.replace('.', '/') + ".class";
        Path zip = dir.resolve(PLUGIN_ID + "-1.0.0.zip");
        try (var zos = new ZipOutputStream(Files.newOutputStream(zip))) {
            zos.putNextEntry(new ZipEntry("classes/META-INF/MANIFEST.MF"));
            mf.write(zos);
            zos.putNextEntry(new ZipEntry("classes/META-INF/extensions.idx"));
            zos.write((extension + "\n").getBytes(StandardCharsets.UTF_8));
            zos.putNextEntry(new ZipEntry("classes/" + file));
            try (InputStream in = StallBench.class.getResourceAsStream("/" + file)) {
                if (in == null) {
                    throw new IllegalStateException("missing class file " + file);
                }
                in.transferTo(zos);
            }
            zos.closeEntry();
        }
        return zip;
    }

    private static String sha256(Path file) throws IOException {
        try {
            return HexFormat.of()
                    .formatHex(
                            MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    /** Deletes the bench's folder; what cannot be deleted is named on {@code progress}. */
    private static void delete(Path dir, PrintStream progress) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException e) {
            progress.println("stalling-plugin bench: could not delete " + dir + ": " + e);
        }
    }
}
