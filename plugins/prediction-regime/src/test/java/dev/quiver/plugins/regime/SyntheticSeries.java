package dev.quiver.plugins.regime;

import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.api.feature.LabeledFrame;
import dev.quiver.api.market.Bar;
import dev.quiver.api.market.BarSeries;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A synthetic 4-hour series whose regime is known bar by bar: segments of {@link #SEGMENT_BARS}
 * bars, each drawn as one regime (log returns: trending-up N(+0.005, 0.01), trending-down N(-0.005,
 * 0.01), ranging an AR(1) around a level, N(0, 0.01) shocks pulled back 30% a bar, high-volatility
 * N(0, 0.04)), with the two features the classifier reads computed point-in-time ({@code
 * log_return_1}, {@code atr_pct_14}: the 14-bar mean true range over the close).
 */
final class SyntheticSeries {

    static final int SEGMENT_BARS = 300;
    static final FeatureSchema SCHEMA =
            new FeatureSchema("synthetic", "1", List.of("log_return_1", "atr_pct_14"));

    final List<Bar> bars = new ArrayList<>();
    final List<Regime> truth = new ArrayList<>();
    final List<double[]> features = new ArrayList<>();

    /** Segments in the given order, drawn with {@code seed}. */
    SyntheticSeries(long seed, Regime... segments) {
        Random rnd = new Random(seed);
        double close = 100;
        double level = Math.log(close);
        Instant t = Instant.parse("2020-01-01T00:00:00Z");
        double[] trueRange = new double[14];
        int count = 0;
        for (Regime regime : segments) {
            level = Math.log(close);
            for (int i = 0; i < SEGMENT_BARS; i++) {
                double r =
                        switch (regime) {
                            case TRENDING_UP -> 0.005 + 0.01 * rnd.nextGaussian();
                            case TRENDING_DOWN -> -0.005 + 0.01 * rnd.nextGaussian();
                            case RANGING ->
                                    -0.3 * (Math.log(close) - level) + 0.01 * rnd.nextGaussian();
                            case HIGH_VOLATILITY -> 0.04 * rnd.nextGaussian();
                        };
                double sigma = regime == Regime.HIGH_VOLATILITY ? 0.04 : 0.01;
                double open = close;
                double next = close * Math.exp(r);
                double high =
                        Math.max(open, next) * Math.exp(Math.abs(0.3 * sigma * rnd.nextGaussian()));
                double low =
                        Math.min(open, next)
                                * Math.exp(-Math.abs(0.3 * sigma * rnd.nextGaussian()));
                bars.add(new Bar(t, open, high, low, next, 1000));
                truth.add(regime);
                trueRange[count % 14] = Math.max(high, close) - Math.min(low, close);
                count++;
                double atr = 0;
                int m = Math.min(count, 14);
                for (int k = 0; k < m; k++) {
                    atr += trueRange[k];
                }
                features.add(new double[] {r, atr / m / next});
                close = next;
                t = t.plus(Duration.ofHours(4));
            }
        }
    }

    int size() {
        return bars.size();
    }

    /**
     * The frames of the series truncated after bar {@code last}: frame {@code t}'s history is a
     * {@link View} of those bars ending at {@code t}.
     */
    List<FeatureFrame> frames(int last) {
        List<Bar> visible = List.copyOf(bars.subList(0, last + 1));
        List<FeatureFrame> out = new ArrayList<>(last + 1);
        FeatureFrame previous = null;
        for (int i = 0; i <= last; i++) {
            previous =
                    new FeatureFrame(SCHEMA, new View(visible, i + 1), features.get(i), previous);
            out.add(previous);
        }
        return out;
    }

    /** Rows {@code [first, last]} labelled with the next bar's log return. */
    List<LabeledFrame> labelled(List<FeatureFrame> frames, int first, int last) {
        List<LabeledFrame> rows = new ArrayList<>();
        for (int i = first; i <= last; i++) {
            rows.add(
                    new LabeledFrame(
                            frames.get(i),
                            1,
                            Math.log(bars.get(i + 1).close() / bars.get(i).close())));
        }
        return rows;
    }

    /**
     * A point-in-time view of the first {@code size} bars of {@code all}. {@code all} is what the
     * series held when the view was made: a leaky test variant reads it to go around the view.
     */
    record View(List<Bar> all, int size) implements BarSeries {
        @Override
        public String symbol() {
            return "SYNTH";
        }

        @Override
        public Duration period() {
            return Duration.ofHours(4);
        }

        @Override
        public Bar get(int index) {
            if (index < 0 || index >= size) {
                throw new IndexOutOfBoundsException(
                        "bar " + index + " outside the point-in-time view [0, " + size + ")");
            }
            return all.get(index);
        }
    }
}
