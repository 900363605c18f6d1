package dev.quiver.host.registry;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * What an XGBoost JSON model declares against what it carries, checked before any parser that
 * trusts the declarations: {@code gbtree_model_param.num_trees} equals the number of trees, each
 * tree's {@code tree_param.num_nodes} equals the length of each of its node arrays, and {@code
 * num_feature} is between 1 and {@value #MAX_FEATURES}.
 */
final class XgbStructure {

    /** Largest {@code num_feature} accepted (a dimension bomb above). */
    static final long MAX_FEATURES = 1_000_000;

    private static final List<String> NODE_ARRAYS =
            List.of(
                    "left_children",
                    "right_children",
                    "parents",
                    "split_indices",
                    "split_conditions",
                    "default_left",
                    "base_weights");

    private XgbStructure() {}

    /**
     * The first mismatch, if any.
     *
     * @param bytes the file
     * @param file its name, for messages
     * @return empty if the declarations match (or the file is not JSON: the plugin's parser refuses
     *     that with its own reason)
     */
    static Optional<String> problem(byte[] bytes, String file) {
        JsonNode root;
        try {
            root = ModelStore.JSON.readTree(bytes);
        } catch (IOException e) {
            return Optional.empty();
        }
        if (root == null) {
            return Optional.empty();
        }
        JsonNode learner = root.path("learner");
        JsonNode nf = learner.path("learner_model_param").path("num_feature");
        if (!nf.isMissingNode()) {
            long n = parse(nf);
            if (n < 1 || n > MAX_FEATURES) {
                return Optional.of(
                        file
                                + ": learner_model_param.num_feature is "
                                + nf.asText()
                                + ", not in 1.."
                                + MAX_FEATURES
                                + " (dimension bomb or damaged)");
            }
        }
        JsonNode model = learner.path("gradient_booster").path("model");
        JsonNode trees = model.path("trees");
        JsonNode declared = model.path("gbtree_model_param").path("num_trees");
        if (trees.isArray() && !declared.isMissingNode() && parse(declared) != trees.size()) {
            return Optional.of(
                    file
                            + ": gbtree_model_param.num_trees declares "
                            + declared.asText()
                            + " trees, the file carries "
                            + trees.size());
        }
        for (int t = 0; t < trees.size(); t++) {
            JsonNode tree = trees.get(t);
            JsonNode nodes = tree.path("tree_param").path("num_nodes");
            if (nodes.isMissingNode()) {
                continue;
            }
            long n = parse(nodes);
            for (String a : NODE_ARRAYS) {
                JsonNode arr = tree.path(a);
                if (arr.isArray() && arr.size() != n) {
                    return Optional.of(
                            file
                                    + ": tree "
                                    + t
                                    + " declares num_nodes "
                                    + nodes.asText()
                                    + ", its "
                                    + a
                                    + " has "
                                    + arr.size()
                                    + " values");
                }
            }
        }
        return Optional.empty();
    }

    private static long parse(JsonNode n) {
        try {
            return Long.parseLong(n.asText().strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
