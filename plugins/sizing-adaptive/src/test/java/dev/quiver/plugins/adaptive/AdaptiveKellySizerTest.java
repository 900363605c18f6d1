package dev.quiver.plugins.adaptive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.sizing.ScoredOutcome;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.testkit.FixtureSeries;
import dev.quiver.testkit.Fixtures;
import dev.quiver.testkit.SizingCapabilityContract;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@code kelly_ts}: the test kit's sizing contracts; temperature scaling recovers a known
 * temperature; abstention below the adaptive minimum and not above; point-in-time against a leaky
 * feed built here; determinism.
 */
class AdaptiveKellySizerTest implements SizingCapabilityContract {

    @Override
    public SizingCapability newSizing() {
        return new AdaptiveKellySizer(AdaptiveKellySizer.DEFAULT_WINDOW, 0.25, 1.0);
    }

    /**
     * Synthetic miscalibrated forecasts: the true probability is {@code sigmoid(z)}, {@code z ~
     * N(0, 1.5^2)}, the outcome is drawn from it, and the forecaster reports {@code sigmoid(t0 *
     * z)}: over-confident for {@code t0 > 1}. Temperature scaling must find {@code T = t0}.
     */
    private static List<ScoredOutcome> miscalibrated(double t0, int n, long seed) {
        Random rnd = new Random(seed);
        Instant t = Instant.parse("2021-01-01T00:00:00Z");
        var out = new ArrayList<ScoredOutcome>(n);
        for (int i = 0; i < n; i++) {
            double z = 1.5 * rnd.nextGaussian();
            boolean up = rnd.nextDouble() < TemperatureScaling.sigmoid(z);
            out.add(
                    new ScoredOutcome(
                            t.plus(Duration.ofHours(4L * i)),
                            TemperatureScaling.sigmoid(t0 * z),
                            up));
        }
        return out;
    }

    private static double fittedTemperature(List<ScoredOutcome> outcomes) {
        int n = outcomes.size();
        double[] z = new double[n];
        boolean[] up = new boolean[n];
        for (int i = 0; i < n; i++) {
            z[i] = TemperatureScaling.logit(outcomes.get(i).probabilityUp());
            up[i] = outcomes.get(i).up();
        }
        return 1 / TemperatureScaling.fitBeta(z, up, n, 1.0);
    }

    @Test
    void temperatureScalingRecoversAKnownTemperature() {
        for (double t0 : new double[] {0.5, 1.0, 2.0, 3.0}) {
            double t = fittedTemperature(miscalibrated(t0, 40_000, 11));
            System.out.printf("temperature scaling: true T %.2f, fitted %.4f%n", t0, t);
            assertThat(t).as("fitted T for true T %s", t0).isCloseTo(t0, within(0.05 * t0));
        }
        // The live calibrator on its window sees the same: over-confident data, T well above 1.
        var sizer = new AdaptiveKellySizer(2000, 0.25, 1.0);
        miscalibrated(2.0, 2000, 5).forEach(sizer::observe);
        assertThat(sizer.temperature()).isCloseTo(2.0, within(0.3));
        // The scaled probabilities are calibrated: of p' = sigmoid(logit(p) / T), on fresh data.
        var fresh = miscalibrated(2.0, 40_000, 99);
        double sumP = 0;
        int ups = 0;
        for (ScoredOutcome o : fresh) {
            double q = sizer.calibrate(o.probabilityUp());
            if (q > 0.7) {
                sumP += q;
                ups += o.up() ? 1 : 0;
            }
        }
        double rawOver = 0;
        int rawN = 0;
        for (ScoredOutcome o : fresh) {
            if (o.probabilityUp() > 0.7) {
                rawOver += o.probabilityUp() - (o.up() ? 1 : 0);
                rawN++;
            }
        }
        assertThat(rawOver / rawN).as("raw over-confidence above 0.7").isGreaterThan(0.05);
        double count = fresh.stream().filter(o -> sizer.calibrate(o.probabilityUp()) > 0.7).count();
        assertThat(sumP / count - ups / count)
                .as("calibrated over-confidence above 0.7")
                .isCloseTo(0.0, within(0.02));
    }

    @Test
    void abstainsBelowTheAdaptiveMinimumAndNotAbove() {
        var sizer = new AdaptiveKellySizer(100, 0.25, 1.0);
        List<ScoredOutcome> outcomes = miscalibrated(2.0, 100, 3);
        for (int i = 0; i < 99; i++) {
            sizer.observe(outcomes.get(i));
        }
        // Not yet 100 outcomes: flat whatever the signal.
        SizingDecision early = sizer.size(Fixtures.sizing(0.99, 1.0, 1.0));
        assertThat(early.fraction()).isZero();
        assertThat(early.reason()).startsWith("calibrating");
        sizer.observe(outcomes.get(99));

        double t = sizer.temperature();
        double m = sizer.minConfidence();
        System.out.printf("after 100 outcomes: T %.4f, minimum confidence %.4f%n", t, m);
        assertThat(t).isGreaterThan(1.0);
        assertThat(m).isBetween(0.01, 0.8);
        // Raw probabilities whose calibrated confidence |2p' - 1| is just below / above m.
        for (double factor : new double[] {0.5, 0.95, 0.999}) {
            double q = 0.5 + factor * m / 2;
            SizingDecision d = sizer.size(Fixtures.sizing(raw(q, t), 1.0, 1.0));
            assertThat(d.fraction()).as("confidence %.4f below %.4f", 2 * q - 1, m).isZero();
            assertThat(d.reason()).startsWith("abstain");
            assertThat(d.inputs().get("p_calibrated")).isCloseTo(q, within(1e-9));
            assertThat(d.inputs().get("min_confidence")).isEqualTo(m);
        }
        for (double factor : new double[] {1.001, 1.05, 1.5}) {
            double q = 0.5 + Math.min(0.49, factor * m / 2);
            SizingDecision d = sizer.size(Fixtures.sizing(raw(q, t), 1.0, 1.0));
            assertThat(d.reason())
                    .as("confidence %.4f above %.4f", 2 * q - 1, m)
                    .startsWith("fractional Kelly");
            // b = 1: quarter-Kelly 0.25 (2q - 1) on the calibrated probability.
            assertThat(d.fraction()).isCloseTo(0.25 * (2 * q - 1), within(1e-9));
        }
        // Above the minimum but on the down side: long only, no edge.
        double down = 0.5 - Math.min(0.49, m);
        SizingDecision d = sizer.size(Fixtures.sizing(raw(down, t), 1.0, 1.0));
        assertThat(d.fraction()).isZero();
        assertThat(d.reason()).startsWith("no edge");
    }

    /** The raw probability whose calibrated value is {@code q}: {@code sigmoid(T * logit(q))}. */
    private static double raw(double q, double t) {
        return TemperatureScaling.sigmoid(t * Math.log(q / (1 - q)));
    }

    /**
     * The engine's protocol on the fixture's real bars: before deciding bar t the policy observes
     * the outcome of bar t - 1 (its fused probability, close[t] > close[t - 1]); {@code leaky}
     * hands it the outcome of bar t itself (close[t + 1] > close[t]) when the series has a next
     * bar. Decisions up to bar {@code end} are returned.
     */
    private static List<SizingDecision> replay(
            SizingCapability policy, List<FeatureFrame> frames, int end, boolean leaky) {
        var out = new ArrayList<SizingDecision>();
        var observer = (AdaptiveKellySizer) policy;
        for (int t = 51; t <= end; t++) {
            int scored = leaky ? t : t - 1;
            if (scored >= 50 && scored + 1 <= end) {
                SizingContext c = SizingCapabilityContract.context(frames, scored);
                boolean up =
                        frames.get(scored + 1).bar().close() > frames.get(scored).bar().close();
                observer.observe(
                        new ScoredOutcome(c.signal().barTime(), c.signal().probabilityUp(), up));
            }
            out.add(policy.size(SizingCapabilityContract.context(frames, t)));
        }
        return out;
    }

    /** Whether the decisions up to each cut are the same when the series ends at the cut. */
    private static boolean sameWhetherTheSeriesEndsOrGoesOn(boolean leaky) {
        var fx = FixtureSeries.btcUsd4h();
        var frames = new ArrayList<FeatureFrame>();
        for (int t = 0; t < fx.size(); t++) {
            frames.add(fx.frame(t));
        }
        var full = replay(new AdaptiveKellySizer(100, 0.25, 1.0), frames, fx.size() - 1, leaky);
        for (int cut : new int[] {200, 333, 480, fx.size() - 2}) {
            var truncated = replay(new AdaptiveKellySizer(100, 0.25, 1.0), frames, cut, leaky);
            if (!truncated.equals(full.subList(0, truncated.size()))) {
                return false;
            }
        }
        return true;
    }

    @Test
    void pointInTimeAndALeakyFeedIsCaught() {
        assertThat(sameWhetherTheSeriesEndsOrGoesOn(false))
                .as("observing outcome t - 1 before deciding bar t")
                .isTrue();
        assertThat(sameWhetherTheSeriesEndsOrGoesOn(true))
                .as("a leaky feed that hands over bar t's own outcome")
                .isFalse();
    }

    @Test
    void deterministicForTheSameOutcomes() {
        var a = new AdaptiveKellySizer(100, 0.25, 1.0);
        var b = new AdaptiveKellySizer(100, 0.25, 1.0);
        List<ScoredOutcome> outcomes = miscalibrated(1.7, 400, 21);
        var da = new ArrayList<SizingDecision>();
        var db = new ArrayList<SizingDecision>();
        for (ScoredOutcome o : outcomes) {
            a.observe(o);
            b.observe(o);
            da.add(a.size(Fixtures.sizing(o.probabilityUp(), 1.1, 1.0)));
            db.add(b.size(Fixtures.sizing(o.probabilityUp(), 1.1, 1.0)));
        }
        assertThat(da).isEqualTo(db);
        assertThat(a.temperature()).isEqualTo(b.temperature());
        assertThat(da).anyMatch(d -> d.fraction() > 0);
        assertThat(da).anyMatch(d -> d.reason().startsWith("abstain"));
    }

    @Test
    void resetForgetsTheWindowAndAReplayDecidesAsTheFirstRun() {
        var sizer = new AdaptiveKellySizer(100, 0.25, 1.0);
        List<ScoredOutcome> outcomes = miscalibrated(1.7, 150, 8);
        var first = new ArrayList<SizingDecision>();
        for (ScoredOutcome o : outcomes) {
            sizer.observe(o);
            first.add(sizer.size(Fixtures.sizing(o.probabilityUp(), 1.1, 1.0)));
        }
        assertThat(sizer.size(Fixtures.sizing(0.9, 1.1, 1.0)).reason()).doesNotStartWith("calib");
        sizer.reset();
        assertThat(sizer.temperature()).isEqualTo(1.0);
        assertThat(sizer.size(Fixtures.sizing(0.9, 1.1, 1.0)).reason()).startsWith("calibrating");
        var again = new ArrayList<SizingDecision>();
        for (ScoredOutcome o : outcomes) {
            sizer.observe(o); // the same bars again: accepted after the reset
            again.add(sizer.size(Fixtures.sizing(o.probabilityUp(), 1.1, 1.0)));
        }
        assertThat(again).isEqualTo(first);
    }

    @Test
    void outcomesOutOfOrderAndBadConfigurationAreRefusedByName() {
        var sizer = new AdaptiveKellySizer(100, 0.25, 1.0);
        Instant t = Instant.parse("2021-01-01T00:00:00Z");
        sizer.observe(new ScoredOutcome(t, 0.6, true));
        assertThatThrownBy(() -> sizer.observe(new ScoredOutcome(t, 0.6, true)))
                .hasMessageContaining("outcome of bar 2021-01-01T00:00:00Z is not after");
        assertThatThrownBy(() -> new ScoredOutcome(t, 1.5, true))
                .isInstanceOf(QuiverInputException.class)
                .hasMessageContaining("probabilityUp");
        assertThatThrownBy(() -> new AdaptiveKellySizer(5, 0.25, 1.0))
                .isInstanceOf(QuiverInputException.class)
                .hasMessageContaining("sizing-adaptive.window");
        assertThatThrownBy(() -> new AdaptiveKellySizer(100, 0, 1.0))
                .hasMessageContaining("sizing-adaptive.multiplier");
    }
}
