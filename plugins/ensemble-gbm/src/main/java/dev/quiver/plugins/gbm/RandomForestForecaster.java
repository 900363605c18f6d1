package dev.quiver.plugins.gbm;

import dev.quiver.api.PluginContext;
import dev.quiver.api.error.CapabilityException;
import dev.quiver.gbmtrees.ModelRefusedException;
import dev.quiver.gbmtrees.TreeEnsemble;
import io.github.metarank.lightgbm4j.LGBMBooster;
import io.github.metarank.lightgbm4j.LGBMException;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import org.pf4j.Extension;

/**
 * The {@code random_forest} source: a random forest (L. Breiman, "Random Forests", Machine Learning
 * 45, 2001) grown by LightGBM4J 4.3.0-1's {@code boosting=rf} mode, trained per walk-forward fold,
 * served in-process from the model's own text dump ({@link LgbmText}) by {@link TreeEnsemble} in
 * Java, equal to LightGBM's own prediction within 1e-6 (tested on real rows).
 *
 * <p>The forest: {@value #TREES} trees, each grown on a bootstrap-like subsample of 63.2% of the
 * rows ({@code bagging_fraction=0.632}, drawn anew for every tree, {@code bagging_freq=1}) and 5 of
 * the 7 features ({@code feature_fraction=0.7}), at most 15 leaves and 40 rows per leaf; the output
 * is the average of the trees' leaf values (LightGBM's {@code average_output}), through the
 * logistic link of the binary objective. Fixed seed, deterministic, one thread: the same window
 * gives the same forest. Trees are grown on the first {@value GbmSource#FIT_SHARE_PERCENT}% of the
 * window like the other GBM sources; the rest only measures the validation log-loss (a forest needs
 * no early stopping: more trees do not overfit, they only average more).
 *
 * @since ensemble-gbm 1.3.0
 */
@Extension
public final class RandomForestForecaster extends GbmSource {

    static final String NAME = "random_forest";

    /** Trees in the forest. */
    static final int TREES = 100;

    static final String PARAMS =
            "boosting=rf objective=binary metric=binary_logloss num_leaves=15 max_depth=6"
                    + " min_data_in_leaf=40 bagging_fraction=0.632 bagging_freq=1"
                    + " feature_fraction=0.7 seed=42 deterministic=true force_row_wise=true"
                    + " num_threads=1 verbosity=-1";

    private String modelText;

    /**
     * Creates an unfitted source.
     *
     * @param context reads {@code random_forest.model} (a registered model's sidecar to serve
     *     pinned)
     * @throws ModelRefusedException if the configured model cannot be served
     */
    @Inject
    public RandomForestForecaster(PluginContext context) {
        super(NAME, context);
    }

    @Override
    String modelExtension() {
        return "txt";
    }

    @Override
    TreeEnsemble parse(byte[] model, String file) {
        return LgbmText.parse(
                new String(model, StandardCharsets.UTF_8), file, GbmFeatures.NAMES.size());
    }

    @Override
    String library() {
        return "lightgbm4j 4.3.0-1 (boosting=rf)";
    }

    /** The last trained model's text (tests). */
    synchronized String modelText() {
        return modelText;
    }

    @Override
    Trained train(GbmFeatures.Matrix m, int fitRows) {
        int c = m.cols();
        try {
            return LgbmForecaster.onBooster(
                    m,
                    fitRows,
                    PARAMS,
                    booster -> {
                        int rounds = fixedRounds > 0 ? fixedRounds : TREES;
                        int grown = 0;
                        for (int round = 0; round < rounds; round++) {
                            boolean finished = booster.updateOneIter();
                            grown++;
                            if (finished) {
                                break;
                            }
                        }
                        double loss = booster.getEval(1)[0];
                        String text =
                                booster.saveModelToString(
                                        0, grown, LGBMBooster.FeatureImportanceType.SPLIT);
                        TreeEnsemble trees =
                                LgbmText.parse(text, "lightgbm rf model text (in memory)", c);
                        modelText = text;
                        return new Trained(
                                trees, grown, loss, text.getBytes(StandardCharsets.UTF_8));
                    });
        } catch (LGBMException e) {
            throw new CapabilityException(NAME, "LightGBM (rf) failed: " + e.getMessage(), e);
        }
    }
}
