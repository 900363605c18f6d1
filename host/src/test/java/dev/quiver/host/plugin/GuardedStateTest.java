package dev.quiver.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.LabeledForecasts;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.api.sizing.SizingOutcome;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The guard forwards hasFittedState, exportState and restoreState (api 1.3.0). */
class GuardedStateTest {

    static final IsolationPolicy FAST =
            new IsolationPolicy(Duration.ofMillis(500), Duration.ofSeconds(5), 3, 2, 2);

    final PluginGuard guard = new PluginGuard("state-plugin", FAST);
    @TempDir Path dir;

    @AfterEach
    void release() {
        guard.close();
    }

    /** Writes one state file; restore refuses a file that does not say "ok". */
    static class StatefulSizing implements SizingCapability {
        final List<String> threads = new ArrayList<>();
        String restored;

        @Override
        public CapabilityDescriptor descriptor() {
            return CapabilityDescriptor.of("learner", "1.0.0");
        }

        @Override
        public SizingDecision size(SizingContext context) {
            return new SizingDecision(0, "flat", Map.of());
        }

        @Override
        public void fit(List<SizingOutcome> history) {}

        @Override
        public boolean hasFittedState() {
            threads.add(Thread.currentThread().getName());
            return true;
        }

        @Override
        public List<Path> exportState(Path dir) {
            threads.add(Thread.currentThread().getName());
            try {
                return List.of(Files.writeString(dir.resolve("learner.state.json"), "ok"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void restoreState(Path dir) {
            threads.add(Thread.currentThread().getName());
            Path f = dir.resolve("learner.state.json");
            String text;
            try {
                text = Files.readString(f);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (!text.equals("ok")) {
                throw new QuiverInputException("BAD_STATE", "(json)", f.toString(), text, "is bad");
            }
            restored = text;
        }
    }

    @Test
    void statefulCallsRunOnThePluginsThreadsAndBadStateIsPassedOnWithoutQuarantine()
            throws IOException {
        var plugin = new StatefulSizing();
        var s = new GuardedSizing(plugin, guard);
        assertThat(s.hasFittedState()).isTrue();
        assertThat(s.exportState(dir)).containsExactly(dir.resolve("learner.state.json"));
        s.restoreState(dir);
        assertThat(plugin.restored).isEqualTo("ok");
        assertThat(plugin.threads).allSatisfy(t -> assertThat(t).startsWith("quiver-plugin-"));
        Files.writeString(dir.resolve("learner.state.json"), "damaged");
        for (int i = 0; i < 5; i++) {
            assertThatThrownBy(() -> s.restoreState(dir))
                    .isInstanceOf(QuiverInputException.class)
                    .hasMessageStartingWith("[Quiver/BAD_STATE]");
        }
        assertThat(guard.health().state()).isEqualTo("ACTIVE");
    }

    @Test
    void anExportOutsideTheFolderOrWithoutTheStateFileFirstIsGarbage() throws IOException {
        Path elsewhere = Files.createTempFile("elsewhere", ".state.json");
        try {
            var s =
                    new GuardedSizing(
                            new StatefulSizing() {
                                @Override
                                public List<Path> exportState(Path dir) {
                                    return List.of(elsewhere);
                                }
                            },
                            guard);
            assertThatThrownBy(() -> s.exportState(dir))
                    .isInstanceOf(PluginCallException.class)
                    .hasMessageContaining("PLUGIN_GARBAGE")
                    .hasMessageContaining("whose first file is not learner.state.json");
        } finally {
            Files.delete(elsewhere);
        }
    }

    @Test
    void withoutFittedStateOrWithoutAnExportThePluginIsNotCalledAndNotBlamed() {
        EnsembleCapability stateless =
                new EnsembleCapability() {
                    @Override
                    public CapabilityDescriptor descriptor() {
                        return CapabilityDescriptor.of("mean", "1.0.0");
                    }

                    @Override
                    public FusedSignal fuse(List<Forecast> forecasts, FeatureFrame frame) {
                        throw new AssertionError("not called");
                    }
                };
        var e = new GuardedEnsemble(stateless, guard);
        assertThat(e.hasFittedState()).isFalse();
        assertThatThrownBy(() -> e.exportState(dir))
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessage("ensemble 'mean' has no fitted state to export");
        // Built against api 1.2.0: learns in fit, knows nothing of exportState.
        EnsembleCapability old =
                new EnsembleCapability() {
                    @Override
                    public CapabilityDescriptor descriptor() {
                        return CapabilityDescriptor.of("old", "1.0.0");
                    }

                    @Override
                    public void fit(List<LabeledForecasts> trainingWindow) {}

                    @Override
                    public FusedSignal fuse(List<Forecast> forecasts, FeatureFrame frame) {
                        throw new AssertionError("not called");
                    }
                };
        var o = new GuardedEnsemble(old, guard);
        assertThat(o.hasFittedState()).isTrue();
        for (int i = 0; i < 5; i++) {
            assertThatThrownBy(() -> o.restoreState(dir))
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessage(
                            "ensemble 'old' of plugin 'state-plugin' learns in fit but does not"
                                    + " implement restoreState (plugins-api 1.3.0): its fitted"
                                    + " state cannot be restored");
        }
        assertThat(guard.health().failures()).isZero();
    }
}
