package dev.quiver.host.session;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.api.market.Bar;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The heart of "serve what was backtested", on the real plugins and real BTC bars: a bundle fitted
 * by {@code strategy fit --until T}, then (a) {@code backtest --strategy} over the 2,100 bars after
 * T and (b) a live session of {@code quiver serve --strategy} fed those same bars one request at a
 * time (paper mode) give the same fused p_up, the same fraction for every policy and the same
 * equity on every bar (|diff| <= 1e-9).
 */
class StrategyParityIT {

    static final int LIVE_BARS = 2100;

    @TempDir Path work;

    @Test
    void theServiceDecidesEveryBarExactlyAsTheBacktestOfTheSameBundle() throws Exception {
        BarData bars = BundledData.BTC_USD_4H.load();
        int lastFitted = bars.size() - LIVE_BARS - 1;
        String until = bars.bar(lastFitted).start().toString();
        Path bundle = work.resolve("bundle");
        ServeProcess.run(
                work,
                "fit",
                "strategy",
                "fit",
                "--dataset",
                "btc-usd-4h",
                "--until",
                until,
                "--test-bars",
                "1000",
                "--max-age",
                "P3650D",
                "--out",
                bundle.toString());
        String show = ServeProcess.run(work, "show", "strategy", "show", bundle.toString());
        assertThat(show).contains("ensemble   stack").contains("kelly_ml");

        ServeProcess.run(
                work,
                "backtest",
                "backtest",
                "--strategy",
                bundle.toString(),
                "--out",
                work.resolve("bt").toString());
        List<String[]> expected = readCsv(work.resolve("bt/btc-usd-4h/decisions.csv"));
        assertThat(expected).hasSize(LIVE_BARS);

        try (ServeProcess serve =
                ServeProcess.start(
                        work,
                        "serve",
                        "--strategy",
                        bundle.toString(),
                        "--state-url",
                        "jdbc:sqlite:" + work.resolve("state.db"))) {
            Map<String, Object> open = new LinkedHashMap<>();
            open.put("account", "parity");
            open.put("interval", "PT4H");
            open.put("max_gap_bars", 1000);
            open.put("warmup", Map.of("dataset", "btc-usd-4h", "until", until));
            JsonNode opened = serve.ok("PUT", "/v1/sessions/BTC-USD", open);
            assertThat(opened.path("bars").asInt()).isEqualTo(lastFitted + 1);
            assertThat(opened.path("state").asText()).isEqualTo("ready");

            List<String> policies = null;
            double worst = 0;
            String worstAt = null;
            for (int k = 0; k < LIVE_BARS; k++) {
                Bar b = bars.bar(lastFitted + 1 + k);
                JsonNode d =
                        serve.ok(
                                "POST",
                                "/v1/sessions/BTC-USD/bars",
                                Map.of("bars", List.of(bar(b))));
                String[] row = expected.get(k);
                assertThat(d.path("bar_time").asText()).isEqualTo(row[0]);
                if (policies == null) {
                    policies = new ArrayList<>();
                    for (Iterator<String> it = d.path("decisions").fieldNames(); it.hasNext(); ) {
                        policies.add(it.next());
                    }
                    assertThat(policies).contains("kelly_ml", "fixed", "kelly");
                    assertThat(d.at("/fused/fusion").asText()).isEqualTo("stack");
                    assertThat(d.at("/provenance/bundle").asText()).contains("bundle");
                }
                double[] diff = differences(d, row, policies);
                for (int c = 0; c < diff.length; c++) {
                    if (!(diff[c] <= worst)) {
                        worst = diff[c];
                        worstAt = row[0] + " column " + (c + 1);
                    }
                }
            }
            System.out.printf(
                    "parity: %d bars, largest |backtest - live| %.3g at %s%n",
                    LIVE_BARS, worst, worstAt);
            assertThat(worst)
                    .as("largest |backtest - live| (at %s)", worstAt)
                    .isLessThanOrEqualTo(1e-9);

            JsonNode account = serve.ok("GET", "/v1/accounts/parity", null);
            String[] last = expected.get(LIVE_BARS - 1);
            int kellyMl =
                    2
                            + 2 * policies.indexOf("kelly_ml")
                            + 1; // time, p_up, then fraction, equity per policy
            assertThat(account.path("equity").asDouble())
                    .isEqualTo(Double.parseDouble(last[kellyMl]));

            // The same comparison catches a skew: a second session is fed the same bars but one
            // bar's volume is half as large again (as a live feed that computed one input
            // differently), and the comparison must find its first difference at that bar,
            // none before it.
            open.put("account", "parity-skewed");
            serve.ok("PUT", "/v1/sessions/BTC-SKEW", open);
            int skewedAt = SKEWED_BAR;
            String firstDifference = null;
            for (int k = 0; k < SKEW_BARS && firstDifference == null; k++) {
                Bar b = bars.bar(lastFitted + 1 + k);
                Map<String, Object> sent = bar(b);
                if (k == skewedAt) {
                    sent.put("volume", b.volume() * 1.5);
                }
                JsonNode d =
                        serve.ok(
                                "POST",
                                "/v1/sessions/BTC-SKEW/bars",
                                Map.of("bars", List.of(sent)));
                double[] diff = differences(d, expected.get(k), policies);
                for (int c = 0; c < diff.length && firstDifference == null; c++) {
                    if (!(diff[c] <= 1e-9)) {
                        firstDifference = expected.get(k)[0];
                    }
                }
            }
            System.out.printf(
                    "parity with a skewed volume at %s: first difference at %s%n",
                    expected.get(skewedAt)[0], firstDifference);
            assertThat(firstDifference)
                    .as("the comparison finds the skew at its bar")
                    .isEqualTo(expected.get(skewedAt)[0]);
        }
    }

    /** Bars fed to the skewed session at most, and the one whose volume it changes. */
    static final int SKEW_BARS = 60;

    static final int SKEWED_BAR = 20;

    /**
     * Per column of a {@code decisions.csv} row after its time (fused p_up, then fraction and
     * equity per policy), |backtest - live| for the live decision {@code d}; NaN on both sides
     * counts as 0, NaN on one side as NaN (never within any tolerance).
     */
    static double[] differences(JsonNode d, String[] row, List<String> policies) {
        List<Double> live = new ArrayList<>();
        live.add(d.path("fused").isNull() ? Double.NaN : d.at("/fused/p_up").asDouble());
        for (String p : policies) {
            live.add(d.at("/decisions/" + p + "/fraction").asDouble());
            live.add(d.at("/decisions/" + p + "/equity").asDouble());
            assertThat(d.at("/decisions/" + p + "/reason").asText())
                    .as("%s at %s", p, row[0])
                    .doesNotContain("not fitted");
        }
        double[] out = new double[live.size()];
        for (int c = 0; c < out.length; c++) {
            double want = row[c + 1].isEmpty() ? Double.NaN : Double.parseDouble(row[c + 1]);
            double got = live.get(c);
            out[c] = Double.isNaN(want) && Double.isNaN(got) ? 0 : Math.abs(want - got);
        }
        return out;
    }

    static Map<String, Object> bar(Bar b) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("timestamp", b.start().toString());
        m.put("open", b.open());
        m.put("high", b.high());
        m.put("low", b.low());
        m.put("close", b.close());
        m.put("volume", b.volume());
        return m;
    }

    static List<String[]> readCsv(Path file) throws Exception {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<String[]> rows = new ArrayList<>();
        for (String l : lines.subList(1, lines.size())) {
            rows.add(l.split(",", -1));
        }
        return rows;
    }
}
