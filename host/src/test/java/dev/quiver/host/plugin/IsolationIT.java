package dev.quiver.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.risk.GuardedDecision;
import dev.quiver.engine.risk.RiskGuard;
import dev.quiver.host.cli.Cli;
import dev.quiver.host.data.BundledData;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Misbehaving plugins, built as real zips and loaded through PF4J beside the real traditional
 * plugin: one throws, one hangs, one returns garbage, one sizes far above the cap. 300 decisions
 * flow; the host stays up, every failed call is named, the bad plugins are quarantined and the good
 * one keeps serving (RELIABILITY.md P1, P2, P11; bad inputs 4-5).
 */
class IsolationIT {

    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));

    @TempDir Path dir;

    @Test
    void throwingHangingAndGarbagePluginsAreQuarantinedAndTheHostKeepsDeciding()
            throws IOException {
        Files.copy(
                DISTRIBUTION.resolve("plugins/prediction-traditional-1.0.0.zip"),
                dir.resolve("prediction-traditional-1.0.0.zip"));
        String pkg = "dev.quiver.host.plugin.misbehaving.";
        misbehaving(
                "bad-throwing",
                "quiver.prediction; name=throwing; horizon=1",
                pkg + "ThrowingForecaster");
        misbehaving(
                "bad-hanging",
                "quiver.prediction; name=hanging; horizon=1",
                pkg + "HangingForecaster");
        misbehaving(
                "bad-garbage",
                "quiver.prediction; name=garbage; horizon=1",
                pkg + "GarbageForecaster");
        misbehaving("bad-oversized", "quiver.sizing; name=oversized", pkg + "OversizedSizer");

        FeatureMatrix features =
                FeaturePipeline.compute(BundledData.BTC_USD_4H.load().truncate(2_000));
        var config =
                Map.of(
                        "quiver.plugin.isolation", "thread",
                        "quiver.plugin.deadline-ms", "200",
                        "quiver.plugin.quarantine-after-failures", "3",
                        "quiver.plugin.quarantine-after-deadline-misses", "2",
                        "quiver.plugin.max-threads", "2");
        int decisions = 0;
        var flatReasons = new ArrayList<String>();
        long t0 = System.nanoTime();
        try (var runtime = PluginRuntime.start(dir, config)) {
            assertThat(runtime.refusals()).isEmpty();
            assertThat(runtime.predictions()).hasSize(4);
            var guard = new RiskGuard();
            for (int i = 2_000 - 300; i < 2_000; i++) {
                var frame = features.frame(i);
                List<Forecast> forecasts = new ArrayList<>();
                for (PredictionCapability p : runtime.predictions()) {
                    try {
                        forecasts.add(p.forecast(frame));
                    } catch (RuntimeException e) {
                        assertThat(e).isInstanceOf(PluginCallException.class);
                    }
                }
                // The fallback: the sources that answered (here, traditional) decide alone.
                assertThat(forecasts).extracting(Forecast::source).contains("traditional");
                double p = forecasts.get(0).probabilityUp();
                var ctx =
                        new SizingContext(
                                new FusedSignal(
                                        frame.bar().start(), p, Math.abs(2 * p - 1), 1, List.of()),
                                10_000,
                                0,
                                0.5,
                                0.01,
                                1.0);
                for (SizingCapability s : runtime.sizings()) {
                    GuardedDecision d = guard.decide(s, ctx);
                    assertThat(d.fraction()).isBetween(0.0, 0.5);
                    if (d.fraction() == 0) {
                        flatReasons.add(d.reason());
                    }
                }
                decisions++;
            }
            Map<String, PluginHealth> health = new java.util.HashMap<>();
            runtime.health().forEach(h -> health.put(h.pluginId(), h));
            assertThat(health.get("prediction-traditional").state()).isEqualTo("ACTIVE");
            assertThat(health.get("prediction-traditional").failures()).isZero();
            assertThat(health.get("bad-throwing").reason())
                    .startsWith(
                            "3 consecutive failed calls, the last: forecast threw java.lang.IllegalStateException: deliberately broken");
            assertThat(health.get("bad-hanging").reason())
                    .startsWith("2 missed deadlines in its last 20 calls (calls ")
                    .endsWith(
                            "), the last: forecast did not return within its deadline of 200"
                                    + " ms");
            assertThat(health.get("bad-hanging").liveThreads()).isLessThanOrEqualTo(2);
            assertThat(health.get("bad-garbage").recentFailures())
                    .anySatisfy(
                            r ->
                                    assertThat(r)
                                            .contains("returned a forecast for bar")
                                            .contains("not the decision bar"))
                    .anySatisfy(r -> assertThat(r).endsWith("forecast returned null"))
                    .anySatisfy(
                            r ->
                                    assertThat(r)
                                            .contains(
                                                    "field 'probabilityUp' is not in [0, 1] (value: 1.7)"));
            assertThat(health.get("bad-oversized").reason())
                    .contains("size returned fraction 1.0E308, above the host cap 0.5");
            assertThat(health.values())
                    .filteredOn(PluginHealth::quarantined)
                    .extracting(PluginHealth::pluginId)
                    .containsExactlyInAnyOrder(
                            "bad-throwing", "bad-hanging", "bad-garbage", "bad-oversized");
            // Quarantined plugins are not called again: their call counts stopped.
            assertThat(health.get("bad-throwing").calls()).isEqualTo(3);
            assertThat(health.get("bad-hanging").calls()).isEqualTo(7);
        }
        assertThat(decisions).isEqualTo(300);
        assertThat(flatReasons).hasSize(300).allSatisfy(r -> assertThat(r).contains("oversized"));
        // Two missed deadlines of 200 ms, everything else immediate.
        assertThat(java.time.Duration.ofNanos(System.nanoTime() - t0))
                .isLessThan(java.time.Duration.ofSeconds(30));
    }

    /**
     * The service's default isolation (calls on the caller's thread, one watchdog): a plugin that
     * stalls past its deadline ignoring interrupts holds its caller until it returns, but is
     * quarantined by the watchdog at the second missed deadline; its late answers are refused and
     * the good plugin keeps deciding.
     */
    @Test
    void withTheWatchdogAStallingPluginIsQuarantinedAndItsLateAnswersRefused() throws IOException {
        Files.copy(
                DISTRIBUTION.resolve("plugins/prediction-traditional-1.0.0.zip"),
                dir.resolve("prediction-traditional-1.0.0.zip"));
        misbehaving(
                "bad-stalling",
                "quiver.prediction; name=stalling; horizon=1",
                "dev.quiver.host.plugin.misbehaving.StallingForecaster");
        misbehaving(
                "bad-throwing",
                "quiver.prediction; name=throwing; horizon=1",
                "dev.quiver.host.plugin.misbehaving.ThrowingForecaster");
        FeatureMatrix features =
                FeaturePipeline.compute(BundledData.BTC_USD_4H.load().truncate(2_000));
        var config =
                Map.of(
                        "quiver.plugin.deadline-ms", "200",
                        "quiver.plugin.quarantine-after-failures", "3",
                        "quiver.plugin.quarantine-after-deadline-misses", "2");
        var deadlineFailures = new ArrayList<String>();
        long t0 = System.nanoTime();
        try (var runtime = PluginRuntime.start(dir, config)) {
            assertThat(runtime.isolation().mode()).isEqualTo(IsolationPolicy.Mode.WATCHDOG);
            assertThat(runtime.predictions()).hasSize(3);
            for (int i = 2_000 - 100; i < 2_000; i++) {
                var frame = features.frame(i);
                List<Forecast> forecasts = new ArrayList<>();
                for (PredictionCapability p : runtime.predictions()) {
                    try {
                        forecasts.add(p.forecast(frame));
                    } catch (PluginCallException e) {
                        if (e.code().equals("PLUGIN_DEADLINE")) {
                            deadlineFailures.add(e.getMessage());
                        }
                    }
                }
                assertThat(forecasts).extracting(Forecast::source).contains("traditional");
            }
            Map<String, PluginHealth> health = new java.util.HashMap<>();
            runtime.health().forEach(h -> health.put(h.pluginId(), h));
            assertThat(health.get("prediction-traditional").state()).isEqualTo("ACTIVE");
            assertThat(health.get("prediction-traditional").calls()).isEqualTo(100);
            assertThat(health.get("bad-stalling").reason())
                    .startsWith("2 missed deadlines in its last 20 calls (calls ")
                    .endsWith(
                            "), the last: forecast did not return within its deadline of 200"
                                    + " ms");
            assertThat(health.get("bad-stalling").calls()).isEqualTo(7);
            assertThat(health.get("bad-stalling").failures()).isEqualTo(2);
            assertThat(health.get("bad-stalling").liveThreads()).isZero();
            assertThat(health.get("bad-throwing").state()).isEqualTo("QUARANTINED");
        }
        assertThat(deadlineFailures)
                .hasSize(2)
                .allSatisfy(
                        m ->
                                assertThat(m)
                                        .contains(
                                                "forecast did not return within its deadline of"
                                                        + " 200 ms (it returned after")
                                        .endsWith("the late result is not used"));
        // Two stalls of 1.5 s each held the caller; everything else immediate.
        assertThat(java.time.Duration.ofNanos(System.nanoTime() - t0))
                .isLessThan(java.time.Duration.ofSeconds(30));
    }

    @Test
    void pluginsCommandShowsTheQuarantineAndExitsNonZero() throws IOException {
        Files.copy(
                DISTRIBUTION.resolve("plugins/prediction-traditional-1.0.0.zip"),
                dir.resolve("prediction-traditional-1.0.0.zip"));
        misbehaving(
                "bad-throwing",
                "quiver.prediction; name=throwing; horizon=1",
                "dev.quiver.host.plugin.misbehaving.ThrowingForecaster");
        var out = new StringWriter();
        int code =
                Cli.execute(
                        new PrintWriter(out),
                        new PrintWriter(new StringWriter()),
                        "plugins",
                        "--plugins-dir",
                        dir.toString(),
                        "--probe-bars",
                        "20");
        assertThat(code).isEqualTo(1);
        assertThat(out.toString())
                .contains(
                        "state QUARANTINED: 3 calls, 3 failed, 0 missed deadlines; quarantined after 3 consecutive failed calls")
                .contains("state ACTIVE: 20 calls, 0 failed");
    }

    /** A plugin zip holding one class of the test class path, its index and manifest. */
    void misbehaving(String id, String provides, String className) throws IOException {
        String classFile = className.replace('.', '/') + ".class";
        var mf = new Manifest();
        Attributes a = mf.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.put(new Attributes.Name("Plugin-Id"), id);
        a.put(new Attributes.Name("Plugin-Version"), "1.0.0");
        a.put(new Attributes.Name("Plugin-Requires"), ">=1.0.0 & <2.0.0");
        a.put(new Attributes.Name("Provide-Capability"), provides);
        try (var zos = new ZipOutputStream(Files.newOutputStream(dir.resolve(id + ".zip")))) {
            zos.putNextEntry(new ZipEntry("classes/META-INF/MANIFEST.MF"));
            mf.write(zos);
            zos.putNextEntry(new ZipEntry("classes/META-INF/extensions.idx"));
            zos.write((className + "\n").getBytes(StandardCharsets.UTF_8));
            zos.putNextEntry(new ZipEntry("classes/" + classFile));
            try (InputStream in = IsolationIT.class.getResourceAsStream("/" + classFile)) {
                in.transferTo(zos);
            }
            zos.closeEntry();
        }
        Trusting.trust(dir.resolve(id + ".zip"));
    }
}
