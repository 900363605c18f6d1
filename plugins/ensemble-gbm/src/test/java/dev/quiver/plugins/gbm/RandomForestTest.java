package dev.quiver.plugins.gbm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.feature.LabeledFrame;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.gbmtrees.TreeEnsemble;
import dev.quiver.testkit.FixtureSeries;
import dev.quiver.testkit.PredictionCapabilityContract;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The {@code random_forest} source: the test kit's prediction contracts (on a forest fitted on the
 * fixture's first 399 bars), the Java trees equal to LightGBM's own prediction to 1e-6 on real
 * rows, a fixed seed giving the same forest, and a walk-forward whose forecasts up to a bar are the
 * same whether the series ends there or goes on, where a leaky variant (trained on the whole
 * series) is caught.
 */
class RandomForestTest implements PredictionCapabilityContract {

    @Override
    public PredictionCapability newPrediction() {
        return new RandomForestForecaster(RealRows.context(Map.of()));
    }

    @Test
    void javaTreesEqualLightgbmRandomForestOnRealRows() {
        try (var rf = new RandomForestForecaster(RealRows.context(Map.of()))) {
            rf.fit(GbmSourcesTest.WINDOW);
            TreeEnsemble trees = rf.trees();
            assertThat(rf.modelText()).contains("\naverage_output\n");
            assertThat(trees.trees()).isEqualTo(RandomForestForecaster.TREES);
            List<LabeledFrame> later = GbmSourcesTest.LATER;
            int n = later.size();
            int c = GbmFeatures.NAMES.size();
            double[] all = new double[n * c];
            var features = new GbmFeatures();
            double[] x = new double[c];
            for (int i = 0; i < n; i++) {
                features.row(later.get(i).frame(), x);
                System.arraycopy(x, 0, all, i * c, c);
            }
            double[] lib = LgbmForecaster.libraryPredict(rf.modelText(), all, n, c);
            double worst = 0;
            double min = 1;
            double max = 0;
            for (int i = 0; i < n; i++) {
                double java =
                        TreeEnsemble.sigmoid(
                                trees.margin(Arrays.copyOfRange(all, i * c, (i + 1) * c)));
                worst = Math.max(worst, Math.abs(java - lib[i]));
                min = Math.min(min, java);
                max = Math.max(max, java);
            }
            System.out.printf(
                    "random_forest: %d trees, max |java - lightgbm| %.2e over %d rows, p in [%.3f,"
                            + " %.3f]%n",
                    trees.trees(), worst, n, min, max);
            assertThat(worst).as("max |java - lightgbm rf| over %d rows", n).isLessThan(1e-6);
            assertThat(max - min).as("the forest does not predict a constant").isGreaterThan(0.05);
        }
    }

    @Test
    void theSameSeedGivesTheSameForest() {
        try (var a = new RandomForestForecaster(RealRows.context(Map.of()));
                var b = new RandomForestForecaster(RealRows.context(Map.of()))) {
            a.fit(GbmSourcesTest.WINDOW);
            b.fit(RealRows.BTC.subList(500, 1500));
            b.fit(GbmSourcesTest.WINDOW);
            assertThat(b.modelText()).isEqualTo(a.modelText());
            var frame = GbmSourcesTest.LATER.get(11).frame();
            assertThat(b.forecast(frame)).isEqualTo(a.forecast(frame));
            assertThat(a.descriptor().attributes())
                    .containsEntry("training", "per-fold")
                    .containsEntry("library", "lightgbm4j 4.3.0-1 (boosting=rf)")
                    .containsEntry("rounds", Integer.toString(RandomForestForecaster.TREES));
        }
    }

    /**
     * A walk-forward over the first {@code end + 1} real rows: folds of 250 bars, each forecast by
     * a forest fitted on the 1,000 rows before it minus a 2-row embargo (so every label is known),
     * or, when {@code leaky}, on every row of the series given (the bug of fitting on the whole
     * series).
     */
    private static List<Double> walkForward(int end, boolean leaky) {
        List<LabeledFrame> rows = RealRows.BTC.subList(0, end + 1);
        var out = new ArrayList<Double>();
        try (var rf = new RandomForestForecaster(RealRows.context(Map.of()))) {
            for (int first = 1002; first <= end; first += 250) {
                rf.fit(leaky ? rows : rows.subList(first - 1002, first - 2));
                for (int t = first; t <= Math.min(end, first + 249); t++) {
                    out.add(rf.forecast(rows.get(t).frame()).probabilityUp());
                }
            }
        }
        return out;
    }

    @Test
    void pointInTimeWalkForwardAndALeakyVariantIsCaught() {
        List<Double> full = walkForward(1900, false);
        List<Double> truncated = walkForward(1600, false);
        assertThat(truncated).isEqualTo(full.subList(0, truncated.size()));
        List<Double> leakyFull = walkForward(1900, true);
        List<Double> leakyTruncated = walkForward(1600, true);
        assertThat(leakyTruncated)
                .as("fitted on the whole series: forecasts change when the series goes on")
                .isNotEqualTo(leakyFull.subList(0, leakyTruncated.size()));
    }

    @Test
    void theFixtureSeriesHasTheFeaturesTheForestReads() {
        var fx = FixtureSeries.btcUsd4h();
        for (String name : GbmFeatures.NAMES) {
            assertThat(fx.schema().names()).contains(name);
        }
    }
}
