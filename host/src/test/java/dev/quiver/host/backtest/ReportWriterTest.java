package dev.quiver.host.backtest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.fusion.WeightedFusion;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.risk.RiskGuard;
import dev.quiver.host.data.BundledData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportWriterTest {

    private static final byte[] PNG_SIGNATURE = {
        (byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'
    };
    private static BacktestResult result;

    @BeforeAll
    static void runOnRealSp500() {
        BarData bars = BundledData.SP500_DAILY.load();
        result =
                new WalkForwardBacktest(WalkForwardBacktest.Config.defaults())
                        .run(
                                FeaturePipeline.compute(bars),
                                List.of(
                                        TestCapabilities.momentum(10, 20),
                                        TestCapabilities.rsiReversion()),
                                new WeightedFusion(),
                                List.of(
                                        TestCapabilities.fixed(0.5),
                                        TestCapabilities.quarterKelly()),
                                new RiskGuard(),
                                Progress.NONE);
    }

    private static Set<String> keys(JsonNode node) {
        Set<String> out = new TreeSet<>();
        node.fieldNames().forEachRemaining(out::add);
        return out;
    }

    @Test
    void reportJsonHasExactlyTheRequiredKeys(@TempDir Path dir) throws Exception {
        new ReportWriter().write(result, dir);
        JsonNode root = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
        assertThat(keys(root))
                .containsExactlyInAnyOrder(
                        "dataset",
                        "bars",
                        "policies",
                        "forecasts",
                        "throughput_bars_per_s",
                        "reliability",
                        "evaluation",
                        "bootstrap",
                        "seed_parity",
                        "circuit_breaker_events",
                        "input_gate");
        assertThat(keys(root.get("input_gate")))
                .containsExactlyInAnyOrder(
                        "test_bars",
                        "abstained",
                        "abstain_rate",
                        "abstained_by",
                        "fused_kept",
                        "fused_abstained",
                        "method");
        JsonNode gate = root.get("input_gate");
        assertThat(gate.get("test_bars").asInt())
                .isEqualTo(root.at("/evaluation/test_bars_total").asInt());
        assertThat(gate.at("/fused_kept/n").asInt() + gate.at("/fused_abstained/n").asInt())
                .isEqualTo(root.at("/forecasts/fused/n").asInt());
        assertThat(root.get("circuit_breaker_events").isArray()).isTrue();
        for (JsonNode e : root.get("circuit_breaker_events")) {
            assertThat(keys(e))
                    .containsExactlyInAnyOrder("time", "policy", "breaker", "event", "value");
            assertThat(e.get("event").asText()).isIn("armed", "re-armed");
        }
        assertThat(root.get("dataset").asText()).isEqualTo("sp500-daily");
        assertThat(root.get("bars").asInt()).isEqualTo(5031);
        assertThat(keys(root.get("policies")))
                .containsExactlyInAnyOrder("fixed", "kelly", "buy_and_hold");
        for (var entry : root.get("policies").properties()) {
            JsonNode policy = entry.getValue();
            assertThat(keys(policy)).contains("sharpe_ci", "max_drawdown_ci");
            if (!entry.getKey().equals("fixed")) {
                assertThat(keys(policy)).contains("sharpe_diff_vs_fixed_ci");
            }
            JsonNode ci = policy.get("sharpe_ci");
            assertThat(ci.size()).isEqualTo(2);
            assertThat(policy.get("sharpe").asDouble())
                    .isBetween(ci.get(0).asDouble(), ci.get(1).asDouble());
            JsonNode dd = policy.get("max_drawdown_ci");
            assertThat(policy.get("max_drawdown").asDouble())
                    .isBetween(dd.get(0).asDouble(), dd.get(1).asDouble());
            assertThat(keys(policy))
                    .contains(
                            "cagr",
                            "sharpe",
                            "sortino",
                            "max_drawdown",
                            "hit_rate",
                            "trades",
                            "turnover",
                            "exposure",
                            "final_equity",
                            "total_costs");
        }
        assertThat(root.at("/policies/kelly/final_equity").asDouble())
                .isEqualTo(result.policies().get("kelly").metrics().finalEquity());
        assertThat(keys(root.get("forecasts")))
                .containsExactlyInAnyOrder("momentum", "rsi", "fused");
        for (JsonNode f : root.get("forecasts")) {
            assertThat(keys(f))
                    .containsExactlyInAnyOrder(
                            "log_loss", "brier", "ece", "hit_rate", "n", "training");
            assertThat(f.get("ece").asDouble()).isBetween(0.0, 1.0);
        }
        assertThat(root.get("throughput_bars_per_s").asDouble()).isPositive();
        JsonNode eval = root.get("evaluation");
        assertThat(keys(eval))
                .contains(
                        "folds",
                        "train_bars",
                        "embargo_bars",
                        "test_bars",
                        "test_start",
                        "test_end",
                        "fee_bps",
                        "slippage_bps",
                        "method");
        assertThat(eval.get("folds").size()).isEqualTo(result.folds().size());
        assertThat(eval.get("fee_bps").asDouble()).isEqualTo(10.0);
        assertThat(eval.get("method").asText()).contains("out-of-sample");
    }

    @Test
    void reportHtmlEmbedsBothChartsAsPngDataUris(@TempDir Path dir) throws Exception {
        Path html = new ReportWriter().write(result, dir);
        assertThat(html).isEqualTo(dir.resolve("report.html"));
        String page = Files.readString(html, StandardCharsets.UTF_8);
        Matcher m =
                Pattern.compile("src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"").matcher(page);
        List<byte[]> images = new ArrayList<>();
        while (m.find()) {
            images.add(Base64.getDecoder().decode(m.group(1)));
        }
        assertThat(images).hasSize(3); // equity, drawdown, reliability diagram
        for (byte[] png : images) {
            assertThat(png).startsWith(PNG_SIGNATURE);
        }
        assertThat(page).contains("buy_and_hold").contains("kelly").contains("Sharpe");
        assertThat(Files.readAllBytes(dir.resolve("equity.png"))).startsWith(PNG_SIGNATURE);
        assertThat(Files.readAllBytes(dir.resolve("drawdown.png"))).startsWith(PNG_SIGNATURE);
    }

    @Test
    void textReportShowsPoliciesSideBySide() {
        String text = TextReport.render(result);
        assertThat(text).contains("fixed").contains("kelly").contains("buy_and_hold");
        for (String row :
                List.of(
                        "CAGR",
                        "Sharpe",
                        "Sortino",
                        "max drawdown",
                        "hit rate",
                        "trades",
                        "turnover",
                        "exposure")) {
            assertThat(text).contains(row);
        }
        assertThat(text).contains("log-loss").contains("fused");
    }

    @Test
    void textReportOrdersPoliciesByNameWhateverOrderTheyLoadedIn() {
        Map<String, PolicyResult> reversed = new LinkedHashMap<>();
        reversed.put("kelly", result.policies().get("kelly"));
        reversed.put("fixed", result.policies().get("fixed"));
        BacktestResult loadedKellyFirst =
                new BacktestResult(
                        result.dataset(),
                        result.bars(),
                        result.config(),
                        result.folds(),
                        result.testTimes(),
                        reversed,
                        result.buyAndHold(),
                        result.forecasts(),
                        result.forecastFailures(),
                        result.training(),
                        result.noSignalBars(),
                        result.throughputBarsPerSecond(),
                        result.method(),
                        result.circuitBreakerEvents(),
                        result.stopExits(),
                        result.intervals(),
                        result.gate(),
                        result.laterBars());
        String header =
                TextReport.render(loadedKellyFirst)
                        .lines()
                        .filter(l -> l.startsWith("metric"))
                        .findFirst()
                        .orElseThrow();
        assertThat(header.split(" +")).containsExactly("metric", "fixed", "kelly", "buy_and_hold");
        assertThat(TextReport.render(loadedKellyFirst)).isEqualTo(TextReport.render(result));
    }

    @Test
    void stderrProgressLineFormat() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Progress.printingTo(new PrintStream(bytes, true, StandardCharsets.UTF_8))
                .update("btc-usd-4h", 12, 39, 6_510, 20_695);
        assertThat(bytes.toString(StandardCharsets.UTF_8).strip())
                .isEqualTo("backtest btc-usd-4h: fold 12/39, 6,510/20,695 bars (31%)");
    }
}
