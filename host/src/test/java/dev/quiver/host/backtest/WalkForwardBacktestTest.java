package dev.quiver.host.backtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.quiver.api.market.Bar;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.fusion.WeightedFusion;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.risk.RiskGuard;
import dev.quiver.engine.trading.CostModel;
import dev.quiver.engine.trading.Trade;
import dev.quiver.host.data.BundledData;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WalkForwardBacktestTest {

    private static final BarData BTC = BundledData.BTC_USD_4H.load();

    /** The real pipeline's warm-up: RSI/ATR/MACD seeds decayed to negligible weight. */
    private static final int WARM = 64;

    private static final WalkForwardBacktest.Config DEFAULTS =
            WalkForwardBacktest.Config.defaults();
    private static BacktestResult btcDefault;

    private static List<PredictionCapability> predictors() {
        return List.of(TestCapabilities.momentum(10, 20), TestCapabilities.rsiReversion());
    }

    private static List<SizingCapability> policies() {
        return List.of(TestCapabilities.fixed(0.5), TestCapabilities.quarterKelly());
    }

    private static BacktestResult run(BarData bars, WalkForwardBacktest.Config config) {
        return new WalkForwardBacktest(config)
                .run(
                        FeaturePipeline.compute(bars),
                        predictors(),
                        new WeightedFusion(),
                        policies(),
                        new RiskGuard(),
                        Progress.NONE);
    }

    private static synchronized BacktestResult btcDefault() {
        if (btcDefault == null) {
            btcDefault = run(BTC, DEFAULTS);
        }
        return btcDefault;
    }

    @Test
    void accountingIdentityHoldsForEveryPolicyOnRealBtc() {
        BacktestResult r = btcDefault();
        List<PolicyResult> all = new ArrayList<>(r.policies().values());
        all.add(r.buyAndHold());
        assertThat(r.policies()).containsOnlyKeys("fixed", "kelly");
        for (PolicyResult p : all) {
            assertThat(p.trades()).as(p.name() + " trades").isNotEmpty();
            assertThat(p.totalCosts()).as(p.name()).isPositive();
            double finalEquity = p.equity()[p.equity().length - 1];
            double expected = DEFAULTS.initialEquity() + p.grossPnl() - p.totalCosts();
            assertThat(finalEquity)
                    .as(p.name() + ": initial + gross P&L - costs")
                    .isCloseTo(expected, within(1e-6 * Math.abs(finalEquity)));
            // costs are exactly the rate on every traded notional
            assertThat(p.totalCosts())
                    .isCloseTo(
                            p.tradedNotional() * DEFAULTS.costs().rate(),
                            within(1e-9 * p.totalCosts()));
            double tradeCosts = p.trades().stream().mapToDouble(Trade::costs).sum();
            assertThat(tradeCosts).isCloseTo(p.totalCosts(), within(1e-9 * p.totalCosts()));
        }
        // buy and hold: one trade, still open at the end, closed at the last close for reporting
        assertThat(r.buyAndHold().trades()).hasSize(1);
        assertThat(r.buyAndHold().trades().get(0).closedAtEnd()).isTrue();
        assertThat(r.buyAndHold().metrics().exposure()).isGreaterThan(0.99);
    }

    @Test
    void resultDescribesOutOfSampleSpanAndForecastQuality() {
        BacktestResult r = btcDefault();
        int testBars = BTC.size() - r.folds().get(0).testFirst();
        assertThat(r.testTimes()).hasSize(testBars);
        assertThat(r.forecasts()).containsOnlyKeys("momentum", "rsi", "fused");
        // every test bar but the series' last has a known outcome
        assertThat(r.forecasts().get("momentum").n()).isEqualTo(testBars - 1);
        assertThat(r.forecasts().get("fused").n()).isEqualTo(testBars - 1);
        assertThat(r.forecasts().get("fused").logLoss()).isBetween(0.5, 1.0);
        assertThat(r.throughputBarsPerSecond()).isPositive();
        assertThat(r.method()).contains("out-of-sample").contains("bps");
        for (PolicyResult p : r.policies().values()) {
            for (int k = 0; k < testBars; k++) {
                assertThat(p.targetFraction()[k]).isBetween(0.0, DEFAULTS.maxFraction());
                assertThat(p.drawdown()[k]).isBetween(0.0, 1.0);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 499, 500, 2_345, 7_777})
    void decisionsUpToTAreTheSameWhenTheSeriesEndsAtT(int offsetFromFirstTestBar) {
        BacktestResult full = btcDefault();
        int first = full.folds().get(0).testFirst();
        int t = first + offsetFromFirstTestBar;
        BacktestResult cut = run(BTC.truncate(t + 1), DEFAULTS);
        int k = offsetFromFirstTestBar;
        assertThat(cut.testTimes()).hasSize(k + 1);
        for (String policy : List.of("fixed", "kelly")) {
            PolicyResult a = full.policies().get(policy);
            PolicyResult b = cut.policies().get(policy);
            for (int i = 0; i <= k; i++) {
                assertThat(b.targetFraction()[i])
                        .as(policy + " target at test bar " + i)
                        .isEqualTo(a.targetFraction()[i]);
                assertThat(b.reasons()[i])
                        .as(policy + " reason at test bar " + i)
                        .isEqualTo(a.reasons()[i]);
                assertThat(b.equity()[i])
                        .as(policy + " equity at test bar " + i)
                        .isEqualTo(a.equity()[i]);
            }
        }
    }

    @Test
    void foldsTrainBeforeEmbargoBeforeContiguousTestWindows() {
        BacktestResult r = btcDefault();
        List<Fold> folds = r.folds();
        // (20,695 - 64 warm-up - 1,000 train - 5 embargo) / 500 test bars per fold, rounded up
        int expected = (int) Math.ceil((BTC.size() - WARM - 1000 - 5) / 500.0);
        assertThat(folds).hasSize(expected);
        assertThat(folds.get(0).trainFirst()).isEqualTo(WARM);
        for (int i = 0; i < folds.size(); i++) {
            Fold f = folds.get(i);
            assertThat(f.trainLast() - f.trainFirst() + 1).isEqualTo(1000);
            assertThat(f.trainLast() + DEFAULTS.embargoBars()).isLessThan(f.testFirst());
            // the last training label (close of trainLast + 1) is known before the embargo ends
            assertThat(f.trainLast() + 1)
                    .isLessThanOrEqualTo(f.testFirst() - DEFAULTS.embargoBars());
            assertThat(f.trainEnd()).isBefore(f.testStart());
            if (i > 0) {
                assertThat(f.testFirst()).isEqualTo(folds.get(i - 1).testLast() + 1);
                assertThat(f.trainFirst()).isEqualTo(folds.get(i - 1).trainFirst() + 500);
            }
        }
        assertThat(folds.get(folds.size() - 1).testLast()).isEqualTo(BTC.size() - 1);
    }

    /**
     * Bar i opens at 100 + 10i and closes at 105 + 10i. Test bars start at 3 (warm 0, train 2,
     * embargo 1). The policy wants 0.5 at the closes of bars 5 and 6, flat from bar 7's close.
     *
     * <pre>
     * close 5: decision 0.5, still flat          equity 1000
     * open 6 (160): buy 0.5 * 1000 / 160 = 3.125 units, cash 500
     * close 6 (165): 500 + 3.125 * 165         = 1015.625 (weight 0.5077, within the 0.05 band)
     * close 7 (175): 500 + 3.125 * 175         = 1046.875, decision flat
     * open 8 (180): sell 3.125 -> cash 500 + 562.5 = 1062.5 ; gross P&amp;L 3.125 * 20 = 62.5
     * </pre>
     */
    @Test
    void decisionAtTFillsAtNextOpen() {
        List<Bar> list = new ArrayList<>();
        Instant t0 = Instant.parse("2020-01-01T00:00:00Z");
        for (int i = 0; i < 12; i++) {
            double open = 100 + 10 * i;
            double close = 105 + 10 * i;
            list.add(new Bar(t0.plus(Duration.ofDays(i)), open, close + 1, open - 1, close, 1));
        }
        BarData bars = new BarData("hand", Duration.ofDays(1), list);
        FeatureMatrix features = constantFeatures(bars);
        WalkForwardBacktest.Config config =
                new WalkForwardBacktest.Config(2, 1, 100, 1000, CostModel.NONE, 1.0, 0.05, 250);
        BacktestResult r =
                new WalkForwardBacktest(config)
                        .run(
                                features,
                                List.of(TestCapabilities.constant("c", 0.6, s -> false)),
                                new WeightedFusion(),
                                List.of(
                                        TestCapabilities.scheduled(
                                                "sched",
                                                0.5,
                                                bars.bar(5).start(),
                                                bars.bar(7).start())),
                                new RiskGuard(),
                                Progress.NONE);
        assertThat(r.folds().get(0).testFirst()).isEqualTo(3);
        PolicyResult p = r.policies().get("sched");
        double[] e = p.equity(); // index k = bar k + 3
        assertThat(e[5 - 3]).isEqualTo(1000.0);
        assertThat(e[6 - 3]).isCloseTo(1015.625, within(1e-9));
        assertThat(e[7 - 3]).isCloseTo(1046.875, within(1e-9));
        assertThat(e[8 - 3]).isCloseTo(1062.5, within(1e-9));
        assertThat(e[11 - 3]).isCloseTo(1062.5, within(1e-9));
        assertThat(p.trades()).hasSize(1);
        Trade trade = p.trades().get(0);
        assertThat(trade.entry()).isEqualTo(bars.bar(6).start());
        assertThat(trade.exit()).isEqualTo(bars.bar(8).start());
        assertThat(trade.grossPnl()).isCloseTo(62.5, within(1e-9));
        assertThat(trade.closedAtEnd()).isFalse();
        assertThat(p.targetFraction()[6 - 3]).isEqualTo(0.5);
        assertThat(p.targetFraction()[7 - 3]).isEqualTo(0.0);
    }

    @Test
    void costsExplainTheWholeDifferenceInFinalEquity() {
        // one round trip on real BTC bars, no rebalancing (band 1): the same units are traded with
        // and without costs, so the only difference is what was charged
        BarData bars = BTC.truncate(3_000);
        FeatureMatrix features = FeaturePipeline.compute(bars);
        Instant from = bars.bar(1_600).start();
        Instant to = bars.bar(2_400).start();
        double[] finals = new double[2];
        double[] costs = new double[2];
        CostModel[] models = {CostModel.NONE, new CostModel(10, 5)};
        for (int m = 0; m < 2; m++) {
            WalkForwardBacktest.Config config =
                    new WalkForwardBacktest.Config(1000, 5, 500, 10_000, models[m], 1.0, 1.0, 250);
            // without the input gate: a bar it abstained on would flatten and re-enter (a second
            // round trip), and this is about what one round trip is charged
            BacktestResult r =
                    new WalkForwardBacktest(config)
                            .withoutGate()
                            .run(
                                    features,
                                    predictors(),
                                    new WeightedFusion(),
                                    List.of(TestCapabilities.scheduled("sched", 0.7, from, to)),
                                    new RiskGuard(),
                                    Progress.NONE);
            PolicyResult p = r.policies().get("sched");
            assertThat(p.trades()).hasSize(1);
            finals[m] = p.metrics().finalEquity();
            costs[m] = p.totalCosts();
        }
        assertThat(costs[0]).isZero();
        assertThat(costs[1]).isPositive();
        assertThat(finals[0] - finals[1]).isCloseTo(costs[1], within(1e-9 * finals[0]));
    }

    @Test
    void aFailingSourceIsLeftOutOfThatBarAndCounted() {
        BarData bars = BundledData.SP500_DAILY.load();
        WalkForwardBacktest.Config config = DEFAULTS.withWindows(500, 5, 250);
        // fails whenever the decision bar's index i satisfies (i + 1) % 7 == 0
        BacktestResult r =
                new WalkForwardBacktest(config)
                        .run(
                                FeaturePipeline.compute(bars),
                                List.of(
                                        TestCapabilities.momentum(10, 20),
                                        TestCapabilities.constant("flaky", 0.55, s -> s % 7 == 0)),
                                new WeightedFusion(),
                                policies(),
                                new RiskGuard(),
                                Progress.NONE);
        // Only test bars are forecast (training windows read stored out-of-fold forecasts).
        long expectedFailures = 0;
        for (int i = bars.size() - r.testTimes().length; i < bars.size(); i++) {
            if ((i + 1) % 7 == 0) {
                expectedFailures++;
            }
        }
        assertThat(r.forecastFailures().get("flaky")).isEqualTo((int) expectedFailures);
        assertThat(r.forecastFailures().get("momentum")).isZero();
        assertThat(r.noSignalBars()).isZero();
        int testBars = r.testTimes().length;
        assertThat(r.forecasts().get("flaky").n()).isLessThan(r.forecasts().get("momentum").n());
        assertThat(r.forecasts().get("momentum").n()).isEqualTo(testBars - 1);
    }

    @Test
    void progressReportsEachFold() {
        BarData bars = BundledData.NASDAQ_DAILY.load();
        List<String> lines = new ArrayList<>();
        new WalkForwardBacktest(DEFAULTS)
                .run(
                        FeaturePipeline.compute(bars),
                        predictors(),
                        new WeightedFusion(),
                        policies(),
                        new RiskGuard(),
                        (dataset, fold, folds, done, total) ->
                                lines.add(
                                        dataset + " " + fold + "/" + folds + " " + done + "/"
                                                + total));
        int folds = (int) Math.ceil((bars.size() - WARM - 1005) / 500.0);
        assertThat(lines).hasSize(folds);
        assertThat(lines.get(folds - 1))
                .isEqualTo("nasdaq-daily " + folds + "/" + folds + " 5031/5031");
    }

    @Test
    void configNamesTheBadField() {
        assertThatThrownBy(() -> DEFAULTS.withWindows(1000, 0, 500))
                .hasMessageContaining("embargoBars");
        assertThatThrownBy(() -> DEFAULTS.withWindows(0, 5, 500)).hasMessageContaining("trainBars");
        assertThatThrownBy(() -> DEFAULTS.withWindows(1000, 5, 0)).hasMessageContaining("testBars");
        assertThatThrownBy(
                        () ->
                                new WalkForwardBacktest.Config(
                                        1, 1, 1, 1, CostModel.NONE, 1.5, 0, 250))
                .hasMessageContaining("maxFraction");
        assertThatThrownBy(() -> new CostModel(-1, 0)).hasMessageContaining("feeBps");
    }

    @Test
    void tooShortASeriesIsRefusedWithTheReason() {
        BarData bars = BTC.truncate(1_000);
        assertThatThrownBy(() -> run(bars, DEFAULTS))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("too short");
    }

    /**
     * Every feature 0 from bar 0 on: for hand-built series far shorter than the real pipeline's
     * warm-up, where the test is about fills and accounting, not features.
     */
    private static FeatureMatrix constantFeatures(BarData bars) {
        double[][] v = new double[bars.size()][FeaturePipeline.SCHEMA.size()];
        return new FeatureMatrix(FeaturePipeline.SCHEMA, bars, v, 0);
    }
}
