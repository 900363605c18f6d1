package dev.quiver.plugins.analogs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.market.BarSeries;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.testkit.FixtureSeries;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The forecaster selects its k nearest by partial selection; this is the full-sort version it
 * replaced (analogs 1.0.0 as first released), kept as the oracle: every forecast, details included,
 * must be identical to the last bit.
 */
class AnalogForecasterReferenceTest {

    static final FixtureSeries FX = FixtureSeries.btcUsd4h();

    @ParameterizedTest
    @CsvSource({"25, 500", "1, 1", "5, 40", "60, 60", "25, 100", "100, 5000"})
    void everyForecastEqualsTheFullSortReference(int k, int lookback) {
        int compared = 0;
        try (var a = new AnalogForecaster(k, lookback)) {
            for (int t = 0; t < FX.size(); t++) {
                FeatureFrame frame = FX.frame(t);
                if (frame == null) {
                    continue;
                }
                Forecast expected;
                try {
                    expected = reference(frame, k, lookback);
                } catch (IllegalStateException tooShort) {
                    continue;
                }
                assertThat(a.forecast(frame)).as("bar %d", t).isEqualTo(expected);
                compared++;
            }
        }
        assertThat(compared).isGreaterThan(FX.size() / 2);
    }

    /** The pre-selection algorithm, verbatim but for the error. */
    static Forecast reference(FeatureFrame frame, int k, int lookbackBars) {
        double[] target = setup(frame);
        BarSeries history = frame.history();
        int t = history.size() - 1;
        var rows = new ArrayList<double[]>();
        var ups = new ArrayList<Boolean>();
        FeatureFrame f = frame.previous();
        for (int j = t - 1; f != null && j >= 0 && rows.size() < lookbackBars; j--) {
            rows.add(setup(f));
            ups.add(history.get(j + 1).close() > history.get(j).close());
            f = f.previous();
        }
        if (rows.size() < k) {
            throw new IllegalStateException("short");
        }
        double[] scale = new double[target.length];
        for (int c = 0; c < target.length; c++) {
            double mean = 0;
            for (double[] r : rows) {
                mean += r[c];
            }
            mean /= rows.size();
            double var = 0;
            for (double[] r : rows) {
                var += (r[c] - mean) * (r[c] - mean);
            }
            double sd = Math.sqrt(var / rows.size());
            scale[c] = sd > 0 ? 1 / sd : 0;
        }
        Integer[] order = new Integer[rows.size()];
        double[] distance = new double[rows.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
            double d = 0;
            for (int c = 0; c < target.length; c++) {
                double x = (rows.get(i)[c] - target[c]) * scale[c];
                d += x * x;
            }
            distance[i] = Math.sqrt(d);
        }
        Arrays.sort(order, (a, b) -> Double.compare(distance[a], distance[b]));
        int up = 0;
        double sum = 0;
        for (int i = 0; i < k; i++) {
            up += ups.get(order[i]) ? 1 : 0;
            sum += distance[order[i]];
        }
        return new Forecast(
                "analogs",
                frame.bar().start(),
                1,
                AnalogForecaster.probabilityUp(up, k),
                Map.of(
                        "win_rate",
                        (double) up / k,
                        "k",
                        (double) k,
                        "mean_distance",
                        sum / k,
                        "candidates",
                        (double) rows.size()));
    }

    private static double[] setup(FeatureFrame frame) {
        List<String> names = AnalogForecaster.FEATURES;
        double[] v = new double[names.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = frame.get(names.get(i));
        }
        return v;
    }
}
