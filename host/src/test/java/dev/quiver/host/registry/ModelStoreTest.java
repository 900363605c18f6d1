package dev.quiver.host.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The local checks every version folder passes, without a server. */
class ModelStoreTest {

    static final Path CBM =
            Path.of(
                    "..",
                    "plugins/prediction-catboost/src/main/resources/dev/quiver/plugins/catboost/model/catboost.cbm");

    @ParameterizedTest
    @ValueSource(
            strings = {
                "../x.onnx",
                "../../etc/passwd",
                "a/b.onnx",
                "/abs.onnx",
                ".hidden.onnx",
                "x\\..\\y.onnx",
                "",
                "quiver-version.json"
            })
    void namesThatCouldEscapeOrNestAreRefused(String name) {
        assertThatThrownBy(
                        () ->
                                ModelStore.containedName(
                                        "models:/m/1", "tag quiver.model_file", name))
                .isInstanceOf(ModelRefusedException.class)
                .hasMessageContaining("is not a plain file name inside the model folder");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "model.pkl",
                "model.joblib",
                "MLmodel",
                "python_model.py",
                "weights.pt",
                "model.keras"
            })
    void codeExecutingFormatsAreRefused(String name) {
        assertThatThrownBy(() -> ModelStore.allowedFile("models:/m/1", name))
                .hasMessageContaining("'" + name + "' is not an accepted format");
    }

    @Test
    void aCopyOfAVerifiedFolderPassesAndEachDamageIsNamed(@TempDir Path dir) throws IOException {
        Path model = dir.resolve("catboost.cbm");
        Files.copy(CBM, model);
        Map<String, String> tags = new HashMap<>(ModelRegistrar.tagsFor(model, Optional.empty()));
        var ok = ModelStore.verify("models:/m/1", dir, tags);
        assertThat(ok.format()).isEqualTo(ModelFormat.CATBOOST_CBM);

        tags.put(ModelStore.TAG_FORMAT, "onnx");
        assertThatThrownBy(() -> ModelStore.verify("models:/m/1", dir, tags))
                .hasMessageContaining(
                        "tag quiver.format 'onnx' does not match the file catboost.cbm");
        tags.put(ModelStore.TAG_FORMAT, "catboost-cbm");

        Files.writeString(dir.resolve("loader.pkl"), "x");
        assertThatThrownBy(() -> ModelStore.verify("models:/m/1", dir, tags))
                .hasMessageContaining("'loader.pkl' is not an accepted format");
        Files.delete(dir.resolve("loader.pkl"));

        byte[] b = Files.readAllBytes(model);
        b[0] = 'X'; // same size and a matching checksum tag, but not a CatBoost file
        Files.write(model, b);
        tags.put(ModelStore.TAG_SHA256, ModelStore.sha256(model));
        assertThatThrownBy(() -> ModelStore.verify("models:/m/1", dir, tags))
                .hasMessageContaining("catboost.cbm does not start like a catboost-cbm model");
    }

    @Test
    void uriForms() {
        assertThat(ModelUri.parse("models:/quiver-lstm@champion").alias()).hasValue("champion");
        assertThat(ModelUri.parse("models:/quiver-lstm/12").version()).hasValue("12");
        assertThatThrownBy(() -> ModelUri.parse("models:/../x/1"))
                .hasMessageContaining("is not models:/NAME@ALIAS or models:/NAME/VERSION");
        assertThatThrownBy(() -> ModelUri.parse("runs:/abc/model"))
                .hasMessageContaining("BAD_MODEL_URI");
    }
}
