package dev.quiver.host.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The LightGBM text layout check, on a hand-written two-leaf model. */
class LgbmStructureTest {

    static final String TREE =
            "Tree=0\n"
                    + "num_leaves=2\n"
                    + "num_cat=0\n"
                    + "split_feature=1\n"
                    + "split_gain=3.5\n"
                    + "threshold=0.25\n"
                    + "decision_type=2\n"
                    + "left_child=-1\n"
                    + "right_child=-2\n"
                    + "leaf_value=-0.1 0.2\n"
                    + "leaf_weight=10 12\n"
                    + "leaf_count=10 12\n"
                    + "internal_value=0\n"
                    + "internal_weight=22\n"
                    + "internal_count=22\n"
                    + "is_linear=0\n"
                    + "shrinkage=1\n"
                    + "\n\n";

    static String model(String header, String tree) {
        return "tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nlabel_index=0\n"
                + "max_feature_idx=1\nobjective=binary sigmoid:1\nfeature_names=a b\n"
                + "feature_infos=[0:1] [0:1]\n"
                + header
                + "\n"
                + tree
                + "end of trees\n\nfeature_importances:\nb=1\n\nparameters:\n[boosting: gbdt]\n"
                + "end of parameters\n\npandas_categorical:null\n";
    }

    static java.util.Optional<String> problem(String text) {
        return LgbmStructure.problem(text.getBytes(StandardCharsets.ISO_8859_1), "m.txt");
    }

    @Test
    void aCompleteModelPasses() {
        // tree_sizes: the block's bytes with the blank line that ends it.
        String sizes = "tree_sizes=" + (TREE.length() - 1);
        assertThat(problem(model(sizes, TREE))).isEmpty();
        assertThat(problem(model("", TREE))).isEmpty();
    }

    @Test
    void truncationsAreRefused() {
        String full = model("", TREE);
        assertThat(problem(full.substring(0, full.length() - 1)))
                .get()
                .asString()
                .contains("ends mid-line");
        assertThat(problem(full.substring(0, full.indexOf("end of parameters"))))
                .get()
                .asString()
                .contains("no 'end of parameters'");
        assertThat(problem(full.substring(0, full.indexOf("end of trees"))))
                .get()
                .asString()
                .contains("no 'end of trees'");
    }

    @Test
    void arraysShorterThanTheirDeclaredSizeAreRefused() {
        assertThat(problem(model("", TREE.replace("num_leaves=2", "num_leaves=3"))))
                .get()
                .asString()
                .isEqualTo(
                        "m.txt: tree 0 declares num_leaves=3 so split_feature needs 2 values, it has"
                                + " 1");
    }

    @Test
    void bombsAndOutOfRangeIndicesAreRefused() {
        assertThat(problem(model("", TREE.replace("num_leaves=2", "num_leaves=2147483647"))))
                .get()
                .asString()
                .contains("dimension bomb");
        assertThat(problem(model("", TREE.replace("split_feature=1", "split_feature=9"))))
                .get()
                .asString()
                .contains("splits on feature 9, beyond max_feature_idx=1");
        assertThat(problem(model("", TREE).replace("num_class=1", "num_class=3")))
                .get()
                .asString()
                .contains("num_class=3");
        assertThat(problem(model("tree_sizes=5 5", TREE)))
                .get()
                .asString()
                .contains("tree_sizes lists 2 trees, the file carries 1");
    }

    @Test
    void aByteThatIsNotAsciiOrAnUnknownLineIsRefused() {
        assertThat(problem(model("", TREE.replace("0.25", "0.2\u00b5"))))
                .get()
                .asString()
                .contains("is 0xb5, not ASCII");
        assertThat(problem(model("", TREE.replace("shrinkage=1", "shrinkagf=1"))))
                .get()
                .asString()
                .contains("unknown line 'shrinkagf=1'");
        assertThat(problem(model("", TREE.replace("leaf_value=-0.1 0.2", "leaf_value=-0.1 x"))))
                .get()
                .asString()
                .contains("leaf_value has a non-number 'x'");
    }
}
