package dev.quiver.plugins.kelly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.quiver.api.PluginContext;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.testkit.Fixtures;
import dev.quiver.testkit.SizingCapabilityContract;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class QuarterKellySizerTest implements SizingCapabilityContract {

    @Override
    public SizingCapability newSizing() {
        return new QuarterKellySizer(0.25, 1.0);
    }

    @ParameterizedTest(name = "p={0} b={1}: full {2}, quarter {3}")
    @CsvSource({
        // p,   b,   full Kelly p-(1-p)/b,        quarter
        "0.6,   2,   0.4,                          0.1", // 0.6 - 0.4/2 = 0.4 (ta4j kelly(0.6, 2))
        "0.6,   1,   0.2,                          0.05", // 0.6 - 0.4 = 0.2
        "0.55,  1,   0.1,                          0.025", // 0.55 - 0.45 = 0.10
        "0.5,   3,   0.3333333333333333,           0.08333333333333333", // 0.5 - 0.5/3
        "0.9,   0.5, 0.7,                          0.175", // 0.9 - 0.1/0.5 = 0.7
    })
    void handDerivedCases(double p, double b, double full, double quarter) {
        assertThat(QuarterKellySizer.fullKelly(p, b)).isCloseTo(full, within(1e-12));
        assertThat(newSizing().size(Fixtures.sizing(p, b, 1)).fraction())
                .isCloseTo(quarter, within(1e-12));
    }

    @ParameterizedTest(name = "p={0} <= 1/(1+b) with b={1} -> 0")
    @CsvSource({"0.5, 1", "0.35, 1.5", "0.3333333333333333, 2", "0.2, 2", "0.09, 10", "0, 5"})
    void noPositiveEdgeMeansNoPosition(double p, double b) {
        // The edge p - (1-p)/b is <= 0 exactly when p <= 1/(1+b).
        assertThat(p).isLessThanOrEqualTo(1 / (1 + b) + 1e-15);
        var d = newSizing().size(Fixtures.sizing(p, b, 1));
        assertThat(d.fraction()).isZero();
        assertThat(d.reason()).startsWith("no edge");
    }

    @Test
    void cappedAtTheSmallerOfOwnCapAndHostCap() {
        // p = 0.99, b = 10: full = 0.99 - 0.001 = 0.989, quarter = 0.24725
        var own = new QuarterKellySizer(0.25, 0.2).size(Fixtures.sizing(0.99, 10, 1));
        assertThat(own.fraction()).isEqualTo(0.2);
        assertThat(own.reason()).contains("capped");
        var host = new QuarterKellySizer(0.25, 1).size(Fixtures.sizing(0.99, 10, 0.1));
        assertThat(host.fraction()).isEqualTo(0.1);
    }

    @Test
    void configurationIsReadAndValidated() {
        PluginContext ctx = context(Map.of("sizing-kelly.cap", "0.05"));
        assertThat(new QuarterKellySizer(ctx).size(Fixtures.sizing(0.9, 2, 1)).fraction())
                .isEqualTo(0.05);
        assertThatThrownBy(
                        () ->
                                new QuarterKellySizer(
                                        context(Map.of("sizing-kelly.multiplier", "1.5"))))
                .isInstanceOf(QuiverInputException.class)
                .hasMessage(
                        "[Quiver/BAD_CONFIG] plugin sizing-kelly: field 'sizing-kelly.multiplier' is"
                                + " not in (0, 1] (value: 1.5)");
    }

    static PluginContext context(Map<String, String> config) {
        return new PluginContext() {
            @Override
            public String pluginId() {
                return "sizing-kelly";
            }

            @Override
            public Optional<String> config(String key) {
                return Optional.ofNullable(config.get("sizing-kelly." + key));
            }
        };
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
