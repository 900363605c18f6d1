package dev.quiver.plugins.gbm;

import com.microsoft.ml.lightgbm.PredictionType;
import dev.quiver.api.PluginContext;
import dev.quiver.api.error.CapabilityException;
import dev.quiver.gbmtrees.ModelRefusedException;
import dev.quiver.gbmtrees.TreeEnsemble;
import io.github.metarank.lightgbm4j.LGBMBooster;
import io.github.metarank.lightgbm4j.LGBMDataset;
import io.github.metarank.lightgbm4j.LGBMException;
import jakarta.inject.Inject;
import org.pf4j.Extension;

/**
 * The {@code lightgbm} source: LightGBM4J 4.3.0-1 (binary, 7 leaves, depth 3, learning rate 0.05,
 * seed 42, deterministic, one thread) trained per walk-forward fold, served from the model's own
 * text dump ({@link LgbmText}) by {@link TreeEnsemble} in Java, equal to LightGBM's batch predict
 * within 1e-9 (tested on real rows).
 *
 * @since 1.0.0
 */
@Extension
public final class LgbmForecaster extends GbmSource {

    static final String NAME = "lightgbm";

    static final String PARAMS =
            "objective=binary metric=binary_logloss num_leaves=7 max_depth=3 learning_rate=0.05"
                    + " min_data_in_leaf=20 lambda_l2=1.0 seed=42 deterministic=true"
                    + " force_row_wise=true num_threads=1 verbosity=-1";

    private String modelText;

    /**
     * Creates an unfitted source.
     *
     * @param context reads {@code lightgbm.model} (a registered model's sidecar to serve pinned)
     * @throws ModelRefusedException if the configured model cannot be served
     */
    @Inject
    public LgbmForecaster(PluginContext context) {
        super(NAME, context);
    }

    @Override
    String modelExtension() {
        return "txt";
    }

    @Override
    TreeEnsemble parse(byte[] model, String file) {
        return LgbmText.parse(
                new String(model, java.nio.charset.StandardCharsets.UTF_8),
                file,
                GbmFeatures.NAMES.size());
    }

    @Override
    String library() {
        return "lightgbm4j 4.3.0-1";
    }

    /** The last trained model's text (tests). */
    synchronized String modelText() {
        return modelText;
    }

    /** LightGBM's own batch prediction of probabilities for row-major rows (tests). */
    static double[] libraryPredict(String model, double[] rows, int n, int cols) {
        LightGbmNative.ensureLoaded();
        try (LGBMBooster b = LGBMBooster.loadModelFromString(model)) {
            return b.predictForMat(rows, n, cols, true, PredictionType.C_API_PREDICT_NORMAL);
        } catch (LGBMException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    Trained train(GbmFeatures.Matrix m, int fitRows) {
        int c = m.cols();
        try {
            return onBooster(
                    m,
                    fitRows,
                    PARAMS,
                    booster -> {
                        int best = 0;
                        double bestLoss = Double.POSITIVE_INFINITY;
                        int rounds = fixedRounds > 0 ? fixedRounds : MAX_ROUNDS;
                        for (int round = 0;
                                round < rounds && (fixedRounds > 0 || round - best <= PATIENCE);
                                round++) {
                            boolean finished = booster.updateOneIter();
                            double loss = booster.getEval(1)[0];
                            if (loss < bestLoss || fixedRounds > 0) {
                                bestLoss = loss;
                                best = round;
                            }
                            if (finished) {
                                break;
                            }
                        }
                        String text =
                                booster.saveModelToString(
                                        0, best + 1, LGBMBooster.FeatureImportanceType.SPLIT);
                        TreeEnsemble trees =
                                LgbmText.parse(text, "lightgbm model text (in memory)", c);
                        modelText = text;
                        return new Trained(
                                trees,
                                best + 1,
                                bestLoss,
                                text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    });
        } catch (LGBMException e) {
            throw new CapabilityException(NAME, "LightGBM failed: " + e.getMessage(), e);
        }
    }

    /** What {@link #onBooster} runs on the booster. */
    interface BoosterBody {
        Trained apply(LGBMBooster booster) throws LGBMException;
    }

    /**
     * Runs {@code body} on a LightGBM booster made with {@code params} over the first {@code
     * fitRows} rows of {@code m}, the rest of its rows as the booster's validation data (its eval
     * index 1), both datasets binned with {@code max_bin=255}; closes all three after.
     *
     * @throws LGBMException what LightGBM throws
     */
    static Trained onBooster(GbmFeatures.Matrix m, int fitRows, String params, BoosterBody body)
            throws LGBMException {
        int c = m.cols();
        LightGbmNative.ensureLoaded();
        try (LGBMDataset fit =
                        LGBMDataset.createFromMat(
                                m.xDouble(0, fitRows), fitRows, c, true, "max_bin=255", null);
                LGBMDataset valid =
                        LGBMDataset.createFromMat(
                                m.xDouble(fitRows, m.rows()),
                                m.rows() - fitRows,
                                c,
                                true,
                                "max_bin=255",
                                fit)) {
            fit.setField("label", m.y(0, fitRows));
            valid.setField("label", m.y(fitRows, m.rows()));
            try (LGBMBooster booster = LGBMBooster.create(fit, params)) {
                booster.addValidData(valid);
                return body.apply(booster);
            }
        }
    }
}
