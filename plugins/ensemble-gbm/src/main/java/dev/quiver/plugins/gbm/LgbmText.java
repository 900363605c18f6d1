package dev.quiver.plugins.gbm;

import dev.quiver.gbmtrees.ModelRefusedException;
import dev.quiver.gbmtrees.TreeEnsemble;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a LightGBM model in its text format ({@code LGBM_BoosterSaveModelToString}, LightGBM 4.3)
 * into a {@link TreeEnsemble}: per tree {@code split_feature}, {@code threshold}, {@code
 * decision_type} (bit 0 categorical, bit 1 default-left, bits 2-3 missing type), {@code
 * left_child}/{@code right_child} ({@code ~leaf} when negative) and {@code leaf_value}. Leaf values
 * already include the learning rate and, in the first tree, the initial score; the margin is scaled
 * by the objective's {@code sigmoid:} parameter. A random forest ({@code boosting=rf}) says {@code
 * average_output} in its header: its margin is the mean of the trees' leaf values, so each leaf is
 * also divided by the number of trees.
 */
final class LgbmText {

    private LgbmText() {}

    /**
     * Parses and validates.
     *
     * @param text the model text
     * @param file its name for messages
     * @param expectedFeatures number of input features the caller will pass
     * @return the ensemble
     * @throws ModelRefusedException naming {@code file} and what was expected if the text is
     *     truncated, not a numerical binary model, or over another number of features
     */
    static TreeEnsemble parse(String text, String file, int expectedFeatures) {
        String[] lines = text.split("\n");
        Map<String, String> header = new HashMap<>();
        List<Map<String, String>> trees = new ArrayList<>();
        Map<String, String> current = header;
        boolean ended = false;
        boolean average = false;
        for (String raw : lines) {
            String line = raw.strip();
            if (current == header && line.equals("average_output")) {
                average = true;
            } else if (line.startsWith("Tree=")) {
                current = new HashMap<>();
                trees.add(current);
            } else if (line.equals("end of trees")) {
                ended = true;
                break;
            } else {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    current.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
        }
        if (!ended) {
            throw new ModelRefusedException(
                    file,
                    "is truncated: no 'end of trees' line after "
                            + trees.size()
                            + " trees (expected a complete LightGBM 4.3 text model)",
                    null);
        }
        String objective = header.getOrDefault("objective", "");
        if (!objective.startsWith("binary")) {
            throw new ModelRefusedException(
                    file, "objective is '" + objective + "', expected binary", null);
        }
        double sigmoid = 1.0;
        for (String part : objective.split(" ")) {
            if (part.startsWith("sigmoid:")) {
                sigmoid = Double.parseDouble(part.substring("sigmoid:".length()));
            }
        }
        int nFeatures = Integer.parseInt(need(header, "max_feature_idx", file, -1)) + 1;
        if (nFeatures != expectedFeatures) {
            throw new ModelRefusedException(
                    file,
                    "has "
                            + nFeatures
                            + " input features, expected "
                            + expectedFeatures
                            + " ("
                            + GbmFeatures.NAMES
                            + ")",
                    null);
        }
        if (average && trees.isEmpty()) {
            throw new ModelRefusedException(
                    file, "is an averaged model (random forest) without trees", null);
        }
        // The mean of the trees' outputs: each leaf divided by the number of trees.
        double leafScale = average ? sigmoid / trees.size() : sigmoid;
        int total = 0;
        for (int k = 0; k < trees.size(); k++) {
            int leaves = Integer.parseInt(need(trees.get(k), "num_leaves", file, k));
            total += 2 * leaves - 1;
        }
        int[] roots = new int[trees.size()];
        int[] feature = new int[total];
        double[] threshold = new double[total];
        int[] left = new int[total];
        int[] right = new int[total];
        boolean[] zero = new boolean[total];
        boolean[] defaultLeft = new boolean[total];
        double[] value = new double[total];
        int offset = 0;
        for (int k = 0; k < trees.size(); k++) {
            Map<String, String> t = trees.get(k);
            int leaves = Integer.parseInt(need(t, "num_leaves", file, k));
            int internal = leaves - 1;
            double[] leafValue =
                    doubles(need(t, "leaf_value", file, k), leaves, "leaf_value", file, k);
            if (internal > 0) {
                if (!need(t, "num_cat", file, k).equals("0")) {
                    throw new ModelRefusedException(
                            file, "tree " + k + " has categorical splits, expected none", null);
                }
                double[] sf =
                        doubles(
                                need(t, "split_feature", file, k),
                                internal,
                                "split_feature",
                                file,
                                k);
                double[] th =
                        doubles(need(t, "threshold", file, k), internal, "threshold", file, k);
                double[] dt =
                        doubles(
                                need(t, "decision_type", file, k),
                                internal,
                                "decision_type",
                                file,
                                k);
                double[] lc =
                        doubles(need(t, "left_child", file, k), internal, "left_child", file, k);
                double[] rc =
                        doubles(need(t, "right_child", file, k), internal, "right_child", file, k);
                for (int i = 0; i < internal; i++) {
                    int j = offset + i;
                    int f = (int) sf[i];
                    int type = (int) dt[i];
                    if (f < 0 || f >= nFeatures || (type & 1) != 0) {
                        throw new ModelRefusedException(
                                file,
                                "tree "
                                        + k
                                        + " node "
                                        + i
                                        + " splits on feature "
                                        + f
                                        + " (decision_type "
                                        + type
                                        + "), expected a numerical split on a feature in [0, "
                                        + nFeatures
                                        + ")",
                                null);
                    }
                    feature[j] = f;
                    threshold[j] = th[i];
                    defaultLeft[j] = (type & 2) != 0;
                    zero[j] = ((type >> 2) & 3) == 1;
                    left[j] = child((int) lc[i], offset, internal, leaves, file, k);
                    right[j] = child((int) rc[i], offset, internal, leaves, file, k);
                }
            }
            for (int i = 0; i < leaves; i++) {
                feature[offset + internal + i] = -1;
                value[offset + internal + i] = leafScale * leafValue[i];
            }
            roots[k] = offset;
            offset += internal + leaves;
        }
        return new TreeEnsemble(
                TreeEnsemble.Rule.LIGHTGBM,
                nFeatures,
                0.0,
                0.0f,
                roots,
                feature,
                threshold,
                left,
                right,
                zero,
                defaultLeft,
                value);
    }

    private static int child(int c, int offset, int internal, int leaves, String file, int k) {
        if (c >= 0 && c < internal) {
            return offset + c;
        }
        if (c < 0 && ~c < leaves) {
            return offset + internal + ~c;
        }
        throw new ModelRefusedException(
                file,
                "tree "
                        + k
                        + " has child "
                        + c
                        + ", expected an index into its "
                        + leaves
                        + " leaves",
                null);
    }

    private static double[] doubles(String line, int n, String field, String file, int k) {
        String[] parts = line.strip().split(" ");
        if (parts.length != n) {
            throw new ModelRefusedException(
                    file,
                    "tree "
                            + k
                            + " field '"
                            + field
                            + "' has "
                            + parts.length
                            + " values, expected "
                            + n,
                    null);
        }
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            try {
                out[i] = Double.parseDouble(parts[i]);
            } catch (NumberFormatException e) {
                throw new ModelRefusedException(
                        file,
                        "tree "
                                + k
                                + " field '"
                                + field
                                + "' value '"
                                + parts[i]
                                + "' is not a number",
                        e);
            }
        }
        return out;
    }

    private static String need(Map<String, String> fields, String field, String file, int tree) {
        String v = fields.get(field);
        if (v == null) {
            throw new ModelRefusedException(
                    file,
                    (tree < 0 ? "header" : "tree " + tree)
                            + " field '"
                            + field
                            + "' is missing (expected a LightGBM 4.3 text model)",
                    null);
        }
        return v;
    }
}
