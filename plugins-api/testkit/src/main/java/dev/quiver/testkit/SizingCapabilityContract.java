package dev.quiver.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.SourceContribution;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.api.sizing.SizingOutcome;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link SizingCapability} must meet. Implement it in a test class and supply
 * {@link #newSizing()}; the tests come with it (JUnit test-interface style).
 *
 * <pre>{@code
 * class MySizerContractTest implements SizingCapabilityContract {
 *     public SizingCapability newSizing() { return new MySizer(0.25); }
 * }
 * }</pre>
 *
 * <p>Fitted state (api 1.3.0): a policy with {@link SizingCapability#hasFittedState()} is fitted on
 * {@link #trainingOutcomes} (real fixture bars), exported, restored into a fresh instance, and both
 * must size every probe ({@link #stateProbes}) to equal decisions, bit for bit; a truncated or
 * missing state file must be refused with {@code BAD_STATE} and leave the instance (fitted on the
 * first 90% of the training outcomes) sizing as before. Those tests are skipped (JUnit assumption)
 * for a policy without fitted state, which must instead refuse to export.
 */
public interface SizingCapabilityContract {

    /**
     * A fresh instance of the capability under test.
     *
     * @return the capability
     */
    SizingCapability newSizing();

    /** Probabilities, payoff ratios and caps the grid tests walk through. */
    double[] PROBABILITIES = {0, 1e-9, 0.1, 0.3, 0.45, 0.5, 0.5000001, 0.55, 0.6, 0.75, 0.9, 1};

    /** Payoff ratios b of the grid. */
    double[] PAYOFF_RATIOS = {1e-6, 0.1, 0.5, 1, 1.5, 2, 10, 1e6};

    /** Host caps of the grid, fractions of equity. */
    double[] CAPS = {1e-4, 0.05, 0.25, 0.5, 1};

    @Test
    default void decisionIsFiniteNonNegativeAndNeverAboveTheCap() {
        try (SizingCapability sizing = newSizing()) {
            for (double p : PROBABILITIES) {
                for (double b : PAYOFF_RATIOS) {
                    for (double cap : CAPS) {
                        SizingDecision d = sizing.size(Fixtures.sizing(p, b, cap));
                        assertThat(d).as("p=%s b=%s cap=%s", p, b, cap).isNotNull();
                        assertThat(d.fraction())
                                .as("fraction for p=%s b=%s cap=%s (%s)", p, b, cap, d.reason())
                                .isFinite()
                                .isBetween(0.0, cap);
                        assertThat(d.reason()).isNotBlank();
                    }
                }
            }
        }
    }

    @Test
    default void noEdgeGivesZero() {
        // p <= 0.5 with b <= 1 has a non-positive edge p*b - (1 - p) under every definition.
        try (SizingCapability sizing = newSizing()) {
            for (double p : new double[] {0, 0.2, 0.4, 0.5}) {
                for (double b : new double[] {0.5, 1}) {
                    assertThat(sizing.size(Fixtures.sizing(p, b, 1)).fraction())
                            .as("p=%s b=%s", p, b)
                            .isZero();
                }
            }
        }
    }

    @Test
    default void deterministicForTheSameContext() {
        try (SizingCapability a = newSizing();
                SizingCapability b = newSizing()) {
            for (double p : PROBABILITIES) {
                var ctx = Fixtures.sizing(p, 1.2, 0.8);
                assertThat(a.size(ctx)).isEqualTo(a.size(ctx)).isEqualTo(b.size(ctx));
            }
        }
    }

    /**
     * First fixture bar sized in the state tests; the training outcomes end before it.
     *
     * @return a bar index, default 400 (of the fixture's 600)
     */
    default int firstProbeBar() {
        return 400;
    }

    /**
     * The sizing context of fixture bar {@code t}, built from that bar and the bars before it only:
     * the fused signal is the mean of the three fixture sources of {@link
     * EnsembleCapabilityContract#forecasts} (confidence {@code |2p - 1|}, agreement the share of
     * sources on its side, equal weights), equity 10,000, drawdown of the close from its running
     * maximum, cap 1, volatility the bar's {@code atr_pct_14}, payoff ratio the mean gain over the
     * mean loss of the last 50 close-to-close returns (1 when either is missing).
     *
     * @param frames every fixture frame, oldest first
     * @param t bar index, {@code >= 1}
     * @return the context
     */
    static SizingContext context(List<FeatureFrame> frames, int t) {
        FeatureFrame frame = frames.get(t);
        List<Forecast> forecasts = EnsembleCapabilityContract.forecasts(frame);
        double p = 0;
        for (Forecast f : forecasts) {
            p += f.probabilityUp() / forecasts.size();
        }
        double agree = 0;
        var contributions = new ArrayList<SourceContribution>();
        for (Forecast f : forecasts) {
            if ((f.probabilityUp() >= 0.5) == (p >= 0.5)) {
                agree += 1.0 / forecasts.size();
            }
            contributions.add(
                    new SourceContribution(f.source(), f.probabilityUp(), 1.0 / forecasts.size()));
        }
        double peak = 0;
        for (int i = 0; i <= t; i++) {
            peak = Math.max(peak, frames.get(i).bar().close());
        }
        double gain = 0;
        double loss = 0;
        int gains = 0;
        int losses = 0;
        for (int i = Math.max(1, t - 49); i <= t; i++) {
            double r = frames.get(i).bar().close() / frames.get(i - 1).bar().close() - 1;
            if (r > 0) {
                gain += r;
                gains++;
            } else if (r < 0) {
                loss -= r;
                losses++;
            }
        }
        double b = gains == 0 || losses == 0 ? 1 : (gain / gains) / (loss / losses);
        var signal =
                new FusedSignal(
                        frame.bar().start(),
                        p,
                        Math.abs(2 * p - 1),
                        Math.min(1, agree),
                        contributions);
        return new SizingContext(
                signal,
                10_000,
                Math.min(0.99, 1 - frame.bar().close() / peak),
                1,
                frame.get("atr_pct_14"),
                b);
    }

    /**
     * The outcomes every policy is fitted on in the state tests: the {@link #context} of fixture
     * bars {@code [50, firstProbeBar() - 3]} (348 by default), each with the return from the next
     * bar's open to the open after it.
     *
     * @param fx the fixture
     * @return outcomes in time order
     */
    default List<SizingOutcome> trainingOutcomes(FixtureSeries fx) {
        List<FeatureFrame> frames = StateFiles.frames(fx);
        var out = new ArrayList<SizingOutcome>();
        for (int t = 50; t <= firstProbeBar() - 3; t++) {
            double r = frames.get(t + 2).bar().open() / frames.get(t + 1).bar().open() - 1;
            out.add(new SizingOutcome(context(frames, t), r));
        }
        return out;
    }

    /**
     * The contexts the state round trip sizes: the {@link #context} of every fixture bar from
     * {@link #firstProbeBar()} on (200 by default), then the grid of {@link #PROBABILITIES}, {@link
     * #PAYOFF_RATIOS} and {@link #CAPS} (480).
     *
     * @param fx the fixture
     * @return the contexts, in a fixed order
     */
    default List<SizingContext> stateProbes(FixtureSeries fx) {
        List<FeatureFrame> frames = StateFiles.frames(fx);
        var out = new ArrayList<SizingContext>();
        for (int t = firstProbeBar(); t < fx.size(); t++) {
            out.add(context(frames, t));
        }
        for (double p : PROBABILITIES) {
            for (double b : PAYOFF_RATIOS) {
                for (double cap : CAPS) {
                    out.add(Fixtures.sizing(p, b, cap));
                }
            }
        }
        return out;
    }

    private SizingCapability fitted(FixtureSeries fx) {
        SizingCapability s = newSizing();
        s.fit(trainingOutcomes(fx));
        return s;
    }

    private static List<Object> sizeProbes(SizingCapability s, List<SizingContext> probes) {
        var out = new ArrayList<Object>(probes.size());
        for (SizingContext c : probes) {
            out.add(StateFiles.outcome(() -> s.size(c)));
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
    default void aFittedStateRestoredIntoAFreshInstanceSizesBitForBitTheSame() {
        var fx = FixtureSeries.btcUsd4h();
        var probes = stateProbes(fx);
        Path dir = StateFiles.tempDir();
        try (SizingCapability fitted = fitted(fx);
                SizingCapability fresh = newSizing()) {
            if (withoutStateSaysSo(fitted)) {
                return;
            }
            assertThat(fresh.hasFittedState())
                    .as("hasFittedState() does not depend on fitting")
                    .isTrue();
            List<Object> expected = sizeProbes(fitted, probes);
            assertThat(sizeProbes(fresh, probes))
                    .as(
                            "fit on the kit's training outcomes left the policy sizing every probe"
                                    + " as a fresh instance does, so a round trip would prove"
                                    + " nothing; override trainingOutcomes() or firstProbeBar()")
                    .isNotEqualTo(expected);
            List<Path> files = fitted.exportState(dir);
            StateFiles.checkExport(files, dir, fitted.descriptor());
            fresh.restoreState(dir);
            assertSameOutcomes(
                    sizeProbes(fresh, probes), expected, "restored instance vs the exported one");
            assertSameOutcomes(
                    sizeProbes(fitted, probes), expected, "exported instance after its export");
        } finally {
            StateFiles.delete(dir);
        }
    }

    @Test
    default void theUnfittedStateRoundTripsToo() {
        var fx = FixtureSeries.btcUsd4h();
        var probes = stateProbes(fx);
        Path dir = StateFiles.tempDir();
        try (SizingCapability unfitted = newSizing();
                SizingCapability target = fitted(fx)) {
            if (withoutStateSaysSo(unfitted)) {
                return;
            }
            List<Object> expected = sizeProbes(unfitted, probes);
            List<Path> files = unfitted.exportState(dir);
            StateFiles.checkExport(files, dir, unfitted.descriptor());
            target.restoreState(dir);
            assertSameOutcomes(
                    sizeProbes(target, probes),
                    expected,
                    "fitted instance after restoring an unfitted state");
        } finally {
            StateFiles.delete(dir);
        }
    }

    @Test
    default void aTruncatedOrMissingStateFileIsRefusedAndTheInstanceSizesAsBefore() {
        var fx = FixtureSeries.btcUsd4h();
        var probes = stateProbes(fx);
        Path dir = StateFiles.tempDir();
        Path empty = StateFiles.tempDir();
        try (SizingCapability fitted = fitted(fx);
                SizingCapability target = newSizing()) {
            if (withoutStateSaysSo(fitted)) {
                return;
            }
            List<Path> files = fitted.exportState(dir);
            // A state of its own (neither the exported one nor the unfitted one), so that a restore
            // that half-applies a damaged file, or resets before reading it, shows.
            List<SizingOutcome> outcomes = trainingOutcomes(fx);
            target.fit(outcomes.subList(0, outcomes.size() * 9 / 10));
            List<Object> before = sizeProbes(target, probes);
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
                        sizeProbes(target, probes),
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
                    sizeProbes(target, probes), before, "after a refused restore of nothing");
            target.restoreState(dir);
            assertSameOutcomes(
                    sizeProbes(target, probes),
                    sizeProbes(fitted, probes),
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
            SizingCapability s = newSizing();
            boolean stateful = s.hasFittedState();
            s.close();
            if (!stateful) {
                assertThatThrownBy(() -> s.exportState(dir))
                        .isInstanceOf(UnsupportedOperationException.class);
                return;
            }
            assertThatThrownBy(() -> s.exportState(dir))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(s.descriptor().name());
            assertThatThrownBy(() -> s.restoreState(dir))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(s.descriptor().name());
        } finally {
            StateFiles.delete(dir);
        }
    }

    @Test
    default void withoutFittedStateExportAndRestoreSaySo() {
        Path dir = StateFiles.tempDir();
        try (SizingCapability s = newSizing()) {
            if (!withoutStateSaysSo(s)) {
                // a learning capability exports its state, its state file first
                StateFiles.checkExport(s.exportState(dir), dir, s.descriptor());
            }
        } finally {
            StateFiles.delete(dir);
        }
    }

    @Test
    default void descriptorIsStableAndNamed() {
        try (SizingCapability sizing = newSizing()) {
            assertThat(sizing.descriptor()).isEqualTo(sizing.descriptor());
            assertThat(sizing.descriptor().name()).isNotBlank();
        }
    }

    @Test
    default void closeIsIdempotent() {
        SizingCapability sizing = newSizing();
        sizing.close();
        sizing.close();
    }

    /**
     * For a capability without fitted state, checks what it promises instead (export and restore
     * refuse with {@link UnsupportedOperationException} naming it) and answers true, so a state
     * test asserts that rather than being skipped; false for a capability with fitted state.
     */
    private static boolean withoutStateSaysSo(SizingCapability c) {
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
