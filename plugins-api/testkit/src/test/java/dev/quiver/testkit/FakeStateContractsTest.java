package dev.quiver.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.testkit.fake.BiasEnsemble;
import dev.quiver.testkit.fake.FlatSizer;
import dev.quiver.testkit.fake.ThresholdSizer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The state tests of the contracts, run on fakes: they pass for a correct export and restore, are
 * skipped for a policy without fitted state, and fail for a restore that forgets or one that leaves
 * the instance changed after refusing a damaged file.
 */
class FakeStateContractsTest {

    @Nested
    class CorrectEnsemble implements EnsembleCapabilityContract {
        @Override
        public EnsembleCapability newEnsemble() {
            return new BiasEnsemble();
        }
    }

    @Nested
    class CorrectSizing implements SizingCapabilityContract {
        @Override
        public SizingCapability newSizing() {
            return new ThresholdSizer();
        }
    }

    @Nested
    class StatelessSizing implements SizingCapabilityContract {
        @Override
        public SizingCapability newSizing() {
            return new FlatSizer();
        }
    }

    @Test
    void aStatelessPolicyPassesTheStateTestsByRefusingToExportNotBySkipping() {
        SizingCapabilityContract contract = FlatSizer::new;
        // nothing is skipped: the state tests check the stateless promise instead
        contract.aFittedStateRestoredIntoAFreshInstanceSizesBitForBitTheSame();
        contract.theUnfittedStateRoundTripsToo();
        contract.exportAndRestoreAfterCloseFailClearly();
        contract.withoutFittedStateExportAndRestoreSaySo();
        try (var flat = new FlatSizer()) {
            assertThat(flat.hasFittedState()).isFalse();
        }
    }

    @Test
    void aRestoreThatForgetsFailsTheRoundTrip() {
        EnsembleCapabilityContract ensemble =
                () -> new BiasEnsemble(BiasEnsemble.Flaw.FORGETS_ON_RESTORE);
        assertThatThrownBy(ensemble::aFittedStateRestoredIntoAFreshInstanceFusesBitForBitTheSame)
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("restored instance vs the exported one, probe 0");
        SizingCapabilityContract sizing = () -> new ThresholdSizer(true);
        assertThatThrownBy(sizing::aFittedStateRestoredIntoAFreshInstanceSizesBitForBitTheSame)
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("restored instance vs the exported one, probe 0");
    }

    @Test
    void aRestoreThatResetsBeforeReadingADamagedFileFails() {
        EnsembleCapabilityContract ensemble =
                () -> new BiasEnsemble(BiasEnsemble.Flaw.RESETS_BEFORE_READING);
        // The round trip itself passes: only the refused restore shows the flaw.
        ensemble.aFittedStateRestoredIntoAFreshInstanceFusesBitForBitTheSame();
        assertThatThrownBy(
                        ensemble::aTruncatedOrMissingStateFileIsRefusedAndTheInstanceFusesAsBefore)
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("after a refused restore with bias.state.json truncated");
    }

    @Test
    void anEnsembleThatLearnsButCannotExportFailsRatherThanBeingSkipped() {
        EnsembleCapabilityContract contract =
                () ->
                        new BiasEnsemble() {
                            @Override
                            public java.util.List<java.nio.file.Path> exportState(
                                    java.nio.file.Path dir) {
                                throw new UnsupportedOperationException(
                                        "ensemble 'bias' cannot export");
                            }
                        };
        assertThatThrownBy(contract::aFittedStateRestoredIntoAFreshInstanceFusesBitForBitTheSame)
                .isInstanceOf(UnsupportedOperationException.class);
    }
}
