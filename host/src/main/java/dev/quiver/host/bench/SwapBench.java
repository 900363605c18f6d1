package dev.quiver.host.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.live.LiveModels;
import dev.quiver.host.live.ModelBinding;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.registry.AliasHistory;
import dev.quiver.host.store.StateStore;
import dev.quiver.host.web.DecisionRequests;
import dev.quiver.host.web.QuiverServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Decision latency over HTTP while a model alias moves: the live service (plugins, one {@link
 * LiveModels} binding, {@link QuiverServer} on a free local port) answers {@code clients} threads
 * that POST the same real-bar decision request back to back.
 *
 * <ol>
 *   <li>Warm-up: {@code warmupRequests} per client, not recorded.
 *   <li>Steady: {@code steadyRequests} per client, no alias move.
 *   <li>Swaps: the alias is moved {@code swaps} times between two versions; after each move the
 *       bench waits until {@code /v1/models} shows the new version serving (that wait, from the
 *       alias call returning, is the alias-move-to-serving time, so it includes up to one poll
 *       interval), then moves again. Every request answered in this phase is recorded.
 * </ol>
 *
 * Latency is client-side, {@link System#nanoTime()} around each request (JSON encoding, loopback
 * HTTP, features, every source, fusion, sizing), in milliseconds; p50/p99 by nearest rank. Runs on
 * the same machine as the service, so the clients compete with it for CPU.
 */
public final class SwapBench {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What to run.
     *
     * @param model registered model name, e.g. {@code quiver-lstm}
     * @param capability the capability it serves, e.g. {@code lstm}
     * @param alias the alias the bench moves (its own, e.g. {@code bench}: never {@code champion})
     * @param versionA first version
     * @param versionB second version
     * @param swaps alias moves
     * @param clients client threads
     * @param warmupRequests untimed requests per client
     * @param steadyRequests timed requests per client without swaps
     * @param pollInterval the service's poll interval
     */
    public record Plan(
            String model,
            String capability,
            String alias,
            String versionA,
            String versionB,
            int swaps,
            int clients,
            int warmupRequests,
            int steadyRequests,
            Duration pollInterval) {}

    /**
     * Figures, milliseconds.
     *
     * @param steadyN requests timed in steady state
     * @param steadyP50 median latency in steady state
     * @param steadyP99 99th percentile in steady state
     * @param swapN requests timed during the swaps
     * @param swapP50 median during the swaps
     * @param swapP99 99th percentile during the swaps
     * @param moveToServingP50 median time from the alias move to the new version serving
     * @param moveToServingMax longest such time
     * @param failed requests that did not answer 200
     * @param swapsDone swaps the service reported
     */
    public record Result(
            int steadyN,
            double steadyP50,
            double steadyP99,
            int swapN,
            double swapP50,
            double swapP99,
            double moveToServingP50,
            double moveToServingMax,
            int failed,
            long swapsDone) {}

    private SwapBench() {}

    /**
     * Runs the plan.
     *
     * @param plan what to run
     * @param runtime started plugins
     * @param registry the registry (the alias is moved through it)
     * @param cacheDir model cache for the service; its alias history goes to a state store of its
     *     own in this folder ({@code state.db})
     * @param bars the request's bars (the last 300 are sent)
     * @return the figures
     * @throws InterruptedException if interrupted
     * @throws IOException if the service cannot be reached
     */
    public static Result run(
            Plan plan, PluginRuntime runtime, MlflowClient registry, Path cacheDir, BarData bars)
            throws InterruptedException, IOException {
        registry.setAlias(plan.model(), plan.alias(), plan.versionA());
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        LiveModels.Settings settings =
                new LiveModels.Settings(
                        plan.pollInterval(),
                        Duration.ofSeconds(10),
                        Duration.ofSeconds(90),
                        Duration.ofSeconds(120));
        String binding = plan.capability() + "=models:/" + plan.model() + "@" + plan.alias();
        try (StateStore store =
                        StateStore.open(
                                Optional.of("jdbc:sqlite:" + cacheDir.resolve("state.db")),
                                cacheDir);
                LiveModels models =
                        LiveModels.open(
                                runtime,
                                Optional.of(registry),
                                cacheDir,
                                new AliasHistory(store),
                                metrics,
                                List.of(ModelBinding.parse(binding)),
                                settings);
                QuiverServer server =
                        QuiverServer.start(runtime, metrics, models, "127.0.0.1", 0, 1.0)) {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            URI decisions = URI.create("http://127.0.0.1:" + server.port() + "/v1/decisions");
            URI status = URI.create("http://127.0.0.1:" + server.port() + "/v1/models");
            String body = request(bars, 300);
            AtomicInteger failed = new AtomicInteger();

            // Warm-up and steady state: a fixed number of requests per client.
            clients(plan.clients(), plan.warmupRequests(), http, decisions, body, failed, null);
            double[] steady =
                    clients(
                            plan.clients(),
                            plan.steadyRequests(),
                            http,
                            decisions,
                            body,
                            failed,
                            null);

            // During swaps: clients run until the last swap serves.
            AtomicBoolean stop = new AtomicBoolean();
            List<double[]> during = new ArrayList<>();
            Thread load =
                    new Thread(
                            () -> {
                                try {
                                    during.add(
                                            clients(
                                                    plan.clients(),
                                                    Integer.MAX_VALUE,
                                                    http,
                                                    decisions,
                                                    body,
                                                    failed,
                                                    stop));
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                }
                            },
                            "swap-bench-load");
            load.start();
            double[] moveMs = new double[plan.swaps()];
            String target = plan.versionA();
            for (int i = 0; i < plan.swaps(); i++) {
                target = target.equals(plan.versionA()) ? plan.versionB() : plan.versionA();
                long t0 = System.nanoTime();
                registry.setAlias(plan.model(), plan.alias(), target);
                while (!target.equals(serving(http, status))) {
                    Thread.sleep(5);
                    if (System.nanoTime() - t0 > Duration.ofMinutes(3).toNanos()) {
                        throw new IllegalStateException(
                                "[Quiver/BENCH_STUCK] version "
                                        + target
                                        + " did not serve within 3 minutes: "
                                        + get(http, status));
                    }
                }
                moveMs[i] = (System.nanoTime() - t0) / 1e6;
            }
            stop.set(true);
            load.join();
            JsonNode b = JSON.readTree(get(http, status)).get("bindings").get(0);
            double[] swapLat = during.isEmpty() ? new double[0] : during.get(0);
            Arrays.sort(moveMs);
            return new Result(
                    steady.length,
                    percentile(steady, 50),
                    percentile(steady, 99),
                    swapLat.length,
                    percentile(swapLat, 50),
                    percentile(swapLat, 99),
                    percentile(moveMs, 50),
                    moveMs.length == 0 ? Double.NaN : moveMs[moveMs.length - 1],
                    failed.get(),
                    b.get("swaps").asLong());
        } finally {
            registry.setAlias(plan.model(), plan.alias(), plan.versionA());
        }
    }

    /** Runs {@code clients} threads of up to {@code each} requests; latencies sorted, ms. */
    private static double[] clients(
            int clients,
            int each,
            HttpClient http,
            URI uri,
            String body,
            AtomicInteger failed,
            AtomicBoolean stop)
            throws InterruptedException {
        List<double[]> per = new ArrayList<>();
        int[] counts = new int[clients];
        CountDownLatch done = new CountDownLatch(clients);
        for (int c = 0; c < clients; c++) {
            int id = c;
            double[] lat = new double[each == Integer.MAX_VALUE ? 1 << 20 : each];
            per.add(lat);
            Thread t =
                    new Thread(
                            () -> {
                                try {
                                    int n = 0;
                                    while (n < each
                                            && n < lat.length
                                            && (stop == null || !stop.get())) {
                                        long t0 = System.nanoTime();
                                        int code = post(http, uri, body);
                                        lat[n++] = (System.nanoTime() - t0) / 1e6;
                                        if (code != 200) {
                                            failed.incrementAndGet();
                                        }
                                    }
                                    counts[id] = n;
                                } finally {
                                    done.countDown();
                                }
                            },
                            "swap-bench-client-" + c);
            t.setDaemon(true);
            t.start();
        }
        done.await();
        int total = Arrays.stream(counts).sum();
        double[] all = new double[total];
        int k = 0;
        for (int c = 0; c < clients; c++) {
            System.arraycopy(per.get(c), 0, all, k, counts[c]);
            k += counts[c];
        }
        Arrays.sort(all);
        return all;
    }

    private static int post(HttpClient http, URI uri, String body) {
        try {
            return http.send(
                            HttpRequest.newBuilder(uri)
                                    .header("Content-Type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofString(body))
                                    .build(),
                            HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static String get(HttpClient http, URI uri) throws IOException, InterruptedException {
        return http.send(
                        HttpRequest.newBuilder(uri).GET().build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }

    private static String serving(HttpClient http, URI status)
            throws IOException, InterruptedException {
        return JSON.readTree(get(http, status))
                .get("bindings")
                .get(0)
                .get("serving")
                .get("version")
                .asText();
    }

    /** Nearest-rank percentile of sorted values. */
    static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    static String request(BarData data, int n) {
        return DecisionRequests.lastBars(data, Math.min(n, data.size())).toString();
    }
}
