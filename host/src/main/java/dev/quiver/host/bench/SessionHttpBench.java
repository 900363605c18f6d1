package dev.quiver.host.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.api.market.Bar;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.session.ServedStrategy;
import dev.quiver.host.session.SessionManager;
import dev.quiver.host.session.StrategyCatalog;
import dev.quiver.host.store.StateStore;
import dev.quiver.host.strategy.StrategyBundle;
import dev.quiver.host.web.QuiverServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.HdrHistogram.Histogram;

/**
 * Live-session decisions over HTTP against the same server's floor ({@code GET /health/live}), in
 * one run with one load generator.
 *
 * <p>Setup (not timed): the service in this JVM as {@code quiver serve} runs it (the plugins'
 * default isolation, {@code watchdog}: per-bar calls on the request's thread under the call
 * watchdog, the served bundle stepped by a {@link SessionManager}, a fresh SQLite state store in
 * WAL mode with {@code synchronous=FULL} and group commit: every bar is committed before its
 * answer), and one session per connection, each its own symbol over the same real bars, warmed up
 * from the bundled series up to {@link Plan#warmupUntil}.
 *
 * <p>Load: {@code connections} closed-loop clients, each a {@link HttpClient} of its own (one
 * keep-alive HTTP/1.1 connection), each posting the next real bar, one per request, to its own
 * session ({@code POST /v1/sessions/{symbol}/bars}) and waiting for the decision before posting the
 * next. Every phase runs {@link Plan#warmup} untimed, then {@link Plan#measure}: throughput is the
 * requests completed inside the measured window over its length, latency is each request's send to
 * its whole body received (HdrHistogram, 3 significant digits). The floor is the same clients with
 * {@code GET /health/live}, measured before and after the sessions; the higher of the two is the
 * floor (so the ratio is never flattered by a cold floor).
 */
public final class SessionHttpBench {

    /**
     * What to run.
     *
     * @param connections concurrent clients, one session (symbol) each, {@code >= 1}
     * @param warmupUntil the sessions' warm-up ends at this bar; the posted bars are the ones after
     * @param warmup untimed load per phase
     * @param measure timed load per phase
     * @param symbolPrefix session symbols are the prefix and a two-digit index
     */
    public record Plan(
            int connections,
            Instant warmupUntil,
            Duration warmup,
            Duration measure,
            String symbolPrefix) {}

    /**
     * One phase's figures.
     *
     * @param requests completed inside the measured window
     * @param perSecond requests over the window's length
     * @param p50Us median latency, microseconds
     * @param p99Us 99th percentile latency, microseconds
     * @param maxUs slowest request, microseconds
     * @param cpuUsPerRequest this JVM's CPU time (every thread: service, load generator, JIT, GC)
     *     during the measured window, per request, microseconds: less sensitive than throughput to
     *     other processes taking the machine's cores
     */
    public record Phase(
            long requests,
            double perSecond,
            double p50Us,
            double p99Us,
            double maxUs,
            double cpuUsPerRequest) {}

    /**
     * Figures.
     *
     * @param sessions the session-bar phase
     * @param floorBefore the floor measured before the sessions
     * @param floorAfter the floor measured after them
     * @param failed requests not answered 200 with a decision (any phase)
     * @param noSignal decisions without a fused signal (every source failed or warming up)
     * @param failedSources decisions in which some source failed
     * @param barsPosted bars each session took, all phases (the last one)
     * @param firstPostedBar time of the first posted bar
     * @param state the state store's URL
     * @param sessionCommits the store's commits during the session phase (group commit: one per
     *     batch of concurrent transactions)
     * @param sessionTransactions the store's transactions during the session phase
     * @param sessionCommitNanos time the store spent in {@code COMMIT} during the session phase
     *     (SQLite: the WAL's {@code fsync}), summed, nanoseconds
     * @param sessionBatchNanos time the store's batches ran (begin to end of commit) during the
     *     session phase, summed, nanoseconds: over the phase's length, how busy the one commit path
     *     was
     * @param sessionPhaseNanos the session phase's length (warm-up and measured), nanoseconds
     * @param loadAverage the machine's 1-minute load average at the start of the first floor phase,
     *     of the session phase and at the end of the last floor phase (other processes share the
     *     cores)
     */
    public record Result(
            Phase sessions,
            Phase floorBefore,
            Phase floorAfter,
            long failed,
            long noSignal,
            long failedSources,
            int barsPosted,
            String firstPostedBar,
            String state,
            long sessionCommits,
            long sessionTransactions,
            long sessionCommitNanos,
            long sessionBatchNanos,
            long sessionPhaseNanos,
            List<Double> loadAverage) {

        /** The floor: the higher of the two floor phases. */
        public Phase floor() {
            return floorAfter.perSecond >= floorBefore.perSecond ? floorAfter : floorBefore;
        }

        /** Session decisions per second over the floor's requests per second. */
        public double ratio() {
            return sessions.perSecond / floor().perSecond;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private SessionHttpBench() {}

    /**
     * Runs the bench.
     *
     * @param plan what to run
     * @param plugins started plugins with the live isolation (as {@code serve}); stays open
     * @param bundle the strategy bundle the sessions step
     * @param bars the real bars every session gets (warm-up and posted)
     * @param stateDir an empty folder for the SQLite state
     * @param synchronous the SQLite state store's {@code synchronous} setting: {@code FULL} (as
     *     {@code serve} runs by default) or {@code NORMAL} (declared with {@code
     *     ?synchronous=NORMAL} in the state URL: no {@code fsync} per commit)
     * @param progress progress lines (stderr)
     * @return figures
     * @throws IllegalArgumentException if fewer than 100 bars follow the warm-up
     */
    public static Result run(
            Plan plan,
            PluginRuntime plugins,
            StrategyBundle bundle,
            BarData bars,
            Path stateDir,
            String synchronous,
            PrintStream progress)
            throws InterruptedException {
        int first = 0;
        while (first < bars.size() && !bars.bar(first).start().isAfter(plan.warmupUntil())) {
            first++;
        }
        if (bars.size() - first < 100) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] fewer than 100 bars of "
                            + bars.symbol()
                            + " follow the sessions' warm-up end "
                            + plan.warmupUntil());
        }
        String[] bodies = new String[bars.size() - first];
        for (int i = 0; i < bodies.length; i++) {
            bodies[i] = barBody(bars.bar(first + i));
        }
        String url = "jdbc:sqlite:" + stateDir.resolve("state.db");
        if (!synchronous.equalsIgnoreCase("FULL")) {
            url += "?synchronous=" + synchronous;
        }
        StateStore store = StateStore.open(Optional.of(url), stateDir);
        StrategyCatalog catalog = StrategyCatalog.folders(bundle, plugins);
        SessionManager sessions = new SessionManager(store, catalog, Clock.systemUTC());
        QuiverServer server = null;
        try {
            sessions.recover();
            server =
                    QuiverServer.start(
                            plugins,
                            new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                            null,
                            Optional.empty(),
                            Optional.of(
                                    new ServedStrategy(
                                            catalog,
                                            sessions,
                                            Optional.empty(),
                                            Clock.systemUTC())),
                            "127.0.0.1",
                            0,
                            1.0);
            String base = "http://127.0.0.1:" + server.port();
            HttpClient[] clients = new HttpClient[plan.connections()];
            for (int c = 0; c < clients.length; c++) {
                clients[c] =
                        HttpClient.newBuilder()
                                .version(HttpClient.Version.HTTP_1_1)
                                .connectTimeout(Duration.ofSeconds(10))
                                .build();
            }
            String[] symbols = new String[plan.connections()];
            for (int c = 0; c < symbols.length; c++) {
                symbols[c] = String.format(Locale.ROOT, "%s-%02d", plan.symbolPrefix(), c);
                progress.printf(
                        Locale.ROOT,
                        "session bench: opening %s, warm-up %s until %s%n",
                        symbols[c],
                        bars.symbol(),
                        plan.warmupUntil());
                open(clients[c], base, symbols[c], plan.warmupUntil());
            }
            HttpRequest live = HttpRequest.newBuilder(URI.create(base + "/health/live")).build();
            Counts counts = new Counts();
            progress.printf(
                    Locale.ROOT,
                    "session bench: floor GET /health/live, %d connections, %s + %s%n",
                    plan.connections(),
                    plan.warmup(),
                    plan.measure());
            List<Double> load = new ArrayList<>();
            load.add(loadAverage());
            Phase floorBefore =
                    phase(plan, clients, c -> n -> live, (body, code) -> code == 200, counts);
            int[] next = new int[plan.connections()];
            HttpRequest[][] posts = new HttpRequest[plan.connections()][];
            for (int c = 0; c < posts.length; c++) {
                URI uri = URI.create(base + "/v1/sessions/" + symbols[c] + "/bars");
                posts[c] = new HttpRequest[bodies.length];
                for (int i = 0; i < bodies.length; i++) {
                    posts[c][i] =
                            HttpRequest.newBuilder(uri)
                                    .header("Content-Type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofString(bodies[i]))
                                    .build();
                }
            }
            progress.printf(
                    Locale.ROOT,
                    "session bench: POST /v1/sessions/{symbol}/bars, %d connections, %s + %s%n",
                    plan.connections(),
                    plan.warmup(),
                    plan.measure());
            load.add(loadAverage());
            StateStore.CommitCounts before = store.commitCounts();
            long phaseStart = System.nanoTime();
            Phase decisions =
                    phase(
                            plan,
                            clients,
                            c ->
                                    n -> {
                                        int i = next[c]++;
                                        return i < bodies.length ? posts[c][i] : null;
                                    },
                            (body, code) -> decision(body, code, counts),
                            counts);
            StateStore.CommitCounts after = store.commitCounts();
            long phaseNanos = System.nanoTime() - phaseStart;
            progress.printf(
                    Locale.ROOT,
                    "session bench: floor again, %s + %s%n",
                    plan.warmup(),
                    plan.measure());
            Phase floorAfter =
                    phase(plan, clients, c -> n -> live, (body, code) -> code == 200, counts);
            load.add(loadAverage());
            int posted = next[0];
            return new Result(
                    decisions,
                    floorBefore,
                    floorAfter,
                    counts.failed,
                    counts.noSignal,
                    counts.failedSources,
                    posted,
                    bars.bar(first).start().toString(),
                    store.displayUrl(),
                    after.commits() - before.commits(),
                    after.transactions() - before.transactions(),
                    after.commitNanos() - before.commitNanos(),
                    after.batchNanos() - before.batchNanos(),
                    phaseNanos,
                    List.copyOf(load));
        } finally {
            if (server != null) {
                server.close();
            }
            sessions.close();
            store.close();
        }
    }

    /** Counts of answers that were not full decisions (guarded by itself). */
    private static final class Counts {
        long failed;
        long noSignal;
        long failedSources;
    }

    @FunctionalInterface
    private interface Check {
        boolean ok(String body, int status);
    }

    private static boolean decision(String body, int status, Counts counts) {
        if (status != 200 || !body.contains("\"decisions\"")) {
            return false;
        }
        if (body.contains("\"fused\":null")) {
            synchronized (counts) {
                counts.noSignal++;
            }
        } else if (!body.contains("\"failed_sources\":{}")) {
            synchronized (counts) {
                counts.failedSources++;
            }
        }
        return true;
    }

    /**
     * One phase: every client in a closed loop for warm-up + measure; returns the measured figures.
     * {@code requests.apply(client).apply(n)} is the client's next request, {@code null} when it
     * has none left.
     */
    private static Phase phase(
            Plan plan,
            HttpClient[] clients,
            IntFunction<IntFunction<HttpRequest>> requests,
            Check check,
            Counts counts)
            throws InterruptedException {
        int n = clients.length;
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
        long measureFrom = start + plan.warmup().toNanos();
        long measureTo = measureFrom + plan.measure().toNanos();
        ExecutorService pool = Executors.newFixedThreadPool(n);
        List<Future<Histogram>> futures = new ArrayList<>();
        try {
            for (int c = 0; c < n; c++) {
                HttpClient client = clients[c];
                IntFunction<HttpRequest> next = requests.apply(c);
                futures.add(
                        pool.submit(
                                () -> {
                                    Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
                                    while (System.nanoTime() < start) {
                                        Thread.onSpinWait();
                                    }
                                    for (int k = 0; ; k++) {
                                        long t0 = System.nanoTime();
                                        if (t0 >= measureTo) {
                                            break;
                                        }
                                        HttpRequest r = next.apply(k);
                                        if (r == null) {
                                            break;
                                        }
                                        HttpResponse<String> resp =
                                                client.send(
                                                        r, HttpResponse.BodyHandlers.ofString());
                                        long t1 = System.nanoTime();
                                        if (!check.ok(resp.body(), resp.statusCode())) {
                                            synchronized (counts) {
                                                if (counts.failed++ == 0) {
                                                    System.err.println(
                                                            "session bench: first failed answer: "
                                                                    + resp.statusCode()
                                                                    + " "
                                                                    + resp.body());
                                                }
                                            }
                                        }
                                        if (t0 >= measureFrom && t1 <= measureTo) {
                                            h.recordValue(t1 - t0);
                                        }
                                    }
                                    return h;
                                }));
            }
            long cpu0 = -1;
            while (cpu0 < 0) {
                if (System.nanoTime() >= measureFrom) {
                    cpu0 = processCpuNanos();
                } else {
                    Thread.sleep(1);
                }
            }
            long cpu1 = -1;
            while (cpu1 < 0) {
                if (System.nanoTime() >= measureTo) {
                    cpu1 = processCpuNanos();
                } else {
                    Thread.sleep(1);
                }
            }
            Histogram all = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
            for (Future<Histogram> f : futures) {
                try {
                    all.add(f.get());
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new IllegalStateException(
                            "session bench client failed: " + e.getCause(), e.getCause());
                }
            }
            long count = all.getTotalCount();
            return new Phase(
                    count,
                    count / (plan.measure().toNanos() / 1e9),
                    all.getValueAtPercentile(50) / 1e3,
                    all.getValueAtPercentile(99) / 1e3,
                    all.getMaxValue() / 1e3,
                    count == 0 ? Double.NaN : (cpu1 - cpu0) / 1e3 / count);
        } finally {
            pool.shutdownNow();
        }
    }

    private static double loadAverage() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                .getSystemLoadAverage();
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean)
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static void open(HttpClient client, String base, String symbol, Instant until)
            throws InterruptedException {
        Map<String, Object> warmup = new LinkedHashMap<>();
        warmup.put("dataset", "btc-usd-4h");
        warmup.put("until", until.toString());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("account", symbol.toLowerCase(Locale.ROOT) + "-paper");
        body.put("mode", "paper");
        body.put("interval", "PT4H");
        body.put("warmup", warmup);
        try {
            HttpResponse<String> r =
                    client.send(
                            HttpRequest.newBuilder(URI.create(base + "/v1/sessions/" + symbol))
                                    .header("Content-Type", "application/json")
                                    .PUT(
                                            HttpRequest.BodyPublishers.ofString(
                                                    JSON.writeValueAsString(body)))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException(
                        "session bench: opening "
                                + symbol
                                + " answered "
                                + r.statusCode()
                                + " "
                                + r.body());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String barBody(Bar b) {
        Map<String, Object> bar = new LinkedHashMap<>();
        bar.put("timestamp", b.start().toString());
        bar.put("open", b.open());
        bar.put("high", b.high());
        bar.put("low", b.low());
        bar.put("close", b.close());
        bar.put("volume", b.volume());
        try {
            return JSON.writeValueAsString(Map.of("bars", List.of(bar)));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
