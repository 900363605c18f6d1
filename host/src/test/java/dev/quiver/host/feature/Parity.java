package dev.quiver.host.feature;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.engine.market.BarData;
import dev.quiver.host.bench.Ta4jReference;
import dev.quiver.host.data.BundledData;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.Function;
import org.ta4j.core.BarSeries;
import org.ta4j.core.Indicator;
import org.ta4j.core.num.DoubleNum;
import org.ta4j.core.num.Num;

/** Shared fixtures for the ta4j parity tests: bundled series, loaded once, and the comparison. */
final class Parity {

    /** Largest allowed |ours - ta4j| on any bar (absolute, in the indicator's units). */
    static final double TOLERANCE = 1e-9;

    private static final Map<BundledData, BarData> BARS = new EnumMap<>(BundledData.class);
    private static final Map<BundledData, BarSeries> DOUBLE_SERIES =
            new EnumMap<>(BundledData.class);

    static synchronized BarData bars(BundledData data) {
        return BARS.computeIfAbsent(data, BundledData::load);
    }

    static synchronized BarSeries doubleSeries(BundledData data) {
        return DOUBLE_SERIES.computeIfAbsent(
                data, d -> Ta4jReference.toSeries(bars(d), DoubleNum::valueOf));
    }

    static BarSeries series(BundledData data, Function<Number, Num> numFactory) {
        return Ta4jReference.toSeries(bars(data), numFactory);
    }

    /**
     * Asserts ours equals ta4j within {@link #TOLERANCE} on every bar where ta4j's value is defined
     * (not NaN), reading ta4j serially from bar 0, and that ours is NaN exactly where ta4j's is.
     * Returns the number of bars compared.
     */
    static int assertEqualsTa4j(String what, double[] ours, Indicator<Num> reference) {
        return assertEqualsTa4j(what, ours, reference, TOLERANCE);
    }

    static int assertEqualsTa4j(
            String what, double[] ours, Indicator<Num> reference, double tolerance) {
        int n = reference.getBarSeries().getBarCount();
        assertThat(ours).as(what + " length").hasSize(n);
        int compared = 0;
        double worst = 0.0;
        int worstBar = -1;
        for (int i = 0; i < n; i++) {
            Num ref = reference.getValue(i);
            if (ref.isNaN()) {
                assertThat(ours[i]).as(what + " at bar " + i + " (ta4j: NaN)").isNaN();
                continue;
            }
            double diff = Math.abs(ours[i] - ref.doubleValue());
            if (!(diff <= worst)) {
                worst = diff;
                worstBar = i;
            }
            compared++;
        }
        assertThat(worst)
                .as(
                        "%s: largest |ours - ta4j| over %d bars, at bar %d (ours %s, ta4j %s)",
                        what,
                        compared,
                        worstBar,
                        worstBar < 0 ? "-" : ours[worstBar],
                        worstBar < 0 ? "-" : reference.getValue(worstBar))
                .isLessThanOrEqualTo(tolerance);
        return compared;
    }

    private Parity() {}
}
