package dev.quiver.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.sizing.PortfolioMember;
import dev.quiver.api.sizing.PortfolioSizingCapability;
import dev.quiver.api.sizing.PortfolioSizingContext;
import dev.quiver.api.sizing.PortfolioSizingDecision;
import dev.quiver.api.sizing.SizingDecision;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link PortfolioSizingCapability} must meet (api 1.4.0). Implement it in a
 * test class and supply {@link #newPortfolioSizing()}; the tests come with it.
 *
 * <pre>{@code
 * class MyPortfolioSizerContractTest implements PortfolioSizingCapabilityContract {
 *     public PortfolioSizingCapability newPortfolioSizing() { return new MyPortfolioSizer(); }
 * }
 * }</pre>
 *
 * <p>Contexts are seeded random accounts of 1 to 5 members (probabilities in [0, 1], payoff ratios
 * 0.2 to 5, mean gains 0.1% to 3% per bar, covariances {@code A A' + 1e-5 I} with daily-scale
 * entries, caps from 1e-3 to 1), so a failure names a reproducible case.
 */
public interface PortfolioSizingCapabilityContract {

    /**
     * A fresh instance of the capability under test.
     *
     * @return the capability
     */
    PortfolioSizingCapability newPortfolioSizing();

    /** Random contexts each test walks through. */
    int CASES = 2_000;

    /**
     * A seeded random context.
     *
     * @param seed the seed
     * @param edge whether members may have an edge; false makes every {@code p <= 0.5} and {@code b
     *     <= 1}, a non-positive edge under every definition
     * @return the context
     */
    static PortfolioSizingContext randomContext(long seed, boolean edge) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int n = 1 + rnd.nextInt(5);
        List<PortfolioMember> members = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            double p = edge ? rnd.nextDouble() : rnd.nextDouble(0, 0.5);
            double b = edge ? rnd.nextDouble(0.2, 5) : rnd.nextDouble(0.2, 1);
            double cap = rnd.nextDouble(1e-3, 1);
            members.add(
                    new PortfolioMember(
                            "s" + i,
                            Fixtures.sizing(p, b, cap),
                            rnd.nextDouble(0.001, 0.03),
                            1 + rnd.nextInt(6),
                            rnd.nextDouble(0, 0.5)));
        }
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                a[i][j] = rnd.nextDouble(-0.03, 0.03);
            }
        }
        double[][] cov = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double v = i == j ? 1e-5 : 0;
                for (int k = 0; k < n; k++) {
                    v += a[i][k] * a[j][k];
                }
                cov[i][j] = v;
                cov[j][i] = v;
            }
        }
        return new PortfolioSizingContext(members, cov, rnd.nextDouble(0.05, 2));
    }

    @Test
    default void oneFiniteDecisionPerMemberWithinEveryCap() {
        try (PortfolioSizingCapability sizing = newPortfolioSizing()) {
            for (long seed = 0; seed < CASES; seed++) {
                PortfolioSizingContext ctx = randomContext(seed, true);
                PortfolioSizingDecision d = sizing.size(ctx);
                assertThat(d).as("seed %d", seed).isNotNull();
                assertThat(d.decisions()).as("seed %d", seed).hasSize(ctx.members().size());
                double sum = 0;
                for (int i = 0; i < ctx.members().size(); i++) {
                    SizingDecision one = d.decisions().get(i);
                    double cap = ctx.members().get(i).context().maxFraction();
                    assertThat(one.fraction())
                            .as("seed %d member %d (%s)", seed, i, one.reason())
                            .isFinite()
                            .isBetween(0.0, cap);
                    assertThat(one.reason()).isNotBlank();
                    sum += one.fraction();
                }
                assertThat(sum).as("seed %d: sum", seed).isLessThanOrEqualTo(ctx.grossCap());
            }
        }
    }

    @Test
    default void noEdgeAnywhereGivesAllZero() {
        try (PortfolioSizingCapability sizing = newPortfolioSizing()) {
            for (long seed = 0; seed < CASES / 4; seed++) {
                PortfolioSizingDecision d = sizing.size(randomContext(seed, false));
                for (SizingDecision one : d.decisions()) {
                    assertThat(one.fraction()).as("seed %d (%s)", seed, one.reason()).isZero();
                }
            }
        }
    }

    @Test
    default void deterministicForTheSameContext() {
        try (PortfolioSizingCapability a = newPortfolioSizing();
                PortfolioSizingCapability b = newPortfolioSizing()) {
            for (long seed = 0; seed < CASES / 4; seed++) {
                PortfolioSizingContext ctx = randomContext(seed, true);
                List<Double> first =
                        a.size(ctx).decisions().stream().map(SizingDecision::fraction).toList();
                assertThat(a.size(ctx).decisions().stream().map(SizingDecision::fraction))
                        .as("seed %d, same instance", seed)
                        .containsExactlyElementsOf(first);
                assertThat(b.size(ctx).decisions().stream().map(SizingDecision::fraction))
                        .as("seed %d, fresh instance", seed)
                        .containsExactlyElementsOf(first);
            }
        }
    }

    @Test
    default void descriptorIsStable() {
        try (PortfolioSizingCapability sizing = newPortfolioSizing()) {
            assertThat(sizing.descriptor()).isEqualTo(sizing.descriptor());
            assertThat(sizing.descriptor().name()).isNotBlank();
        }
    }
}
