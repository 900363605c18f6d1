package dev.quiver.host.session;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hot swap of whole strategy bundles under load, on the real plugins and S&amp;P 500 bars: 16
 * sessions post bars concurrently while the served bundle is switched 20 times between two bundles;
 * no request fails, every decision names one bundle, and its fused p_up is that bundle's p_up for
 * the bar (from {@code backtest --strategy} of each bundle). A damaged bundle and one fitted with
 * another plugin version are refused while the serving one keeps serving, and a restart replays the
 * swaps to the same accounts.
 */
class StrategySwapIT {

    static final int CLIENTS = 16;
    static final int SWAPS = 20;
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path work;

    @Test
    void sixteenSessionsDecideThroughTwentySwapsEachWithOneWholeBundle() throws Exception {
        BarData bars = BundledData.SP500_DAILY.load();
        int liveFrom = bars.size() - 400;
        String untilA = bars.bar(liveFrom - 300).start().toString();
        String untilB = bars.bar(liveFrom - 1).start().toString();
        Path a = ServeProcess.fitSp500(work, "a", untilA);
        Path b = ServeProcess.fitSp500(work, "b", untilB);
        Map<String, Double> pA = ServeProcess.backtestPUp(work, a, "eval-a");
        Map<String, Double> pB = ServeProcess.backtestPUp(work, b, "eval-b");
        String idA = a.toRealPath().toString();
        String idB = b.toRealPath().toString();

        Path db = work.resolve("state.db");
        Map<String, JsonNode> accountsBefore = new HashMap<>();
        try (ServeProcess serve =
                ServeProcess.start(
                        work,
                        "serve",
                        "--strategy",
                        a.toString(),
                        "--state-url",
                        "jdbc:sqlite:" + db)) {
            for (int c = 0; c < CLIENTS; c++) {
                Map<String, Object> open = new LinkedHashMap<>();
                open.put("account", "acct-" + c);
                open.put("interval", "P1D");
                open.put("max_gap_bars", 10);
                open.put("warmup", Map.of("dataset", "sp500-daily", "until", untilB));
                serve.ok("PUT", "/v1/sessions/S" + c, open);
            }
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<JsonNode> decisions = new ConcurrentLinkedQueue<>();
            AtomicBoolean done = new AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS + 1);
            List<Future<?>> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                String symbol = "S" + c;
                clients.add(
                        pool.submit(
                                () -> {
                                    for (int i = liveFrom; i < bars.size(); i++) {
                                        try {
                                            var ans =
                                                    serve.call(
                                                            "POST",
                                                            "/v1/sessions/" + symbol + "/bars",
                                                            Map.of(
                                                                    "bars",
                                                                    List.of(
                                                                            StrategyParityIT.bar(
                                                                                    bars.bar(i)))));
                                            if (ans.status() != 200) {
                                                failures.add(
                                                        symbol
                                                                + " "
                                                                + ans.status()
                                                                + " "
                                                                + ans.body());
                                            } else {
                                                decisions.add(ans.body());
                                            }
                                        } catch (Exception e) {
                                            failures.add(symbol + " " + e);
                                        }
                                    }
                                    return null;
                                }));
            }
            List<String> swapped = new ArrayList<>();
            Future<?> swapper =
                    pool.submit(
                            () -> {
                                for (int k = 0; k < SWAPS; k++) {
                                    Path to = k % 2 == 0 ? b : a;
                                    var ans =
                                            serve.call(
                                                    "PUT",
                                                    "/v1/strategy",
                                                    Map.of(
                                                            "bundle",
                                                            to.toString(),
                                                            "actor",
                                                            "test"));
                                    if (ans.status() != 200) {
                                        failures.add("swap " + k + ": " + ans.body());
                                    }
                                    swapped.add(ans.body().path("serving").asText());
                                    Thread.sleep(150);
                                }
                                return null;
                            });
            swapper.get();
            for (Future<?> f : clients) {
                f.get();
            }
            pool.shutdown();
            assertThat(failures).isEmpty();
            assertThat(swapped).hasSize(SWAPS).containsOnly(idA, idB);
            assertThat(decisions).hasSize(CLIENTS * (bars.size() - liveFrom));
            int[] byBundle = new int[2];
            for (JsonNode d : decisions) {
                String bundle = d.at("/provenance/bundle").asText();
                String time = d.path("bar_time").asText();
                assertThat(bundle).isIn(idA, idB);
                Map<String, Double> expected = bundle.equals(idA) ? pA : pB;
                byBundle[bundle.equals(idA) ? 0 : 1]++;
                assertThat(d.at("/fused/p_up").asDouble())
                        .as(
                                "p_up of %s at %s (failed sources: %s)",
                                bundle, time, d.at("/provenance/failed_sources"))
                        .isEqualTo(expected.get(time));
            }
            assertThat(byBundle[0]).as("decisions by bundle a").isPositive();
            assertThat(byBundle[1]).as("decisions by bundle b").isPositive();

            // bad bundles are refused; the serving one keeps serving
            String serving = serve.ok("GET", "/v1/strategy", null).path("bundle").asText();
            Path damaged = copy(b, "damaged");
            Path state = damaged.resolve("ensemble/stack.state.json");
            Files.writeString(state, Files.readString(state).replaceFirst("\\d", "7"));
            var refused = serve.call("PUT", "/v1/strategy", Map.of("bundle", damaged.toString()));
            assertThat(refused.status()).isEqualTo(400);
            assertThat(refused.body().path("message").asText()).contains("sha256");
            Path otherPlugin = copy(b, "other-plugin");
            ObjectNode m =
                    (ObjectNode) JSON.readTree(otherPlugin.resolve("manifest.json").toFile());
            ((ObjectNode) m.get("plugins")).put("ensemble-gbm", "9.9.9");
            JSON.writeValue(otherPlugin.resolve("manifest.json").toFile(), m);
            var mismatch =
                    serve.call("PUT", "/v1/strategy", Map.of("bundle", otherPlugin.toString()));
            assertThat(mismatch.status()).isEqualTo(409);
            assertThat(mismatch.body().path("message").asText())
                    .contains("plugin 'ensemble-gbm' was 9.9.9 when the bundle was fitted");
            assertThat(serve.ok("GET", "/v1/strategy", null).path("bundle").asText())
                    .isEqualTo(serving);
            for (int c = 0; c < CLIENTS; c++) {
                accountsBefore.put("acct-" + c, serve.ok("GET", "/v1/accounts/acct-" + c, null));
            }
        }
        // restart: the swaps are replayed with the bundle that decided each bar
        try (ServeProcess again =
                ServeProcess.start(
                        work,
                        "again",
                        "--strategy",
                        a.toString(),
                        "--state-url",
                        "jdbc:sqlite:" + db)) {
            for (int c = 0; c < CLIENTS; c++) {
                JsonNode before = accountsBefore.get("acct-" + c);
                JsonNode after = again.ok("GET", "/v1/accounts/acct-" + c, null);
                for (String f :
                        List.of(
                                "equity",
                                "cash",
                                "position_units",
                                "drawdown",
                                "high_water_mark")) {
                    assertThat(after.path(f).asDouble())
                            .as("acct-%d %s after restart", c, f)
                            .isEqualTo(before.path(f).asDouble());
                }
                assertThat(after.path("breakers")).isEqualTo(before.path("breakers"));
            }
        }
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
