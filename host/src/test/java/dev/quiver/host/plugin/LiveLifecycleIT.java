package dev.quiver.host.plugin;

import static dev.quiver.host.plugin.LivePlugins.TEMPLATE_ID;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.host.data.BundledData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plugins folder changing under a running {@link PluginRuntime}, through the {@link
 * PluginFolderWatcher}: drop-in, replace, remove, partial copies, withdrawal of a dependent,
 * quarantine lifted by a reload, and two versions of one plugin side by side as rollout variants.
 * Every plugin is a real zip loaded through PF4J.
 */
class LiveLifecycleIT {

    static FeatureFrame frame;

    @TempDir Path dir;

    /** Transitions the watcher published, retired at once (no decisions hold them here). */
    final List<PluginTransition> published = new ArrayList<>();

    @BeforeAll
    static void frame() {
        frame = FeaturePipeline.compute(BundledData.BTC_USD_4H.load().truncate(300)).frame(299);
    }

    PluginFolderWatcher watcher(PluginRuntime runtime, boolean retireAtOnce) {
        return new PluginFolderWatcher(
                runtime,
                Duration.ofMillis(100),
                Duration.ofHours(1),
                t -> {
                    published.add(t);
                    if (retireAtOnce) {
                        t.retire();
                    }
                    return "published " + published.size();
                });
    }

    @Test
    void aDroppedInPluginIsLoadedReplacedAndRemovedWithoutARestart() throws IOException {
        try (var runtime = PluginRuntime.start(dir, Map.of())) {
            var watcher = watcher(runtime, false);
            assertThat(runtime.plugins()).isEmpty();

            Path zip = dir.resolve("momentum.zip");
            LivePlugins.template("1.0.0", zip);
            assertThat(watcher.scan().isEmpty())
                    .as("first sight: size and time not yet stable")
                    .isTrue();
            assertThat(watcher.status().pending()).containsExactly("momentum.zip");
            PluginTransition loaded = watcher.scan();
            assertThat(loaded.actions())
                    .containsExactly("loaded " + TEMPLATE_ID + " 1.0.0 (momentum.zip)");
            assertThat(runtime.plugins())
                    .extracting(LoadedPlugin::version)
                    .containsExactly("1.0.0");
            PredictionCapability v1 = runtime.predictions().get(0);
            assertThat(v1.forecast(frame).probabilityUp()).isBetween(0.0, 1.0);

            LivePlugins.template("1.0.1", zip);
            watcher.scan();
            PluginTransition replaced = watcher.scan();
            assertThat(replaced.actions())
                    .containsExactly("replaced " + TEMPLATE_ID + " 1.0.0 -> 1.0.1 (momentum.zip)");
            assertThat(replaced.removedPluginIds()).containsExactly(TEMPLATE_ID);
            assertThat(runtime.plugins())
                    .extracting(LoadedPlugin::version)
                    .containsExactly("1.0.1");
            PredictionCapability v2 = runtime.predictions().get(0);
            assertThat(((Guarded) v2).delegate().getClass().getClassLoader())
                    .isNotSameAs(((Guarded) v1).delegate().getClass().getClassLoader());
            // Until it is retired (after the drain) the old version keeps answering.
            assertThat(v1.forecast(frame).probabilityUp()).isBetween(0.0, 1.0);
            replaced.retire();
            assertThatThrownBy(() -> v1.forecast(frame))
                    .isInstanceOf(PluginCallException.class)
                    .hasMessageContaining(TEMPLATE_ID);
            assertThat(v2.forecast(frame).probabilityUp()).isBetween(0.0, 1.0);

            Files.delete(zip);
            PluginTransition removed = watcher.scan();
            assertThat(removed.actions())
                    .containsExactly("removed " + TEMPLATE_ID + " 1.0.1 (momentum.zip deleted)");
            assertThat(runtime.plugins()).isEmpty();
            assertThat(runtime.predictions()).isEmpty();
            removed.retire();

            assertThat(published).hasSize(3);
            var status = watcher.status();
            assertThat(status.lastChange().sequence()).isEqualTo(3);
            assertThat(status.lastChange().published()).isEqualTo("published 3");
            assertThat(status.lastChange().actions()).isEqualTo(removed.actions());
            // Nothing of the live loads is left behind.
            try (var staged = Files.list(runtime.stagingDir())) {
                assertThat(staged.toList()).isEmpty();
            }
        }
    }

    @Test
    void aNewVersionThatCannotBeWiredLeavesTheRunningOneServing() throws IOException {
        Path zip = dir.resolve("momentum.zip");
        LivePlugins.template("1.0.0", zip);
        try (var runtime = PluginRuntime.start(dir, Map.of())) {
            var watcher = watcher(runtime, true);
            LivePlugins.template(
                    "1.0.1",
                    zip,
                    Map.of("Require-Capability", "quiver.sizing; filter:=\"(name=nobody)\""));
            watcher.scan();
            PluginTransition refused = watcher.scan();
            assertThat(refused.changesWiring()).isFalse();
            assertThat(published).isEmpty();
            assertThat(refused.actions())
                    .contains("kept " + TEMPLATE_ID + " 1.0.0: the new momentum.zip was refused")
                    .anySatisfy(
                            a ->
                                    assertThat(a)
                                            .startsWith(
                                                    "refused "
                                                            + TEMPLATE_ID
                                                            + ": [Quiver/CAPABILITY_UNRESOLVED]")
                                            .contains("(name=nobody)"));
            assertThat(runtime.plugins())
                    .extracting(LoadedPlugin::version)
                    .containsExactly("1.0.0");
            assertThat(runtime.predictions().get(0).forecast(frame).probabilityUp())
                    .isBetween(0.0, 1.0);
            assertThat(runtime.refusals())
                    .singleElement()
                    .satisfies(r -> assertThat(r.path()).isEqualTo(zip));

            LivePlugins.template("1.0.2", zip);
            watcher.scan();
            assertThat(watcher.scan().actions())
                    .containsExactly("replaced " + TEMPLATE_ID + " 1.0.0 -> 1.0.2 (momentum.zip)");
            assertThat(runtime.refusals()).isEmpty();
        }
    }

    @Test
    void aPartialCopyIsNotLoadedUntilItIsComplete() throws IOException {
        try (var runtime = PluginRuntime.start(dir, Map.of())) {
            var watcher = watcher(runtime, true);
            Path full = dir.resolve(".full.zip");
            LivePlugins.template("1.0.0", full);
            byte[] bytes = Files.readAllBytes(full);
            Path zip = dir.resolve("momentum.zip");
            Files.write(zip, java.util.Arrays.copyOf(bytes, bytes.length * 6 / 10));
            for (int i = 0; i < 3; i++) {
                assertThat(watcher.scan().isEmpty()).isTrue();
            }
            assertThat(watcher.status().pending()).containsExactly("momentum.zip");
            assertThat(runtime.plugins()).isEmpty();
            assertThat(runtime.refusals()).isEmpty();

            Files.write(zip, bytes);
            watcher.scan();
            assertThat(watcher.scan().actions())
                    .containsExactly("loaded " + TEMPLATE_ID + " 1.0.0 (momentum.zip)");
            assertThat(watcher.status().pending()).isEmpty();
        }
    }

    @Test
    void anArchiveThatNeverOpensAsAZipIsRefusedOnceTheWaitIsOver() throws IOException {
        var clock = new MutableClock();
        try (var runtime = PluginRuntime.start(dir, Map.of())) {
            var watcher =
                    new PluginFolderWatcher(
                            runtime, Duration.ofSeconds(1), Duration.ofSeconds(10), t -> "", clock);
            Files.writeString(dir.resolve("broken.zip"), "not a zip at all");
            watcher.scan();
            clock.advance(Duration.ofSeconds(5));
            assertThat(watcher.scan().isEmpty())
                    .as("still waiting for the copy to finish")
                    .isTrue();
            clock.advance(Duration.ofSeconds(6));
            PluginTransition refused = watcher.scan();
            assertThat(refused.changesWiring()).isFalse();
            assertThat(refused.refusals())
                    .singleElement()
                    .satisfies(
                            r -> {
                                assertThat(r.code()).isEqualTo("PLUGIN_UNREADABLE");
                                assertThat(r.path()).isEqualTo(dir.resolve("broken.zip"));
                                assertThat(r.message())
                                        .contains("broken.zip")
                                        .contains("not a readable zip");
                            });
            assertThat(runtime.refusals()).isEqualTo(refused.refusals());
            assertThat(watcher.status().lastChange().actions())
                    .singleElement()
                    .asString()
                    .startsWith("refused broken.zip");
            // Refused once, not again on every poll.
            assertThat(watcher.scan().isEmpty()).isTrue();
        }
    }

    @Test
    void removingAProviderWithdrawsItsDependentAndBringingItBackRewiresBoth() throws IOException {
        Path fixed = dir.resolve("sizing-fixed-1.0.0.zip");
        Files.copy(LivePlugins.DISTRIBUTION.resolve("plugins/sizing-fixed-1.0.0.zip"), fixed);
        LivePlugins.template(
                "1.0.0",
                dir.resolve("momentum.zip"),
                Map.of("Require-Capability", "quiver.sizing; filter:=\"(name=fixed)\""));
        try (var runtime = PluginRuntime.start(dir, Map.of())) {
            var watcher = watcher(runtime, true);
            assertThat(runtime.plugins())
                    .extracting(LoadedPlugin::id)
                    .containsExactly(TEMPLATE_ID, "sizing-fixed");

            Path aside = Files.move(fixed, dir.resolve(".sizing-fixed.aside"));
            PluginTransition t = watcher.scan();
            assertThat(t.removedPluginIds()).containsExactlyInAnyOrder("sizing-fixed", TEMPLATE_ID);
            assertThat(t.actions())
                    .anySatisfy(
                            a ->
                                    assertThat(a)
                                            .startsWith("withdrew " + TEMPLATE_ID + " 1.0.0: ")
                                            .contains("CAPABILITY_UNRESOLVED")
                                            .contains("(name=fixed)"))
                    .contains("removed sizing-fixed 1.0.0 (sizing-fixed-1.0.0.zip deleted)");
            assertThat(runtime.plugins()).isEmpty();
            assertThat(runtime.predictions()).isEmpty();
            assertThat(runtime.refusals())
                    .singleElement()
                    .satisfies(
                            r -> {
                                assertThat(r.pluginId()).isEqualTo(TEMPLATE_ID);
                                assertThat(r.code()).isEqualTo("CAPABILITY_UNRESOLVED");
                                assertThat(r.path()).isEqualTo(dir.resolve("momentum.zip"));
                            });

            Files.move(aside, fixed);
            watcher.scan();
            PluginTransition back = watcher.scan();
            assertThat(back.added())
                    .extracting(LoadedPlugin::id)
                    .containsExactlyInAnyOrder("sizing-fixed", TEMPLATE_ID);
            assertThat(runtime.refusals()).isEmpty();
            assertThat(runtime.predictions().get(0).forecast(frame).probabilityUp())
                    .isBetween(0.0, 1.0);
        }
    }

    @Test
    void aReloadedQuarantinedPluginStartsFresh() throws IOException {
        Path zip = dir.resolve("throwing.zip");
        String cls = "dev.quiver.host.plugin.misbehaving.ThrowingForecaster";
        String provides = "quiver.prediction; name=throwing; horizon=1";
        LivePlugins.oneClass(zip, "bad-throwing", "1.0.0", provides, cls);
        try (var runtime = PluginRuntime.start(dir, Map.of("quiver.plugin.deadline-ms", "500"))) {
            var watcher = watcher(runtime, true);
            PredictionCapability p = runtime.predictions().get(0);
            for (int i = 0; i < 3; i++) {
                assertThatThrownBy(() -> p.forecast(frame)).isInstanceOf(PluginCallException.class);
            }
            assertThat(runtime.health().get(0).quarantined()).isTrue();

            Path next = dir.resolve(".throwing.next");
            LivePlugins.oneClass(next, "bad-throwing", "1.0.1", provides, cls);
            Files.move(next, zip, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            watcher.scan();
            assertThat(watcher.scan().actions())
                    .containsExactly("replaced bad-throwing 1.0.0 -> 1.0.1 (throwing.zip)");
            PluginHealth fresh = runtime.health().get(0);
            assertThat(fresh.state()).isEqualTo("ACTIVE");
            assertThat(fresh.calls()).isZero();
            assertThat(fresh.failures()).isZero();
            // The fresh version is called (and still fails, with its own deadline-guarded call).
            assertThatThrownBy(() -> runtime.predictions().get(0).forecast(frame))
                    .isInstanceOf(PluginCallException.class)
                    .hasMessageContaining("deliberately broken");
        }
    }

    @Test
    void aPluginThatLeavesAThreadRunningIsNamedWhenItIsUnloaded() throws Exception {
        Path zip = dir.resolve("leaking.zip");
        LivePlugins.oneClass(
                zip,
                "bad-leaking",
                "1.0.0",
                "quiver.prediction; name=leaking; horizon=1",
                "dev.quiver.host.plugin.misbehaving.ThreadLeakingForecaster");
        try (var runtime = PluginRuntime.start(dir, Map.of())) {
            var watcher = watcher(runtime, false);
            Files.delete(zip);
            PluginTransition removed = watcher.scan();
            removed.retire();
            assertThat(removed.threadsLeftBehind()).containsExactly("leaky-cache-refresher");
            assertThat(ReloadLeakIT.collect(removed.retiredClassLoaders()))
                    .as("its class loader, pinned by the thread")
                    .isEqualTo(1);
        }
    }

    @Test
    void aChangeThatCannotBePublishedIsUndoneAndHeldBackUntilTheFileChanges() throws IOException {
        Path zip = dir.resolve("momentum.zip");
        LivePlugins.template("1.0.0", zip);
        try (var runtime = PluginRuntime.start(dir, Map.of())) {
            var failNext = new java.util.concurrent.atomic.AtomicBoolean(true);
            var watcher =
                    new PluginFolderWatcher(
                            runtime,
                            Duration.ofMillis(100),
                            Duration.ofHours(1),
                            t -> {
                                if (failNext.getAndSet(false)) {
                                    throw new IllegalStateException("the pipeline is closed");
                                }
                                t.retire();
                                return "ok";
                            });
            LivePlugins.template("1.0.1", zip);
            watcher.scan();
            assertThatThrownBy(watcher::scan)
                    .hasMessageContaining("PLUGINS_NOT_PUBLISHED")
                    .hasMessageContaining("replaced " + TEMPLATE_ID + " 1.0.0 -> 1.0.1")
                    .hasMessageContaining("the pipeline is closed");
            // Undone: the old version is what the runtime reports and serves.
            assertThat(runtime.plugins())
                    .extracting(LoadedPlugin::version)
                    .containsExactly("1.0.0");
            assertThat(runtime.predictions().get(0).forecast(frame).probabilityUp())
                    .isBetween(0.0, 1.0);
            assertThat(watcher.scan().isEmpty()).as("held back, not retried every poll").isTrue();
            assertThat(watcher.status().pending()).containsExactly("momentum.zip");

            LivePlugins.template("1.0.2", zip);
            watcher.scan();
            assertThat(watcher.scan().actions())
                    .containsExactly("replaced " + TEMPLATE_ID + " 1.0.0 -> 1.0.2 (momentum.zip)");
        }
    }

    @Test
    void aSecondCopyOfARunningPluginIsRefusedUntilTheFirstLeaves() throws IOException {
        LivePlugins.template("1.0.0", dir.resolve("a-momentum.zip"));
        try (var runtime = PluginRuntime.start(dir, Map.of())) {
            var watcher = watcher(runtime, true);
            LivePlugins.template("1.0.1", dir.resolve("b-momentum.zip"));
            watcher.scan();
            PluginTransition dup = watcher.scan();
            assertThat(dup.refusals())
                    .singleElement()
                    .satisfies(r -> assertThat(r.code()).isEqualTo("DUPLICATE_PLUGIN_ID"));
            assertThat(runtime.plugins())
                    .extracting(LoadedPlugin::version)
                    .containsExactly("1.0.0");

            Files.delete(dir.resolve("a-momentum.zip"));
            PluginTransition t = watcher.scan();
            assertThat(t.actions())
                    .containsExactly(
                            "replaced " + TEMPLATE_ID + " 1.0.0 -> 1.0.1 (b-momentum.zip)");
            assertThat(runtime.refusals()).isEmpty();
        }
    }

    @Test
    void championAndChallengerVersionsOfOnePluginRunSideBySide(@TempDir Path variants)
            throws IOException {
        Path champion = Files.createDirectories(variants.resolve("champion"));
        Path challenger = Files.createDirectories(variants.resolve("challenger"));
        LivePlugins.template("1.0.0", champion.resolve("momentum.zip"));
        LivePlugins.template("1.1.0", challenger.resolve("momentum.zip"));
        PluginVariant a = PluginVariants.load(champion, Map.of());
        assertThat(a.label()).isEqualTo("champion");
        try (PluginVariant b = PluginVariants.load("challenger", challenger, Map.of())) {
            assertThat(a.versions()).isEqualTo(Map.of(TEMPLATE_ID, "1.0.0"));
            assertThat(b.versions()).isEqualTo(Map.of(TEMPLATE_ID, "1.1.0"));
            PredictionCapability pa = a.predictions().get(0);
            PredictionCapability pb = b.predictions().get(0);
            assertThat(((Guarded) pa).delegate().getClass())
                    .isNotSameAs(((Guarded) pb).delegate().getClass());
            assertThat(pa.forecast(frame).probabilityUp())
                    .isEqualTo(pb.forecast(frame).probabilityUp());
            a.close();
            assertThat(pb.forecast(frame).probabilityUp()).isBetween(0.0, 1.0);
        }
        assertThatThrownBy(() -> PluginVariants.load(" ", champion, Map.of()))
                .hasMessageContaining("needs a label");
        assertThatThrownBy(() -> PluginVariants.load("x", variants.resolve("none"), Map.of()))
                .hasMessageContaining("variant 'x'")
                .hasMessageContaining("does not exist");
    }

    /** A clock the test moves. */
    static final class MutableClock extends Clock {
        private Instant now = Instant.parse("2026-01-01T00:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
