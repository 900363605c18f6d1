package dev.quiver.plugins.kelly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.api.sizing.SizingOutcome;
import dev.quiver.testkit.FixtureSeries;
import dev.quiver.testkit.SizingCapabilityContract;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kelly_ml's fitted state: the kit's contract (round trip on the fixture, truncated files refused),
 * and what the files hold and when they are refused.
 */
class MlKellySizerStateTest implements SizingCapabilityContract {

    static final ObjectMapper JSON = new ObjectMapper();
    static final FixtureSeries FX = FixtureSeries.btcUsd4h();

    @TempDir Path dir;

    @Override
    public SizingCapability newSizing() {
        return new MlKellySizer(0.25, 1.0, 0.30, 2, 3);
    }

    private MlKellySizer fitted() {
        var s = new MlKellySizer(0.25, 1.0, 0.30, 2, 3);
        s.fit(trainingOutcomes(FX));
        return s;
    }

    @Test
    void theFittedStateIsAStateFileAndTheClassifierAsXgboostJson() throws IOException {
        try (MlKellySizer s = fitted()) {
            List<Path> files = s.exportState(dir);
            assertThat(files)
                    .containsExactly(
                            dir.resolve("kelly_ml.state.json"), dir.resolve("kelly_ml.xgb.json"));
            JsonNode state = JSON.readTree(files.get(0).toFile());
            assertThat(state.get("format").asText()).isEqualTo("quiver-kelly-ml-state/1");
            assertThat(state.get("capability").get("name").asText()).isEqualTo("kelly_ml");
            assertThat(state.get("capability").get("version").asText()).isEqualTo("1.0.0");
            assertThat(state.get("config").get("b_atr").doubleValue()).isEqualTo(1.5);
            assertThat(state.get("fitted").booleanValue()).isTrue();
            assertThat(state.get("trained_on").asInt()).isEqualTo(348);
            assertThat(state.get("model_file").asText()).isEqualTo("kelly_ml.xgb.json");
            assertThat(state.get("model_sha256").asText())
                    .isEqualTo(MlKellySizer.sha256(Files.readAllBytes(files.get(1))));
            assertThat(state.get("target_vol").isDouble()).isTrue();
            assertThat(state.get("calibration").get("block_starts").size())
                    .isEqualTo(state.get("calibration").get("block_values").size())
                    .isPositive();
            // The classifier is XGBoost's own JSON model, not a Java or Python serialisation.
            JsonNode model = JSON.readTree(files.get(1).toFile());
            assertThat(model.get("learner").get("objective").get("name").asText())
                    .isEqualTo("binary:logistic");
            assertThat(model.get("learner").get("gradient_booster").get("model").get("trees"))
                    .hasSize(100);
        }
    }

    @Test
    void theRestoredClassifierGivesTheSameRawScoresOnEveryTrainingContext() {
        try (MlKellySizer s = fitted();
                MlKellySizer r = new MlKellySizer(0.25, 1.0, 0.30, 2, 3)) {
            s.exportState(dir);
            r.restoreState(dir);
            int sized = 0;
            for (SizingOutcome o : trainingOutcomes(FX)) {
                SizingDecision a = s.size(o.context());
                SizingDecision b = r.size(o.context());
                assertThat(b.inputs().get("p_raw")).isEqualTo(a.inputs().get("p_raw"));
                assertThat(b).isEqualTo(a);
                sized += a.fraction() > 0 ? 1 : 0;
            }
            // Not a trivial round trip of flat decisions only.
            assertThat(sized).isPositive();
        }
    }

    @Test
    void theUnfittedStateHasNoModelFile() throws IOException {
        try (MlKellySizer s = new MlKellySizer(0.25, 1.0, 0.30, 2, 3)) {
            s.fit(trainingOutcomes(FX).subList(0, 100));
            List<Path> files = s.exportState(dir);
            assertThat(files).containsExactly(dir.resolve("kelly_ml.state.json"));
            JsonNode state = JSON.readTree(files.get(0).toFile());
            assertThat(state.get("fitted").booleanValue()).isFalse();
            assertThat(state.get("trained_on").asInt()).isEqualTo(100);
            assertThat(state.get("model_file").isNull()).isTrue();
            assertThat(state.get("ece").isNull()).isTrue();
        }
    }

    @Test
    void aStateFittedUnderAnotherConfigurationIsRefused() {
        try (MlKellySizer s = fitted();
                MlKellySizer other = new MlKellySizer(0.5, 1.0, 0.30, 2, 3)) {
            s.exportState(dir);
            assertThatThrownBy(() -> other.restoreState(dir))
                    .isInstanceOfSatisfying(
                            QuiverInputException.class,
                            e -> {
                                assertThat(e.code()).isEqualTo("BAD_STATE");
                                assertThat(e.field()).isEqualTo("config.multiplier");
                            })
                    .hasMessageContaining("kelly_ml.state.json")
                    .hasMessageContaining("differs from this instance's 0.5");
        }
    }

    @Test
    void anotherClassifierInPlaceOfTheExportedOneIsRefusedBeforeXgboostReadsIt()
            throws IOException {
        Path otherDir = Files.createDirectory(dir.resolve("other"));
        try (MlKellySizer s = fitted();
                MlKellySizer other = new MlKellySizer(0.25, 1.0, 0.30, 2, 3)) {
            s.exportState(dir);
            other.fit(trainingOutcomes(FX).subList(0, 320));
            other.exportState(otherDir);
            Files.copy(
                    otherDir.resolve("kelly_ml.xgb.json"),
                    dir.resolve("kelly_ml.xgb.json"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            List<Object> before = decisions(other);
            assertThatThrownBy(() -> other.restoreState(dir))
                    .isInstanceOf(QuiverInputException.class)
                    .hasMessageContaining("kelly_ml.xgb.json")
                    .hasMessageContaining("(truncated or replaced)");
            assertThat(decisions(other)).isEqualTo(before);
        }
    }

    @Test
    void malformedFieldsAreRefusedByName() throws IOException {
        assertRefused(j -> j.put("format", "quiver-kelly-ml-state/9"), "format");
        assertRefused(j -> j.put("fitted", "yes"), "fitted");
        assertRefused(j -> j.remove("use_atr_b"), "use_atr_b");
        assertRefused(j -> j.put("target_vol", "wide"), "target_vol");
        assertRefused(j -> j.put("model_file", "../elsewhere.json"), "model_file");
        assertRefused(
                j ->
                        ((com.fasterxml.jackson.databind.node.ArrayNode)
                                        j.get("calibration").get("block_values"))
                                .add(0.5),
                "calibration");
    }

    private void assertRefused(Consumer<ObjectNode> edit, String field) throws IOException {
        try (MlKellySizer s = fitted();
                MlKellySizer target = new MlKellySizer(0.25, 1.0, 0.30, 2, 3)) {
            Path file = s.exportState(dir).get(0);
            ObjectNode json = (ObjectNode) JSON.readTree(file.toFile());
            edit.accept(json);
            JSON.writeValue(file.toFile(), json);
            List<Object> before = decisions(target);
            assertThatThrownBy(() -> target.restoreState(dir))
                    .as("field %s", field)
                    .isInstanceOfSatisfying(
                            QuiverInputException.class,
                            e -> {
                                assertThat(e.code()).isEqualTo("BAD_STATE");
                                assertThat(e.field()).isEqualTo(field);
                                assertThat(e.where()).endsWith("kelly_ml.state.json");
                            });
            assertThat(decisions(target)).isEqualTo(before);
        }
    }

    private List<Object> decisions(SizingCapability s) {
        var out = new ArrayList<Object>();
        for (SizingContext c : stateProbes(FX)) {
            out.add(s.size(c));
        }
        return out;
    }
}
