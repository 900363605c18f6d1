package dev.quiver.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingDecision;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link SizingCapability} must meet. Implement it in a test class and supply
 * {@link #newSizing()}; the tests come with it (JUnit test-interface style).
 *
 * <pre>{@code
 * class MySizerContractTest implements SizingCapabilityContract {
 *     public SizingCapability newSizing() { return new MySizer(0.25); }
 * }
 * }</pre>
 */
public interface SizingCapabilityContract {

    /**
     * A fresh instance of the capability under test.
     *
     * @return the capability
     */
    SizingCapability newSizing();

    /** Probabilities, payoff ratios and caps the grid tests walk through. */
    double[] PROBABILITIES = {0, 1e-9, 0.1, 0.3, 0.45, 0.5, 0.5000001, 0.55, 0.6, 0.75, 0.9, 1};

    /** Payoff ratios b of the grid. */
    double[] PAYOFF_RATIOS = {1e-6, 0.1, 0.5, 1, 1.5, 2, 10, 1e6};

    /** Host caps of the grid, fractions of equity. */
    double[] CAPS = {1e-4, 0.05, 0.25, 0.5, 1};

    @Test
    default void decisionIsFiniteNonNegativeAndNeverAboveTheCap() {
        try (SizingCapability sizing = newSizing()) {
            for (double p : PROBABILITIES) {
                for (double b : PAYOFF_RATIOS) {
                    for (double cap : CAPS) {
                        SizingDecision d = sizing.size(Fixtures.sizing(p, b, cap));
                        assertThat(d).as("p=%s b=%s cap=%s", p, b, cap).isNotNull();
                        assertThat(d.fraction())
                                .as("fraction for p=%s b=%s cap=%s (%s)", p, b, cap, d.reason())
                                .isFinite()
                                .isBetween(0.0, cap);
                        assertThat(d.reason()).isNotBlank();
                    }
                }
            }
        }
    }

    @Test
    default void noEdgeGivesZero() {
        // p <= 0.5 with b <= 1 has a non-positive edge p*b - (1 - p) under every definition.
        try (SizingCapability sizing = newSizing()) {
            for (double p : new double[] {0, 0.2, 0.4, 0.5}) {
                for (double b : new double[] {0.5, 1}) {
                    assertThat(sizing.size(Fixtures.sizing(p, b, 1)).fraction())
                            .as("p=%s b=%s", p, b)
                            .isZero();
                }
            }
        }
    }

    @Test
    default void deterministicForTheSameContext() {
        try (SizingCapability a = newSizing();
                SizingCapability b = newSizing()) {
            for (double p : PROBABILITIES) {
                var ctx = Fixtures.sizing(p, 1.2, 0.8);
                assertThat(a.size(ctx)).isEqualTo(a.size(ctx)).isEqualTo(b.size(ctx));
            }
        }
    }

    @Test
    default void descriptorIsStableAndNamed() {
        try (SizingCapability sizing = newSizing()) {
            assertThat(sizing.descriptor()).isEqualTo(sizing.descriptor());
            assertThat(sizing.descriptor().name()).isNotBlank();
        }
    }

    @Test
    default void closeIsIdempotent() {
        SizingCapability sizing = newSizing();
        sizing.close();
        sizing.close();
    }
}
