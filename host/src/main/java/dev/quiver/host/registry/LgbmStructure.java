package dev.quiver.host.registry;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A LightGBM text model checked line by line before any parser trusts it, against the layout
 * LightGBM's {@code GBDT::SaveModelToString} writes: ASCII only; complete (ends with a newline, has
 * {@code end of trees} and, after {@code parameters:}, {@code end of parameters}); {@code
 * max_feature_idx + 1} feature names; {@code tree_sizes} naming one byte length per tree block,
 * each equal to the block's; in each tree, only known keys with numeric values, leaf arrays of
 * {@code num_leaves} values and split arrays of {@code num_leaves - 1}; {@code num_leaves} and
 * {@code max_feature_idx} below {@value #MAX_COUNT} (dimension bombs above).
 */
final class LgbmStructure {

    /** Largest leaf count or feature index accepted. */
    static final long MAX_COUNT = 1_000_000;

    private static final Set<String> LEAF_ARRAYS =
            Set.of("leaf_value", "leaf_weight", "leaf_count");
    private static final Set<String> SPLIT_ARRAYS =
            Set.of(
                    "split_feature",
                    "split_gain",
                    "threshold",
                    "decision_type",
                    "left_child",
                    "right_child",
                    "internal_value",
                    "internal_weight",
                    "internal_count");
    private static final Set<String> SCALARS =
            Set.of("num_leaves", "num_cat", "is_linear", "shrinkage");
    private static final Set<String> CATEGORICAL = Set.of("cat_boundaries", "cat_threshold");

    private LgbmStructure() {}

    /**
     * The first problem, if any.
     *
     * @param bytes the file
     * @param file its name, for messages
     * @return empty if the layout holds
     */
    static Optional<String> problem(byte[] bytes, String file) {
        for (int i = 0; i < bytes.length; i++) {
            int c = bytes[i] & 0xff;
            if (c > 0x7e || (c < 0x20 && c != '\n' && c != '\r' && c != '\t')) {
                return Optional.of(
                        String.format(
                                java.util.Locale.ROOT,
                                "%s: byte %d is 0x%02x, not ASCII text (LightGBM writes ASCII)",
                                file,
                                i,
                                c));
            }
        }
        String text = new String(bytes, StandardCharsets.US_ASCII).replace("\r", "");
        if (!text.endsWith("\n")) {
            return Optional.of(file + " ends mid-line: truncated");
        }
        int end = text.indexOf("\nend of trees");
        if (end < 0) {
            return Optional.of(file + " has no 'end of trees' line: truncated or not LightGBM");
        }
        int params = text.indexOf("\nparameters:", end);
        if (params >= 0 && text.indexOf("\nend of parameters", params) < 0) {
            return Optional.of(file + " has 'parameters:' but no 'end of parameters': truncated");
        }
        if (params < 0) {
            return Optional.of(file + " has no 'parameters:' section after its trees: truncated");
        }
        int firstTree = text.indexOf("\nTree=");
        if (firstTree < 0 || firstTree > end) {
            return Optional.of(file + " has no tree");
        }
        Map<String, String> header = new java.util.HashMap<>();
        for (String line : text.substring(0, firstTree).split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                header.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        long maxFeature = number(header.get("max_feature_idx"));
        if (maxFeature < 0 || maxFeature >= MAX_COUNT) {
            return Optional.of(
                    file
                            + ": max_feature_idx="
                            + header.get("max_feature_idx")
                            + " is not in 0.."
                            + (MAX_COUNT - 1)
                            + " (dimension bomb or damaged)");
        }
        if (number(header.get("num_class")) != 1) {
            return Optional.of(
                    file
                            + ": num_class="
                            + header.get("num_class")
                            + "; a binary classifier (what Quiver serves) has num_class=1");
        }
        String names = header.getOrDefault("feature_names", "");
        int nNames = names.isBlank() ? 0 : names.strip().split(" ").length;
        if (nNames != maxFeature + 1) {
            return Optional.of(
                    file
                            + ": max_feature_idx="
                            + maxFeature
                            + " declares "
                            + (maxFeature + 1)
                            + " features, feature_names lists "
                            + nNames);
        }
        java.util.List<String> trees = new java.util.ArrayList<>();
        StringBuilder cur = null;
        for (String line : text.substring(firstTree + 1, end + 1).split("\n", -1)) {
            if (line.startsWith("Tree=")) {
                if (cur != null) {
                    trees.add(cur.toString());
                }
                cur = new StringBuilder();
            }
            if (cur != null) {
                cur.append(line).append('\n');
            }
        }
        if (cur != null) {
            trees.add(cur.toString());
        }
        if (trees.isEmpty()) {
            return Optional.of(file + " has no tree");
        }
        String sizes = header.get("tree_sizes");
        if (sizes != null) {
            String[] s = sizes.strip().split(" ");
            if (s.length != trees.size()) {
                return Optional.of(
                        file
                                + ": tree_sizes lists "
                                + s.length
                                + " trees, the file carries "
                                + trees.size());
            }
            for (int k = 0; k < s.length; k++) {
                long want = number(s[k]);
                // A block's size counts its text up to the blank line that ends it.
                long have = trees.get(k).stripTrailing().length() + 1;
                if (want != have && want != have + 1 && want != have + 2) {
                    return Optional.of(
                            file
                                    + ": tree_sizes says tree "
                                    + k
                                    + " is "
                                    + s[k]
                                    + " bytes, its block is "
                                    + have);
                }
            }
        }
        for (int k = 0; k < trees.size(); k++) {
            Optional<String> p = tree(trees.get(k), k, maxFeature, file);
            if (p.isPresent()) {
                return p;
            }
        }
        return Optional.empty();
    }

    private static Optional<String> tree(String block, int k, long maxFeature, String file) {
        Map<String, String[]> values = new java.util.LinkedHashMap<>();
        for (String line : block.split("\n")) {
            if (line.isBlank() || line.startsWith("Tree=")) {
                continue;
            }
            int eq = line.indexOf('=');
            String key = eq < 0 ? line : line.substring(0, eq);
            if (eq < 0
                    || !(LEAF_ARRAYS.contains(key)
                            || SPLIT_ARRAYS.contains(key)
                            || SCALARS.contains(key)
                            || CATEGORICAL.contains(key))) {
                return Optional.of(
                        file + ": tree " + k + " has an unknown line '" + cut(line) + "'");
            }
            String[] v = line.substring(eq + 1).strip().split(" ");
            for (String x : v) {
                try {
                    Double.parseDouble(x);
                } catch (NumberFormatException e) {
                    return Optional.of(
                            file
                                    + ": tree "
                                    + k
                                    + " "
                                    + key
                                    + " has a non-number '"
                                    + cut(x)
                                    + "'");
                }
            }
            values.put(key, v);
        }
        String[] nl = values.get("num_leaves");
        if (nl == null) {
            return Optional.of(file + ": tree " + k + " has no num_leaves");
        }
        long leaves = number(nl[0]);
        if (leaves < 1 || leaves > MAX_COUNT) {
            return Optional.of(
                    file
                            + ": tree "
                            + k
                            + " num_leaves="
                            + nl[0]
                            + " is not in 1.."
                            + MAX_COUNT
                            + " (dimension bomb or damaged)");
        }
        for (var e : values.entrySet()) {
            long want =
                    LEAF_ARRAYS.contains(e.getKey())
                            ? leaves
                            : SPLIT_ARRAYS.contains(e.getKey()) ? leaves - 1 : -1;
            if (want >= 1 && e.getValue().length != want) {
                return Optional.of(
                        file
                                + ": tree "
                                + k
                                + " declares num_leaves="
                                + leaves
                                + " so "
                                + e.getKey()
                                + " needs "
                                + want
                                + " values, it has "
                                + e.getValue().length);
            }
        }
        String[] sf = values.get("split_feature");
        if (sf != null) {
            for (String x : sf) {
                long f = number(x);
                if (f < 0 || f > maxFeature) {
                    return Optional.of(
                            file
                                    + ": tree "
                                    + k
                                    + " splits on feature "
                                    + x
                                    + ", beyond max_feature_idx="
                                    + maxFeature);
                }
            }
        }
        return Optional.empty();
    }

    private static String cut(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    private static long number(String s) {
        if (s == null) {
            return -1;
        }
        try {
            return Long.parseLong(s.strip());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
