package dev.quiver.host.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.plugin.LoadedPlugin;
import dev.quiver.host.plugin.PluginRuntime;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** {@code quiver serve} over real HTTP, with the distribution's plugins and real bundled bars. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServeIT {

    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));
    static final ObjectMapper JSON = new ObjectMapper();
    static final double CAP = 0.8;

    PluginRuntime runtime;
    QuiverServer server;
    Map<String, String> fitted;

    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    void start(@TempDir Path dir) throws IOException {
        try (DirectoryStream<Path> zips =
                Files.newDirectoryStream(DISTRIBUTION.resolve("plugins"), "*.zip")) {
            for (Path zip : zips) {
                Files.copy(zip, dir.resolve(zip.getFileName()));
            }
        }
        runtime = PluginRuntime.start(dir, Map.of());
        // As `quiver serve` does by default: the per-fold sources fitted on the last real bars.
        fitted =
                SourceFitting.fit(
                        runtime.predictions(),
                        dev.quiver.host.data.BundledData.SP500_DAILY.load(),
                        1000);
        server = QuiverServer.start(runtime, "127.0.0.1", 0, CAP);
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
        if (runtime != null) {
            runtime.close();
        }
    }

    @Test
    void decidesOnTheLastOfThreeHundredRealBars() throws Exception {
        BarData btc = BundledData.BTC_USD_4H.load();
        HttpResponse<String> r = post("/v1/decisions", request(btc, 300).toString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode d = JSON.readTree(r.body());

        Instant last = btc.bar(btc.size() - 1).start();
        assertThat(d.get("bar_time").asText()).isEqualTo(last.toString());
        JsonNode fused = d.get("fused");
        for (String f : new String[] {"p_up", "confidence", "agreement"}) {
            assertThat(fused.get(f).asDouble()).as(f).isBetween(0.0, 1.0);
        }
        assertThat(fused.get("contributions")).isNotEmpty();
        // No strategy bundle serves this server: the answer says plainly that it is unfitted.
        assertThat(fused.get("fitted").asBoolean(true)).isFalse();
        assertThat(fused.get("fusion_note").asText()).startsWith("UNFITTED: ");
        assertThat(d.get("warning").asText()).startsWith("unfitted: no strategy bundle serves");

        JsonNode decisions = d.get("decisions");
        assertThat(decisions.size()).isGreaterThanOrEqualTo(2);
        for (Map.Entry<String, JsonNode> e : decisions.properties()) {
            JsonNode dec = e.getValue();
            assertThat(dec.get("fraction").asDouble()).as(e.getKey()).isBetween(0.0, CAP);
            assertThat(dec.get("reason").asText()).isNotBlank();
            assertThat(dec.get("inputs").get("p_up").asDouble())
                    .isEqualTo(fused.get("p_up").asDouble());
            assertThat(dec.get("inputs").get("max_fraction").asDouble()).isEqualTo(CAP);
        }

        JsonNode provenance = d.get("provenance");
        for (LoadedPlugin p : runtime.plugins()) {
            assertThat(provenance.get("plugins").get(p.id()).asText())
                    .as(p.id())
                    .isEqualTo(p.version());
        }
        assertThat(provenance.get("plugins").get("sizing-kelly").asText()).isEqualTo("1.3.0");
        assertThat(provenance.get("feature_schema_hash").asText()).isNotBlank();
        assertThat(provenance.get("pipeline_generation").asLong()).isZero();
        assertThat(provenance.get("models").isObject()).isTrue();
        assertThat(provenance.get("failed_sources").isObject()).isTrue();
        // fitted before serving, the per-fold GBM sources answer like the others
        assertThat(fitted.get("xgboost")).startsWith("fit on sp500-daily ");
        assertThat(fitted.get("lightgbm")).startsWith("fit on sp500-daily ");
        assertThat(provenance.get("failed_sources").has("xgboost")).isFalse();
        assertThat(provenance.get("failed_sources").has("lightgbm")).isFalse();

        String metrics = get("/metrics").body();
        assertThat(metrics)
                .contains("quiver_decisions_total")
                .contains("quiver_capability_call_seconds_bucket")
                .contains("capability=\"prediction\"")
                .contains("capability=\"sizing\"");
    }

    @Test
    void aMalformedBarIsRefusedNamingTheFieldAndIndex() throws Exception {
        ObjectNode body = request(BundledData.BTC_USD_4H.load(), 150);
        ((ObjectNode) body.withArray("bars").get(42)).put("close", -5.0);
        HttpResponse<String> r = post("/v1/decisions", body.toString());
        assertThat(r.statusCode()).isEqualTo(400);
        JsonNode e = JSON.readTree(r.body());
        assertThat(e.get("field").asText()).isEqualTo("bars[42].close");
        assertThat(e.get("index").asInt()).isEqualTo(42);
        assertThat(e.get("message").asText()).contains("bars[42]").contains("'close'");

        ObjectNode missing = request(BundledData.BTC_USD_4H.load(), 150);
        ((ObjectNode) missing.withArray("bars").get(7)).remove("volume");
        JsonNode m = JSON.readTree(post("/v1/decisions", missing.toString()).body());
        assertThat(m.get("field").asText()).isEqualTo("bars[7].volume");

        HttpResponse<String> notJson = post("/v1/decisions", "{not json");
        assertThat(notJson.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(notJson.body()).get("field").asText()).isEqualTo("body");

        HttpResponse<String> tooFew =
                post("/v1/decisions", request(BundledData.BTC_USD_4H.load(), 5).toString());
        assertThat(tooFew.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(tooFew.body()).get("field").asText()).isEqualTo("bars");

        assertThat(get("/metrics").body()).contains("quiver_errors_total");
    }

    @Test
    void healthPluginsCapabilitiesAndOpenApi() throws Exception {
        assertThat(get("/health/live").statusCode()).isEqualTo(200);
        HttpResponse<String> ready = get("/health/ready");
        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);

        JsonNode plugins = JSON.readTree(get("/v1/plugins").body());
        assertThat(plugins.get("plugins").size()).isEqualTo(runtime.plugins().size());
        assertThat(plugins.get("refusals").isArray()).isTrue();
        assertThat(plugins.get("health").isArray()).isTrue();

        JsonNode caps = JSON.readTree(get("/v1/capabilities").body());
        assertThat(caps.get("capabilities").toString()).contains("quiver.sizing");

        HttpResponse<String> openApi = get("/openapi.json");
        assertThat(openApi.statusCode()).isEqualTo(200);
        JsonNode doc = JSON.readTree(openApi.body());
        assertThat(doc.get("openapi").asText()).startsWith("3.");
        assertThat(doc.get("paths").has("/v1/decisions")).isTrue();
    }

    @Test
    void notReadyWithoutASizingPlugin(@TempDir Path only) throws Exception {
        try (DirectoryStream<Path> zips =
                Files.newDirectoryStream(DISTRIBUTION.resolve("plugins"), "prediction-*.zip")) {
            for (Path zip : zips) {
                Files.copy(zip, only.resolve(zip.getFileName()));
            }
        }
        try (PluginRuntime predictionsOnly = PluginRuntime.start(only, Map.of());
                QuiverServer s = QuiverServer.start(predictionsOnly, "127.0.0.1", 0, 1.0)) {
            HttpResponse<String> r =
                    http.send(
                            HttpRequest.newBuilder(
                                            URI.create(
                                                    "http://127.0.0.1:"
                                                            + s.port()
                                                            + "/health/ready"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.body()).contains("no sizing capability");
        }
    }

    static ObjectNode request(BarData data, int n) {
        return DecisionRequests.lastBars(data, n);
    }

    HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(
                HttpRequest.newBuilder(uri(path))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path) throws Exception {
        return http.send(
                HttpRequest.newBuilder(uri(path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }
}
