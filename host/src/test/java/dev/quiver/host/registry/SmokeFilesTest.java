package dev.quiver.host.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** smoke.json (SmokeSet) as a file, and as the version folder's checked side file. */
class SmokeFilesTest {

    static final SmokeSet SET =
            new SmokeSet(
                    "prediction-lstm",
                    "lstm",
                    "btc-usd-4h",
                    1e-5,
                    List.of(
                            new SmokeSet.Case(Instant.parse("2025-10-30T16:00:00Z"), 0.5412),
                            new SmokeSet.Case(Instant.parse("2025-10-30T20:00:00Z"), 0.4987)));

    @Test
    void writesAndReadsBack(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("smoke.json");
        SET.write(f);
        assertThat(SmokeSet.read(f)).isEqualTo(SET);
    }

    @Test
    void eachBadFieldIsNamed(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("smoke.json");
        SET.write(f);
        String good = Files.readString(f);
        Map<String, String> damage =
                Map.of(
                        "\"quiver-smoke/1\"", "field 'format' must be quiver-smoke/1",
                        "\"btc-usd-4h\"", "field 'dataset' is missing or blank",
                        "1.0E-5", "field 'tolerance' must be a number in (0, 0.5]",
                        "0.5412", "field 'cases[0].p_up' must be a number in [0, 1]",
                        "\"2025-10-30T20:00:00Z\"", "field 'cases[1].bar_time' is not an ISO-8601");
        Map<String, String> replacement =
                Map.of(
                        "\"quiver-smoke/1\"", "\"quiver-smoke/9\"",
                        "\"btc-usd-4h\"", "\"\"",
                        "1.0E-5", "0.9",
                        "0.5412", "1.7",
                        "\"2025-10-30T20:00:00Z\"", "\"yesterday\"");
        for (var e : damage.entrySet()) {
            assertThat(good).contains(e.getKey());
            Files.writeString(f, good.replace(e.getKey(), replacement.get(e.getKey())));
            assertThatThrownBy(() -> SmokeSet.read(f))
                    .as(e.getKey())
                    .hasMessageContaining("[Quiver/BAD_SMOKE_FILE] smoke.json: " + e.getValue());
        }
        Files.writeString(f, "{not json");
        assertThatThrownBy(() -> SmokeSet.read(f)).hasMessageContaining("is not valid JSON");
    }

    @Test
    void theVersionFolderChecksItsSmokeFile(@TempDir Path dir) throws IOException {
        Path model = dir.resolve("catboost.cbm");
        Files.copy(ModelStoreTest.CBM, model);
        Path smoke = dir.resolve("smoke.json");
        SET.write(smoke);
        Map<String, String> tags = new HashMap<>(ModelRegistrar.tagsFor(model, Optional.empty()));
        tags.putAll(ModelRegistrar.smokeTags(smoke, SET));
        assertThat(tags)
                .containsEntry(ModelStore.TAG_SMOKE, "smoke.json")
                .containsEntry(ModelStore.TAG_PLUGIN, "prediction-lstm");
        ModelStore.verify("models:/m/1", dir, tags);

        Files.writeString(smoke, Files.readString(smoke).replace("0.5412", "0.5413"));
        assertThatThrownBy(() -> ModelStore.verify("models:/m/1", dir, tags))
                .hasMessageContaining("sha256 of smoke.json is")
                .hasMessageContaining("(checksum mismatch)");

        Files.writeString(smoke, "{\"format\": \"quiver-smoke/1\"}");
        tags.put(ModelStore.TAG_SMOKE_SHA256, ModelStore.sha256(smoke));
        assertThatThrownBy(() -> ModelStore.verify("models:/m/1", dir, tags))
                .hasMessageContaining("field 'plugin_id' is missing");

        tags.put(ModelStore.TAG_SMOKE, "../smoke.json");
        assertThatThrownBy(() -> ModelStore.verify("models:/m/1", dir, tags))
                .hasMessageContaining("path escape");
    }
}
