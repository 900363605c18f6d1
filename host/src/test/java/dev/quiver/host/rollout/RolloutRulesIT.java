package dev.quiver.host.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.DoubleBinaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rules on a real plugin's forecasts and real outcomes: the champion is {@code
 * prediction-traditional} (the distribution's zip, started as a rollout variant in its own plugin
 * manager) on 3,000 BTC-USD 4h bars; the challenger is the same forecast moved toward the realised
 * outcome ({@code q = 0.7 p + 0.3 y}: clearly better) or away from it ({@code q = 0.7 p + 0.3 (1 -
 * y)}: clearly worse). The controller is under test: it must promote the first stage by stage and
 * roll back the second, each only once the stage holds {@code min_samples} scored outcomes.
 */
class RolloutRulesIT {

    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));
    static final int MIN = 300;
    static final int FIRST = 1000;
    static final int BARS = 3000;

    @TempDir static Path work;
    static VariantRuntime traditional;
    static BarData btc;
    static double[] p;

    static RolloutSpec spec() {
        return RolloutSpec.parse(
                """
                {"id": "traditional-real",
                 "capability": {"kind": "prediction", "name": "traditional", "plugin": "prediction-traditional"},
                 "champion": {},
                 "challenger": {"plugin_zip": "%s"},
                 "rules": {"metric": "log_loss", "min_samples": %d, "alpha": 0.05}}
                """
                        .formatted(
                                DISTRIBUTION.resolve("plugins/prediction-traditional-1.0.0.zip"),
                                MIN),
                "RolloutRulesIT",
                null);
    }

    @BeforeAll
    static void forecasts() {
        traditional =
                VariantRuntime.start(
                        spec(),
                        Role.CHAMPION,
                        DISTRIBUTION.resolve("plugins"),
                        Map.of(),
                        Optional.empty(),
                        work);
        btc = BundledData.BTC_USD_4H.load();
        FeatureMatrix features = FeaturePipeline.compute(btc);
        PredictionCapability source = traditional.prediction();
        p = new double[btc.size()];
        for (int i = FIRST; i < FIRST + BARS; i++) {
            p[i] = source.forecast(features.frame(i)).probabilityUp();
        }
    }

    @AfterAll
    static void close() {
        traditional.close();
    }

    record Step(int outcomes, Stage before, List<Transition> transitions) {}

    static List<Step> replay(RolloutController c, DoubleBinaryOperator challenger) {
        List<Step> steps = new ArrayList<>();
        int outcomes = 0;
        for (int i = FIRST; i < FIRST + BARS; i++) {
            Instant t = Instant.ofEpochMilli(btc.startMillis[i]);
            if (i > FIRST) {
                Stage before = c.stage();
                List<Transition> ts =
                        c.resolve(
                                "BTC-USD",
                                Instant.ofEpochMilli(btc.startMillis[i - 1]),
                                t,
                                btc.close[i],
                                t);
                outcomes++;
                steps.add(new Step(outcomes, before, ts));
            }
            double y = btc.close[i + 1] > btc.close[i] ? 1 : 0;
            c.record(
                    "BTC-USD",
                    t,
                    btc.close[i],
                    VariantOutput.forecast(p[i]),
                    VariantOutput.forecast(challenger.applyAsDouble(p[i], y)),
                    c.route("BTC-USD"));
        }
        return steps;
    }

    /** Outcomes scored in each stage up to and including the one that triggered its transition. */
    static List<Integer> outcomesPerStage(List<Step> steps) {
        List<Integer> out = new ArrayList<>();
        int last = 0;
        for (Step s : steps) {
            if (!s.transitions().isEmpty()) {
                out.add(s.outcomes() - last);
                last = s.outcomes();
            }
        }
        return out;
    }

    @Test
    void realForecastsImprovedTowardTheOutcomeArePromotedThroughEveryStageNeverBeforeTheMinimum() {
        RolloutController c = RolloutController.start(spec(), Instant.EPOCH);
        List<Step> steps = replay(c, (q, y) -> 0.7 * q + 0.3 * y);
        assertThat(c.transitions())
                .extracting(Transition::to)
                .containsExactly("canary", "full", "completed");
        assertThat(outcomesPerStage(steps))
                .allSatisfy(n -> assertThat(n).isGreaterThanOrEqualTo(MIN));
        assertThat(steps.stream().filter(s -> s.outcomes() < MIN))
                .allSatisfy(s -> assertThat(s.transitions()).isEmpty());
        assertThat(c.transitions())
                .allSatisfy(
                        t -> {
                            assertThat(t.actor()).isEqualTo("rule");
                            assertThat(t.test().test()).isEqualTo("paired");
                            assertThat(t.test().pValue()).isLessThan(t.test().alpha());
                        });
        System.out.printf(
                "better: champion log-loss %.4f, challenger %.4f, transitions at outcomes %s%n",
                c.figures(Role.CHAMPION).logLoss(),
                c.figures(Role.CHALLENGER).logLoss(),
                outcomesPerStage(steps));
    }

    @Test
    void realForecastsDegradedAwayFromTheOutcomeAreRolledBackAtTheMinimumNotBefore() {
        RolloutController c = RolloutController.start(spec(), Instant.EPOCH);
        List<Step> steps = replay(c, (q, y) -> 0.7 * q + 0.3 * (1 - y));
        assertThat(c.transitions())
                .singleElement()
                .satisfies(
                        t -> {
                            assertThat(t.from()).isEqualTo("shadow");
                            assertThat(t.to()).isEqualTo("rolled_back");
                            assertThat(t.test().meanDifference()).isPositive();
                        });
        assertThat(outcomesPerStage(steps)).containsExactly(MIN);
        assertThat(c.route("BTC-USD")).isEqualTo(Role.CHAMPION);
        System.out.printf(
                "worse: champion log-loss %.4f, challenger %.4f, p = %.3g%n",
                c.figures(Role.CHAMPION).logLoss(),
                c.figures(Role.CHALLENGER).logLoss(),
                c.transitions().get(0).test().pValue());
    }

    @Test
    void theRealForecastAgainstItselfIsNeverDecided() {
        RolloutController c = RolloutController.start(spec(), Instant.EPOCH);
        replay(c, (q, y) -> q);
        assertThat(c.transitions()).isEmpty();
        assertThat(c.stage()).isEqualTo(Stage.SHADOW);
    }

    /** Mean log-loss of forecasts {@code q} against the next bar's direction over the replay. */
    static double meanLogLoss(DoubleBinaryOperator challenger) {
        double sum = 0;
        for (int i = FIRST; i < FIRST + BARS; i++) {
            double y = btc.close[i + 1] > btc.close[i] ? 1 : 0;
            double q = challenger.applyAsDouble(p[i], y);
            sum += -(y * Math.log(q) + (1 - y) * Math.log(1 - q));
        }
        return sum / BARS;
    }

    /**
     * RELIABILITY.md P10: a challenger forced 15% worse on log-loss than the real champion ({@code
     * q = (1 - a) p + a (1 - y)}, with {@code a} found by bisection so that its mean log-loss over
     * the 3,000 bars is 1.15 times the champion's) is rolled back by the rule once the stage holds
     * {@code min_samples} (N = 300) scored outcomes, and not one outcome before.
     */
    @Test
    void aChallengerFifteenPercentWorseOnLogLossIsRolledBackAfterTheMinimumNotBefore() {
        double champion = meanLogLoss((q, y) -> q);
        double lo = 0;
        double hi = 0.9;
        for (int i = 0; i < 60; i++) {
            double mid = (lo + hi) / 2;
            if (meanLogLoss((q, y) -> (1 - mid) * q + mid * (1 - y)) < 1.15 * champion) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        double a = (lo + hi) / 2;
        DoubleBinaryOperator worse = (q, y) -> (1 - a) * q + a * (1 - y);
        assertThat(meanLogLoss(worse) / champion)
                .isCloseTo(1.15, org.assertj.core.data.Offset.offset(1e-6));

        RolloutController c = RolloutController.start(spec(), Instant.EPOCH);
        List<Step> steps = replay(c, worse);
        assertThat(c.transitions())
                .singleElement()
                .satisfies(
                        t -> {
                            assertThat(t.from()).isEqualTo("shadow");
                            assertThat(t.to()).isEqualTo("rolled_back");
                            assertThat(t.actor()).isEqualTo("rule");
                            assertThat(t.test().n()).isGreaterThanOrEqualTo(MIN);
                            assertThat(t.test().meanDifference()).isPositive();
                        });
        int at = outcomesPerStage(steps).get(0);
        assertThat(at).isGreaterThanOrEqualTo(MIN);
        assertThat(steps.stream().filter(s -> s.outcomes() < at))
                .allSatisfy(s -> assertThat(s.transitions()).isEmpty());
        assertThat(c.route("BTC-USD")).isEqualTo(Role.CHAMPION);
        System.out.printf(
                "P10 15%% worse: a = %.4f, log-loss champion %.4f vs challenger %.4f over %d bars;"
                        + " rolled back at outcome %d (min_samples %d), p = %.3g%n",
                a,
                champion,
                meanLogLoss(worse),
                BARS,
                at,
                MIN,
                c.transitions().get(0).test().pValue());
    }
}
