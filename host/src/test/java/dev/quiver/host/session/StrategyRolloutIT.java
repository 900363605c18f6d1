package dev.quiver.host.session;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.mlflow.LocalMlflow;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowHttp;
import dev.quiver.host.rollout.CanaryRouter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rollouts of whole strategy bundles on real bundles fitted on the bundled S&amp;P 500 bars and
 * registered in the real MLflow registry, through the built distribution: the service serves {@code
 * models:/NAME/1} and the rollout spec names its challenger {@code {"strategy": "models:/NAME/2"}},
 * as a user writes it. A damaged, a mismatched and an expired challenger are refused with their
 * reason; in shadow the challenger decides beside the champion on the same bars of every session
 * (its fused p_up is exactly the challenger bundle's, recorded and scored, never acted on); in
 * canary the sessions the rollout's hash routes to the challenger are served by it (each decision
 * names one bundle and has that bundle's p_up); full and completion make the challenger the served
 * bundle. Then {@code backtest --rollout} replays the same two bundles with no refits.
 *
 * <p>Every p_up is checked against {@code backtest --strategy} of its bundle (the engine stepping
 * the bundle alone), so a decision that mixed two bundles, or a shadow fed other features, fails.
 */
class StrategyRolloutIT {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String ID = "b-vs-a";
    static final int SHADOW_BARS = 40;
    static final int CANARY_BARS = 30;
    static final int FULL_BARS = 5;

    @TempDir static Path work;

    static BarData bars;
    static int liveFrom;
    static String untilB;
    static Path a;
    static Path b;
    static Map<String, Double> pA;
    static Map<String, Double> pB;
    static String uri;
    static String name;
    static String vA;
    static String vB;
    static String idA;
    static String idB;
    static MlflowClient client;

    /**
     * Two bundles fitted once for every test and registered as two versions in the real MLflow
     * registry: a on older bars, b up to the live bars.
     */
    @BeforeAll
    static void fitTwoBundles() throws Exception {
        uri = LocalMlflow.uri();
        client = new MlflowClient(new MlflowHttp(uri, MlflowHttp.Settings.defaults()));
        name = "it-rollout-strategy-" + System.nanoTime();
        bars = BundledData.SP500_DAILY.load();
        liveFrom = bars.size() - 200;
        String untilA = bars.bar(liveFrom - 300).start().toString();
        untilB = bars.bar(liveFrom - 1).start().toString();
        vA = ServeProcess.fitAndRegisterSp500(work, "a", untilA, uri, name, "champion");
        vB = ServeProcess.fitAndRegisterSp500(work, "b", untilB, uri, name, "challenger");
        a = work.resolve("a");
        b = work.resolve("b");
        pA = ServeProcess.backtestPUp(work, a, "eval-a");
        pB = ServeProcess.backtestPUp(work, b, "eval-b");
        idA = name + "/" + vA;
        idB = name + "/" + vB;
    }

    /**
     * The stateless endpoint decides with the served bundle: the decision on the last posted bar is
     * exactly the decision of a session warmed up on the same window (fused p_up and every policy's
     * fraction), and names the bundle; nothing says "unfitted".
     */
    @Test
    void theStatelessDecisionIsTheServedBundlesOnThePostedWindow() throws Exception {
        int last = liveFrom + 20;
        List<Map<String, Object>> window = new ArrayList<>();
        for (int i = last - 299; i <= last; i++) {
            window.add(StrategyParityIT.bar(bars.bar(i)));
        }
        try (ServeProcess serve =
                ServeProcess.start(
                        work,
                        "serve-stateless",
                        "--strategy",
                        b.toString(),
                        "--state-url",
                        "jdbc:sqlite:" + work.resolve("stateless.db"))) {
            JsonNode d = serve.ok("POST", "/v1/decisions", Map.of("symbol", "SPX", "bars", window));
            String time = bars.bar(last).start().toString();
            assertThat(d.path("bar_time").asText()).isEqualTo(time);
            assertThat(d.at("/provenance/bundle").asText()).isEqualTo(b.toRealPath().toString());
            assertThat(d.at("/fused/fitted").asBoolean(false)).isTrue();
            assertThat(d.at("/fused/fusion").asText()).isEqualTo("stack");
            assertThat(d.toString()).doesNotContain("UNFITTED").doesNotContain("not fitted");
            assertThat(d.has("warning")).isFalse();

            Map<String, Object> open = new LinkedHashMap<>();
            open.put("account", "acct-window");
            open.put("interval", "P1D");
            open.put("max_gap_bars", 10);
            open.put("warmup", Map.of("bars", window.subList(0, window.size() - 1)));
            serve.ok("PUT", "/v1/sessions/SPX", open);
            JsonNode s =
                    serve.ok(
                            "POST",
                            "/v1/sessions/SPX/bars",
                            Map.of("bars", List.of(window.get(window.size() - 1))));
            assertThat(d.at("/fused/p_up").asDouble()).isEqualTo(s.at("/fused/p_up").asDouble());
            assertThat(d.path("decisions").size()).isEqualTo(s.path("decisions").size());
            for (var e : s.path("decisions").properties()) {
                assertThat(d.at("/decisions/" + e.getKey() + "/fraction").asDouble())
                        .as(e.getKey())
                        .isEqualTo(e.getValue().path("fraction").asDouble());
                assertThat(d.at("/decisions/" + e.getKey() + "/reason").asText())
                        .as(e.getKey())
                        .isEqualTo(e.getValue().path("reason").asText());
            }
            // a model rollout would change none of the bundle's decisions: refused, saying why
            var model =
                    serve.call(
                            "POST",
                            "/v1/rollouts",
                            JSON.readTree(
                                    """
                                    {"id": "m", "capability": {"kind": "prediction", "name":
                                     "traditional", "plugin": "prediction-traditional"},
                                     "champion": {}, "challenger": {"config": {"x": "1"}},
                                     "rules": {"metric": "log_loss", "min_samples": 30}}
                                    """));
            assertThat(model.status()).isEqualTo(409);
            assertThat(model.body().path("message").asText())
                    .contains("[Quiver/ROLLOUT_REFUSED]")
                    .contains("decides with strategy bundle " + b.toRealPath());
        }
    }

    /**
     * Expiry live: served with a maximum age of one day ({@code --strategy-max-age P1D}), the
     * bundle decides the bars before its expiry, abstains on the bars from then on (every policy
     * flat, the reason naming the expiry, counted in the session), and the service reports degraded
     * in {@code /health/ready}, {@code GET /v1/strategy} and the {@code quiver_strategy_expired}
     * gauge.
     */
    @Test
    void pastItsMaximumAgeTheBundleAbstainsAndTheServiceSaysDegraded() throws Exception {
        try (ServeProcess serve =
                ServeProcess.start(
                        work,
                        "serve-expired",
                        "--strategy",
                        b.toString(),
                        "--strategy-max-age",
                        "P1D",
                        "--state-url",
                        "jdbc:sqlite:" + work.resolve("expired.db"))) {
            var ready = serve.call("GET", "/health/ready", null);
            assertThat(ready.status()).as(ready.toString()).isEqualTo(503);
            assertThat(ready.body().path("status").asText()).isEqualTo("degraded");
            assertThat(ready.body().path("reason").asText())
                    .contains("expired at")
                    .contains("maximum age PT24H");
            assertThat(serve.ok("GET", "/v1/strategy", null).path("degraded").asText())
                    .contains("expired at");
            assertThat(serve.text("/metrics"))
                    .containsPattern("(?m)^quiver_strategy_expired 1\\.0$");

            Map<String, Object> open = new LinkedHashMap<>();
            open.put("account", "acct-expired");
            open.put("interval", "P1D");
            open.put("max_gap_bars", 10);
            open.put("warmup", Map.of("dataset", "sp500-daily", "until", untilB));
            serve.ok("PUT", "/v1/sessions/SPX", open);
            java.time.Instant expiresAt =
                    java.time.Instant.parse(
                                    JSON.readTree(b.resolve("manifest.json").toFile())
                                            .path("serves_from")
                                            .asText())
                            .plus(java.time.Duration.ofDays(1));
            int expired = 0;
            for (int i = liveFrom; i < liveFrom + 4; i++) {
                String time = bars.bar(i).start().toString();
                JsonNode d = step(serve, "SPX", bars, i);
                if (bars.bar(i).start().isBefore(expiresAt)) {
                    assertDecidedBy(d, b.toRealPath().toString(), pB.get(time), time);
                    assertThat(d.toString()).doesNotContain("expired at");
                    continue;
                }
                expired++;
                assertThat(d.path("decisions").size()).isGreaterThanOrEqualTo(3);
                for (var e : d.path("decisions").properties()) {
                    assertThat(e.getValue().path("fraction").asDouble())
                            .as("%s at %s", e.getKey(), time)
                            .isZero();
                    assertThat(e.getValue().path("reason").asText())
                            .as("%s at %s", e.getKey(), time)
                            .contains("expired at " + expiresAt)
                            .contains("maximum age PT24H");
                }
            }
            assertThat(expired).as("bars on or after %s", expiresAt).isGreaterThanOrEqualTo(3);
            assertThat(serve.ok("GET", "/v1/sessions/SPX", null).path("expired_decisions").asLong())
                    .isEqualTo(expired);
            assertThat(serve.text("/metrics"))
                    .containsPattern(
                            "(?m)^quiver_strategy_expired_decisions_total " + expired + "\\.0$");
        }
    }

    @Test
    void aChallengerBundleIsRefusedShadowedCanariedAndPromotedThenBacktested() throws Exception {

        // three sessions the rollout's hash routes to the challenger at 50%, three it does not
        List<String> toChallenger = new ArrayList<>();
        List<String> toChampion = new ArrayList<>();
        for (int i = 0; toChallenger.size() < 3 || toChampion.size() < 3; i++) {
            String s = "S" + i;
            List<String> side = CanaryRouter.bucket(ID, s) < 5000 ? toChallenger : toChampion;
            if (side.size() < 3) {
                side.add(s);
            }
        }
        List<String> symbols = new ArrayList<>(toChallenger);
        symbols.addAll(toChampion);

        Map<String, JsonNode> accountsBefore = new HashMap<>();
        try (ServeProcess serve =
                ServeProcess.start(
                        work,
                        "serve",
                        "--strategy",
                        "models:/" + name + "/" + vA,
                        "--tracking-uri",
                        uri,
                        "--model-cache",
                        work.resolve("cache").toString(),
                        "--state-url",
                        "jdbc:sqlite:" + work.resolve("state.db"),
                        "--rollouts-dir",
                        work.resolve("rollouts").toString())) {
            // refused challengers: nothing is recorded, the reason names the problem
            Path damaged = copy(b, "damaged");
            Path state = damaged.resolve("ensemble/stack.state.json");
            Files.writeString(state, Files.readString(state).replaceFirst("\\d", "7"));
            assertRefused(serve, damaged, "sha256");
            Path otherPlugin = copy(b, "other-plugin");
            editManifest(
                    otherPlugin, m -> ((ObjectNode) m.get("plugins")).put("ensemble-gbm", "9.9.9"));
            assertRefused(serve, otherPlugin, "plugin 'ensemble-gbm' was 9.9.9");
            Path expired = copy(b, "expired");
            editManifest(expired, m -> m.put("max_age", "P1D"));
            assertRefused(serve, expired, "expired at");
            assertRefused(
                    serve, "models:/" + name + "/" + vA, "is the bundle the service serves now");
            assertRefused(serve, "models:/" + name + "@challenger", "alias");
            assertThat(serve.ok("GET", "/v1/rollouts", null).path("rollouts")).isEmpty();

            for (String s : symbols) {
                Map<String, Object> open = new LinkedHashMap<>();
                open.put("account", "acct-" + s);
                open.put("interval", "P1D");
                open.put("max_gap_bars", 10);
                open.put("warmup", Map.of("dataset", "sp500-daily", "until", untilB));
                serve.ok("PUT", "/v1/sessions/" + s, open);
            }
            // the challenger named by its registry version, as a user writes it
            var started =
                    serve.call("POST", "/v1/rollouts", spec("models:/" + name + "/" + vB, false));
            assertThat(started.status()).as(started.body().toString()).isEqualTo(201);
            assertThat(started.body().path("stage").asText()).isEqualTo("shadow");

            // shadow: the champion acts everywhere; the challenger decides beside it
            int i = liveFrom;
            for (; i < liveFrom + SHADOW_BARS; i++) {
                String time = bars.bar(i).start().toString();
                for (String s : symbols) {
                    JsonNode d = step(serve, s, bars, i);
                    assertDecidedBy(d, idA, pA.get(time), time);
                    JsonNode r = d.at("/provenance/rollouts/0");
                    assertThat(r.path("rollout").asText()).isEqualTo(ID);
                    assertThat(r.path("stage").asText()).isEqualTo("shadow");
                    assertThat(r.path("acted").asText()).isEqualTo("champion");
                    assertThat(r.at("/shadow/bundle").asText()).isEqualTo(idB);
                    assertThat(r.at("/shadow/acted_on").asBoolean(true)).isFalse();
                    assertThat(r.at("/shadow/p_up").asDouble())
                            .as("shadow p_up of %s at %s", s, time)
                            .isEqualTo(pB.get(time));
                }
            }
            JsonNode status = serve.ok("GET", "/v1/rollouts/" + ID, null);
            long scored = (long) symbols.size() * (SHADOW_BARS - 1);
            assertThat(status.at("/figures/champion/n").asLong()).isEqualTo(scored);
            assertThat(status.at("/figures/challenger/n").asLong()).isEqualTo(scored);
            assertThat(status.at("/acted/champion").asLong())
                    .isEqualTo((long) symbols.size() * SHADOW_BARS);
            assertThat(status.at("/acted/challenger").asLong()).isZero();
            assertThat(logLoss(status.at("/figures/challenger")))
                    .as("the challenger is scored on its own forecasts")
                    .isCloseTo(meanLogLoss(bars, pB, liveFrom, SHADOW_BARS - 1), within());
            assertThat(logLoss(status.at("/figures/champion")))
                    .isCloseTo(meanLogLoss(bars, pA, liveFrom, SHADOW_BARS - 1), within());
            assertThat(status.at("/variants/challenger").asText()).contains(idB);

            // canary: the sessions routed to the challenger are served by it, whole
            serve.ok("POST", "/v1/rollouts/" + ID + "/promote?reason=it", null);
            for (; i < liveFrom + SHADOW_BARS + CANARY_BARS; i++) {
                String time = bars.bar(i).start().toString();
                for (String s : symbols) {
                    JsonNode d = step(serve, s, bars, i);
                    boolean challenger = toChallenger.contains(s);
                    assertDecidedBy(
                            d, challenger ? idB : idA, (challenger ? pB : pA).get(time), time);
                    JsonNode r = d.at("/provenance/rollouts/0");
                    assertThat(r.path("stage").asText()).isEqualTo("canary");
                    assertThat(r.path("acted").asText())
                            .isEqualTo(challenger ? "challenger" : "champion");
                    assertThat(r.at("/shadow/bundle").asText()).isEqualTo(challenger ? idA : idB);
                    assertThat(r.at("/shadow/p_up").asDouble())
                            .as("shadow p_up of %s at %s", s, time)
                            .isEqualTo((challenger ? pA : pB).get(time));
                }
            }
            for (String s : symbols) {
                accountsBefore.put(s, serve.ok("GET", "/v1/accounts/acct-" + s, null));
            }
        }
        // restart: the rollout comes back in canary, every session is replayed with the bundle
        // that decided each of its bars (the rollout's swaps are recorded), and decides on
        try (ServeProcess serve =
                ServeProcess.start(
                        work,
                        "serve-again",
                        "--strategy",
                        "models:/" + name + "/" + vA,
                        "--tracking-uri",
                        uri,
                        "--model-cache",
                        work.resolve("cache").toString(),
                        "--state-url",
                        "jdbc:sqlite:" + work.resolve("state.db"),
                        "--rollouts-dir",
                        work.resolve("rollouts").toString())) {
            assertThat(serve.ok("GET", "/v1/rollouts/" + ID, null).path("stage").asText())
                    .isEqualTo("canary");
            for (String s : symbols) {
                JsonNode before = accountsBefore.get(s);
                JsonNode after = serve.ok("GET", "/v1/accounts/acct-" + s, null);
                for (String f : List.of("equity", "cash", "position_units", "drawdown")) {
                    assertThat(after.path(f).asDouble())
                            .as("%s %s after restart", s, f)
                            .isEqualTo(before.path(f).asDouble());
                }
            }
            int i = liveFrom + SHADOW_BARS + CANARY_BARS;
            // full: every session is served by the challenger; completed: it is the served bundle
            serve.ok("POST", "/v1/rollouts/" + ID + "/promote?reason=it", null);
            for (; i < liveFrom + SHADOW_BARS + CANARY_BARS + FULL_BARS; i++) {
                String time = bars.bar(i).start().toString();
                for (String s : symbols) {
                    assertDecidedBy(step(serve, s, bars, i), idB, pB.get(time), time);
                }
            }
            JsonNode done = serve.ok("POST", "/v1/rollouts/" + ID + "/promote?reason=it", null);
            assertThat(done.at("/rollout/stage").asText()).isEqualTo("completed");
            String serving = "";
            for (int k = 0; k < 100 && !serving.equals(idB); k++) {
                serving = serve.ok("GET", "/v1/strategy", null).path("bundle").asText();
                Thread.sleep(100);
            }
            assertThat(serving).as("the completed challenger serves").isEqualTo(idB);
            String champion = "";
            for (int k = 0; k < 100 && !champion.equals(vB); k++) {
                champion = client.versionByAlias(name, "champion").path("version").asText();
                Thread.sleep(100);
            }
            assertThat(champion).as("%s@champion after completion", name).isEqualTo(vB);
            String time = bars.bar(i).start().toString();
            for (String s : symbols) {
                JsonNode d = step(serve, s, bars, i);
                assertDecidedBy(d, idB, pB.get(time), time);
                JsonNode r = d.at("/provenance/rollouts/0/stage");
                if (!r.isMissingNode()) {
                    assertThat(r.asText()).isEqualTo("completed");
                }
            }
        }

        // backtest --rollout: the two bundles replayed on the bars after both were fitted
        Path spec = work.resolve("rollout.json");
        Files.writeString(spec, JSON.writeValueAsString(spec("models:/" + name + "/" + vB, true)));
        Path out = work.resolve("rollout-backtest");
        String stdout =
                ServeProcess.run(
                        work,
                        "backtest-rollout",
                        "backtest",
                        "--rollout",
                        spec.toString(),
                        "--strategy",
                        "models:/" + name + "/" + vA,
                        "--tracking-uri",
                        uri,
                        "--models-dir",
                        work.resolve("backtest-cache").toString(),
                        "--dataset",
                        "sp500-daily",
                        "--out",
                        out.toString());
        assertThat(stdout)
                .contains("== champion: " + idA)
                .contains("== challenger: " + idB)
                .contains("== rollout " + ID);
        JsonNode report = JSON.readTree(out.resolve("rollout-" + ID + "/report.json").toFile());
        JsonNode rollout = report.path("rollout");
        assertThat(rollout.path("bars").asInt())
                .as("every bar after both bundles' spans but the last (no outcome)")
                .isEqualTo(bars.size() - liveFrom - 1);
        assertThat(rollout.path("final_stage").asText())
                .isIn("shadow", "canary", "full", "completed", "rolled_back");
        assertThat(rollout.at("/variants/champion/runs").asText()).contains(idA);
        assertThat(rollout.at("/variants/challenger/runs").asText()).contains(idB);
        int checked = 0;
        for (String[] row :
                StrategyParityIT.readCsv(out.resolve("rollout-" + ID + "/rollout-bars.csv"))) {
            assertThat(Double.parseDouble(row[5]))
                    .as("champion p at %s", row[0])
                    .isEqualTo(pA.get(row[0]));
            assertThat(Double.parseDouble(row[6]))
                    .as("challenger p at %s", row[0])
                    .isEqualTo(pB.get(row[0]));
            checked++;
        }
        assertThat(checked).isEqualTo(bars.size() - liveFrom - 1);
        assertThat(out.resolve("rollout-" + ID + "/champion-sp500-daily/report.html")).exists();
        assertThat(out.resolve("rollout-" + ID + "/challenger-sp500-daily/report.html")).exists();
    }

    private static org.assertj.core.data.Offset<Double> within() {
        return org.assertj.core.data.Offset.offset(1e-9);
    }

    private static ObjectNode spec(String challenger, boolean automatic) {
        ObjectNode s = JSON.createObjectNode();
        s.put("id", ID);
        s.putObject("challenger").put("strategy", challenger);
        s.put("mode", "shadow");
        s.putObject("routing").put("key", "symbol").put("canary_percent", 50);
        s.putObject("rules")
                .put("metric", "log_loss")
                .put("min_samples", 30)
                .put("automatic", automatic);
        return s;
    }

    private static void assertRefused(ServeProcess serve, Path challenger, String reason)
            throws Exception {
        assertRefused(serve, challenger.toString(), reason);
    }

    private static void assertRefused(ServeProcess serve, String challenger, String reason)
            throws Exception {
        var r = serve.call("POST", "/v1/rollouts", spec(challenger, false));
        assertThat(r.status()).as(r.body().toString()).isEqualTo(400);
        assertThat(r.body().path("field").asText()).isEqualTo("challenger.strategy");
        assertThat(r.body().path("message").asText()).contains(reason);
    }

    private static JsonNode step(ServeProcess serve, String symbol, BarData bars, int i)
            throws Exception {
        return serve.ok(
                "POST",
                "/v1/sessions/" + symbol + "/bars",
                Map.of("bars", List.of(StrategyParityIT.bar(bars.bar(i)))));
    }

    private static void assertDecidedBy(JsonNode d, String bundle, Double p, String time) {
        assertThat(d.path("bar_time").asText()).isEqualTo(time);
        assertThat(d.at("/provenance/bundle").asText()).as("bundle at %s", time).isEqualTo(bundle);
        assertThat(d.at("/fused/p_up").asDouble())
                .as(
                        "p_up of %s at %s in %s (failed sources %s, rollouts %s)",
                        bundle,
                        time,
                        d.path("symbol").asText(),
                        d.at("/provenance/failed_sources"),
                        d.at("/provenance/rollouts"))
                .isEqualTo(p);
    }

    private static double logLoss(JsonNode figures) {
        JsonNode v = figures.has("log_loss") ? figures.get("log_loss") : figures.get("logLoss");
        return v.asDouble();
    }

    /** Mean log-loss of p at bars from..from+n-1, each scored by the next bar's close. */
    private static double meanLogLoss(BarData bars, Map<String, Double> p, int from, int n) {
        double sum = 0;
        for (int t = from; t < from + n; t++) {
            double q = Math.min(1 - 1e-15, Math.max(1e-15, p.get(bars.bar(t).start().toString())));
            boolean up = Math.log(bars.close[t + 1] / bars.close[t]) > 0;
            sum += -Math.log(up ? q : 1 - q);
        }
        return sum / n;
    }

    private void editManifest(Path bundle, java.util.function.Consumer<ObjectNode> edit)
            throws Exception {
        ObjectNode m = (ObjectNode) JSON.readTree(bundle.resolve("manifest.json").toFile());
        edit.accept(m);
        JSON.writeValue(bundle.resolve("manifest.json").toFile(), m);
    }

    private Path copy(Path from, String name) throws Exception {
        Path to = work.resolve(name);
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : all.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
        return to;
    }
}
