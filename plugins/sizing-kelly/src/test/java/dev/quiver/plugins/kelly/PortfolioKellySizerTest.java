package dev.quiver.plugins.kelly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.quiver.api.sizing.PortfolioMember;
import dev.quiver.api.sizing.PortfolioSizingCapability;
import dev.quiver.api.sizing.PortfolioSizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.testkit.Fixtures;
import dev.quiver.testkit.PortfolioSizingCapabilityContract;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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

    /**
     * The class keeps no mutable state (final settings; every call allocates its own arrays), so
     * one instance may serve several accounts at once: 4 threads sizing 300 random accounts in
     * different orders through one instance answer bit for bit what each account gets alone. A
     * scratch array or cached result kept in a field would make them disagree.
     */
    @Test
    void oneInstanceSizesConcurrentAccountsAsEachAlone() throws Exception {
        SplittableRandom rng = new SplittableRandom(15);
        List<PortfolioSizingContext> accounts = new ArrayList<>();
        for (int a = 0; a < 300; a++) {
            int n = 1 + rng.nextInt(4);
            List<PortfolioMember> members = new ArrayList<>();
            double[][] cov = new double[n][n];
            for (int i = 0; i < n; i++) {
                members.add(
                        new PortfolioMember(
                                "s" + i,
                                Fixtures.sizing(0.45 + 0.2 * rng.nextDouble(), 1.0, 1.0),
                                0.005 + 0.01 * rng.nextDouble(),
                                1,
                                0));
                cov[i][i] = 1e-4 * (1 + 4 * rng.nextDouble());
            }
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < i; j++) {
                    cov[i][j] = cov[j][i] = 0.6 * Math.sqrt(cov[i][i] * cov[j][j]);
                }
            }
            accounts.add(new PortfolioSizingContext(members, cov, 0.8 + rng.nextDouble()));
        }
        List<double[]> alone = new ArrayList<>();
        for (PortfolioSizingContext c : accounts) {
            alone.add(fractions(new PortfolioKellySizer(0.25, 1.0), c));
        }
        PortfolioKellySizer shared = new PortfolioKellySizer(0.25, 1.0);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<double[]>>> runs = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int offset = t * 75;
                runs.add(
                        pool.submit(
                                () -> {
                                    double[][] out = new double[accounts.size()][];
                                    for (int k = 0; k < 3 * accounts.size(); k++) {
                                        int a = (offset + k) % accounts.size();
                                        out[a] = fractions(shared, accounts.get(a));
                                    }
                                    return List.of(out);
                                }));
            }
            for (Future<List<double[]>> run : runs) {
                List<double[]> got = run.get();
                for (int a = 0; a < accounts.size(); a++) {
                    assertThat(got.get(a)).as("account %d", a).containsExactly(alone.get(a));
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static double[] fractions(PortfolioKellySizer sizer, PortfolioSizingContext c) {
        return sizer.size(c).decisions().stream().mapToDouble(SizingDecision::fraction).toArray();
    }
}
