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
 * RELIABILITY.md P10 through the running service: {@code bin/quiver serve} of the distribution (a
 * child JVM on SQLite) with a canary rollout of {@code prediction-analogs} (k = 50 against the
 * installed k = 25) at 10%, keyed by symbol. Each of 200 keys decides on two consecutive real
 * BTC-USD 4h bars (the second request scores the first for both variants); every decision is routed
 * as the rule says ({@link CanaryRouter}: MurmurHash3 bucket below 1,000 of 10,000); once the
 * service reports its state saved, it is killed with SIGKILL and started again on the same store:
 * the rollout's whole status (stage, spec, figures, decisions per variant, the stage's test,
 * transitions) is identical, and three replays of every key get the same variant as before. The
 * share over 10,000 keys is held by {@code rollout/CanaryRouterTest} on the same function.
 */
class RolloutCrashIT {

    static final String ID = "analogs-canary-10";
    static final int KEYS = 200;
    static final int BARS = 150;

    static final String SPEC =
            """
            {"id": "%s",
             "capability": {"kind": "prediction", "name": "analogs", "plugin": "prediction-analogs"},
             "champion": {},
             "challenger": {"config": {"k": 50}},
             "mode": "canary",
             "routing": {"key": "symbol", "canary_percent": 10},
             "rules": {"metric": "log_loss", "min_samples": 100000, "automatic": true}}
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
        for (String zip :
                List.of(
                        "prediction-traditional-1.0.0.zip",
                        "prediction-analogs-1.0.0.zip",
                        "sizing-fixed-1.0.0.zip")) {
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
        ServeProcess serve = ServeProcess.start(work, "serve-1", args);
        try {
            ServeProcess.Answer start =
                    serve.call("POST", "/v1/rollouts", ServeProcess.JSON.readTree(SPEC));
            assertThat(start.status()).as(start.toString()).isEqualTo(201);
            assertThat(start.body().path("stage").asText()).isEqualTo("canary");
            // Two consecutive bars per key: the second decision scores the first.
            for (int end : new int[] {last - 1, last}) {
                decideAll(serve, btc, end, routed);
            }
            ServeProcess server = serve;
            await(() -> server.ok("GET", "/v1/rollouts/" + ID, null).path("saved").asBoolean());
            before = serve.ok("GET", "/v1/rollouts/" + ID, null);
            assertThat(before.at("/figures/champion/n").asLong()).isEqualTo(KEYS);
            assertThat(before.at("/figures/challenger/n").asLong()).isEqualTo(KEYS);
            serve.kill();
        } finally {
            serve.close();
        }
        long challengers = routed.values().stream().filter("challenger"::equals).count();
        assertThat(before.at("/acted/challenger").asLong()).isEqualTo(2 * challengers);
        assertThat(before.at("/acted/champion").asLong()).isEqualTo(2 * (KEYS - challengers));

        try (ServeProcess again = ServeProcess.start(work, "serve-2", args)) {
            JsonNode after = again.ok("GET", "/v1/rollouts/" + ID, null);
            assertThat(after).as("rollout state after SIGKILL and restart").isEqualTo(before);
            for (int replay = 1; replay <= 3; replay++) {
                Map<String, String> again3 = new ConcurrentHashMap<>();
                decideAll(again, btc, last + replay, again3);
                assertThat(again3).as("replay %d after the restart", replay).isEqualTo(routed);
            }
        }
        System.out.printf(
                "P10: %d keys at 10%%: %d routed to the challenger (%.2f%%), every one as the rule"
                        + " says; state identical after SIGKILL + restart; 3 replays sticky;"
                        + " %.1f s%n",
                KEYS, challengers, 100.0 * challengers / KEYS, (System.nanoTime() - started) / 1e9);
    }

    /** One decision per key on the bars ending at {@code end}; records and checks the variant. */
    static void decideAll(ServeProcess serve, BarData btc, int end, Map<String, String> routed)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < KEYS; i++) {
                String k = key(i);
                done.add(
                        pool.submit(
                                () -> {
                                    JsonNode d =
                                            serve.ok(
                                                    "POST",
                                                    "/v1/decisions",
                                                    DecisionRequests.body(
                                                            k, btc, end - BARS + 1, end));
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
