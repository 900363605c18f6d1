package dev.quiver.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.LabeledForecasts;
import dev.quiver.api.ensemble.SourceContribution;
import dev.quiver.api.error.CapabilityException;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link EnsembleCapability} must meet, run on real bars ({@link
 * FixtureSeries}). Implement it in a test class and supply {@link #newEnsemble()}.
 *
 * <p>The forecasts fused are three deterministic sources computed from each bar's own features (so
 * they are point-in-time and carry real, weak signal): {@code rsi} = 1 - RSI(14)/100 (a
 * mean-reversion reading), {@code trend} = the logistic of 200 x the MACD histogram as a fraction
 * of price, {@code band} = 1 - Bollinger %b clipped to [0, 1]. Every fresh instance is first fitted
 * ({@link EnsembleCapability#fit}) on the labelled forecasts of fixture bars {@code [0,
 * firstFrame() - 2]} (label: the next bar closes higher), then asked about the bars from {@link
 * #firstFrame()} on, so no fused bar was in its training window.
 */
public interface EnsembleCapabilityContract {

    /**
     * A fresh instance of the capability under test.
     *
     * @return the capability
     */
    EnsembleCapability newEnsemble();

    /**
     * First fixture bar fused; bars {@code [0, firstFrame() - 2]} are the training window.
     *
     * @return a bar index, default 400 (of the fixture's 600)
     */
    default int firstFrame() {
        return 400;
    }

    /**
     * The three fixture sources' forecasts for one bar (see the class comment).
     *
     * @param frame the bar's features
     * @return forecasts of sources {@code rsi}, {@code trend}, {@code band}, in that order
     */
    static List<Forecast> forecasts(FeatureFrame frame) {
        double rsi = 1 - frame.get("rsi_14") / 100;
        double trend = 1 / (1 + Math.exp(-200 * frame.get("macd_hist_pct")));
        double band = 1 - Math.min(1, Math.max(0, frame.get("bb_percent_b_20_2")));
        var t = frame.bar().start();
        return List.of(
                new Forecast("rsi", t, 1, rsi, Map.of()),
                new Forecast("trend", t, 1, trend, Map.of()),
                new Forecast("band", t, 1, band, Map.of()));
    }

    /**
     * The labelled forecasts every fresh instance is fitted on: fixture bars {@code [0,
     * firstFrame() - 2]}, each labelled by whether the next bar closed higher.
     *
     * @param fx the fixture
     * @return the training window, in time order
     */
    default List<LabeledForecasts> trainingWindow(FixtureSeries fx) {
        var rows = new ArrayList<LabeledForecasts>();
        for (int t = 0; t <= firstFrame() - 2; t++) {
            FeatureFrame f = fx.frame(t);
            boolean up = fx.frame(t + 1).bar().close() > f.bar().close();
            rows.add(new LabeledForecasts(f.bar().start(), forecasts(f), up));
        }
        return rows;
    }

    private EnsembleCapability fitted(FixtureSeries fx) {
        EnsembleCapability e = newEnsemble();
        e.fit(trainingWindow(fx));
        return e;
    }

    private List<FusedSignal> run(EnsembleCapability e, FixtureSeries fx, int endExclusive) {
        var out = new ArrayList<FusedSignal>();
        for (int t = firstFrame(); t < endExclusive; t++) {
            out.add(e.fuse(forecasts(fx.frame(t)), fx.frame(t)));
        }
        return out;
    }

    @Test
    default void fusedSignalIsAFiniteProbabilityForTheBarWithOneContributionPerSource() {
        var fx = FixtureSeries.btcUsd4h();
        try (EnsembleCapability e = fitted(fx)) {
            for (int t = firstFrame(); t < fx.size(); t++) {
                FeatureFrame frame = fx.frame(t);
                FusedSignal s = e.fuse(forecasts(frame), frame);
                assertThat(s).as("bar %s", t).isNotNull();
                assertThat(s.barTime()).as("bar %s", t).isEqualTo(frame.bar().start());
                assertThat(s.probabilityUp()).as("bar %s", t).isFinite().isBetween(0.0, 1.0);
                assertThat(s.confidence()).as("bar %s", t).isFinite().isBetween(0.0, 1.0);
                assertThat(s.agreement()).as("bar %s", t).isFinite().isBetween(0.0, 1.0);
                assertThat(s.contributions())
                        .extracting(SourceContribution::source)
                        .as("bar %s", t)
                        .containsExactlyInAnyOrder("rsi", "trend", "band");
                for (SourceContribution c : s.contributions()) {
                    assertThat(c.weight()).as("weight of %s", c.source()).isFinite();
                }
            }
        }
    }

    @Test
    default void anUnfittedInstanceStillFuses() {
        var fx = FixtureSeries.btcUsd4h();
        try (EnsembleCapability e = newEnsemble()) {
            FeatureFrame frame = fx.frame(fx.size() - 1);
            assertThat(e.fuse(forecasts(frame), frame).probabilityUp()).isBetween(0.0, 1.0);
        }
    }

    @Test
    default void theOrderOfTheForecastsDoesNotMatter() {
        var fx = FixtureSeries.btcUsd4h();
        try (EnsembleCapability e = fitted(fx)) {
            for (int t = firstFrame(); t < fx.size(); t += 7) {
                FeatureFrame frame = fx.frame(t);
                List<Forecast> in = forecasts(frame);
                List<Forecast> reversed = new ArrayList<>(in);
                java.util.Collections.reverse(reversed);
                assertThat(e.fuse(reversed, frame).probabilityUp())
                        .as("bar %s", t)
                        .isCloseTo(
                                e.fuse(in, frame).probabilityUp(),
                                org.assertj.core.data.Offset.offset(1e-12));
            }
        }
    }

    @Test
    default void pointInTimeSameSignalWhetherTheSeriesEndsOrGoesOn() {
        var fx = FixtureSeries.btcUsd4h();
        List<FusedSignal> full;
        try (EnsembleCapability e = fitted(fx)) {
            full = run(e, fx, fx.size());
        }
        for (int cut :
                new int[] {firstFrame() + 1, (firstFrame() + fx.size()) / 2, fx.size() - 7}) {
            try (EnsembleCapability e = fitted(fx)) {
                List<FusedSignal> truncated = run(e, fx, cut + 1);
                assertThat(truncated)
                        .as("series ending at bar %s", cut)
                        .isEqualTo(full.subList(0, truncated.size()));
            }
        }
    }

    @Test
    default void deterministicForTheSameInput() {
        var fx = FixtureSeries.btcUsd4h();
        try (EnsembleCapability a = fitted(fx);
                EnsembleCapability b = fitted(fx)) {
            assertThat(run(a, fx, fx.size())).isEqualTo(run(b, fx, fx.size()));
        }
    }

    @Test
    default void noForecastsIsRejectedClearly() {
        var fx = FixtureSeries.btcUsd4h();
        try (EnsembleCapability e = fitted(fx)) {
            FeatureFrame frame = fx.frame(fx.size() - 1);
            assertThatThrownBy(() -> e.fuse(List.of(), frame))
                    .isInstanceOfAny(CapabilityException.class, QuiverInputException.class)
                    .hasMessageContaining(frame.bar().start().toString());
        }
    }

    @Test
    default void descriptorIsStableAndNamed() {
        try (EnsembleCapability e = newEnsemble()) {
            assertThat(e.descriptor()).isEqualTo(e.descriptor());
            assertThat(e.descriptor().name()).isNotBlank();
        }
    }

    @Test
    default void closeIsIdempotent() {
        EnsembleCapability e = newEnsemble();
        e.close();
        e.close();
    }
}
