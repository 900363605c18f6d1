package dev.quiver.plugins.selector;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.LabeledForecasts;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.api.market.Bar;
import dev.quiver.api.market.BarSeries;
import dev.quiver.api.prediction.Forecast;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Point-in-time: each cut bar's fused signal is the same whether the series ends at the cut or goes
 * on (ensembles fitted alike on rows before the test span). The selector passes; a leaky variant
 * that reads the next bar's close around the point-in-time view (standing for any route around it:
 * a cached full series, a host bug) is caught by the same check.
 */
class SelectorPointInTimeTest {

    static final int N = 1200;
    static final int TEST_FIRST = 800;
    static final FeatureSchema SCHEMA = new FeatureSchema("synthetic", "1", List.of("x"));
    static final List<Bar> BARS = new ArrayList<>();

    static {
        Random rnd = new Random(11);
        double close = 100;
        Instant t = Instant.parse("2021-01-01T00:00:00Z");
        for (int i = 0; i < N; i++) {
            double next = close * Math.exp(0.01 * rnd.nextGaussian());
            BARS.add(new Bar(t, close, Math.max(close, next), Math.min(close, next), next, 1));
            close = next;
            t = t.plus(Duration.ofHours(4));
        }
    }

    /** A view of the first {@code size} bars of {@code all} (what the series held). */
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
                throw new IndexOutOfBoundsException("bar " + index + " outside the view");
            }
            return all.get(index);
        }
    }

    static FeatureFrame frame(List<Bar> all, int t) {
        return new FeatureFrame(SCHEMA, new View(all, t + 1), new double[] {t});
    }

    /** Three sources and a regime, from bar t and the bars before it only. */
    static List<Forecast> forecasts(List<Bar> all, int t) {
        Instant time = all.get(t).start();
        double r = Math.log(all.get(t).close() / all.get(Math.max(0, t - 1)).close());
        double mom = 1 / (1 + Math.exp(-20 * r));
        return List.of(
                new Forecast("momentum", time, 1, mom, Map.of()),
                new Forecast("reversal", time, 1, 1 - mom, Map.of()),
                new Forecast("coin", time, 1, 0.5, Map.of()),
                new Forecast("regime", time, 1, 0.5, Map.of("regime", (double) (t / 50 % 4))));
    }

    static List<LabeledForecasts> training() {
        var rows = new ArrayList<LabeledForecasts>();
        for (int t = 1; t < TEST_FIRST - 1; t++) {
            rows.add(
                    new LabeledForecasts(
                            BARS.get(t).start(),
                            forecasts(BARS, t),
                            BARS.get(t + 1).close() > BARS.get(t).close()));
        }
        return rows;
    }

    /** Cut bars whose fused signal differs between the whole series and the series cut there. */
    static List<Integer> differences(Supplier<EnsembleCapability> make) {
        List<Integer> differ = new ArrayList<>();
        try (EnsembleCapability e = make.get()) {
            e.fit(training());
            for (int cut = TEST_FIRST; cut < N; cut += 13) {
                List<Bar> truncated = List.copyOf(BARS.subList(0, cut + 1));
                FusedSignal full = e.fuse(forecasts(BARS, cut), frame(BARS, cut));
                FusedSignal cutOff = e.fuse(forecasts(truncated, cut), frame(truncated, cut));
                if (!full.equals(cutOff)) {
                    differ.add(cut);
                }
            }
        }
        return differ;
    }

    @Test
    void theSelectorIsPointInTimeAndALeakyVariantIsCaught() {
        assertThat(differences(() -> new MetaSelector(250, 50, "regime"))).isEmpty();
        assertThat(differences(Peeking::new)).isNotEmpty();
    }

    /**
     * The selector, but it re-weights towards the source that will be right about the next bar,
     * read around the view.
     */
    static final class Peeking implements EnsembleCapability {
        private final MetaSelector inner = new MetaSelector(250, 50, "regime");

        @Override
        public CapabilityDescriptor descriptor() {
            return CapabilityDescriptor.of("peeking", "1.0.0");
        }

        @Override
        public void fit(List<LabeledForecasts> trainingWindow) {
            inner.fit(trainingWindow);
        }

        @Override
        public FusedSignal fuse(List<Forecast> forecasts, FeatureFrame frame) {
            View v = (View) frame.history();
            int t = v.size() - 1;
            if (t + 1 >= v.all().size()) {
                return inner.fuse(forecasts, frame);
            }
            boolean up = v.all().get(t + 1).close() > v.all().get(t).close();
            List<Forecast> right =
                    forecasts.stream().filter(f -> (f.probabilityUp() > 0.5) == up).toList();
            return inner.fuse(right.isEmpty() ? forecasts : right, frame);
        }
    }
}
