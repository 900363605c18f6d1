package dev.quiver.host.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleBinaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The state machine's mechanics on real BTC-USD 4h outcomes. The champion here is a stated one-line
 * forecaster (close above its 20-bar mean -> 0.55, else 0.45); the rules on a real plugin's
 * forecasts are {@code RolloutRulesIT}.
 */
class RolloutControllerTest {

    static BarData btc;

    @BeforeAll
    static void load() {
        btc = BundledData.BTC_USD_4H.load();
    }

    static double champion(int i) {
        double mean = 0;
        for (int j = i - 19; j <= i; j++) {
            mean += btc.close[j];
        }
        return btc.close[i] > mean / 20 ? 0.55 : 0.45;
    }

    static boolean up(int i) {
        return btc.close[i + 1] > btc.close[i];
    }

    /**
     * Blends a forecast with the realised outcome: w > 0 improves it, w < 0 toward the wrong side.
     */
    static DoubleBinaryOperator blend(double w) {
        return (p, y) -> w >= 0 ? (1 - w) * p + w * y : (1 + w) * p - w * (1 - y);
    }

    record Step(int bar, Stage before, Stage after, List<Transition> transitions) {}

    /**
     * Replays bars [from, to) of one key: resolve bar i-1 with bar i's close, then record bar i.
     */
    static List<Step> replay(
            RolloutController c, String key, int from, int to, DoubleBinaryOperator challenger) {
        List<Step> steps = new ArrayList<>();
        for (int i = from; i < to; i++) {
            Instant t = Instant.ofEpochMilli(btc.startMillis[i]);
            Stage before = c.stage();
            List<Transition> ts = List.of();
            if (i > from) {
                Instant prev = Instant.ofEpochMilli(btc.startMillis[i - 1]);
                ts = c.resolve(key, prev, t, btc.close[i], t);
            }
            double p = champion(i);
            double q = challenger.applyAsDouble(p, up(i) ? 1 : 0);
            c.record(
                    key,
                    t,
                    btc.close[i],
                    VariantOutput.forecast(p),
                    VariantOutput.forecast(q),
                    c.route(key));
            steps.add(new Step(i, before, c.stage(), ts));
        }
        return steps;
    }

    static RolloutSpec spec(int minSamples) {
        return RolloutSpecTest.spec(
                s -> s.replace("\"min_samples\": 300", "\"min_samples\": " + minSamples));
    }

    @Test
    void clearlyBetterIsPromotedStageByStageAndNeverBeforeTheMinimumSample() {
        int min = 200;
        RolloutController c = RolloutController.start(spec(min), Instant.EPOCH);
        List<Step> steps = replay(c, "BTC-USD", 100, 3000, blend(0.3));
        List<Transition> ts = c.transitions();
        assertThat(ts).extracting(Transition::to).containsExactly("canary", "full", "completed");
        assertThat(ts)
                .allSatisfy(
                        t -> {
                            assertThat(t.actor()).isEqualTo("rule");
                            assertThat(t.stageSamples()).isGreaterThanOrEqualTo(min);
                            assertThat(t.test().test()).isEqualTo("paired");
                            assertThat(t.test().pValue()).isLessThan(t.test().alpha());
                            assertThat(t.test().meanDifference()).isNegative();
                        });
        // outcomes scored within each stage before its transition: at least min_samples
        int scoredInStage = 0;
        for (Step s : steps) {
            if (!s.transitions().isEmpty()) {
                scoredInStage++; // the outcome that triggered it
                assertThat(scoredInStage)
                        .as("outcomes in stage %s", s.before())
                        .isGreaterThanOrEqualTo(min);
                scoredInStage = 0;
            } else if (s.bar() > 100 && !s.before().terminal()) {
                scoredInStage++;
            }
        }
        assertThat(c.route("BTC-USD")).isEqualTo(Role.CHALLENGER);
        assertThat(c.figures(Role.CHALLENGER).logLoss())
                .isLessThan(c.figures(Role.CHAMPION).logLoss());
    }

    @Test
    void clearlyWorseIsRolledBackAtTheFirstLookNotBefore() {
        int min = 150;
        RolloutController c = RolloutController.start(spec(min), Instant.EPOCH);
        List<Step> steps = replay(c, "BTC-USD", 100, 2000, blend(-0.3));
        assertThat(c.transitions())
                .singleElement()
                .satisfies(
                        t -> {
                            assertThat(t.from()).isEqualTo("shadow");
                            assertThat(t.to()).isEqualTo("rolled_back");
                            assertThat(t.stageSamples()).isEqualTo(min);
                            assertThat(t.test().meanDifference()).isPositive();
                        });
        Step decided =
                steps.stream().filter(s -> !s.transitions().isEmpty()).findFirst().orElseThrow();
        // bar 100 records only; outcome k is scored at bar 100 + k
        assertThat(decided.bar()).isEqualTo(100 + min);
        assertThat(steps.stream().filter(s -> s.bar() < decided.bar()))
                .allSatisfy(s -> assertThat(s.after()).isEqualTo(Stage.SHADOW));
        assertThat(c.route("BTC-USD")).isEqualTo(Role.CHAMPION);
        assertThat(c.computes(Role.CHALLENGER)).isFalse();
    }

    @Test
    void identicalVariantsNeverTriggerARule() {
        RolloutController c = RolloutController.start(spec(100), Instant.EPOCH);
        replay(c, "BTC-USD", 100, 1500, (p, y) -> p);
        assertThat(c.transitions()).isEmpty();
        assertThat(c.stageStatus()).containsEntry("looks", 13);
    }

    @Test
    void withAHorizonTwoVersionsTooAlikeToTellApartEndRolledBackAtTheLastLook() {
        RolloutSpec spec =
                RolloutSpecTest.spec(
                        s ->
                                s.replace("\"min_samples\": 300", "\"min_samples\": 200")
                                        .replace(
                                                "\"automatic\": true",
                                                "\"automatic\": true, \"max_looks\": 3"));
        RolloutController c = RolloutController.start(spec, Instant.EPOCH);
        // the challenger differs from the champion by a hair
        replay(c, "BTC-USD", 100, 2500, (p, y) -> p + 1e-4);
        assertThat(c.transitions())
                .singleElement()
                .satisfies(
                        t -> {
                            assertThat(t.from()).isEqualTo("shadow");
                            assertThat(t.to()).isEqualTo("rolled_back");
                            assertThat(t.actor()).isEqualTo("rule");
                            assertThat(t.stageSamples()).isEqualTo(600);
                            assertThat(t.reason())
                                    .startsWith("no verdict on log_loss within max_looks 3")
                                    .endsWith("(look 3, n = 600); the champion stays");
                        });
        assertThat(c.route("BTC-USD")).isEqualTo(Role.CHAMPION);
        // without the horizon the same pair carries on past look 3
        RolloutController open = RolloutController.start(spec(200), Instant.EPOCH);
        replay(open, "BTC-USD", 100, 2500, (p, y) -> p + 1e-4);
        assertThat(open.transitions()).isEmpty();
    }

    @Test
    void anOutcomeIsScoredOnlyOnceItsBarIsLater() {
        RolloutController c = RolloutController.start(spec(100), Instant.EPOCH);
        Instant t = Instant.ofEpochMilli(btc.startMillis[500]);
        c.record(
                "K",
                t,
                btc.close[500],
                VariantOutput.forecast(0.6),
                VariantOutput.forecast(0.4),
                Role.CHAMPION);
        assertThatThrownBy(() -> c.resolve("K", t, t, btc.close[501], t))
                .hasMessageContaining("is not after forecast bar");
        assertThat(c.pendingBars("K")).containsExactly(t);
        assertThat(c.figures(Role.CHAMPION).n()).isZero();
    }
}
