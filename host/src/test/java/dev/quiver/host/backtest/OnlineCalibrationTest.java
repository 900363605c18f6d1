package dev.quiver.host.backtest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.sizing.OnlineCalibration;
import dev.quiver.api.sizing.ScoredOutcome;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.fusion.WeightedFusion;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.risk.RiskGuard;
import dev.quiver.host.data.BundledData;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The engine's online-calibration hook (plugins-api 1.4.0) in the walk-forward backtest: a policy
 * implementing {@link OnlineCalibration} observes the fused signal of every decided bar exactly
 * once, at the next bar's close, before that bar's decision, labelled {@code close[t+1] >
 * close[t]}; and the report scores its {@code calibrate} as {@code fused@<policy>} on the same
 * bars.
 */
class OnlineCalibrationTest {

    /** Records what it observes and when it is asked to size; calibrates by a fixed map. */
    private static final class Recording implements SizingCapability, OnlineCalibration {
        final List<ScoredOutcome> observed = new ArrayList<>();

        /** Per sizing call: the bar, and the last observed bar at that moment (or null). */
        final List<Instant[]> calls = new ArrayList<>();

        final Map<Instant, Double> fused = new HashMap<>();
        final boolean halve;

        Recording(boolean halve) {
            this.halve = halve;
        }

        @Override
        public CapabilityDescriptor descriptor() {
            return CapabilityDescriptor.of(halve ? "halving" : "identity", "1.0.0");
        }

        @Override
        public SizingDecision size(SizingContext context) {
            Instant bar = context.signal().barTime();
            fused.put(bar, context.signal().probabilityUp());
            calls.add(
                    new Instant[] {
                        bar, observed.isEmpty() ? null : observed.get(observed.size() - 1).barTime()
                    });
            return new SizingDecision(0, "records", Map.of());
        }

        int resets;

        @Override
        public void reset() {
            resets++;
            observed.clear();
        }

        @Override
        public void observe(ScoredOutcome outcome) {
            observed.add(outcome);
        }

        @Override
        public double calibrate(double p) {
            return halve ? 0.5 + (p - 0.5) / 2 : p;
        }
    }

    @Test
    void everyDecidedBarIsObservedOnceAtTheNextCloseWithItsOwnLabelAndScoredInTheReport() {
        BarData bars = BundledData.BTC_USD_4H.load().truncate(3_000);
        var identity = new Recording(false);
        var halving = new Recording(true);
        BacktestResult r =
                new WalkForwardBacktest(WalkForwardBacktest.Config.defaults())
                        // Every test bar decided: on a bar the input gate refuses, the policies
                        // are not asked, though its outcome is still observed (InputGateTest).
                        .withoutGate()
                        .withoutIntervals()
                        .withThreads(1)
                        .run(
                                FeaturePipeline.compute(bars),
                                List.of(
                                        TestCapabilities.momentum(20, 8),
                                        TestCapabilities.rsiReversion()),
                                new WeightedFusion(),
                                List.of(TestCapabilities.fixed(0.5), identity, halving),
                                new RiskGuard(),
                                Progress.NONE);
        // One engine stepped every test bar: reset once, when it was built.
        assertThat(identity.resets).isEqualTo(1);
        Map<Long, Integer> index = new HashMap<>();
        for (int i = 0; i < bars.size(); i++) {
            index.put(bars.startMillis[i], i);
        }
        // Each sizing call at bar t: the last outcome observed is that of bar t - 1 (never t).
        assertThat(identity.calls).hasSizeGreaterThan(1000);
        for (int k = 1; k < identity.calls.size(); k++) {
            Instant[] c = identity.calls.get(k);
            assertThat(c[1]).as("last observed before deciding %s", c[0]).isNotNull();
            assertThat(index.get(c[1].toEpochMilli()))
                    .as("last observed before deciding %s", c[0])
                    .isEqualTo(index.get(c[0].toEpochMilli()) - 1);
        }
        // Every decided bar but the last is observed once, with its own fused p and label.
        assertThat(identity.observed).hasSize(identity.calls.size() - 1);
        for (ScoredOutcome o : identity.observed) {
            int i = index.get(o.barTime().toEpochMilli());
            assertThat(o.up()).isEqualTo(bars.close[i + 1] > bars.close[i]);
            assertThat(o.probabilityUp()).isEqualTo(identity.fused.get(o.barTime()));
        }
        // The report: the identity calibration scores exactly as the fused signal, the halving one
        // with the same hit rate and a different Brier score.
        ForecastMetrics fused = r.forecasts().get("fused");
        ForecastMetrics same = r.forecasts().get("fused@identity");
        assertThat(List.of(same.logLoss(), same.brier(), same.ece(), same.hitRate()))
                .isEqualTo(List.of(fused.logLoss(), fused.brier(), fused.ece(), fused.hitRate()));
        assertThat(same.n()).isEqualTo(fused.n());
        ForecastMetrics halved = r.forecasts().get("fused@halving");
        assertThat(halved.n()).isEqualTo(fused.n());
        assertThat(halved.brier()).isNotEqualTo(fused.brier());
        assertThat(r.forecasts()).doesNotContainKey("fused@fixed");
        assertThat(r.training().get("fused@halving"))
                .contains("recalibrates it online")
                .contains("before each bar only");
    }
}
