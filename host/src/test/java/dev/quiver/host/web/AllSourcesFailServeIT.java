package dev.quiver.host.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.engine.SymbolEngine;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.live.Pipeline;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.plugin.TestPluginZips;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RELIABILITY.md P1 ("decisions fall back with a reason") and §2 item 5 (fallback chain) for the
 * stateless {@code POST /v1/decisions} of {@code serve --strategy none}, over real HTTP: when every
 * prediction source fails on one decision (one plugin throwing an {@link IllegalStateException},
 * one throwing a {@link NoClassDefFoundError}, on every call) the answer is 200 with the fallback a
 * session's engine takes on such a bar ({@link SymbolEngine#NO_FORECAST_REASON}): {@code fused}
 * null, every sizing policy's fraction 0 with that reason and no policy asked, and {@code
 * provenance.failed_sources} naming each failed source and why. Before the fix it answered 500
 * {@code NO_FORECAST}. The decisions go on after the two plugins are quarantined (3 consecutive
 * failures), the failures then naming the quarantine.
 */
class AllSourcesFailServeIT {

    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));
    static final ObjectMapper JSON = new ObjectMapper();
    static final String PKG = "dev.quiver.host.plugin.misbehaving.";
    static final int DECISIONS = 5;

    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void everySourceFailingGivesAFlatDecisionNamingEachSourceAndWhy(@TempDir Path dir)
            throws Exception {
        long t0 = System.nanoTime();
        TestPluginZips.oneClass(
                dir.resolve("all-fail-throwing.zip"),
                "all-fail-throwing",
                "1.0.0",
                "quiver.prediction; name=throwing; horizon=1",
                PKG + "ThrowingForecaster");
        TestPluginZips.oneClass(
                dir.resolve("all-fail-erroring.zip"),
                "all-fail-erroring",
                "1.0.0",
                "quiver.prediction; name=erroring; horizon=1",
                PKG + "ErrorForecaster");
        // The distribution's sizing plugins (trusted by the build's list), no other source.
        try (DirectoryStream<Path> zips =
                Files.newDirectoryStream(DISTRIBUTION.resolve("plugins"), "sizing-*.zip")) {
            for (Path zip : zips) {
                Files.copy(zip, dir.resolve(zip.getFileName()));
            }
        }
        BarData btc = BundledData.BTC_USD_4H.load();
        String body = ServeIT.request(btc, 150).toString();
        String lastBar = btc.bar(btc.size() - 1).start().toString();

        try (PluginRuntime runtime = PluginRuntime.start(dir, Map.of());
                QuiverServer server = QuiverServer.start(runtime, "127.0.0.1", 0, 0.8)) {
            Pipeline pipeline = server.pipelines().current();
            Set<String> sources = new TreeSet<>();
            for (PredictionCapability p : pipeline.predictions()) {
                sources.add(p.descriptor().name());
            }
            // Only the two failing sources: nothing else could answer.
            assertThat(sources).containsExactly("erroring", "throwing");
            Set<String> policies = new TreeSet<>();
            for (SizingCapability s : pipeline.sizings()) {
                policies.add(s.descriptor().name());
            }
            assertThat(policies).isNotEmpty();

            URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/decisions");
            List<JsonNode> answers = new ArrayList<>();
            for (int i = 0; i < DECISIONS; i++) {
                HttpResponse<String> r =
                        http.send(
                                HttpRequest.newBuilder(uri)
                                        .timeout(Duration.ofSeconds(60))
                                        .header("Content-Type", "application/json")
                                        .POST(HttpRequest.BodyPublishers.ofString(body))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as("decision %d: %s", i, r.body()).isEqualTo(200);
                JsonNode d = JSON.readTree(r.body());
                answers.add(d);

                assertThat(d.get("bar_time").asText()).isEqualTo(lastBar);
                assertThat(d.get("fused").isNull()).as(r.body()).isTrue();
                assertThat(d.get("no_signal").asText()).isEqualTo(SymbolEngine.NO_FORECAST_REASON);
                JsonNode decisions = d.get("decisions");
                Set<String> decided = new TreeSet<>();
                decisions.fieldNames().forEachRemaining(decided::add);
                assertThat(decided).as("one decision per sizing policy").isEqualTo(policies);
                for (Map.Entry<String, JsonNode> e : decisions.properties()) {
                    JsonNode dec = e.getValue();
                    assertThat(dec.get("fraction").asDouble(-1)).as(e.getKey()).isZero();
                    assertThat(dec.get("reason").asText())
                            .isEqualTo(SymbolEngine.NO_FORECAST_REASON);
                    assertThat(dec.get("overridden_by_risk_guard").asBoolean(true)).isFalse();
                    assertThat(dec.has("inputs")).as("no policy was asked").isFalse();
                }

                JsonNode failed = d.get("provenance").get("failed_sources");
                Set<String> named = new TreeSet<>();
                failed.fieldNames().forEachRemaining(named::add);
                assertThat(named).as("each failed source named").isEqualTo(sources);
                assertThat(failed.get("throwing").asText()).contains("all-fail-throwing");
                assertThat(failed.get("erroring").asText()).contains("all-fail-erroring");
            }

            // Why each failed: the first decision names each exception and its message ...
            JsonNode first = answers.get(0).get("provenance").get("failed_sources");
            assertThat(first.get("throwing").asText())
                    .contains("IllegalStateException")
                    .contains("deliberately broken at " + lastBar);
            assertThat(first.get("erroring").asText())
                    .contains("NoClassDefFoundError")
                    .contains("a class gone missing at " + lastBar);
            // ... and once both plugins are quarantined (3 consecutive failures), the quarantine.
            JsonNode lastAnswer =
                    answers.get(DECISIONS - 1).get("provenance").get("failed_sources");
            assertThat(lastAnswer.get("throwing").asText()).contains("quarantined");
            assertThat(lastAnswer.get("erroring").asText()).contains("quarantined");

            String metrics =
                    http.send(
                                    HttpRequest.newBuilder(
                                                    URI.create(
                                                            "http://127.0.0.1:"
                                                                    + server.port()
                                                                    + "/metrics"))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString())
                            .body();
            assertThat(metrics).contains("quiver_decisions_total");
            System.out.printf(
                    "AllSourcesFailServeIT: %d flat decisions, first failures %s, last %s%n",
                    DECISIONS, first, lastAnswer);
        }
        System.out.printf("AllSourcesFailServeIT: %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }
}
