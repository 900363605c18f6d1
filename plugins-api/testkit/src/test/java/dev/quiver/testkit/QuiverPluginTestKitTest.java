package dev.quiver.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuiverPluginTestKitTest {

    @TempDir Path dir;

    @Test
    void aGoodPluginLoadsPassesItsContractAndUnloads() throws IOException {
        Path zip =
                zip(
                        "half",
                        "quiver.prediction; name=half; horizon=1",
                        ">=1.0.0 & <2.0.0",
                        "HalfForecaster");
        QuiverPluginTestKit.load(zip)
                .assertNoFailures()
                .capabilities()
                .assertExactly("prediction:half");
    }

    @Test
    void everyProblemIsNamed() throws IOException {
        Path zip =
                zip(
                        "leaky",
                        "quiver.prediction; name=other",
                        ">=2.0.0 & <3.0.0",
                        "LeakyForecaster");
        var r = QuiverPluginTestKit.load(zip);
        assertThat(r.pluginId()).isEqualTo("leaky");
        assertThat(r.failures())
                .anySatisfy(
                        f ->
                                assertThat(f)
                                        .startsWith(
                                                "manifest: Plugin-Requires >=2.0.0 & <3.0.0 excludes this plugins-api"))
                .anySatisfy(f -> assertThat(f).startsWith("start: plugin did not start"));
    }

    @Test
    void contractFailuresAndLeaksAreReported() throws IOException {
        Path zip =
                zip(
                        "leaky",
                        "quiver.prediction; name=other",
                        ">=1.0.0 & <2.0.0",
                        "LeakyForecaster");
        var r = QuiverPluginTestKit.load(zip);
        assertThat(r.capabilities().list()).containsExactly("prediction:leaky");
        assertThat(r.failures())
                .anySatisfy(
                        f ->
                                assertThat(f)
                                        .contains(
                                                "Provide-Capability declares no quiver.prediction; name=leaky"))
                .anySatisfy(
                        f ->
                                assertThat(f)
                                        .startsWith(
                                                "contract prediction:leaky forecastsAreFiniteProbabilitiesForTheDecisionBar: AssertionFailedError"))
                .anySatisfy(
                        f ->
                                assertThat(f)
                                        .startsWith(
                                                "contract prediction:leaky closeIsIdempotentAndLaterCallsFailClearly"))
                .anySatisfy(
                        f ->
                                assertThat(f)
                                        .startsWith(
                                                "unload: the plugin's class loader is still reachable"));
    }

    @Test
    void aBundledCopyOfAHostProvidedApiIsNamed() throws Exception {
        Path zip =
                zip(
                        "half",
                        "quiver.prediction; name=half; horizon=1",
                        ">=1.0.0 & <2.0.0",
                        "HalfForecaster");
        Path slf4j =
                Path.of(
                        org.slf4j.Logger.class
                                .getProtectionDomain()
                                .getCodeSource()
                                .getLocation()
                                .toURI());
        try (var fs = java.nio.file.FileSystems.newFileSystem(zip)) {
            Files.createDirectories(fs.getPath("lib"));
            Files.copy(slf4j, fs.getPath("lib", slf4j.getFileName().toString()));
        }
        assertThat(QuiverPluginTestKit.load(zip).failures())
                .anySatisfy(
                        f ->
                                assertThat(f)
                                        .startsWith("lib: " + slf4j.getFileName())
                                        .contains("is provided by the host"));
    }

    @Test
    void aStatelessSizingPluginPassesWithTheStateTestsSkipped() throws IOException {
        Path zip = zip("flat", "quiver.sizing; name=flat", ">=1.3.0 & <2.0.0", "FlatSizer");
        QuiverPluginTestKit.load(zip)
                .assertNoFailures()
                .capabilities()
                .assertExactly("sizing:flat");
    }

    @Test
    void aPackagedEnsembleRunsTheEnsembleContractWithItsStateRoundTrip() throws IOException {
        Path good =
                zip(
                        "bias",
                        "quiver.ensemble; name=bias",
                        ">=1.3.0 & <2.0.0",
                        "BiasEnsemble",
                        "BiasEnsemble$Flaw",
                        "StateText");
        QuiverPluginTestKit.load(good)
                .assertNoFailures()
                .capabilities()
                .assertExactly("ensemble:bias");
        Path forgetful =
                zip(
                        "forgetful",
                        "quiver.ensemble; name=bias",
                        ">=1.3.0 & <2.0.0",
                        "ForgetfulBiasEnsemble",
                        "BiasEnsemble",
                        "BiasEnsemble$Flaw",
                        "StateText");
        // The round trip, the unfitted round trip and the good restore after refused ones fail.
        assertThat(QuiverPluginTestKit.load(forgetful).failures())
                .hasSize(3)
                .allSatisfy(f -> assertThat(f).startsWith("contract ensemble:bias "))
                .anySatisfy(
                        f ->
                                assertThat(f)
                                        .startsWith(
                                                "contract ensemble:bias"
                                                        + " aFittedStateRestoredIntoAFreshInstanceFusesBitForBitTheSame:"
                                                        + " AssertionFailedError"));
    }

    Path zip(String id, String provides, String requires, String simpleName, String... helpers)
            throws IOException {
        String cls = "dev.quiver.testkit.fake." + simpleName;
        var mf = new Manifest();
        Attributes a = mf.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.put(new Attributes.Name("Plugin-Id"), id);
        a.put(new Attributes.Name("Plugin-Version"), "1.0.0");
        a.put(new Attributes.Name("Plugin-Requires"), requires);
        a.put(new Attributes.Name("Provide-Capability"), provides);
        Path zip = dir.resolve(id + ".zip");
        try (var zos = new ZipOutputStream(Files.newOutputStream(zip))) {
            zos.putNextEntry(new ZipEntry("classes/META-INF/MANIFEST.MF"));
            mf.write(zos);
            zos.putNextEntry(new ZipEntry("classes/META-INF/extensions.idx"));
            zos.write((cls + "\n").getBytes(StandardCharsets.UTF_8));
            String file = cls.replace('.', '/') + ".class";
            zos.putNextEntry(new ZipEntry("classes/" + file));
            try (InputStream in = getClass().getResourceAsStream("/" + file)) {
                in.transferTo(zos);
            }
            zos.closeEntry();
            for (String helper : helpers) {
                String helperFile = "dev/quiver/testkit/fake/" + helper + ".class";
                zos.putNextEntry(new ZipEntry("classes/" + helperFile));
                try (InputStream in = getClass().getResourceAsStream("/" + helperFile)) {
                    in.transferTo(zos);
                }
                zos.closeEntry();
            }
        }
        return zip;
    }
}
