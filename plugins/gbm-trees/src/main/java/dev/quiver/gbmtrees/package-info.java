/**
 * Gradient-boosted tree ensembles evaluated in Java: {@link dev.quiver.gbmtrees.XgbJson} reads an
 * XGBoost JSON model, {@link dev.quiver.gbmtrees.TreeEnsemble} holds any ensemble in flat arrays
 * and predicts without allocating, bit for bit as XGBoost's CPU predictor ({@link
 * dev.quiver.gbmtrees.TreeEnsemble#xgboostProbability}) or as a double-precision margin.
 *
 * <p>A library that plugins bundle in their own zip ({@code lib/gbm-trees-*.jar}); it is not part
 * of the plugin contract and the host never loads it.
 */
package dev.quiver.gbmtrees;
