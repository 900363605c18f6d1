package dev.quiver.host.session;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.session.ServeProcess.Answer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Map.Entry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kill switch end to end (RELIABILITY.md P12: "kill switch via REST and CLI -> effective on the
 * next bar, survives restart, cleared only by explicit command"): {@code bin/quiver serve} as a
 * child JVM on a SQLite file, two paper sessions on the bundled BTC 4h bars (acting policies {@code
 * kelly_ml} and {@code fixed}) stepped until both hold a position; {@code quiver halt} (the CLI)
 * mid-stream; then {@link #HALTED_BARS} bars per session in which no decision may increase exposure
 * (no decision's target above the position's weight, no fill adding units, every policy's reason
 * naming the halt), reductions still happen; SIGKILL and restart: still halted (the replayed last
 * decision equals the acknowledged one, {@code /health/ready} 200 with {@code halted: true}, the
 * gauge at 1), more halted bars; {@code POST /v1/resume}: risk is added again; the audit trail
 * holds who and why of both commands.
 */
class KillSwitchIT {

    /** Warm-up through this bar; the sessions are stepped from the next one. */
    static final Instant T = Instant.parse("2022-01-01T00:00:00Z");

    /** Bars per session stepped under the halt before the kill, and again after the restart. */
    static final int HALTED_BARS = 250;

    static final List<String> SYMBOLS = List.of("KA", "KB");

    static final Map<String, String> POLICY = Map.of("KA", "kelly_ml", "KB", "fixed");

    BarData btc;
    int next;
    final Map<String, Double> units = new LinkedHashMap<>();
    int halted;
    int reductions;

    @Test
    void haltAllowsOnlyReductionsSurvivesAKillAndIsClearedOnlyByResume(@TempDir Path work)
            throws Exception {
        btc = BundledData.BTC_USD_4H.load();
        while (!btc.bar(next).start().isAfter(T)) {
            next++;
        }
        String url = "jdbc:sqlite:" + work.resolve("state.db");
        Map<String, JsonNode> lastBeforeKill = new LinkedHashMap<>();
        ServeProcess serve = ServeProcess.start(url, work, "serve-1");
        try {
            for (String symbol : SYMBOLS) {
                open(serve, symbol);
                units.put(symbol, 0.0);
            }
            // Until both acting books hold a position (so a reduction is possible under the halt).
            int guard = 0;
            while (units.values().stream().anyMatch(u -> u <= 0)) {
                assertThat(guard++).as("bars before both sessions hold a position").isLessThan(600);
                for (String symbol : SYMBOLS) {
                    units.put(
                            symbol,
                            account(step(serve, symbol, next)).get("position_units").asDouble());
                }
                next++;
            }

            // A halt without a reason is refused naming the field; nothing is halted.
            Answer refused = serve.post("/v1/halt", Map.of("actor", "it-ops"));
            assertThat(refused.status()).as(refused.toString()).isEqualTo(400);
            assertThat(refused.body().get("field").asText()).isEqualTo("reason");
            assertThat(serve.get("/v1/halt").body().get("halted").asBoolean()).isFalse();

            // The CLI halts the running service.
            String cli =
                    ServeProcess.run(
                            work,
                            "halt",
                            "halt",
                            "--server",
                            "http://127.0.0.1:" + serve.port,
                            "--actor",
                            "it-ops",
                            "--reason",
                            "venue outage drill");
            assertThat(cli).contains("\"changed\" : true").contains("\"halted\" : true");
            // A second halt changes nothing.
            JsonNode again =
                    serve.ok("POST", "/v1/halt", Map.of("actor", "someone", "reason", "again"));
            assertThat(again.get("changed").asBoolean()).isFalse();

            assertReadyAndHalted(serve);
            for (int i = 0; i < HALTED_BARS; i++, next++) {
                for (String symbol : SYMBOLS) {
                    lastBeforeKill.put(symbol, haltedStep(serve, symbol));
                }
            }
            assertThat(halted).isEqualTo(HALTED_BARS * SYMBOLS.size());
            serve.kill();
        } finally {
            serve.close();
        }

        serve = ServeProcess.start(url, work, "serve-2");
        try {
            // Still halted after the kill, and the replay reproduces the halted decisions.
            assertReadyAndHalted(serve);
            JsonNode list = serve.ok("GET", "/v1/sessions", null);
            assertThat(list.get("halt").get("halted").asBoolean()).isTrue();
            for (JsonNode s : list.get("sessions")) {
                assertThat(s.get("halted").asBoolean()).as(s.toString()).isTrue();
            }
            for (String symbol : SYMBOLS) {
                JsonNode replayed =
                        serve.ok("GET", "/v1/sessions/" + symbol, null).get("last_decision");
                assertThat(replayed.get("decisions"))
                        .isEqualTo(lastBeforeKill.get(symbol).get("decisions"));
                assertThat(replayed.get("account"))
                        .isEqualTo(lastBeforeKill.get(symbol).get("account"));
            }
            for (int i = 0; i < HALTED_BARS; i++, next++) {
                for (String symbol : SYMBOLS) {
                    haltedStep(serve, symbol);
                }
            }
            assertThat(halted).isEqualTo(2 * HALTED_BARS * SYMBOLS.size());
            assertThat(reductions).as("reducing decisions under the halt").isPositive();

            // Cleared only by an explicit command: resume (REST), then risk is added again.
            Answer noReason = serve.post("/v1/resume", Map.of("actor", "it-ops"));
            assertThat(noReason.status()).as(noReason.toString()).isEqualTo(400);
            assertThat(noReason.body().get("field").asText()).isEqualTo("reason");
            JsonNode resumed =
                    serve.ok(
                            "POST",
                            "/v1/resume",
                            Map.of("actor", "it-lead", "reason", "venue back, drill over"));
            assertThat(resumed.get("changed").asBoolean()).isTrue();
            assertThat(resumed.get("halted").asBoolean()).isFalse();
            JsonNode ready = serve.ok("GET", "/health/ready", null);
            assertThat(ready.get("halted").asBoolean()).isFalse();
            int increases = 0;
            for (int i = 0; i < 400 && increases == 0; i++, next++) {
                for (String symbol : SYMBOLS) {
                    JsonNode d = step(serve, symbol, next);
                    JsonNode acting = acting(d);
                    assertThat(acting.get("reason").asText()).doesNotContain("kill switch");
                    double weight = account(d).get("position_weight").asDouble();
                    if (acting.get("fraction").asDouble() > weight + 1e-9
                            && acting.get("ordered").asBoolean()) {
                        increases++;
                    }
                }
            }
            assertThat(increases).as("decisions adding risk after the resume").isPositive();
            System.out.printf(
                    "KillSwitchIT: %d halted decisions (%d bars x %d sessions, before and after the"
                            + " kill), %d reducing, 0 increasing; %d adding risk after the resume%n",
                    halted, 2 * HALTED_BARS, SYMBOLS.size(), reductions, increases);

            // The audit trail: who and why of both commands, in order.
            JsonNode audit = serve.ok("GET", "/v1/halt", null).get("audit");
            assertThat(audit).hasSize(2);
            assertThat(audit.get(0).get("command").asText()).isEqualTo("halt");
            assertThat(audit.get(0).get("actor").asText()).isEqualTo("it-ops");
            assertThat(audit.get(0).get("reason").asText()).isEqualTo("venue outage drill");
            assertThat(audit.get(1).get("command").asText()).isEqualTo("resume");
            assertThat(audit.get(1).get("actor").asText()).isEqualTo("it-lead");
            assertThat(audit.get(1).get("reason").asText()).isEqualTo("venue back, drill over");
            assertThat(serve.stderr()).doesNotContain("Exception");
        } finally {
            serve.close();
        }
    }

    /** One bar under the halt: no decision may add exposure, every reason names the halt. */
    JsonNode haltedStep(ServeProcess serve, String symbol) throws Exception {
        JsonNode d = step(serve, symbol, next);
        JsonNode account = account(d);
        double now = account.get("position_units").asDouble();
        double before = units.get(symbol);
        assertThat(now)
                .as("%s units at %s (before %s)", symbol, d.get("bar_time"), before)
                .isLessThanOrEqualTo(before);
        units.put(symbol, now);
        double weight = account.get("position_weight").asDouble();
        JsonNode acting = acting(d);
        assertThat(acting.get("fraction").asDouble())
                .as("%s acting target at %s", symbol, d.get("bar_time"))
                .isLessThanOrEqualTo(weight);
        if (acting.get("ordered").asBoolean() && acting.get("fraction").asDouble() < weight) {
            reductions++;
        }
        for (Entry<String, JsonNode> p : d.get("decisions").properties()) {
            assertThat(p.getValue().get("reason").asText())
                    .as("%s %s reason at %s", symbol, p.getKey(), d.get("bar_time"))
                    .contains("kill switch: halted by it-ops at ")
                    .contains(": venue outage drill");
        }
        assertThat(d.get("session").get("halted").asBoolean()).isTrue();
        halted++;
        return d;
    }

    void assertReadyAndHalted(ServeProcess serve) throws Exception {
        Answer ready = serve.get("/health/ready");
        assertThat(ready.status()).as(ready.toString()).isEqualTo(200);
        assertThat(ready.body().get("halted").asBoolean()).isTrue();
        assertThat(ready.body().get("halt").get("last_command").get("actor").asText())
                .isEqualTo("it-ops");
        String metrics = metrics(serve);
        assertThat(metrics).containsPattern("(?m)^quiver_halted(\\{[^}]*\\})? 1\\.0$");
    }

    static String metrics(ServeProcess serve) throws Exception {
        java.net.http.HttpResponse<String> r =
                java.net.http.HttpClient.newHttpClient()
                        .send(
                                java.net.http.HttpRequest.newBuilder(
                                                java.net.URI.create(
                                                        "http://127.0.0.1:"
                                                                + serve.port
                                                                + "/metrics"))
                                        .build(),
                                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    JsonNode step(ServeProcess serve, String symbol, int index) throws Exception {
        Answer a = serve.bars(symbol, List.of(btc.bar(index)));
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        return a.body();
    }

    static JsonNode account(JsonNode decision) {
        return decision.get("account");
    }

    static JsonNode acting(JsonNode decision) {
        for (JsonNode d : decision.get("decisions")) {
            if (d.get("acting").asBoolean()) {
                return d;
            }
        }
        throw new AssertionError("no acting decision in " + decision);
    }

    void open(ServeProcess serve, String symbol) throws Exception {
        ObjectNode body = ServeProcess.JSON.createObjectNode();
        body.put("account", "ks-" + symbol);
        body.put("currency", "USD");
        body.put("starting_equity", 10_000.0);
        body.put("mode", "paper");
        body.put("interval", "PT4H");
        body.put("max_gap_bars", 3);
        body.put("policy", POLICY.get(symbol));
        body.putObject("warmup").put("dataset", "btc-usd-4h").put("until", T.toString());
        Answer a = serve.put("/v1/sessions/" + symbol, body);
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        assertThat(a.body().get("halted")).isNotNull();
    }
}
