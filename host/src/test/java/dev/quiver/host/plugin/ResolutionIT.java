package dev.quiver.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.host.cli.Cli;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One good plugin and nine bad ones in one folder, all real zips derived from the built template
 * plugin: each bad one is refused with its reason, the good one serves, nothing is written outside
 * the plugins folder (RELIABILITY.md P4, P5 and bad inputs 1-2).
 */
class ResolutionIT {

    static final Path TEMPLATE =
            Path.of(System.getProperty("quiver.testPlugins"))
                    .resolve("quiver-plugin-template-1.0.0.zip");

    @TempDir Path root;
    Path dir;

    @BeforeEach
    void nineBadOneGood() throws IOException {
        dir = Files.createDirectories(root.resolve("plugins"));
        Files.copy(TEMPLATE, dir.resolve("a-good.zip"));
        rewrite(
                dir.resolve("b-api-2.zip"),
                Map.of("Plugin-Id", "momentum-api-2", "Plugin-Requires", ">=2.0.0 & <3.0.0"),
                e -> true);
        rewrite(
                dir.resolve("c-missing-dependency.zip"),
                Map.of(
                        "Plugin-Id",
                        "momentum-needs-dep",
                        "Plugin-Dependencies",
                        "prediction-nowhere@>=1.0.0"),
                e -> true);
        rewrite(
                dir.resolve("d-unmet-capability.zip"),
                Map.of(
                        "Plugin-Id",
                        "momentum-needs-model",
                        "Require-Capability",
                        "quiver.model; filter:=\"(&(format=onnx)(name=lstm-direction))\""),
                e -> true);
        Files.copy(TEMPLATE, dir.resolve("e-duplicate-id.zip"));
        byte[] bytes = Files.readAllBytes(TEMPLATE);
        Files.write(dir.resolve("f-truncated.zip"), Arrays.copyOf(bytes, bytes.length * 6 / 10));
        rewrite(dir.resolve("g-zip-slip.zip"), Map.of("Plugin-Id", "momentum-zip-slip"), e -> true);
        appendEntry(dir.resolve("g-zip-slip.zip"), "../../evil.txt");
        rewrite(
                dir.resolve("h-missing-extension-class.zip"),
                Map.of("Plugin-Id", "momentum-no-class"),
                e -> !e.getName().endsWith("MomentumForecaster.class"));
        rewrite(
                dir.resolve("i-wrong-dependency-version.zip"),
                Map.of(
                        "Plugin-Id",
                        "momentum-needs-template-2",
                        "Plugin-Dependencies",
                        "prediction-momentum-template@>=2.0.0"),
                e -> true);
        rewrite(
                dir.resolve("j-missing-plugin-class.zip"),
                Map.of(
                        "Plugin-Id",
                        "momentum-no-plugin-class",
                        "Plugin-Class",
                        "dev.quiver.plugins.template.NoSuchPlugin"),
                e -> true);
        // Trusted: everything but the truncated and the zip-slip archives (refused unread).
        Trusting.trust(
                dir.resolve("a-good.zip"),
                dir.resolve("b-api-2.zip"),
                dir.resolve("c-missing-dependency.zip"),
                dir.resolve("d-unmet-capability.zip"),
                dir.resolve("e-duplicate-id.zip"),
                dir.resolve("h-missing-extension-class.zip"),
                dir.resolve("i-wrong-dependency-version.zip"),
                dir.resolve("j-missing-plugin-class.zip"));
    }

    @Test
    void eachBadPluginIsRefusedWithItsReasonAndTheGoodOneServes() throws IOException {
        try (var runtime = PluginRuntime.start(dir, Map.of())) {
            assertThat(runtime.plugins())
                    .singleElement()
                    .satisfies(
                            p -> assertThat(p.path().getFileName().toString()).isEqualTo("a-good"));
            assertThat(runtime.predictions())
                    .singleElement()
                    .satisfies(p -> assertThat(p.descriptor().name()).isEqualTo("momentum"));
            List<PluginRefusal> refusals = runtime.refusals();
            assertThat(refusals).as(refusals.toString()).hasSize(9);
            assertThat(refusal(refusals, "momentum-api-2").message())
                    .contains(
                            "requires plugins-api >=2.0.0 & <3.0.0; this host provides "
                                    + dev.quiver.api.QuiverApi.VERSION);
            assertThat(refusal(refusals, "momentum-needs-dep").message())
                    .contains("momentum-needs-dep")
                    .contains("prediction-nowhere");
            assertThat(refusal(refusals, "momentum-needs-template-2"))
                    .satisfies(r -> assertThat(r.code()).isEqualTo("WRONG_DEPENDENCY_VERSION"))
                    .satisfies(
                            r ->
                                    assertThat(r.message())
                                            .contains(
                                                    "depends on plugin"
                                                            + " 'prediction-momentum-template'"
                                                            + " >=2.0.0, which is installed at"
                                                            + " version 1.0.0"));
            assertThat(refusal(refusals, "momentum-no-plugin-class").message())
                    .contains("momentum-no-plugin-class")
                    .contains("dev.quiver.plugins.template.NoSuchPlugin");
            assertThat(refusal(refusals, "momentum-needs-model"))
                    .satisfies(r -> assertThat(r.code()).isEqualTo("CAPABILITY_UNRESOLVED"))
                    .satisfies(
                            r ->
                                    assertThat(r.message())
                                            .contains(
                                                    "requires quiver.model;"
                                                            + " filter:=\"(&(format=onnx)(name=lstm-direction))\"")
                                            .contains("On offer in quiver.model:\n    nothing"));
            assertThat(refusal(refusals, "prediction-momentum-template"))
                    .satisfies(r -> assertThat(r.code()).isEqualTo("DUPLICATE_PLUGIN_ID"))
                    .satisfies(
                            r ->
                                    assertThat(r.message())
                                            .contains("e-duplicate-id")
                                            .contains("a-good"));
            assertThat(refusal(refusals, "f-truncated.zip").code()).isEqualTo("PLUGIN_UNREADABLE");
            assertThat(refusal(refusals, "g-zip-slip.zip").message())
                    .contains("'../../evil.txt' would be written outside the plugin's folder");
            assertThat(refusal(refusals, "momentum-no-class"))
                    .satisfies(r -> assertThat(r.code()).isEqualTo("EXTENSION_CLASS_MISSING"))
                    .satisfies(
                            r ->
                                    assertThat(r.message())
                                            .contains(
                                                    "dev.quiver.plugins.template.MomentumForecaster"));
        }
        // Nothing escaped the plugins folder; the zip-slip archive was never expanded.
        assertThat(root.resolve("evil.txt")).doesNotExist();
        assertThat(root.getParent().resolve("evil.txt")).doesNotExist();
        assertThat(dir.resolve("g-zip-slip")).doesNotExist();
    }

    @Test
    void pluginsCheckPrintsTheResolutionAndFailsWhenAnythingIsRefused() {
        var out = new StringWriter();
        var err = new StringWriter();
        int code =
                Cli.execute(
                        new PrintWriter(out),
                        new PrintWriter(err),
                        "plugins",
                        "check",
                        dir.toString());
        assertThat(code).isEqualTo(1);
        assertThat(out.toString())
                .contains(
                        "host provides quiver.host; api:Version="
                                + dev.quiver.api.QuiverApi.VERSION)
                .contains("prediction-momentum-template provides quiver.prediction; name=momentum")
                .contains("WIRED    prediction-momentum-template")
                .contains("REFUSED  [Quiver/CAPABILITY_UNRESOLVED] Plugin 'momentum-needs-model'")
                .contains("resolution: 1 wired, 9 refused");
    }

    @Test
    void pluginsCheckExitsZeroOnAFolderThatResolves() throws IOException {
        Path good = Files.createDirectories(root.resolve("good"));
        Files.copy(TEMPLATE, good.resolve("template.zip"));
        Trusting.trust(good);
        var out = new StringWriter();
        int code =
                Cli.execute(
                        new PrintWriter(out),
                        new PrintWriter(new StringWriter()),
                        "plugins",
                        "check",
                        good.toString());
        assertThat(code).as(out.toString()).isZero();
        assertThat(out.toString()).contains("resolution: 1 wired, 0 refused");
    }

    static PluginRefusal refusal(List<PluginRefusal> refusals, String id) {
        return refusals.stream()
                .filter(r -> r.pluginId().equals(id))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no refusal of " + id + " in " + refusals));
    }

    /** Copies the template zip with replaced manifest headers, keeping the entries {@code keep}. */
    static void rewrite(Path target, Map<String, String> headers, Predicate<ZipEntry> keep)
            throws IOException {
        try (var zip = new ZipFile(TEMPLATE.toFile());
                OutputStream out = Files.newOutputStream(target);
                var zos = new ZipOutputStream(out)) {
            for (ZipEntry e : zip.stream().filter(keep).toList()) {
                zos.putNextEntry(new ZipEntry(e.getName()));
                try (InputStream in = zip.getInputStream(e)) {
                    if (e.getName().equals("classes/META-INF/MANIFEST.MF")) {
                        var mf = new Manifest(in);
                        headers.forEach(
                                (k, v) -> mf.getMainAttributes().put(new Attributes.Name(k), v));
                        mf.write(zos);
                    } else {
                        in.transferTo(zos);
                    }
                }
                zos.closeEntry();
            }
        }
    }

    static void appendEntry(Path zipFile, String name) throws IOException {
        Path tmp = zipFile.resolveSibling(zipFile.getFileName() + ".tmp");
        try (var zip = new ZipFile(zipFile.toFile());
                var zos = new ZipOutputStream(Files.newOutputStream(tmp))) {
            for (ZipEntry e : zip.stream().toList()) {
                zos.putNextEntry(new ZipEntry(e.getName()));
                try (InputStream in = zip.getInputStream(e)) {
                    in.transferTo(zos);
                }
                zos.closeEntry();
            }
            zos.putNextEntry(new ZipEntry(name));
            zos.write("escaped".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            zos.closeEntry();
        }
        Files.move(tmp, zipFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
}
