package dev.quiver.host.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.host.store.StateStore;
import dev.quiver.host.store.TestStores;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A plugin-version rollout that completes installs its winner: the challenger zip replaces the
 * champion's archive in the plugins folder (what a watching service swaps in and a restart serves);
 * one that is rolled back leaves the folder alone. Real plugin zips from the distribution.
 */
class RolloutInstallIT {

    static final Path PLUGINS =
            Path.of(System.getProperty("quiver.distribution")).resolve("plugins");

    @TempDir Path work;

    @Test
    void completingAPluginRolloutReplacesTheChampionsArchiveAndRollingBackDoesNot()
            throws Exception {
        Path plugins = Files.createDirectories(work.resolve("plugins"));
        Files.copy(
                PLUGINS.resolve("prediction-analogs-1.0.0.zip"),
                plugins.resolve("prediction-analogs-1.0.0.zip"));
        Files.copy(
                PLUGINS.resolve("sizing-fixed-1.0.0.zip"),
                plugins.resolve("sizing-fixed-1.0.0.zip"));
        Path challenger = work.resolve("prediction-analogs-1.1.0.zip");
        withVersion(PLUGINS.resolve("prediction-analogs-1.0.0.zip"), challenger, "1.1.0");
        dev.quiver.host.plugin.Trusting.trust(challenger);

        StateStore db = TestStores.sqlite(work);
        var manager =
                RolloutManager.open(new RolloutStore(db), Optional.empty(), Clock.systemUTC());
        manager.installWinnersInto(plugins);
        manager.start(spec("analogs-rolled-back", challenger));
        manager.rollback("analogs-rolled-back", "operator: not now");
        manager.awaitRegistry();
        assertThat(names(plugins))
                .containsExactlyInAnyOrder(
                        "prediction-analogs-1.0.0.zip", "sizing-fixed-1.0.0.zip");

        manager.start(spec("analogs-1-1", challenger));
        for (int i = 0; i < 3; i++) { // shadow -> canary -> full -> completed
            manager.promote("analogs-1-1", "operator");
        }
        manager.awaitRegistry();
        assertThat(manager.get("analogs-1-1").orElseThrow().stage()).isEqualTo(Stage.COMPLETED);
        assertThat(names(plugins))
                .containsExactlyInAnyOrder(
                        "prediction-analogs-1.1.0.zip", "sizing-fixed-1.0.0.zip");
        assertThat(Files.readAllBytes(plugins.resolve("prediction-analogs-1.1.0.zip")))
                .isEqualTo(Files.readAllBytes(challenger));
        assertThat(String.join("\n", manager.store().auditLines()))
                .contains("\"event\":\"install\"")
                .contains("replaced [prediction-analogs-1.0.0.zip]");
        manager.close();
        db.close();
    }

    private static RolloutSpec spec(String id, Path challenger) {
        return RolloutSpec.parse(
                """
                {"id": "%s",
                 "capability": {"kind": "prediction", "name": "analogs", "plugin": "prediction-analogs"},
                 "champion": {},
                 "challenger": {"plugin_zip": "%s"},
                 "rules": {"metric": "log_loss", "min_samples": 300, "alpha": 0.05}}
                """
                        .formatted(id, challenger),
                "RolloutInstallIT",
                null);
    }

    private static java.util.List<String> names(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).toList();
        }
    }

    /** The zip with its manifest's Plugin-Version replaced. */
    private static void withVersion(Path source, Path target, String version) throws IOException {
        try (var zip = new ZipFile(source.toFile());
                OutputStream out = Files.newOutputStream(target);
                var zos = new ZipOutputStream(out)) {
            for (ZipEntry e : zip.stream().toList()) {
                zos.putNextEntry(new ZipEntry(e.getName()));
                try (InputStream in = zip.getInputStream(e)) {
                    if (e.getName().equals("classes/META-INF/MANIFEST.MF")) {
                        var mf = new Manifest(in);
                        mf.getMainAttributes().put(new Attributes.Name("Plugin-Version"), version);
                        mf.write(zos);
                    } else {
                        in.transferTo(zos);
                    }
                }
                zos.closeEntry();
            }
        }
    }
}
