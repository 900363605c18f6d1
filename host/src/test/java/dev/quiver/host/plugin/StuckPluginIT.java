package dev.quiver.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RELIABILITY.md P2: a plugin whose {@code start()} or extension constructor never returns is
 * refused at its deadline while the host starts and the other plugins serve.
 */
class StuckPluginIT {

    @TempDir Path dir;

    @Test
    void aStartOrAConstructorThatNeverReturnsIsRefusedAndTheRestServes() throws IOException {
        Files.copy(ResolutionIT.TEMPLATE, dir.resolve("good.zip"));
        Trusting.trust(dir.resolve("good.zip"));
        String pkg = "dev.quiver.host.plugin.misbehaving.";
        zip(
                "stuck-start",
                "quiver.prediction; name=stuck-start-unused",
                pkg + "HangingStartPlugin",
                List.of(),
                List.of(pkg + "HangingStartPlugin", pkg + "Sleeper"));
        zip(
                "stuck-constructor",
                "quiver.prediction; name=slow-to-build",
                null,
                List.of(pkg + "HangingConstructorForecaster"),
                List.of(pkg + "HangingConstructorForecaster", pkg + "Sleeper"));
        Map<String, String> config =
                Map.of(
                        "quiver.plugin.start-deadline-ms", "500",
                        "quiver.plugin.create-deadline-ms", "500");
        try (var runtime = PluginRuntime.start(dir, config)) {
            assertThat(runtime.plugins())
                    .extracting(LoadedPlugin::id)
                    .containsExactly("prediction-momentum-template");
            assertThat(runtime.predictions())
                    .extracting(p -> p.descriptor().name())
                    .containsExactly("momentum");
            assertThat(ResolutionIT.refusal(runtime.refusals(), "stuck-start"))
                    .satisfies(r -> assertThat(r.code()).isEqualTo("PLUGIN_STUCK"))
                    .satisfies(
                            r ->
                                    assertThat(r.message())
                                            .contains("did not finish start within 500 ms")
                                            .contains("quiver.plugin.start-deadline-ms"));
            assertThat(ResolutionIT.refusal(runtime.refusals(), "stuck-constructor"))
                    .satisfies(r -> assertThat(r.code()).isEqualTo("PLUGIN_STUCK"))
                    .satisfies(
                            r ->
                                    assertThat(r.message())
                                            .contains("did not finish setup within 500 ms")
                                            .contains("quiver.plugin.create-deadline-ms"));
        }
    }

    @Test
    void aDeadlineThatIsNotAPositiveNumberIsRefusedNamingTheKey() {
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () ->
                                PluginRuntime.start(
                                        dir, Map.of("quiver.plugin.start-deadline-ms", "-1")))
                .hasMessageContaining("quiver.plugin.start-deadline-ms")
                .hasMessageContaining("(value: -1)");
    }

    private void zip(
            String id,
            String provides,
            String pluginClass,
            List<String> extensions,
            List<String> classes)
            throws IOException {
        var mf = new Manifest();
        Attributes a = mf.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.put(new Attributes.Name("Plugin-Id"), id);
        a.put(new Attributes.Name("Plugin-Version"), "1.0.0");
        a.put(new Attributes.Name("Plugin-Requires"), ">=1.0.0 & <2.0.0");
        a.put(new Attributes.Name("Provide-Capability"), provides);
        if (pluginClass != null) {
            a.put(new Attributes.Name("Plugin-Class"), pluginClass);
        }
        try (var zos = new ZipOutputStream(Files.newOutputStream(dir.resolve(id + ".zip")))) {
            zos.putNextEntry(new ZipEntry("classes/META-INF/MANIFEST.MF"));
            mf.write(zos);
            zos.putNextEntry(new ZipEntry("classes/META-INF/extensions.idx"));
            zos.write(String.join("\n", extensions).concat("\n").getBytes(StandardCharsets.UTF_8));
            for (String c : classes) {
                String file = c.replace('.', '/') + ".class";
                zos.putNextEntry(new ZipEntry("classes/" + file));
                try (InputStream in = StuckPluginIT.class.getResourceAsStream("/" + file)) {
                    in.transferTo(zos);
                }
                zos.closeEntry();
            }
        }
        Trusting.trust(dir.resolve(id + ".zip"));
    }
}
