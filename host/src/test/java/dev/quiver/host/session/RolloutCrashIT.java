package dev.quiver.host.session;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.rollout.CanaryRouter;
import dev.quiver.host.web.DecisionRequests;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RELIABILITY.md P10 through the running service, at the promised 10,000 keys: {@code bin/quiver
 * serve} of the distribution (a child JVM on SQLite) with a canary rollout of {@code sizing-fixed}
 * (fraction 0.2 against the installed default) at 10%, keyed by symbol. Each of 10,000 symbols
 * decides once ({@code POST /v1/decisions}, 65 real BTC-USD 4h bars: the fewest the features warm
 * up on, so a decision is cheap and the count fits CI time); every decision is routed as the rule
 * says ({@link CanaryRouter}: MurmurHash3 bucket below 1,000 of 10,000) and the share is 10% ±1%;
 * once the service reports its state saved, it is killed with SIGKILL and started again on the same
 * store: the rollout's whole status (stage, spec, figures, decisions per variant, pending
 * forecasts, the stage's test, transitions) is identical, and three replays of every key on the
 * next three bars get the same variant as before; the first replay scores, for both variants, the
 * forecasts saved before the kill. The rollout mechanism (routing, recording, scoring, saving) is
 * the one every capability kind shares ({@code RolloutController}); a prediction capability's
 * log-loss rollback runs in {@code rollout/RolloutRulesIT}.
 */
class RolloutCrashIT {

    static final String ID = "fixed-canary-10";
    static final int KEYS = 10_000;
    static final int BARS = 65;
    static final int CLIENTS = 8;

    static final String SPEC =
            """
            {"id": "%s",
             "capability": {"kind": "sizing", "name": "fixed", "plugin": "sizing-fixed"},
             "champion": {},
             "challenger": {"config": {"sizing-fixed.fraction": 0.2}},
             "mode": "canary",
             "routing": {"key": "symbol", "canary_percent": 10},
             "rules": {"metric": "pnl", "min_samples": 1000000, "automatic": true}}
            """
                    .formatted(ID);

    static String key(int i) {
        return "K" + i;
    }

    /** What the rule routes a key to at 10%. */
    static String rule(String key) {
        return CanaryRouter.toChallenger(ID, key, 1000) ? "challenger" : "champion";
    }

    @Test
    void canaryRoutesByTheRuleSticksToTheKeyAndTheStateSurvivesSigkill(@TempDir Path work)
            throws Exception {
        long started = System.nanoTime();
        Path plugins = Files.createDirectories(work.resolve("plugins"));
        for (String zip : List.of("prediction-traditional-1.0.0.zip", "sizing-fixed-1.0.0.zip")) {
            Files.copy(
                    ServeProcess.DISTRIBUTION.resolve("plugins").resolve(zip),
                    plugins.resolve(zip));
        }
        String[] args = {
            "--strategy",
            "none",
            "--plugins-dir",
            plugins.toString(),
            "--state-url",
            "jdbc:sqlite:" + work.resolve("state.db"),
            "--rollouts-dir",
            work.resolve("rollouts").toString()
        };
        BarData btc = BundledData.BTC_USD_4H.load();
        int last = btc.size() - 5;
        Map<String, String> routed = new ConcurrentHashMap<>();
        JsonNode before;
        double decisionSeconds = 0;
        ServeProcess serve = ServeProcess.start(work, "serve-1", args);
        try {
            ServeProcess.Answer start =
                    serve.call("POST", "/v1/rollouts", ServeProcess.JSON.readTree(SPEC));
            assertThat(start.status()).as(start.toString()).isEqualTo(201);
            assertThat(start.body().path("stage").asText()).isEqualTo("canary");
            long t = System.nanoTime();
            decideAll(serve, btc, last - 3, routed);
            decisionSeconds += (System.nanoTime() - t) / 1e9;
            ServeProcess server = serve;
            await(() -> server.ok("GET", "/v1/rollouts/" + ID, null).path("saved").asBoolean());
            before = serve.ok("GET", "/v1/rollouts/" + ID, null);
            assertThat(before.at("/current_stage/pending").asLong()).isEqualTo(KEYS);
            serve.kill();
        } finally {
            serve.close();
        }
        long challengers = routed.values().stream().filter("challenger"::equals).count();
        assertThat(routed).hasSize(KEYS);
        assertThat(before.at("/acted/challenger").asLong()).isEqualTo(challengers);
        assertThat(before.at("/acted/champion").asLong()).isEqualTo(KEYS - challengers);
        assertThat(100.0 * challengers / KEYS).as("challenger share, percent").isBetween(9.0, 11.0);

        try (ServeProcess again = ServeProcess.start(work, "serve-2", args)) {
            JsonNode after = again.ok("GET", "/v1/rollouts/" + ID, null);
            assertThat(after).as("rollout state after SIGKILL and restart").isEqualTo(before);
            for (int replay = 1; replay <= 3; replay++) {
                Map<String, String> again3 = new ConcurrentHashMap<>();
                long t = System.nanoTime();
                decideAll(again, btc, last - 3 + replay, again3);
                decisionSeconds += (System.nanoTime() - t) / 1e9;
                assertThat(again3).as("replay %d after the restart", replay).isEqualTo(routed);
                if (replay == 1) {
                    // The forecasts saved before the kill are scored by the next bar, both
                    // variants.
                    JsonNode scored = again.ok("GET", "/v1/rollouts/" + ID, null);
                    assertThat(scored.at("/figures/champion/n").asLong()).isEqualTo(KEYS);
                    assertThat(scored.at("/figures/challenger/n").asLong()).isEqualTo(KEYS);
                }
            }
        }
        System.out.printf(
                "P10: %d keys at 10%%: %d routed to the challenger (%.2f%%), every one as the rule"
                        + " says; state identical after SIGKILL + restart; 3 replays sticky;"
                        + " %d decisions in %.1f s (%.0f per second, %d clients, load average"
                        + " %.1f); %.1f s in all%n",
                KEYS,
                challengers,
                100.0 * challengers / KEYS,
                4 * KEYS,
                decisionSeconds,
                4 * KEYS / decisionSeconds,
                CLIENTS,
                java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                        .getSystemLoadAverage(),
                (System.nanoTime() - started) / 1e9);
    }

    /** One decision per key on the bars ending at {@code end}; records and checks the variant. */
    static void decideAll(ServeProcess serve, BarData btc, int end, Map<String, String> routed)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        // One body per bar, the symbol put in per key (a placeholder no bar field can contain).
        String template =
                ServeProcess.JSON.writeValueAsString(
                        DecisionRequests.body("KEY", btc, end - BARS + 1, end));
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < KEYS; i++) {
                String k = key(i);
                String body = template.replace("\"symbol\":\"KEY\"", "\"symbol\":\"" + k + "\"");
                done.add(
                        pool.submit(
                                () -> {
                                    JsonNode d = serve.ok("POST", "/v1/decisions", body);
                                    assertThat(d.path("symbol").asText()).isEqualTo(k);
                                    JsonNode r = d.at("/provenance/rollouts/0");
                                    assertThat(r.path("rollout").asText()).isEqualTo(ID);
                                    String acted = r.path("acted").asText();
                                    assertThat(r.path("routed").asText()).isEqualTo(acted);
                                    assertThat(acted).as("variant of %s", k).isEqualTo(rule(k));
                                    String first = routed.putIfAbsent(k, acted);
                                    assertThat(first == null || first.equals(acted))
                                            .as("sticky %s", k)
                                            .isTrue();
                                    return null;
                                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    interface Condition {
        boolean met() throws Exception;
    }

    /** Waits up to 60 s (bounds a hang; not a timing assertion). */
    static void await(Condition c) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!c.met()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("rollout state not saved within 60 s");
            }
            Thread.sleep(100);
        }
    }
}
