package dev.quiver.host.strategy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.api.error.QuiverInputException;
import dev.quiver.host.registry.ModelStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one unlisted file a bundle folder may hold, {@code registered.json}: accepted only when it is
 * what the resolver writes (and names this folder's manifest); every other unlisted file is still
 * refused.
 */
class StrategyBundleRegistryFileTest {

    @TempDir Path dir;

    String manifestSha;

    @BeforeEach
    void aMinimalBundle() throws IOException {
        Files.createDirectories(dir.resolve("ensemble"));
        Path state = dir.resolve("ensemble/fused.state.json");
        Files.writeString(state, "{\"format\": \"quiver-fused-state/1\"}");
        Files.writeString(
                dir.resolve(StrategyBundle.MANIFEST),
                "{\"format\": \"quiver-strategy/1\", \"files\": {\"ensemble/fused.state.json\": \""
                        + ModelStore.sha256(state)
                        + "\"}}");
        manifestSha = ModelStore.sha256(dir.resolve(StrategyBundle.MANIFEST));
    }

    private void registryFile(String json) throws IOException {
        Files.writeString(dir.resolve(StrategyBundle.REGISTRY_FILE), json);
    }

    @Test
    void withoutARegistryFileTheIdIsTheFolder() {
        StrategyBundle b = StrategyBundle.open(dir);
        assertThat(b.registration()).isEmpty();
        assertThat(b.id()).isEqualTo(b.dir().toString());
    }

    @Test
    void theRegistryFileNamesTheVersionInIdAndProvenance() throws IOException {
        registryFile(
                "{\"name\": \"quiver-strategy\", \"version\": \"7\", \"run_id\": \"abc\","
                        + " \"manifest_sha256\": \""
                        + manifestSha
                        + "\"}");
        StrategyBundle b = StrategyBundle.open(dir);
        assertThat(b.id()).isEqualTo("quiver-strategy/7");
        assertThat(b.provenance())
                .containsEntry("name", "quiver-strategy")
                .containsEntry("version", "7")
                .containsEntry("run_id", "abc")
                .containsEntry("manifest_sha256", manifestSha);
    }

    @Test
    void aRegistryFileOfAnotherManifestIsRefused() throws IOException {
        registryFile(
                "{\"name\": \"s\", \"version\": \"1\", \"run_id\": \"r\", \"manifest_sha256\": \""
                        + "0".repeat(64)
                        + "\"}");
        assertThatThrownBy(() -> StrategyBundle.open(dir))
                .isInstanceOf(QuiverInputException.class)
                .hasMessageContaining("BAD_BUNDLE")
                .hasMessageContaining("registered.json: manifest_sha256")
                .hasMessageContaining("names another manifest");
    }

    @Test
    void aRegistryFileWithOtherFieldsIsRefused() throws IOException {
        registryFile(
                "{\"name\": \"s\", \"version\": \"1\", \"run_id\": \"r\", \"manifest_sha256\": \""
                        + manifestSha
                        + "\", \"max_fraction\": \"1.0\"}");
        assertThatThrownBy(() -> StrategyBundle.open(dir))
                .hasMessageContaining("registered.json: max_fraction")
                .hasMessageContaining("carries provenance only");
    }

    @Test
    void aMalformedRegistryFileIsRefused() throws IOException {
        registryFile("{\"name\": \"s\"");
        assertThatThrownBy(() -> StrategyBundle.open(dir))
                .hasMessageContaining("registered.json")
                .hasMessageContaining("is not valid JSON");
    }

    @Test
    void anyOtherUnlistedFileIsStillRefused() throws IOException {
        Files.writeString(dir.resolve("registered.json.bak"), "{}");
        assertThatThrownBy(() -> StrategyBundle.open(dir))
                .hasMessageContaining("registered.json.bak")
                .hasMessageContaining("not listed in the manifest");
    }
}
