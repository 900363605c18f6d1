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
import java.nio.file.Path;
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
 *
 * <p>Fitted state (api 1.3.0): an ensemble with {@link EnsembleCapability#hasFittedState()} is
 * fitted, exported, restored into a fresh instance, and both must fuse every probe ({@link
 * #stateProbes}) to equal signals, bit for bit; a truncated or missing state file must be refused
 * with {@code BAD_STATE} and leave the instance (fitted on the first 90% of the training window)
 * fusing as before. Those tests are skipped (JUnit assumption) for an ensemble without fitted
 * state, which must instead refuse to export.
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

    /**
     * The inputs the state round trip fuses: the three fixture sources' forecasts of every bar from
     * {@link #firstFrame()} on (200 real bars by default), then, on the last bar, every triple of
     * probabilities from {@code {0, 0.001, 0.2, 0.45, 0.5, 0.55, 0.8, 0.999, 1}} (729), each source
     * alone, two of three, and a source the ensemble was never fitted on.
     *
     * @param fx the fixture
     * @return pairs of (forecasts, frame of their bar), in a fixed order
     */
    default List<Map.Entry<List<Forecast>, FeatureFrame>> stateProbes(FixtureSeries fx) {
        var out = new ArrayList<Map.Entry<List<Forecast>, FeatureFrame>>();
        List<FeatureFrame> frames = StateFiles.frames(fx);
        for (int t = firstFrame(); t < fx.size(); t++) {
            out.add(Map.entry(forecasts(frames.get(t)), frames.get(t)));
        }
        FeatureFrame last = frames.get(fx.size() - 1);
        var time = last.bar().start();
        double[] grid = {0, 0.001, 0.2, 0.45, 0.5, 0.55, 0.8, 0.999, 1};
        for (double a : grid) {
            for (double b : grid) {
                for (double c : grid) {
                    out.add(
                            Map.entry(
                                    List.of(
                                            new Forecast("rsi", time, 1, a, Map.of()),
                                            new Forecast("trend", time, 1, b, Map.of()),
                                            new Forecast("band", time, 1, c, Map.of())),
                                    last));
                }
            }
        }
        List<Forecast> real = forecasts(last);
        for (Forecast f : real) {
            out.add(Map.entry(List.of(f), last));
        }
        out.add(Map.entry(List.of(real.get(0), real.get(2)), last));
        out.add(Map.entry(List.of(real.get(1), real.get(2)), last));
        out.add(
                Map.entry(
                        List.of(real.get(0), new Forecast("unseen", time, 1, 0.7, Map.of())),
                        last));
        return out;
    }

    private List<Object> fuseProbes(
            EnsembleCapability e, List<Map.Entry<List<Forecast>, FeatureFrame>> probes) {
        var out = new ArrayList<Object>(probes.size());
        for (var p : probes) {
            out.add(StateFiles.outcome(() -> e.fuse(p.getKey(), p.getValue())));
        }
        return out;
    }

    private static void assertSameOutcomes(
            List<Object> actual, List<Object> expected, String what) {
        assertThat(actual).as("%s: number of probes", what).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            assertThat(actual.get(i)).as("%s, probe %s", what, i).isEqualTo(expected.get(i));
        }
    }

    @Test
    default void aFittedStateRestoredIntoAFreshInstanceFusesBitForBitTheSame() {
        var fx = FixtureSeries.btcUsd4h();
        var probes = stateProbes(fx);
        Path dir = StateFiles.tempDir();
        try (EnsembleCapability fitted = fitted(fx);
                EnsembleCapability fresh = newEnsemble()) {
            if (withoutStateSaysSo(fitted)) {
                return;
            }
            assertThat(fresh.hasFittedState())
                    .as("hasFittedState() does not depend on fitting")
                    .isTrue();
            List<Object> expected = fuseProbes(fitted, probes);
            assertThat(fuseProbes(fresh, probes))
                    .as(
                            "fit on the kit's training window left the ensemble fusing every probe"
                                    + " as a fresh instance does, so a round trip would prove"
                                    + " nothing; override trainingWindow() or firstFrame()")
                    .isNotEqualTo(expected);
            List<Path> files = fitted.exportState(dir);
            StateFiles.checkExport(files, dir, fitted.descriptor());
            fresh.restoreState(dir);
            assertSameOutcomes(
                    fuseProbes(fresh, probes), expected, "restored instance vs the exported one");
            assertSameOutcomes(
                    fuseProbes(fitted, probes), expected, "exported instance after its export");
        } finally {
            StateFiles.delete(dir);
        }
    }

    @Test
    default void theUnfittedStateRoundTripsToo() {
        var fx = FixtureSeries.btcUsd4h();
        var probes = stateProbes(fx);
        Path dir = StateFiles.tempDir();
        try (EnsembleCapability unfitted = newEnsemble();
                EnsembleCapability target = fitted(fx)) {
            if (withoutStateSaysSo(unfitted)) {
                return;
            }
            List<Object> expected = fuseProbes(unfitted, probes);
            List<Path> files = unfitted.exportState(dir);
            StateFiles.checkExport(files, dir, unfitted.descriptor());
            target.restoreState(dir);
            assertSameOutcomes(
                    fuseProbes(target, probes),
                    expected,
                    "fitted instance after restoring an unfitted state");
        } finally {
            StateFiles.delete(dir);
        }
    }

    @Test
    default void aTruncatedOrMissingStateFileIsRefusedAndTheInstanceFusesAsBefore() {
        var fx = FixtureSeries.btcUsd4h();
        var probes = stateProbes(fx);
        Path dir = StateFiles.tempDir();
        Path empty = StateFiles.tempDir();
        try (EnsembleCapability fitted = fitted(fx);
                EnsembleCapability target = newEnsemble()) {
            if (withoutStateSaysSo(fitted)) {
                return;
            }
            List<Path> files = fitted.exportState(dir);
            // A state of its own (neither the exported one nor the unfitted one), so that a restore
            // that half-applies a damaged file, or resets before reading it, shows.
            List<LabeledForecasts> window = trainingWindow(fx);
            target.fit(window.subList(0, window.size() * 9 / 10));
            List<Object> before = fuseProbes(target, probes);
            for (int i = 0; i < files.size(); i++) {
                String name = files.get(i).getFileName().toString();
                Path damaged = StateFiles.copyWithTruncated(files, i);
                try {
                    assertThatThrownBy(() -> target.restoreState(damaged))
                            .as("restore with %s truncated", name)
                            .isInstanceOf(QuiverInputException.class)
                            .hasMessageContaining(name)
                            .extracting(t -> ((QuiverInputException) t).code())
                            .isEqualTo("BAD_STATE");
                } finally {
                    StateFiles.delete(damaged);
                }
                assertSameOutcomes(
                        fuseProbes(target, probes),
                        before,
                        "after a refused restore with " + name + " truncated");
            }
            assertThatThrownBy(() -> target.restoreState(empty))
                    .as("restore from a folder without the state file")
                    .isInstanceOf(QuiverInputException.class)
                    .hasMessageContaining(files.get(0).getFileName().toString())
                    .extracting(t -> ((QuiverInputException) t).code())
                    .isEqualTo("BAD_STATE");
            assertSameOutcomes(
                    fuseProbes(target, probes), before, "after a refused restore of nothing");
            target.restoreState(dir);
            assertSameOutcomes(
                    fuseProbes(target, probes),
                    fuseProbes(fitted, probes),
                    "after refused restores, a good one");
        } finally {
            StateFiles.delete(dir);
            StateFiles.delete(empty);
        }
    }

    @Test
    default void exportAndRestoreAfterCloseFailClearly() {
        Path dir = StateFiles.tempDir();
        try {
            EnsembleCapability e = newEnsemble();
            boolean stateful = e.hasFittedState();
            e.close();
            if (!stateful) {
                assertThatThrownBy(() -> e.exportState(dir))
                        .isInstanceOf(UnsupportedOperationException.class);
                return;
            }
            assertThatThrownBy(() -> e.exportState(dir))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(e.descriptor().name());
            assertThatThrownBy(() -> e.restoreState(dir))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(e.descriptor().name());
        } finally {
            StateFiles.delete(dir);
        }
    }

    @Test
    default void withoutFittedStateExportAndRestoreSaySo() {
        Path dir = StateFiles.tempDir();
        try (EnsembleCapability e = newEnsemble()) {
            if (!withoutStateSaysSo(e)) {
                // a learning capability exports its state, its state file first
                StateFiles.checkExport(e.exportState(dir), dir, e.descriptor());
            }
        } finally {
            StateFiles.delete(dir);
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

    /**
     * For a capability without fitted state, checks what it promises instead (export and restore
     * refuse with {@link UnsupportedOperationException} naming it) and answers true, so a state
     * test asserts that rather than being skipped; false for a capability with fitted state.
     */
    private static boolean withoutStateSaysSo(EnsembleCapability c) {
        if (c.hasFittedState()) {
            return false;
        }
        Path dir = StateFiles.tempDir();
        try {
            assertThatThrownBy(() -> c.exportState(dir))
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining(c.descriptor().name());
            assertThatThrownBy(() -> c.restoreState(dir))
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining(c.descriptor().name());
            return true;
        } finally {
            StateFiles.delete(dir);
        }
    }
}
