package dev.quiver.host.backtest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.market.Bar;
import dev.quiver.engine.PolicyStep;
import dev.quiver.engine.Step;
import dev.quiver.engine.Strategy;
import dev.quiver.engine.SymbolEngine;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.fusion.WeightedFusion;
import dev.quiver.engine.gate.Dissimilarity;
import dev.quiver.engine.gate.GateVerdict;
import dev.quiver.engine.gate.InputGate;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.session.SymbolSession;
import dev.quiver.host.data.BundledData;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The input gate ({@link InputGate}, fitted by {@link GateFit}) on real BTC 4h bars: synthetic
 * out-of-range feature vectors abstain and name the deviant feature, in-range ones do not; the
 * training span itself abstains at about its declared quantile; through a {@link SymbolEngine}, a
 * bar ten years after the previous one and a bar at 1e308 abstain with their reasons, every policy
 * flat, while an ordinary bar is decided.
 */
class InputGateTest {

    static BarData btc;
    static FeatureMatrix features;
    static Dissimilarity fitted;
    static int[] idx;

    /** The training window: the first 2,000 warm bars. */
    static final int FIRST = 64;

    static final int LAST = 2063;

    @BeforeAll
    static void fit() {
        btc = BundledData.BTC_USD_4H.load().truncate(3000);
        features = FeaturePipeline.compute(btc);
        fitted = GateFit.fit(features, FIRST, LAST, GateFit.DEFAULT_QUANTILE);
        idx = fitted.indexesIn(FeaturePipeline.SCHEMA);
    }

    /** A schema row holding the training mean of every gate feature (others 0). */
    private static double[] meanRow() {
        double[] row = new double[FeaturePipeline.SCHEMA.size()];
        for (int j = 0; j < idx.length; j++) {
            row[idx[j]] = fitted.mean()[j];
        }
        return row;
    }

    @Test
    void inRangeFeaturesPassAndEachOutOfRangeFeatureAbstainsNamingIt() {
        double[] mean = meanRow();
        assertThat(fitted.distance(mean, idx)).isLessThan(1e-9);
        assertThat(fitted.distance(mean, idx)).isLessThanOrEqualTo(fitted.threshold());
        // Within one standard deviation on every feature at once: still in range.
        double[] near = mean.clone();
        for (int j = 0; j < idx.length; j++) {
            near[idx[j]] += 0.5 * fitted.scale()[j] * (j % 2 == 0 ? 1 : -1);
        }
        assertThat(fitted.distance(near, idx)).isLessThanOrEqualTo(fitted.threshold());
        // One feature 25 standard deviations out: beyond the threshold, named first.
        for (int j = 0; j < idx.length; j++) {
            double[] out = mean.clone();
            out[idx[j]] += 25 * fitted.scale()[j];
            assertThat(fitted.distance(out, idx))
                    .as(fitted.features().get(j))
                    .isGreaterThan(fitted.threshold());
            assertThat(fitted.mostDeviant(out, idx, 3).get(0))
                    .startsWith(fitted.features().get(j) + " z=+25.00");
        }
        double[] nan = mean.clone();
        nan[idx[0]] = Double.NaN;
        assertThat(fitted.distance(nan, idx)).isInfinite();
    }

    @Test
    void theTrainingSpanAbstainsAtAboutItsDeclaredQuantile() {
        int n = 0;
        int above = 0;
        for (int i = FIRST; i <= LAST; i++) {
            n++;
            above += fitted.distance(features.frame(i).toArray(), idx) > fitted.threshold() ? 1 : 0;
        }
        double rate = (double) above / n;
        System.out.printf(
                "gate on its own training span: %d of %d above the threshold %.3f (%.2f%%),"
                        + " shrinkage %.4f%n",
                above, n, fitted.threshold(), 100 * rate, fitted.shrinkage());
        assertThat(rate).isBetween(0.005, 0.015);
        assertThat(fitted.shrinkage()).isBetween(0.0, 1.0);
        assertThat(fitted.rows()).isEqualTo(n);
    }

    private static SymbolSession session() {
        SymbolEngine engine =
                new SymbolEngine(
                        btc.symbol(),
                        WalkForwardBacktest.Config.defaults().rules(),
                        new Strategy(
                                List.of(TestCapabilities.momentum(20, 8)),
                                new WeightedFusion(),
                                List.of(
                                        TestCapabilities.fixed(0.5),
                                        TestCapabilities.quarterKelly())),
                        10_000,
                        null,
                        null);
        engine.gate(new InputGate(InputGate.Limits.defaults(Duration.ofHours(4)), fitted, null));
        SymbolSession s =
                new SymbolSession(
                        new SymbolSession.Settings(
                                btc.symbol(), Duration.ofHours(4), Integer.MAX_VALUE),
                        engine);
        List<Bar> warm = new ArrayList<>();
        for (int i = 0; i <= 1000; i++) {
            warm.add(btc.bar(i));
        }
        s.warmUp(warm);
        return s;
    }

    @Test
    void anOrdinaryBarIsDecidedATenYearGapAndA1e308PriceAbstainWithTheirReasons() {
        // ordinary: the next real bar, if its features are within the threshold (checked here)
        SymbolSession ok = session();
        Step step = ok.append(btc.bar(1001));
        GateVerdict v = ok.engine().lastGate();
        assertThat(v.distance()).isEqualTo(fitted.distance(features.frame(1001)));
        assertThat(v.gapBars()).isEqualTo(1.0);
        assertThat(v.distance()).isLessThanOrEqualTo(v.threshold());
        assertThat(v.abstain()).isFalse();
        assertThat(v.reason()).isNull();
        // A passed bar's most deviant features, worked out when read: the distribution's own.
        assertThat(v.deviant())
                .hasSize(3)
                .containsExactlyElementsOf(
                        fitted.mostDeviant(features.frame(1001).toArray(), idx, 3));
        assertThat(step.policies())
                .allSatisfy(p -> assertThat(p.decision().reason()).doesNotContain("input gate"));
        assertThat(ok.engine().gateAbstentions()).isZero();

        // ten years after the previous bar
        SymbolSession gap = session();
        Bar b = btc.bar(1001);
        Bar late =
                new Bar(
                        b.start().plus(Duration.ofDays(3653)),
                        b.open(),
                        b.high(),
                        b.low(),
                        b.close(),
                        b.volume());
        Step gapped = gap.append(late);
        GateVerdict g = gap.engine().lastGate();
        assertThat(g.abstain()).isTrue();
        assertThat(g.gapBars()).isGreaterThan(20_000);
        assertThat(g.reason()).contains("input gate: gap: ").contains("> max_gap_bars 7");
        assertAllFlat(gapped, g.reason());

        // a 1e308 price
        SymbolSession huge = session();
        Step hugeStep =
                huge.append(new Bar(b.start(), b.open(), 1e308, b.low(), 1e308, b.volume()));
        GateVerdict h = huge.engine().lastGate();
        assertThat(h.abstain()).isTrue();
        assertThat(h.moveAtr()).isGreaterThan(1e290);
        assertThat(h.reason()).contains("move: true range").contains("> max_move_atr 20");
        assertThat(h.reason()).contains("out of distribution").contains("log_return_1");
        assertAllFlat(hugeStep, h.reason());
        assertThat(huge.engine().gateAbstentions()).isEqualTo(1);
    }

    private static void assertAllFlat(Step step, String reason) {
        assertThat(step.policies()).hasSize(2);
        for (PolicyStep p : step.policies()) {
            assertThat(p.decision().fraction()).isZero();
            assertThat(p.decision().reason()).isEqualTo(reason);
        }
        // the fused forecast is still made (the backtest scores it on abstained bars)
        assertThat(step.signal()).isNotNull();
    }
}
