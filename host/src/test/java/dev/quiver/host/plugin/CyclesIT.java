package dev.quiver.host.plugin;

import static dev.quiver.host.plugin.ResolutionIT.TEMPLATE;
import static dev.quiver.host.plugin.ResolutionIT.refusal;
import static dev.quiver.host.plugin.ResolutionIT.rewrite;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Plugins that depend on each other in a circle, beside one that does not. */
class CyclesIT {

    @TempDir Path dir;

    @Test
    void aDependencyCycleRefusesItsMembersAndTheRestServes() throws IOException {
        Files.copy(TEMPLATE, dir.resolve("good.zip"));
        rewrite(
                dir.resolve("cycle-a.zip"),
                Map.of("Plugin-Id", "cycle-a", "Plugin-Dependencies", "cycle-b"),
                e -> true);
        rewrite(
                dir.resolve("cycle-b.zip"),
                Map.of("Plugin-Id", "cycle-b", "Plugin-Dependencies", "cycle-a@>=1.0.0"),
                e -> true);
        Trusting.trust(dir);
        try (var runtime = PluginRuntime.start(dir, Map.of())) {
            assertThat(runtime.plugins())
                    .singleElement()
                    .satisfies(p -> assertThat(p.id()).isEqualTo("prediction-momentum-template"));
            for (String id : new String[] {"cycle-a", "cycle-b"}) {
                assertThat(refusal(runtime.refusals(), id))
                        .satisfies(r -> assertThat(r.code()).isEqualTo("DEPENDENCY_CYCLE"))
                        .satisfies(
                                r ->
                                        assertThat(r.message())
                                                .contains("cycle-a -> cycle-b -> cycle-a"));
            }
        }
    }

    @Test
    void mutualCapabilityRequirementsResolveAsAWhole() throws IOException {
        String prediction =
                "quiver.prediction; name=momentum; version:Version=1.0.0; horizon:Long=1;"
                        + " calibrated=false; feature-schema=quiver-core@1";
        rewrite(
                dir.resolve("x.zip"),
                Map.of(
                        "Plugin-Id", "mutual-x",
                        "Provide-Capability", prediction + ", example.x; name=x",
                        "Require-Capability", "example.y; filter:=\"(name=y)\""),
                e -> true);
        rewrite(
                dir.resolve("y.zip"),
                Map.of(
                        "Plugin-Id", "mutual-y",
                        "Provide-Capability", prediction + ", example.y; name=y",
                        "Require-Capability", "example.x; filter:=\"(name=x)\""),
                e -> true);
        Trusting.trust(dir);
        try (var runtime = PluginRuntime.start(dir, Map.of())) {
            assertThat(runtime.refusals()).isEmpty();
            assertThat(runtime.plugins())
                    .extracting(LoadedPlugin::id)
                    .containsExactly("mutual-x", "mutual-y");
            assertThat(runtime.wiring())
                    .anySatisfy(w -> assertThat(w).contains("mutual-x").contains("example.y"))
                    .anySatisfy(w -> assertThat(w).contains("mutual-y").contains("example.x"));
        }
    }
}
