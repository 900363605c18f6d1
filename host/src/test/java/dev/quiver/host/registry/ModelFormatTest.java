package dev.quiver.host.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The task check: the objective a file declares and the version's {@code quiver.task}. */
class ModelFormatTest {

    static final Path CBM =
            Path.of(
                    "..",
                    "plugins/prediction-catboost/src/main/resources/dev/quiver/plugins/catboost/model/catboost.cbm");

    @Test
    void theObjectiveIsReadFromEachFormatsOwnMetadata() throws Exception {
        assertThat(ModelFormat.CATBOOST_CBM.objective(Files.readAllBytes(CBM))).contains("Logloss");
        assertThat(
                        ModelFormat.XGBOOST_JSON.objective(
                                "{\"learner\":{\"objective\":{\"name\":\"reg:squarederror\"}}}"
                                        .getBytes(StandardCharsets.UTF_8)))
                .contains("reg:squarederror");
        assertThat(
                        ModelFormat.LIGHTGBM_TXT.objective(
                                "tree\nobjective=binary sigmoid:1\n\nTree=0\nobjective=x\n"
                                        .getBytes(StandardCharsets.UTF_8)))
                .contains("binary sigmoid:1");
        assertThat(ModelFormat.ONNX.objective(new byte[] {8, 8})).isEmpty();
    }

    @Test
    void aClassifierRegisteredAsARegressorIsRefusedNamingBoth(@TempDir Path dir) throws Exception {
        Path cbm = Files.copy(CBM, dir.resolve("catboost.cbm"));
        assertThat(ModelFormat.CATBOOST_CBM.structureProblem(cbm, null)).isEmpty();
        assertThat(ModelFormat.CATBOOST_CBM.structureProblem(cbm, "binary-classifier")).isEmpty();
        assertThat(ModelFormat.CATBOOST_CBM.structureProblem(cbm, "regressor"))
                .contains(
                        "the version is registered as a 'regressor' (tag quiver.task) but"
                                + " catboost.cbm declares objective 'Logloss' (a classifier);"
                                + " Quiver serves only 'binary-classifier' models: every"
                                + " prediction is a probability of an up move");
    }

    @Test
    void aRegressorFileIsRefusedEvenWhenRegisteredAsAClassifier(@TempDir Path dir)
            throws Exception {
        byte[] b = Files.readAllBytes(CBM);
        String text = new String(b, StandardCharsets.ISO_8859_1).replace("Logloss", "Poisson");
        Path cbm =
                Files.write(
                        dir.resolve("catboost.cbm"), text.getBytes(StandardCharsets.ISO_8859_1));
        assertThat(ModelFormat.CATBOOST_CBM.structureProblem(cbm, "binary-classifier"))
                .contains(
                        "catboost.cbm declares objective 'Poisson', a regressor, but the version is"
                                + " served as a binary-classifier: its raw output is not a"
                                + " probability of an up move");
    }
}
