package dev.quiver.plugins.kelly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.quiver.api.sizing.SizingOutcome;
import dev.quiver.gbmtrees.TreeEnsemble;
import dev.quiver.gbmtrees.XgbJson;
import dev.quiver.testkit.FixtureSeries;
import dev.quiver.testkit.SizingCapabilityContract;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;
import org.junit.jupiter.api.Test;

/**
 * kelly_ml scores its contexts with the classifier's trees evaluated in Java ({@link
 * TreeEnsemble#xgboostProbability}): the same probabilities as XGBoost4J's own predictions, to the
 * bit (so within 1e-6), on the contexts of the real BTC fixture bars and on rows mixing their real
 * feature values, for classifiers trained as kelly_ml trains them on several windows (each with its
 * own {@code base_score}).
 */
class MlKellyScoresTest {

    static final List<SizingOutcome> OUTCOMES =
            ((SizingCapabilityContract) () -> new MlKellySizer(0.25, 1.0, 0.30, 2, 3))
                    .trainingOutcomes(FixtureSeries.btcUsd4h());

    @Test
    void javaTreesGiveXgboost4jsProbabilitiesBitForBitOnRealContexts() throws XGBoostError {
        int f = MlKellySizer.FEATURES;
        List<float[]> rows = new ArrayList<>();
        for (SizingOutcome o : OUTCOMES) {
            rows.add(MlKellySizer.features(o.context()));
        }
        int real = rows.size();
        // Rows whose every feature is a real value taken from a random real context: more paths
        // through the trees and more margins than the real contexts alone.
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 20_000; i++) {
            float[] x = new float[f];
            for (int j = 0; j < f; j++) {
                x[j] = rows.get(random.nextInt(real))[j];
            }
            rows.add(x);
        }
        float[] all = new float[rows.size() * f];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(rows.get(i), 0, all, i * f, f);
        }
        int n = OUTCOMES.size();
        // windows of at least 240 outcomes: fewer leave min_child_weight 20 no split to make
        int[][] windows = {{0, 240}, {0, n}, {n - 260, n}, {50, 320}, {20, n - 30}};
        int compared = 0;
        for (int[] w : windows) {
            Booster booster = train(OUTCOMES.subList(w[0], w[1]));
            DMatrix d = new DMatrix(all, rows.size(), f, Float.NaN);
            try {
                TreeEnsemble trees =
                        XgbJson.parse(
                                booster.toByteArray("json"), "test", MlKellySizer.FEATURE_NAMES);
                assertThat(trees.trees()).isEqualTo(100);
                float[][] library = booster.predict(d);
                int distinct = 0;
                for (int i = 0; i < rows.size(); i++) {
                    float java = trees.xgboostProbability(rows.get(i));
                    String what = "window " + w[0] + ".." + w[1] + " row " + i;
                    assertThat((double) java)
                            .as(what + " within 1e-6 of Booster.predict(DMatrix)")
                            .isCloseTo(library[i][0], within(1e-6));
                    assertThat(java)
                            .as(what + " vs Booster.predict(DMatrix)")
                            .isEqualTo(library[i][0]);
                    if (i < real || i % 100 == 0) {
                        float single = booster.inplace_predict(rows.get(i), 1, f, Float.NaN)[0][0];
                        assertThat(java)
                                .as(what + " vs single-row inplace_predict")
                                .isEqualTo(single);
                    }
                    distinct += i > 0 && library[i][0] != library[i - 1][0] ? 1 : 0;
                    compared++;
                }
                // a model that scores every row alike would make the comparison empty
                assertThat(distinct)
                        .as("distinct scores, window " + w[0] + ".." + w[1])
                        .isGreaterThan(rows.size() / 4);
            } finally {
                d.dispose();
                booster.dispose();
            }
        }
        assertThat(compared).isEqualTo(windows.length * rows.size());
    }

    @Test
    void aFittedSizerServesTheScoresItsCalibrationWasFittedOn() {
        try (MlKellySizer sizer = new MlKellySizer(0.25, 1.0, 0.30, 2, 3)) {
            sizer.fit(OUTCOMES);
            TreeEnsemble trees =
                    XgbJson.parse(sizer.modelJson(), "fitted", MlKellySizer.FEATURE_NAMES);
            double[] scores = MlKellySizer.scores(trees, OUTCOMES);
            int distinct = 0;
            for (int i = 0; i < OUTCOMES.size(); i++) {
                assertThat(sizer.size(OUTCOMES.get(i).context()).inputs().get("p_raw"))
                        .as("row " + i)
                        .isEqualTo(scores[i]);
                distinct += i > 0 && scores[i] != scores[i - 1] ? 1 : 0;
            }
            assertThat(distinct).isGreaterThan(OUTCOMES.size() / 4);
            assertThat(MlKellySizer.scores(trees, List.of())).isEmpty();
        }
    }

    /** kelly_ml's own training parameters ({@code MlKellySizer.train}). */
    private static Booster train(List<SizingOutcome> rows) throws XGBoostError {
        int f = MlKellySizer.FEATURES;
        float[] x = new float[rows.size() * f];
        float[] y = new float[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(MlKellySizer.features(rows.get(i).context()), 0, x, i * f, f);
            y[i] = rows.get(i).won() ? 1 : 0;
        }
        DMatrix d = new DMatrix(x, rows.size(), f, Float.NaN);
        try {
            d.setLabel(y);
            Map<String, Object> params = new HashMap<>();
            params.put("objective", "binary:logistic");
            params.put("max_depth", 3);
            params.put("eta", 0.05);
            params.put("subsample", 0.8);
            params.put("min_child_weight", 20);
            params.put("seed", 42);
            params.put("nthread", 1);
            params.put("verbosity", 0);
            return XGBoost.train(d, params, 100, Map.of(), null, null);
        } finally {
            d.dispose();
        }
    }
}
