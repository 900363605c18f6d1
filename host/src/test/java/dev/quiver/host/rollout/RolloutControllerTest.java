package dev.quiver.host.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.DoubleBinaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
    void everyTransitionIsOneFsyncedAuditLineAndStateSurvivesARestart(@TempDir Path dir)
            throws Exception {
        RolloutSpec spec = spec(250);
        RolloutManager first =
                RolloutManager.open(new RolloutStore(dir), Optional.empty(), Clock.systemUTC());
        RolloutController c = first.start(spec);
        for (int i = 100; i < 700; i++) {
            Instant t = Instant.ofEpochMilli(btc.startMillis[i]);
            if (i > 100) {
                first.applied(
                        c,
                        c.resolve(
                                "BTC-USD",
                                Instant.ofEpochMilli(btc.startMillis[i - 1]),
                                t,
                                btc.close[i],
                                t));
            }
            double p = champion(i);
            c.record(
                    "BTC-USD",
                    t,
                    btc.close[i],
                    VariantOutput.forecast(p),
                    VariantOutput.forecast(blend(0.3).applyAsDouble(p, up(i) ? 1 : 0)),
                    c.route("BTC-USD"));
        }
        first.save(c);
        int transitions = c.transitions().size();
        assertThat(transitions).isEqualTo(2); // shadow -> canary -> full
        List<JsonNode> lines = new ArrayList<>();
        for (String l : first.store().auditLines()) {
            lines.add(RolloutStore.JSON.readTree(l));
        }
        assertThat(lines.get(0).path("event").asText()).isEqualTo("start");
        List<JsonNode> tl =
                lines.stream().filter(n -> n.path("event").asText().equals("transition")).toList();
        assertThat(tl).hasSize(transitions);
        for (int k = 0; k < transitions; k++) {
            JsonNode n = tl.get(k);
            Transition t = c.transitions().get(k);
            assertThat(n.path("rollout").asText()).isEqualTo("lstm-v4");
            assertThat(n.path("from").asText()).isEqualTo(t.from());
            assertThat(n.path("to").asText()).isEqualTo(t.to());
            assertThat(n.path("actor").asText()).isEqualTo("rule");
            assertThat(n.path("test").path("p_value").asDouble()).isEqualTo(t.test().pValue());
            assertThat(n.path("test").path("statistic").asDouble()).isEqualTo(t.test().statistic());
            assertThat(n.path("figures").path("challenger").path("log_loss").asDouble())
                    .isEqualTo(t.figures().get("challenger").logLoss());
        }
        String saved = RolloutStore.JSON.writeValueAsString(c.snapshot());
        first.close();

        RolloutManager second =
                RolloutManager.open(new RolloutStore(dir), Optional.empty(), Clock.systemUTC());
        RolloutController back = second.get("lstm-v4").orElseThrow();
        assertThat(RolloutStore.JSON.writeValueAsString(back.snapshot())).isEqualTo(saved);
        assertThat(back.stageStatus()).isEqualTo(c.stageStatus());
        assertThat(back.figures(Role.CHALLENGER)).isEqualTo(c.figures(Role.CHALLENGER));

        // The restored controller and the original go on identically (pending forecast included).
        for (RolloutController x : List.of(c, back)) {
            for (int i = 700; i < 800; i++) {
                Instant t = Instant.ofEpochMilli(btc.startMillis[i]);
                x.resolve(
                        "BTC-USD",
                        Instant.ofEpochMilli(btc.startMillis[i - 1]),
                        t,
                        btc.close[i],
                        t);
                double p = champion(i);
                // fewer outcomes than the next look needs: the rollout stays in full
                x.record(
                        "BTC-USD",
                        t,
                        btc.close[i],
                        VariantOutput.forecast(p),
                        VariantOutput.forecast(p),
                        x.route("BTC-USD"));
            }
        }
        assertThat(back.transitions()).isEqualTo(c.transitions());
        assertThat(back.stage()).isEqualTo(Stage.FULL);
        assertThat(back.snapshot().totals()).isEqualTo(c.snapshot().totals());

        Transition manual = second.rollback("lstm-v4", "operator test");
        assertThat(manual.actor()).isEqualTo("operator");
        List<String> audit = second.store().auditLines();
        assertThat(audit.get(audit.size() - 2))
                .contains("\"event\":\"transition\"")
                .contains("\"actor\":\"operator\"")
                .contains("\"to\":\"rolled_back\"");
        // the challenger is a model version: the alias step is audited (no registry here)
        assertThat(audit.get(audit.size() - 1))
                .contains("\"event\":\"registry\"")
                .contains("remove quiver-lstm@challenger (was 4)");
        assertThatThrownBy(() -> second.promote("lstm-v4", ""))
                .hasMessageContaining("ROLLOUT_FINISHED");
        second.close();
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
