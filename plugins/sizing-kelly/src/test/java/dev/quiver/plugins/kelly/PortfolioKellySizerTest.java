package dev.quiver.plugins.kelly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.quiver.api.sizing.PortfolioMember;
import dev.quiver.api.sizing.PortfolioSizingCapability;
import dev.quiver.api.sizing.PortfolioSizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.testkit.Fixtures;
import dev.quiver.testkit.PortfolioSizingCapabilityContract;
import java.util.List;
import org.junit.jupiter.api.Test;

class PortfolioKellySizerTest implements PortfolioSizingCapabilityContract {

    @Override
    public PortfolioSizingCapability newPortfolioSizing() {
        return new PortfolioKellySizer(0.25, 1.0);
    }

    private static PortfolioMember member(String s, double p) {
        return new PortfolioMember(s, Fixtures.sizing(p, 1.0, 1.0), 0.01, 1, 0);
    }

    @Test
    void aCorrelatedPairIsSizedAsOneBetAnUncorrelatedPairAsTwo() {
        // p = 0.55, b = 1, g = 0.01: mu = 0.01 * (0.55 - 0.45) = 0.001; sigma = 0.02 (var 4e-4);
        // alone: 0.25 * 0.001 / 4e-4 = 0.625
        double var = 4e-4;
        var alone =
                new PortfolioKellySizer(0.25, 1.0)
                        .size(
                                new PortfolioSizingContext(
                                        List.of(member("a", 0.55)), new double[][] {{var}}, 10));
        assertThat(alone.decisions().get(0).fraction()).isCloseTo(0.625, within(1e-12));
        double rho = 0.999999;
        var correlated =
                new PortfolioKellySizer(0.25, 1.0)
                        .size(
                                new PortfolioSizingContext(
                                        List.of(member("a", 0.55), member("b", 0.55)),
                                        new double[][] {{var, rho * var}, {rho * var, var}},
                                        10));
        double sum = correlated.decisions().stream().mapToDouble(SizingDecision::fraction).sum();
        assertThat(sum).isCloseTo(0.625, within(1e-6)); // one bet: 0.625 / (1 + rho) * 2
        var independent =
                new PortfolioKellySizer(0.25, 1.0)
                        .size(
                                new PortfolioSizingContext(
                                        List.of(member("a", 0.55), member("b", 0.55)),
                                        new double[][] {{var, 0}, {0, var}},
                                        10));
        assertThat(independent.decisions())
                .allSatisfy(d -> assertThat(d.fraction()).isCloseTo(0.625, within(1e-12)));
        assertThat(independent.decisions().get(0).inputs().get("kelly_raw"))
                .isCloseTo(0.625, within(1e-12));
    }

    @Test
    void theGrossCapScalesEveryMember() {
        double var = 4e-4;
        var d =
                new PortfolioKellySizer(0.25, 1.0)
                        .size(
                                new PortfolioSizingContext(
                                        List.of(member("a", 0.55), member("b", 0.55)),
                                        new double[][] {{var, 0}, {0, var}},
                                        1.0));
        assertThat(d.decisions().get(0).fraction()).isCloseTo(0.5, within(1e-12));
        assertThat(d.decisions().get(0).reason())
                .isEqualTo("correlation-adjusted fractional Kelly capped");
    }
}
