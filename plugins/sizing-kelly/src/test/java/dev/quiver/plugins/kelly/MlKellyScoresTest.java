package dev.quiver.plugins.kelly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.quiver.api.sizing.SizingOutcome;
import dev.quiver.testkit.FixtureSeries;
import dev.quiver.testkit.SizingCapabilityContract;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;
import org.junit.jupiter.api.Test;

/**
 * kelly_ml's fit scores its calibration rows in one batch call: the same values as the library's
 * single-row predict it used before (bit for bit, so the isotonic calibration and every decision
 * are unchanged) and as XGBoost's own DMatrix prediction (to 1e-6).
 */
class MlKellyScoresTest {

    static final List<SizingOutcome> OUTCOMES =
            ((SizingCapabilityContract) () -> new MlKellySizer(0.25, 1.0, 0.30, 2, 3))
                    .trainingOutcomes(FixtureSeries.btcUsd4h());

    @Test
    void batchScoresEqualSingleRowScoresBitForBitAndTheDMatrixPredictionTo1e6()
            throws XGBoostError {
        List<SizingOutcome> train = OUTCOMES.subList(0, 240);
        List<SizingOutcome> scored = OUTCOMES.subList(240, OUTCOMES.size());
        Booster booster = train(train);
        DMatrix d = matrix(scored);
        try {
            double[] batch = MlKellySizer.scores(booster, scored);
            float[][] library = booster.predict(d);
            assertThat(batch).hasSize(scored.size());
            int distinct = 0;
            for (int i = 0; i < scored.size(); i++) {
                float single =
                        booster.inplace_predict(
                                        MlKellySizer.features(scored.get(i).context()),
                                        1,
                                        MlKellySizer.FEATURES,
                                        Float.NaN)[0][0];
                assertThat(batch[i]).as("row " + i + " vs single-row predict").isEqualTo(single);
                assertThat(batch[i])
                        .as("row " + i + " vs Booster.predict(DMatrix)")
                        .isCloseTo(library[i][0], within(1e-6));
                distinct += i > 0 && batch[i] != batch[i - 1] ? 1 : 0;
            }
            // a model that scores every row alike would make the comparison empty
            assertThat(distinct).isGreaterThan(scored.size() / 4);
            assertThat(MlKellySizer.scores(booster, List.of())).isEmpty();
        } finally {
            d.dispose();
            booster.dispose();
        }
    }

    private static Booster train(List<SizingOutcome> rows) throws XGBoostError {
        DMatrix d = matrix(rows);
        try {
            float[] y = new float[rows.size()];
            for (int i = 0; i < y.length; i++) {
                y[i] = rows.get(i).won() ? 1 : 0;
            }
            d.setLabel(y);
            Map<String, Object> params = new HashMap<>();
            params.put("objective", "binary:logistic");
            params.put("max_depth", 3);
            params.put("eta", 0.05);
            params.put("seed", 42);
            params.put("nthread", 1);
            params.put("verbosity", 0);
            return XGBoost.train(d, params, 100, Map.of(), null, null);
        } finally {
            d.dispose();
        }
    }

    private static DMatrix matrix(List<SizingOutcome> rows) throws XGBoostError {
        int f = MlKellySizer.FEATURES;
        float[] x = new float[rows.size() * f];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(MlKellySizer.features(rows.get(i).context()), 0, x, i * f, f);
        }
        return new DMatrix(x, rows.size(), f, Float.NaN);
    }
}
