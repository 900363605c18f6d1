package dev.quiver.host.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** XGBoost JSON declarations against what the file carries, on a hand-written one-split tree. */
class XgbStructureTest {

    static String model(String numFeature, String numTrees, String numNodes) {
        return "{\"learner\":{\"learner_model_param\":{\"num_feature\":\""
                + numFeature
                + "\",\"base_score\":\"5E-1\"},\"objective\":{\"name\":\"binary:logistic\"},"
                + "\"gradient_booster\":{\"model\":{\"gbtree_model_param\":{\"num_trees\":\""
                + numTrees
                + "\"},\"trees\":[{\"tree_param\":{\"num_nodes\":\""
                + numNodes
                + "\"},\"left_children\":[1,-1,-1],\"right_children\":[2,-1,-1],"
                + "\"split_indices\":[0,0,0],\"split_conditions\":[0.5,-0.2,0.3]}]}}}}";
    }

    static Optional<String> problem(String json) {
        return XgbStructure.problem(json.getBytes(StandardCharsets.UTF_8), "m.json");
    }

    @Test
    void aConsistentModelPasses() {
        assertThat(problem(model("7", "1", "3"))).isEmpty();
    }

    @Test
    void inflatedCountsAreRefusedNamingBoth() {
        assertThat(problem(model("7", "2147483647", "3")))
                .contains(
                        "m.json: gbtree_model_param.num_trees declares 2147483647 trees, the file carries 1");
        assertThat(problem(model("7", "1", "4")))
                .contains("m.json: tree 0 declares num_nodes 4, its left_children has 3 values");
        assertThat(problem(model("2147483647", "1", "3")))
                .get()
                .asString()
                .contains("num_feature is 2147483647")
                .contains("dimension bomb");
    }

    @Test
    void aFileThatIsNotJsonIsLeftToThePluginsParser() {
        assertThat(problem("{\"learner\":")).isEmpty();
    }
}
