package dev.quiver.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.LabeledForecasts;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.api.sizing.SizingOutcome;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The 1.3.0 state defaults: a capability that does not learn is stateless; one that learns in
 * {@code fit} but was written without {@code exportState} is reported as fitted and not exportable,
 * never as stateless.
 */
class StateDefaultsTest {

    static class FixedSizing implements SizingCapability {
        @Override
        public CapabilityDescriptor descriptor() {
            return CapabilityDescriptor.of("fixed", "1.0.0");
        }

        @Override
        public SizingDecision size(SizingContext context) {
            return new SizingDecision(0, "flat", Map.of());
        }
    }

    static final class LearningSizing extends FixedSizing {
        @Override
        public CapabilityDescriptor descriptor() {
            return CapabilityDescriptor.of("learns", "1.0.0");
        }

        @Override
        public void fit(List<SizingOutcome> history) {}
    }

    static class PlainEnsemble implements EnsembleCapability {
        @Override
        public CapabilityDescriptor descriptor() {
            return CapabilityDescriptor.of("plain", "1.0.0");
        }

        @Override
        public FusedSignal fuse(List<Forecast> forecasts, FeatureFrame frame) {
            throw new UnsupportedOperationException("not called");
        }
    }

    @Test
    void aSizingPolicyWithoutFitIsStatelessAndSaysSo() {
        SizingCapability s = new FixedSizing();
        assertThat(s.hasFittedState()).isFalse();
        assertThatThrownBy(() -> s.exportState(Path.of(".")))
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessage("sizing 'fixed' has no fitted state to export");
        assertThatThrownBy(() -> s.restoreState(Path.of(".")))
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessage("sizing 'fixed' has no fitted state to restore");
    }

    @Test
    void aSizingPolicyThatLearnsButCannotExportIsNotMistakenForStateless() {
        SizingCapability s = new LearningSizing();
        assertThat(s.hasFittedState()).isTrue();
        assertThatThrownBy(() -> s.exportState(Path.of(".")))
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessage(
                        "sizing 'learns' learns in fit but does not implement exportState: its"
                                + " fitted state cannot be exported");
        assertThatThrownBy(() -> s.restoreState(Path.of(".")))
                .isInstanceOf(UnsupportedOperationException.class)
                .hasMessageContaining("does not implement restoreState");
    }

    @Test
    void ensemblesTheSame() {
        EnsembleCapability plain = new PlainEnsemble();
        EnsembleCapability learning =
                new PlainEnsemble() {
                    @Override
                    public void fit(List<LabeledForecasts> trainingWindow) {}
                };
        assertThat(plain.hasFittedState()).isFalse();
        assertThat(learning.hasFittedState()).isTrue();
        assertThatThrownBy(() -> plain.exportState(Path.of(".")))
                .hasMessage("ensemble 'plain' has no fitted state to export");
        assertThatThrownBy(() -> learning.exportState(Path.of(".")))
                .hasMessageContaining("learns in fit but does not implement exportState");
    }
}
