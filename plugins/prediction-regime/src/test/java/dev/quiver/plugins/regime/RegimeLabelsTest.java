package dev.quiver.plugins.regime;

import static dev.quiver.plugins.regime.Regime.HIGH_VOLATILITY;
import static dev.quiver.plugins.regime.Regime.RANGING;
import static dev.quiver.plugins.regime.Regime.TRENDING_DOWN;
import static dev.quiver.plugins.regime.Regime.TRENDING_UP;
import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.market.Bar;
import dev.quiver.api.prediction.Forecast;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * On a synthetic series whose regime is known bar by bar ({@link SyntheticSeries}), fitted on its
 * first half and asked about its second: the labels come out right, and the forecasts are
 * point-in-time (a leaky variant is caught by the same check).
 */
class RegimeLabelsTest {

    /** Fitted on the first 8 segments, labels checked on the last 8 (other draws, other order). */
    static final SyntheticSeries SERIES =
            new SyntheticSeries(
                    7,
                    TRENDING_UP,
                    RANGING,
                    TRENDING_DOWN,
                    HIGH_VOLATILITY,
                    RANGING,
                    HIGH_VOLATILITY,
                    TRENDING_UP,
                    TRENDING_DOWN,
                    HIGH_VOLATILITY,
                    TRENDING_DOWN,
                    RANGING,
                    TRENDING_UP,
                    TRENDING_DOWN,
                    TRENDING_UP,
                    HIGH_VOLATILITY,
                    RANGING);

    static final int TRAIN_LAST = 8 * SyntheticSeries.SEGMENT_BARS - 2;
    static final int TEST_FIRST = 8 * SyntheticSeries.SEGMENT_BARS;

    /**
     * Bars after a segment starts whose 20-bar window (and 14-bar ATR) still reach back into the
     * previous one.
     */
    static final int SETTLE_BARS = 25;

    private static RegimeClassifier fitted(RegimeInputs inputs, List<FeatureFrame> frames) {
        var c = new RegimeClassifier(null, 42, 20, inputs);
        c.fit(SERIES.labelled(frames, 19, TRAIN_LAST));
        return c;
    }

    @Test
    void theKnownRegimesComeOutRight() {
        List<FeatureFrame> frames = SERIES.frames(SERIES.size() - 1);
        Map<Regime, int[]> hits = new EnumMap<>(Regime.class);
        try (var c = fitted(RegimeInputs.POINT_IN_TIME, frames)) {
            for (int t = TEST_FIRST; t < SERIES.size(); t++) {
                if (t % SyntheticSeries.SEGMENT_BARS < SETTLE_BARS) {
                    continue;
                }
                Regime truth = SERIES.truth.get(t);
                Forecast f = c.forecast(frames.get(t));
                int[] h = hits.computeIfAbsent(truth, k -> new int[2]);
                h[0] += f.details().get("regime") == truth.ordinal() ? 1 : 0;
                h[1]++;
            }
        }
        int right = 0;
        int all = 0;
        for (var e : hits.entrySet()) {
            double share = (double) e.getValue()[0] / e.getValue()[1];
            System.out.printf(
                    "regime %s: %.1f%% of %d bars labelled right%n",
                    e.getKey().label(), 100 * share, e.getValue()[1]);
            // Chance is 25%; each regime must be recognised on most of its bars.
            assertThat(share)
                    .as("share of %s bars labelled right", e.getKey().label())
                    .isGreaterThan(0.75);
            right += e.getValue()[0];
            all += e.getValue()[1];
        }
        assertThat(hits).hasSize(4);
        assertThat((double) right / all).as("share of all bars labelled right").isGreaterThan(0.85);
    }

    @Test
    void pointInTimeTheClassifierPassesAndALeakyVariantIsCaught() {
        // The leaky variant reads the trend over a window centred on the bar: 10 bars after it,
        // going around the point-in-time view to the series behind it (what a cached full series
        // or a host bug would hand over).
        RegimeInputs centred =
                (frame, windowBars) -> {
                    double[] honest = RegimeInputs.POINT_IN_TIME.of(frame, windowBars);
                    var view = (SyntheticSeries.View) frame.history();
                    int t = view.size() - 1;
                    int ahead = Math.min(t + 10, view.all().size() - 1);
                    Bar now = view.all().get(t);
                    Bar later = view.all().get(ahead);
                    double future = Math.log(later.close() / now.close());
                    return new double[] {honest[0] + 10 * future, honest[1]};
                };
        assertThat(firstDifference(RegimeInputs.POINT_IN_TIME)).as("honest classifier").isEmpty();
        assertThat(firstDifference(centred)).as("leaky classifier").isNotEmpty();
    }

    /**
     * Forecasts each cut bar twice, from the whole series and from the series truncated after it,
     * with classifiers fitted alike; returns the cut bars whose forecasts differ.
     */
    private static List<Integer> firstDifference(RegimeInputs inputs) {
        List<FeatureFrame> full = SERIES.frames(SERIES.size() - 1);
        List<Integer> differ = new ArrayList<>();
        Supplier<RegimeClassifier> make = () -> fitted(inputs, full);
        try (var c = make.get()) {
            for (int cut = TEST_FIRST; cut < SERIES.size(); cut += 97) {
                List<FeatureFrame> truncated = SERIES.frames(cut);
                Forecast a = c.forecast(full.get(cut));
                Forecast b = c.forecast(truncated.get(cut));
                if (!a.equals(b)) {
                    differ.add(cut);
                }
            }
        }
        return differ;
    }
}
