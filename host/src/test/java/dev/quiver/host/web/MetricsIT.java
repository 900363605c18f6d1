package dev.quiver.host.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.session.ServedStrategy;
import dev.quiver.host.session.SessionManager;
import dev.quiver.host.session.StrategyCatalog;
import dev.quiver.host.store.StateStore;
import dev.quiver.host.strategy.StrategyBundle;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /metrics} as Prometheus scrapes it: the counters exist at 0 before the first decision, and
 * the capability-call histograms resolve microseconds, for stateless decisions and session steps.
 */
class MetricsIT {

    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));
    static final ObjectMapper JSON = new ObjectMapper();
    static final Pattern BUCKET =
            Pattern.compile(
                    "^quiver_capability_call_seconds_bucket\\{([^}]*)\\} ([0-9.Ee+-]+)$",
                    Pattern.MULTILINE);
    static final Pattern LE = Pattern.compile("le=\"([^\"]+)\"");

    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void countersReadZeroBeforeTheFirstDecisionAndBucketsResolveMicroseconds(@TempDir Path dir)
            throws Exception {
        try (PluginRuntime runtime = PluginRuntime.start(plugins(dir), Map.of())) {
            QuiverServer server = QuiverServer.start(runtime, "127.0.0.1", 0, 0.8);
            try {
                String before = get(server, "/metrics");
                assertThat(before)
                        .contains("quiver_decisions_total{kind=\"window\"} 0.0")
                        .contains("quiver_decisions_total{kind=\"session\"} 0.0");
                for (String kind : ServiceMetrics.ERROR_KINDS) {
                    assertThat(before).contains("quiver_errors_total{kind=\"" + kind + "\"} 0.0");
                }
                // Every capability's histogram is there before its first call, with buckets
                // from 1 us.
                assertThat(lowestBound(before, "capability=\"prediction\",name=\"traditional\""))
                        .isEqualTo(1e-6);
                assertThat(lowestBound(before, "capability=\"sizing\",name=\"fixed\""))
                        .isEqualTo(1e-6);

                BarData btc = BundledData.BTC_USD_4H.load();
                HttpResponse<String> r = post(server, "/v1/decisions", window(btc, 300));
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                String after = get(server, "/metrics");
                assertThat(after).contains("quiver_decisions_total{kind=\"window\"} 1.0");
                // the call is counted, in a histogram with 9 buckets below 1 ms (how fast the call
                // was is the bench's business, not a test's)
                assertThat(
                                countBelow(
                                        after,
                                        "capability=\"sizing\",name=\"fixed\"",
                                        Double.POSITIVE_INFINITY))
                        .isEqualTo(1);
                assertThat(
                                buckets(after, "capability=\"sizing\",name=\"fixed\"").stream()
                                        .filter(b -> b[0] < 1e-3)
                                        .count())
                        .isEqualTo(9);
            } finally {
                server.close();
            }
        }
    }

    @Test
    void sessionStepsAreTimedIntoTheSameHistograms(@TempDir Path dir) throws Exception {
        Path bundleDir = DISTRIBUTION.resolve("strategies").resolve("btc-usd-4h");
        assertThat(bundleDir)
                .as("the embedded strategy bundle the build fits (not skipped in CI)")
                .isDirectory();
        Path pluginsDir = Files.createDirectories(dir.resolve("plugins"));
        Path stateDir = Files.createDirectories(dir.resolve("state"));
        try (PluginRuntime runtime = PluginRuntime.start(plugins(pluginsDir), Map.of());
                StateStore store =
                        StateStore.open(
                                Optional.of("jdbc:sqlite:" + stateDir.resolve("state.db")),
                                stateDir)) {
            StrategyBundle bundle = StrategyBundle.open(bundleDir);
            StrategyCatalog catalog = StrategyCatalog.folders(bundle, runtime);
            SessionManager sessions = new SessionManager(store, catalog, Clock.systemUTC());
            QuiverServer server =
                    QuiverServer.start(
                            runtime,
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
            try {
                assertThat(get(server, "/metrics"))
                        .contains("quiver_decisions_total{kind=\"session\"} 0.0");
                Instant until =
                        Instant.parse(
                                "2025-06-01T00:00:00Z"); // inside the bundle's training window
                ObjectNode open = JSON.createObjectNode();
                open.putObject("warmup")
                        .put("dataset", "btc-usd-4h")
                        .put("until", until.toString());
                HttpResponse<String> opened =
                        put(server, "/v1/sessions/METRICS-USD", open.toString());
                assertThat(opened.statusCode()).as(opened.body()).isEqualTo(200);

                BarData btc = BundledData.BTC_USD_4H.load();
                int next = 0;
                while (!btc.bar(next).start().isAfter(until)) {
                    next++;
                }
                // Bars one at a time until one passes the input gate (on a bar it refuses, every
                // policy abstains without being asked): the sources and the ensemble are asked on
                // every bar, the policies on the passed one only.
                int posted = 0;
                boolean passed = false;
                while (!passed) {
                    assertThat(posted)
                            .as("a bar the embedded bundle's gate passes")
                            .isLessThan(200);
                    ObjectNode body = JSON.createObjectNode();
                    bar(body.putArray("bars"), btc, next + posted);
                    HttpResponse<String> r =
                            post(server, "/v1/sessions/METRICS-USD/bars", body.toString());
                    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                    posted++;
                    passed = !JSON.readTree(r.body()).path("gate").path("abstain").asBoolean();
                }

                String after = get(server, "/metrics");
                assertThat(after)
                        .contains("quiver_decisions_total{kind=\"session\"} " + (double) posted);
                // no stateless decision was made: these calls are the session step's
                for (String series :
                        List.of(
                                "capability=\"prediction\",name=\"traditional\"",
                                "capability=\"ensemble\",name=\"stack\"")) {
                    assertThat(countBelow(after, series, Double.POSITIVE_INFINITY))
                            .as(series)
                            .isEqualTo(posted);
                }
                assertThat(
                                countBelow(
                                        after,
                                        "capability=\"sizing\",name=\"kelly_ml\"",
                                        Double.POSITIVE_INFINITY))
                        .as("kelly_ml, asked on the bar the gate passed only")
                        .isEqualTo(1);
                assertThat(lowestBound(after, "capability=\"sizing\",name=\"kelly_ml\""))
                        .isEqualTo(1e-6);
            } finally {
                server.close();
                sessions.close();
            }
        }
    }

    /** The distribution's plugin zips, copied to {@code dir}. */
    static Path plugins(Path dir) throws IOException {
        try (DirectoryStream<Path> zips =
                Files.newDirectoryStream(DISTRIBUTION.resolve("plugins"), "*.zip")) {
            for (Path zip : zips) {
                Files.copy(zip, dir.resolve(zip.getFileName()));
            }
        }
        return dir;
    }

    /** The buckets of one series ({@code le} bound, cumulative count), lowest bound first. */
    static List<double[]> buckets(String scrape, String series) {
        List<double[]> out = new ArrayList<>();
        Matcher m = BUCKET.matcher(scrape);
        while (m.find()) {
            if (!m.group(1).contains(series)) {
                continue;
            }
            Matcher le = LE.matcher(m.group(1));
            assertThat(le.find()).as(m.group()).isTrue();
            double bound =
                    le.group(1).equals("+Inf")
                            ? Double.POSITIVE_INFINITY
                            : Double.parseDouble(le.group(1));
            out.add(new double[] {bound, Double.parseDouble(m.group(2))});
        }
        out.sort((a, b) -> Double.compare(a[0], b[0]));
        assertThat(out).as("buckets of " + series).isNotEmpty();
        return out;
    }

    static double lowestBound(String scrape, String series) {
        return buckets(scrape, series).get(0)[0];
    }

    /** Calls counted in the buckets up to {@code bound} seconds. */
    static long countBelow(String scrape, String series, double bound) {
        double count = 0;
        for (double[] b : buckets(scrape, series)) {
            if (b[0] <= bound) {
                count = b[1];
            }
        }
        return (long) count;
    }

    static String window(BarData bars, int n) {
        ObjectNode body = JSON.createObjectNode();
        body.put("symbol", bars.symbol());
        ArrayNode a = body.putArray("bars");
        for (int i = bars.size() - n; i < bars.size(); i++) {
            bar(a, bars, i);
        }
        return body.toString();
    }

    static void bar(ArrayNode a, BarData bars, int i) {
        var b = bars.bar(i);
        a.addObject()
                .put("timestamp", b.start().toString())
                .put("open", b.open())
                .put("high", b.high())
                .put("low", b.low())
                .put("close", b.close())
                .put("volume", b.volume());
    }

    String get(QuiverServer s, String path) throws Exception {
        return http.send(
                        HttpRequest.newBuilder(uri(s, path)).build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }

    HttpResponse<String> post(QuiverServer s, String path, String body) throws Exception {
        return http.send(
                HttpRequest.newBuilder(uri(s, path))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> put(QuiverServer s, String path, String body) throws Exception {
        return http.send(
                HttpRequest.newBuilder(uri(s, path))
                        .header("Content-Type", "application/json")
                        .PUT(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static URI uri(QuiverServer s, String path) {
        return URI.create("http://127.0.0.1:" + s.port() + path);
    }
}
