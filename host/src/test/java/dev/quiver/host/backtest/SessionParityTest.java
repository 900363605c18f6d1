package dev.quiver.host.backtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.market.Bar;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.engine.PolicyStep;
import dev.quiver.engine.Step;
import dev.quiver.engine.Strategy;
import dev.quiver.engine.SymbolEngine;
import dev.quiver.engine.TradingRules;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.fusion.WeightedFusion;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.session.SymbolSession;
import dev.quiver.host.data.BundledData;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Backtest/live parity in process: a live {@link SymbolSession} warmed up on bars {@code [0, F)}
 * and fed bars {@code [F, n)} one at a time decides exactly as {@link
 * WalkForwardBacktest#runPinned} over the same bars (the same engine, features computed streaming
 * vs batch), and its frames equal the batch pipeline's on every bar of every bundled series.
 */
class SessionParityTest {

    /** Records every frame a source is asked to forecast. */
    private static final class Recorder implements PredictionCapability {
        final List<FeatureFrame> frames = new ArrayList<>();

        @Override
        public CapabilityDescriptor descriptor() {
            return CapabilityDescriptor.of("recorder", "1.0.0");
        }

        @Override
        public Forecast forecast(FeatureFrame frame) {
            frames.add(frame);
            return new Forecast("recorder", frame.bar().start(), 1, 0.5, Map.of());
        }
    }

    private static TradingRules rules() {
        return WalkForwardBacktest.Config.defaults().rules();
    }

    private static Strategy strategy(PredictionCapability... extra) {
        List<PredictionCapability> sources = new ArrayList<>(List.of(extra));
        sources.add(TestCapabilities.momentum(20, 8));
        sources.add(TestCapabilities.rsiReversion());
        return new Strategy(
                sources,
                new WeightedFusion(),
                List.of(TestCapabilities.fixed(0.8), TestCapabilities.quarterKelly()));
    }

    private static SymbolSession session(BarData bars, Strategy strategy, int maxGap) {
        SymbolEngine engine =
                new SymbolEngine(
                        bars.symbol(),
                        rules(),
                        strategy,
                        WalkForwardBacktest.Config.defaults().initialEquity(),
                        null,
                        null);
        return new SymbolSession(
                new SymbolSession.Settings(bars.symbol(), bars.period(), maxGap), engine);
    }

    @ParameterizedTest
    @EnumSource(BundledData.class)
    void streamingFramesEqualTheBatchPipelineOnEveryBar(BundledData data) {
        BarData bars = data.load();
        Recorder recorder = new Recorder();
        SymbolSession live = session(bars, strategy(recorder), Integer.MAX_VALUE);
        for (int i = 0; i < bars.size(); i++) {
            live.append(bars.bar(i));
        }
        FeatureMatrix batch = FeaturePipeline.compute(bars);
        int first = batch.firstWarmIndex();
        assertThat(recorder.frames).hasSize(bars.size() - first);
        double worst = 0;
        for (int i = first; i < bars.size(); i++) {
            double[] streamed = recorder.frames.get(i - first).toArray();
            double[] expected = batch.frame(i).toArray();
            for (int c = 0; c < expected.length; c++) {
                worst = Math.max(worst, Math.abs(streamed[c] - expected[c]));
            }
        }
        assertThat(worst)
                .as("largest |streaming - batch| over every feature and bar")
                .isLessThanOrEqualTo(1e-9);
    }

    @Test
    void aSessionFedBarByBarDecidesExactlyAsThePinnedBacktest() {
        BarData bars = BundledData.BTC_USD_4H.load();
        int from = bars.size() - 2500;
        List<Step> backtest = new ArrayList<>();
        new WalkForwardBacktest(WalkForwardBacktest.Config.defaults())
                .withoutIntervals()
                .runPinned(
                        FeaturePipeline.compute(bars),
                        strategy(),
                        rules(),
                        from,
                        "test strategy",
                        Progress.NONE,
                        backtest::add,
                        null);
        List<Step> live = replay(bars, from, strategy(), bars.size());
        assertThat(live).hasSize(backtest.size()).hasSizeGreaterThanOrEqualTo(2000);
        assertThat(firstDifference(backtest, live, 1e-9)).isNull();
    }

    @Test
    void aSkewedFeatureInTheLiveFeedIsCaught() {
        // The live feed carries one bar whose volume differs by one part in a million: live then
        // computes volume_ratio_20 differently for 20 bars. The parity check must name that bar.
        BarData bars = BundledData.BTC_USD_4H.load();
        int from = bars.size() - 2500;
        int skewed = from + 700;
        Strategy volumeSensitive =
                new Strategy(
                        List.of(volumeSource()),
                        new WeightedFusion(),
                        List.of(TestCapabilities.quarterKelly()));
        List<Step> clean = replay(bars, from, volumeSensitive, bars.size());
        List<Bar> feed = new ArrayList<>();
        for (int i = 0; i < bars.size(); i++) {
            Bar b = bars.bar(i);
            feed.add(
                    i == skewed
                            ? new Bar(
                                    b.start(),
                                    b.open(),
                                    b.high(),
                                    b.low(),
                                    b.close(),
                                    b.volume() * (1 + 1e-6))
                            : b);
        }
        BarData skewedBars = new BarData(bars.symbol(), bars.period(), feed);
        List<Step> live =
                replay(
                        skewedBars,
                        from,
                        new Strategy(
                                List.of(volumeSource()),
                                new WeightedFusion(),
                                List.of(TestCapabilities.quarterKelly())),
                        bars.size());
        String diff = firstDifference(clean, live, 1e-9);
        assertThat(diff).isNotNull().contains(bars.bar(skewed).start().toString());
    }

    @Test
    void theLastBarResentIsADuplicateAndATakenTimeWithOtherValuesIsRefused() {
        BarData bars = BundledData.SP500_DAILY.load();
        SymbolSession live = session(bars, strategy(), 5);
        live.warmUp(bars.truncate(300).toList());
        Step s = live.append(bars.bar(300));
        assertThat(live.check(bars.bar(300))).isEqualTo(SymbolSession.Check.DUPLICATE);
        assertThat(live.lastStep()).isSameAs(s);
        Bar b = bars.bar(300);
        Bar changed = new Bar(b.start(), b.open(), b.high(), b.low(), b.close(), b.volume() + 1);
        assertThatThrownBy(() -> live.check(changed))
                .isInstanceOf(QuiverInputException.class)
                .hasMessageContaining("BAR_CONFLICT");
        assertThatThrownBy(() -> live.append(bars.bar(299)))
                .isInstanceOf(QuiverInputException.class)
                .hasMessageContaining("BAR_OUT_OF_ORDER");
        Bar late = bars.bar(301);
        Bar far =
                new Bar(
                        late.start().plus(Duration.ofDays(30)),
                        late.open(),
                        late.high(),
                        late.low(),
                        late.close(),
                        late.volume());
        assertThatThrownBy(() -> live.check(far))
                .isInstanceOf(QuiverInputException.class)
                .hasMessageContaining("BAR_GAP")
                .hasMessageContaining("max_gap_bars 5");
        assertThat(live.engine().barCount()).isEqualTo(1);
    }

    /** A source whose forecast moves with volume_ratio_20. */
    private static PredictionCapability volumeSource() {
        return new PredictionCapability() {
            @Override
            public CapabilityDescriptor descriptor() {
                return CapabilityDescriptor.of("volume", "1.0.0");
            }

            @Override
            public Forecast forecast(FeatureFrame frame) {
                double v = frame.get("volume_ratio_20");
                return new Forecast(
                        "volume", frame.bar().start(), 1, 0.5 + 0.4 * Math.tanh(v - 1), Map.of());
            }
        };
    }

    private static List<Step> replay(BarData bars, int from, Strategy strategy, int to) {
        SymbolSession live = session(bars, strategy, Integer.MAX_VALUE);
        live.warmUp(bars.truncate(from).toList());
        List<Step> steps = new ArrayList<>();
        for (int i = from; i < to; i++) {
            steps.add(live.append(bars.bar(i)));
        }
        return steps;
    }

    /** The first bar where fused p_up, a fraction or an equity differ by more than tol, or null. */
    static String firstDifference(List<Step> a, List<Step> b, double tol) {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            Step x = a.get(i);
            Step y = b.get(i);
            Instant t = x.barTime();
            if (!t.equals(y.barTime())) {
                return "bar " + i + ": times " + t + " vs " + y.barTime();
            }
            if ((x.signal() == null) != (y.signal() == null)) {
                return t + ": signal present in one run only";
            }
            if (x.signal() != null
                    && Math.abs(x.signal().probabilityUp() - y.signal().probabilityUp()) > tol) {
                return t
                        + ": p_up "
                        + x.signal().probabilityUp()
                        + " vs "
                        + y.signal().probabilityUp();
            }
            for (int p = 0; p < x.policies().size(); p++) {
                PolicyStep u = x.policies().get(p);
                PolicyStep v = y.policies().get(p);
                if (Math.abs(u.decision().fraction() - v.decision().fraction()) > tol
                        || Math.abs(u.equity() - v.equity()) > tol) {
                    return t + ": policy " + u.policy() + " fraction/equity differ";
                }
            }
        }
        return a.size() == b.size() ? null : "lengths " + a.size() + " vs " + b.size();
    }
}
