package dev.quiver.gbmtrees;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.List;

/**
 * Reads an XGBoost model saved as JSON ({@code Booster.toByteArray("json")}, xgboost 2.1 schema:
 * {@code learner.gradient_booster.model.trees[*]} with {@code left_children}, {@code
 * right_children}, {@code split_indices}, {@code split_conditions}, {@code default_left}) into a
 * {@link TreeEnsemble}. A leaf is a node whose left child is {@code -1}; its value is its {@code
 * split_conditions} entry. The base margin is {@code logit(base_score)} for {@code binary:logistic}
 * (in double for {@link TreeEnsemble#margin}, and as XGBoost computes it in float for {@link
 * TreeEnsemble#xgboostProbability}).
 */
public final class XgbJson {

    private XgbJson() {}

    /**
     * Parses and validates.
     *
     * @param json the model JSON
     * @param file its name for messages
     * @param featureNames the input features the caller will pass, in order (their number is
     *     checked; the names go into the message when it differs)
     * @return the ensemble, {@link TreeEnsemble.Rule#XGBOOST}
     * @throws ModelRefusedException naming {@code file} and what was expected if the JSON is
     *     truncated, not a binary:logistic gbtree model, or over another number of features
     */
    public static TreeEnsemble parse(byte[] json, String file, List<String> featureNames) {
        int expectedFeatures = featureNames.size();
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (IOException e) {
            throw new ModelRefusedException(
                    file,
                    "is not complete JSON ("
                            + json.length
                            + " bytes; expected an XGBoost 2.1 JSON model): "
                            + e.getMessage().lines().findFirst().orElse(""),
                    e);
        }
        JsonNode learner = need(root, "learner", file);
        String objective = need(need(learner, "objective", file), "name", file).asText();
        if (!objective.equals("binary:logistic")) {
            throw new ModelRefusedException(
                    file, "objective is " + objective + ", expected binary:logistic", null);
        }
        JsonNode param = need(learner, "learner_model_param", file);
        int nFeatures = Integer.parseInt(need(param, "num_feature", file).asText());
        if (nFeatures != expectedFeatures) {
            throw new ModelRefusedException(
                    file,
                    "has "
                            + nFeatures
                            + " input features, expected "
                            + expectedFeatures
                            + " ("
                            + featureNames
                            + ")",
                    null);
        }
        String baseScoreText = need(param, "base_score", file).asText();
        double baseScore = Double.parseDouble(baseScoreText);
        if (!(baseScore > 0 && baseScore < 1)) {
            throw new ModelRefusedException(
                    file, "base_score " + baseScore + " is not a probability in (0, 1)", null);
        }
        JsonNode trees =
                need(need(need(learner, "gradient_booster", file), "model", file), "trees", file);
        int total = 0;
        for (JsonNode t : trees) {
            total += need(t, "left_children", file).size();
        }
        int[] roots = new int[trees.size()];
        int[] feature = new int[total];
        double[] threshold = new double[total];
        int[] left = new int[total];
        int[] right = new int[total];
        boolean[] defaultLeft = new boolean[total];
        double[] value = new double[total];
        int offset = 0;
        for (int k = 0; k < trees.size(); k++) {
            JsonNode t = trees.get(k);
            JsonNode l = need(t, "left_children", file);
            JsonNode r = need(t, "right_children", file);
            JsonNode si = need(t, "split_indices", file);
            JsonNode sc = need(t, "split_conditions", file);
            JsonNode dl = need(t, "default_left", file);
            int n = l.size();
            if (r.size() != n || si.size() != n || sc.size() != n || dl.size() != n) {
                throw new ModelRefusedException(
                        file,
                        "tree "
                                + k
                                + " has node arrays of different lengths, expected "
                                + n
                                + " nodes in each",
                        null);
            }
            roots[k] = offset;
            for (int i = 0; i < n; i++) {
                int li = l.get(i).asInt();
                int j = offset + i;
                if (li == -1) {
                    feature[j] = -1;
                    value[j] = sc.get(i).asDouble();
                } else {
                    int f = si.get(i).asInt();
                    int ri = r.get(i).asInt();
                    if (f < 0 || f >= nFeatures || li <= i || ri <= i || li >= n || ri >= n) {
                        throw new ModelRefusedException(
                                file,
                                "tree "
                                        + k
                                        + " node "
                                        + i
                                        + " splits on feature "
                                        + f
                                        + " with children "
                                        + li
                                        + "/"
                                        + ri
                                        + ", expected a feature in [0, "
                                        + nFeatures
                                        + ") and children after the node inside the tree",
                                null);
                    }
                    feature[j] = f;
                    threshold[j] = sc.get(i).asDouble();
                    left[j] = offset + li;
                    right[j] = offset + ri;
                    defaultLeft[j] = dl.get(i).asInt() != 0;
                }
            }
            offset += n;
        }
        return new TreeEnsemble(
                TreeEnsemble.Rule.XGBOOST,
                nFeatures,
                Math.log(baseScore / (1 - baseScore)),
                XgbMath.baseMargin(Float.parseFloat(baseScoreText)),
                roots,
                feature,
                threshold,
                left,
                right,
                new boolean[total],
                defaultLeft,
                value);
    }

    private static JsonNode need(JsonNode parent, String field, String file) {
        JsonNode n = parent == null ? null : parent.get(field);
        if (n == null || n.isNull()) {
            throw new ModelRefusedException(
                    file,
                    "field '"
                            + field
                            + "' is missing (expected an XGBoost 2.1 JSON model: learner,"
                            + " learner_model_param, gradient_booster.model.trees)",
                    null);
        }
        return n;
    }
}
