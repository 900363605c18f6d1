package dev.quiver.host.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.cli.Cli;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.rollout.LiveRollouts;
import dev.quiver.host.rollout.RolloutManager;
import dev.quiver.host.rollout.RolloutStore;
import dev.quiver.host.store.StateStore;
import dev.quiver.host.store.TestStores;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rollout on the running service, end to end over HTTP and the CLI: {@code prediction-analogs} as
 * installed (k = 25) against the same plugin with k = 50, in canary at 50% over two symbols;
 * decisions on consecutive real BTC-USD bars route, record both, score each bar's outcome when the
 * next request brings it, and name the variant in provenance; promote and rollback through {@code
 * quiver rollout}; a bad spec answered 400 naming the field; the state resumes after a restart.
 */
class RolloutServeIT {

    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final int STEPS = 40;

    static final String SPEC =
            """
            {"id": "analogs-k50",
             "capability": {"kind": "prediction", "name": "analogs", "plugin": "prediction-analogs"},
             "champion": {},
             "challenger": {"config": {"k": 50}},
             "mode": "canary",
             "routing": {"key": "symbol", "canary_percent": 50},
             "rules": {"metric": "log_loss", "min_samples": 30, "automatic": false}}
            """;

    static ObjectNode request(String symbol, BarData data, int end, int n) {
        return DecisionRequests.body(symbol, data, end - n + 1, end);
    }

    static HttpResponse<String> send(String method, URI uri, String body) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(uri)
                        .header("Content-Type", "application/json")
                        .method(
                                method,
                                body == null
                                        ? HttpRequest.BodyPublishers.noBody()
                                        : HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static int cli(StringWriter out, String... args) {
        StringWriter err = new StringWriter();
        int code = Cli.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
        out.append(err.toString());
        return code;
    }

    @Test
    void canaryRoutesRecordsScoresAndResumesAfterARestart(
            @TempDir Path plugins, @TempDir Path state) throws Exception {
        for (String zip :
                List.of(
                        "prediction-traditional-1.0.0.zip",
                        "prediction-analogs-1.0.0.zip",
                        "sizing-fixed-1.0.0.zip")) {
            Files.copy(DISTRIBUTION.resolve("plugins").resolve(zip), plugins.resolve(zip));
        }
        Path spec = state.resolve("spec.json");
        Files.writeString(spec, SPEC);
        BarData btc = BundledData.BTC_USD_4H.load();
        int first = btc.size() - STEPS - 1;
        try (PluginRuntime runtime = PluginRuntime.start(plugins, Map.of())) {
            StateStore db = TestStores.sqlite(state);
            LiveRollouts rollouts = open(plugins, state, db);
            QuiverServer server =
                    QuiverServer.start(runtime, "127.0.0.1", 0, 1.0, Optional.of(rollouts));
            String base = "http://127.0.0.1:" + server.port();
            try {
                StringWriter out = new StringWriter();
                assertThat(cli(out, "rollout", "--server", base, "start", spec.toString()))
                        .as(out.toString())
                        .isZero();
                assertThat(out.toString()).contains("\"stage\" : \"canary\"");

                // a bad spec: 400 naming the field
                HttpResponse<String> bad =
                        send(
                                "POST",
                                URI.create(base + "/v1/rollouts"),
                                SPEC.replace("\"analogs-k50\"", "\"x\"").replace("50}", "150}"));
                assertThat(bad.statusCode()).isEqualTo(400);
                assertThat(JSON.readTree(bad.body()).path("field").asText())
                        .isEqualTo("routing.canary_percent");
                // the same capability twice: 409
                assertThat(
                                send(
                                                "POST",
                                                URI.create(base + "/v1/rollouts"),
                                                SPEC.replace("analogs-k50", "other"))
                                        .statusCode())
                        .isEqualTo(409);

                java.util.Set<String> acted = new java.util.HashSet<>();
                for (int i = first; i < first + STEPS; i++) {
                    for (String symbol : List.of("BTC-USD", "BTC-COPY")) {
                        HttpResponse<String> r =
                                send(
                                        "POST",
                                        URI.create(base + "/v1/decisions"),
                                        request(symbol, btc, i, 200).toString());
                        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                        JsonNode ro =
                                JSON.readTree(r.body()).path("provenance").path("rollouts").get(0);
                        assertThat(ro.path("rollout").asText()).isEqualTo("analogs-k50");
                        assertThat(ro.path("champion_p_up").isNumber()).isTrue();
                        assertThat(ro.path("challenger_p_up").isNumber()).isTrue();
                        assertThat(ro.path("acted").asText()).isEqualTo(ro.path("routed").asText());
                        acted.add(symbol + "=" + ro.path("acted").asText());
                        if (ro.path("acted").asText().equals("challenger")) {
                            assertThat(ro.path("variant").asText()).contains("{k=50}");
                        }
                    }
                }
                // sticky: each symbol always got the same variant
                assertThat(acted).hasSize(2);

                JsonNode status =
                        JSON.readTree(
                                send("GET", URI.create(base + "/v1/rollouts/analogs-k50"), null)
                                        .body());
                // every request after a symbol's first scored the previous bar, for both variants
                assertThat(status.path("figures").path("champion").path("n").asLong())
                        .isEqualTo(2L * (STEPS - 1));
                assertThat(status.path("figures").path("challenger").path("n").asLong())
                        .isEqualTo(2L * (STEPS - 1));
                assertThat(status.path("current_stage").path("paired_samples").asLong())
                        .isEqualTo(2L * (STEPS - 1));
                assertThat(status.path("current_stage").path("test").path("test").asText())
                        .isEqualTo("paired");

                out = new StringWriter();
                assertThat(
                                cli(
                                        out,
                                        "rollout",
                                        "--server",
                                        base,
                                        "promote",
                                        "analogs-k50",
                                        "--reason",
                                        "canary looks fine"))
                        .isZero();
                assertThat(out.toString())
                        .contains("\"to\" : \"full\"")
                        .contains("canary looks fine");
            } finally {
                server.close();
                rollouts.close();
                db.close();
            }

            // restart: state, figures and stage come back from the state store
            StateStore db2 = TestStores.sqlite(state);
            LiveRollouts again = open(plugins, state, db2);
            QuiverServer server2 =
                    QuiverServer.start(runtime, "127.0.0.1", 0, 1.0, Optional.of(again));
            String base2 = "http://127.0.0.1:" + server2.port();
            try {
                JsonNode status =
                        JSON.readTree(
                                send("GET", URI.create(base2 + "/v1/rollouts/analogs-k50"), null)
                                        .body());
                assertThat(status.path("stage").asText()).isEqualTo("full");
                assertThat(status.path("figures").path("champion").path("n").asLong())
                        .isEqualTo(2L * (STEPS - 1));
                StringWriter out = new StringWriter();
                assertThat(cli(out, "rollout", "--server", base2, "rollback", "analogs-k50"))
                        .isZero();
                assertThat(out.toString()).contains("\"to\" : \"rolled_back\"");
                out = new StringWriter();
                assertThat(cli(out, "rollout", "--server", base2, "rollback", "analogs-k50"))
                        .isEqualTo(2);
                assertThat(out.toString()).contains("ROLLOUT_FINISHED");
                List<String> audit = again.manager().store().auditLines();
                assertThat(audit.stream().filter(l -> l.contains("\"event\":\"transition\"")))
                        .hasSize(2);
            } finally {
                server2.close();
                again.close();
                db2.close();
            }
        }
    }

    /**
     * A sizing rollout end to end: the fixed-fraction policy as installed (0.5 of equity) against
     * 0.25, canary at 50% over two symbols; each decision's {@code fixed} fraction is the routed
     * variant's, both fractions are named in provenance, and outcomes are scored by cost-adjusted
     * P&L (the only metric a sizing rollout takes).
     */
    @Test
    void aSizingRolloutRoutesTheFractionAndScoresPnl(@TempDir Path plugins, @TempDir Path state)
            throws Exception {
        for (String zip : List.of("prediction-traditional-1.0.0.zip", "sizing-fixed-1.0.0.zip")) {
            Files.copy(DISTRIBUTION.resolve("plugins").resolve(zip), plugins.resolve(zip));
        }
        String spec =
                """
                {"id": "fixed-quarter",
                 "capability": {"kind": "sizing", "name": "fixed", "plugin": "sizing-fixed"},
                 "champion": {},
                 "challenger": {"config": {"fraction": 0.25}},
                 "mode": "canary",
                 "routing": {"key": "symbol", "canary_percent": 50},
                 "rules": {"metric": "pnl", "min_samples": 30, "automatic": false}}
                """;
        BarData btc = BundledData.BTC_USD_4H.load();
        int first = btc.size() - STEPS - 1;
        try (PluginRuntime runtime = PluginRuntime.start(plugins, Map.of())) {
            StateStore db = TestStores.sqlite(state);
            LiveRollouts rollouts = open(plugins, state, db);
            QuiverServer server =
                    QuiverServer.start(runtime, "127.0.0.1", 0, 1.0, Optional.of(rollouts));
            String base = "http://127.0.0.1:" + server.port();
            try {
                HttpResponse<String> started =
                        send("POST", URI.create(base + "/v1/rollouts"), spec);
                assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
                java.util.Map<String, String> variantOf = new java.util.HashMap<>();
                int fractionsSeen = 0;
                for (int i = first; i < first + STEPS; i++) {
                    for (String symbol : List.of("BTC-USD", "BTC-COPY")) {
                        HttpResponse<String> r =
                                send(
                                        "POST",
                                        URI.create(base + "/v1/decisions"),
                                        request(symbol, btc, i, 200).toString());
                        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                        JsonNode d = JSON.readTree(r.body());
                        JsonNode ro = d.path("provenance").path("rollouts").get(0);
                        assertThat(ro.path("capability").asText()).isEqualTo("sizing:fixed");
                        String acted = ro.path("acted").asText();
                        assertThat(
                                        variantOf.putIfAbsent(symbol, acted) == null
                                                || variantOf.get(symbol).equals(acted))
                                .as("sticky routing of %s", symbol)
                                .isTrue();
                        double champion = ro.path("champion_fraction").asDouble();
                        double challenger = ro.path("challenger_fraction").asDouble();
                        double served =
                                d.path("decisions").path("fixed").path("fraction").asDouble();
                        assertThat(served)
                                .isEqualTo(acted.equals("challenger") ? challenger : champion);
                        if (champion > 0) {
                            // p > 0.5: both policies take a position, at their own fractions
                            assertThat(champion).isEqualTo(0.5);
                            assertThat(challenger).isEqualTo(0.25);
                            fractionsSeen++;
                        }
                    }
                }
                assertThat(fractionsSeen).isPositive();
                JsonNode status =
                        JSON.readTree(
                                send("GET", URI.create(base + "/v1/rollouts/fixed-quarter"), null)
                                        .body());
                assertThat(status.path("figures").path("champion").path("n").asLong())
                        .isEqualTo(2L * (STEPS - 1));
                assertThat(status.path("figures").path("challenger").path("pnl").isNumber())
                        .isTrue();
            } finally {
                server.close();
                rollouts.close();
                db.close();
            }
        }
    }

    static LiveRollouts open(Path plugins, Path state, StateStore db) {
        return LiveRollouts.open(
                RolloutManager.open(new RolloutStore(db), Optional.empty(), Clock.systemUTC()),
                plugins,
                Map.of(),
                Optional.empty(),
                state.resolve("variants"));
    }
}
