package dev.quiver.plugins.fixed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.testkit.Fixtures;
import dev.quiver.testkit.SizingCapabilityContract;
import org.junit.jupiter.api.Test;

class FixedFractionSizerTest implements SizingCapabilityContract {

    @Override
    public SizingCapability newSizing() {
        return new FixedFractionSizer(0.5);
    }

    @Test
    void holdsTheFractionOnlyWhenUpIsMoreLikely() {
        var sizer = new FixedFractionSizer(0.3);
        assertThat(sizer.size(Fixtures.sizing(0.5, 1, 1)).fraction()).isZero();
        assertThat(sizer.size(Fixtures.sizing(Math.nextUp(0.5), 1, 1)).fraction()).isEqualTo(0.3);
        assertThat(sizer.size(Fixtures.sizing(0.9, 1, 0.1)).fraction()).isEqualTo(0.1);
    }

    @Test
    void rejectsAFractionOutsideZeroOne() {
        assertThatThrownBy(() -> new FixedFractionSizer(1.5))
                .isInstanceOf(QuiverInputException.class)
                .hasMessage(
                        "[Quiver/BAD_CONFIG] plugin sizing-fixed: field 'sizing-fixed.fraction' is"
                                + " not in (0, 1] (value: 1.5)");
    }

    @Test
    void isStatelessSoABundleShipsNothingForIt() {
        try (SizingCapability s = newSizing()) {
            // Nothing is learnt in fit: a fresh instance with the same configuration is the state.
            assertThat(s.hasFittedState()).isFalse();
            assertThatThrownBy(() -> s.exportState(java.nio.file.Path.of(".")))
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("has no fitted state to export");
        }
    }
}
