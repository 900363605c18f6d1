package dev.quiver.host.backtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Direction;
import dev.quiver.api.prediction.DirectionForecast;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.prediction.SidewaysBand;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.fusion.WeightedFusion;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.risk.RiskGuard;
import dev.quiver.engine.trading.Stops;
import dev.quiver.host.data.BundledData;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report's scores of a three-class source (per-class accuracy, confusion matrix) against a
 * confusion matrix counted here from the bars themselves, and its policy table on the bars after a
 * policy's stated training span against the equity curves cut by hand; on real S&amp;P 500 bars.
 */
class ThreeClassAndLaterBarsTest {

    static final SidewaysBand BAND = new SidewaysBand(0.3);
    static final Instant TRAINED_THROUGH = Instant.parse("2010-12-31T00:00:00Z");
    static FeatureMatrix features;
    static BacktestResult result;

    /** Down / sideways / up from rsi_14: a deterministic three-class source (not a good one). */
    static DirectionForecast classes(FeatureFrame frame) {
        double rsi = Math.max(0, Math.min(100, frame.get("rsi_14"))) / 100;
        double up = 0.2 + 0.5 * rsi;
        double down = 0.7 - 0.5 * rsi;
        return new DirectionForecast(down, 1 - up - down, up, BAND);
    }

    @BeforeAll
    static void run() {
        BarData bars = BundledData.SP500_DAILY.load();
        features = FeaturePipeline.compute(bars);
        PredictionCapability three =
                new PredictionCapability() {
                    @Override
                    public CapabilityDescriptor descriptor() {
                        return CapabilityDescriptor.of("three", "1.0.0");
                    }

                    @Override
                    public Forecast forecast(FeatureFrame frame) {
                        DirectionForecast c = classes(frame);
                        return c.toForecast(
                                "three",
                                frame.bar().start(),
                                1,
                                c.probabilityUp() + c.probabilitySideways() / 2,
                                Map.of());
                    }
                };
        SizingCapability stated =
                new SizingCapability() {
                    @Override
                    public CapabilityDescriptor descriptor() {
                        return new CapabilityDescriptor(
                                "stated",
                                "1.0.0",
                                Map.of("trained_through", TRAINED_THROUGH.toString()));
                    }

                    @Override
                    public SizingDecision size(SizingContext ctx) {
                        boolean after = ctx.signal().barTime().isAfter(TRAINED_THROUGH);
                        return new SizingDecision(
                                after ? 1.0 : 0, after ? "long" : "in its span", Map.of());
                    }
                };
        result =
                new WalkForwardBacktest(
                                WalkForwardBacktest.Config.defaults().withRisk(Stops.NONE, null))
                        // The input gate's abstentions would make the stated policy flat on a
                        // few later bars; the gate has its own tests (InputGateTest).
                        .withoutGate()
                        .run(
                                features,
                                List.of(three, TestCapabilities.rsiReversion()),
                                new WeightedFusion(),
                                List.of(TestCapabilities.fixed(0.5), stated),
                                new RiskGuard(),
                                Progress.NONE);
    }

    @Test
    void theConfusionMatrixIsTheOneCountedFromTheBars() {
        BarData bars = features.bars();
        double[] atr = features.column("atr_pct_14");
        int[][] expected = new int[3][3];
        int n = 0;
        int first = result.folds().get(0).testFirst();
        for (int t = first; t < bars.size() - 1; t++) {
            double r = Math.log(bars.close[t + 1] / bars.close[t]);
            Direction truth =
                    Math.abs(r) < 0.3 * atr[t]
                            ? Direction.SIDEWAYS
                            : r > 0 ? Direction.UP : Direction.DOWN;
            expected[truth.ordinal()][classes(features.frame(t)).predicted().ordinal()]++;
            n++;
        }
        ClassMetrics c = result.forecasts().get("three").classes();
        assertThat(c.atrMultiple()).isEqualTo(0.3);
        assertThat(c.n()).isEqualTo(n).isEqualTo(result.forecasts().get("three").n());
        assertThat(c.confusion()).isDeepEqualTo(expected);
        for (int i = 0; i < 3; i++) {
            int row = expected[i][0] + expected[i][1] + expected[i][2];
            assertThat(c.perClassAccuracy()[i]).isEqualTo((double) expected[i][i] / row);
        }
        // more than one class is predicted and more than one occurs: not a degenerate matrix
        assertThat(expected[0][0] + expected[1][0] + expected[2][0]).isPositive();
        assertThat(expected[0][2] + expected[1][2] + expected[2][2]).isPositive();
        assertThat(result.forecasts().get("rsi").classes()).isNull();
        assertThat(result.forecasts().get(WalkForwardBacktest.FUSED).classes()).isNull();
        String text = TextReport.render(result);
        System.out.print(TextReport.classTables(result));
        assertThat(text)
                .contains("three, three classes (sideways iff |ln(close[t+1]/close[t])| < 0.3")
                .contains(
                        String.format(
                                "%12d%12d%12d", expected[1][0], expected[1][1], expected[1][2]));
    }

    @Test
    void theLaterBarsTableMeasuresEveryCurveFromTheFirstBarAfterTheSpan(@TempDir Path dir)
            throws Exception {
        assertThat(result.laterBars()).hasSize(1);
        LaterBars later = result.laterBars().get(0);
        long[] times = result.testTimes();
        int k = later.firstBar();
        assertThat(times[k]).isGreaterThan(TRAINED_THROUGH.toEpochMilli());
        assertThat(times[k - 1]).isLessThanOrEqualTo(TRAINED_THROUGH.toEpochMilli());
        assertThat(later.bars()).isEqualTo(times.length - k);
        assertThat(later.rows().keySet())
                .containsExactly("fixed", "stated", WalkForwardBacktest.BUY_AND_HOLD);
        double years = (times[times.length - 1] - times[k]) / (365.25 * 86_400_000.0);
        for (var e : later.rows().entrySet()) {
            double[] eq =
                    e.getKey().equals(WalkForwardBacktest.BUY_AND_HOLD)
                            ? result.buyAndHold().equity()
                            : result.policies().get(e.getKey()).equity();
            double cagr = Math.pow(eq[eq.length - 1] / eq[k], 1 / years) - 1;
            assertThat(e.getValue().cagr()).as(e.getKey()).isCloseTo(cagr, within(1e-12));
            assertThat(e.getValue().sharpeCi()[0]).isLessThan(e.getValue().sharpeCi()[1]);
        }
        // the stated policy holds on every later bar, and on none before
        assertThat(later.rows().get("stated").exposure()).isEqualTo(1.0);
        assertThat(result.policies().get("stated").targetFraction()[k - 1]).isZero();
        new ReportWriter().write(result, dir);
        JsonNode json = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
        JsonNode node = json.get("later_bars").get(0);
        assertThat(node.get("policy").asText()).isEqualTo("stated");
        assertThat(node.get("test_bars_after").asInt()).isEqualTo(later.bars());
        assertThat(node.at("/policies/stated/sharpe_diff_vs_fixed_ci").size()).isEqualTo(2);
        JsonNode classes = json.at("/forecasts/three/classes");
        assertThat(classes.get("confusion_rows_true_columns_predicted").size()).isEqualTo(3);
        String text = TextReport.render(result);
        System.out.print(TextReport.laterBars(result, later));
        // the terminal orders the later-bars columns as the main table, whatever the rows' order
        java.util.Map<String, LaterBars.Row> reversed = new java.util.LinkedHashMap<>();
        List<String> keys = new java.util.ArrayList<>(later.rows().keySet());
        java.util.Collections.reverse(keys);
        keys.forEach(key -> reversed.put(key, later.rows().get(key)));
        LaterBars shuffled =
                new LaterBars(
                        later.policy(),
                        later.trainedThrough(),
                        later.firstBar(),
                        later.bars(),
                        reversed);
        assertThat(TextReport.laterBars(result, shuffled))
                .isEqualTo(TextReport.laterBars(result, later));
        String header =
                TextReport.laterBars(result, shuffled)
                        .lines()
                        .filter(l -> l.startsWith("metric"))
                        .findFirst()
                        .orElseThrow();
        assertThat(header.split(" +"))
                .containsExactly("metric", "fixed", "stated", WalkForwardBacktest.BUY_AND_HOLD);
        assertThat(text).contains("stated was trained once on a stated span (through 2010-12-31");
    }
}
