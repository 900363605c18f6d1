package dev.quiver.engine.portfolio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PortfolioGuardTest {

    private static final double[][] TWO_CORRELATED = {{4e-4, 3.6e-4}, {3.6e-4, 4e-4}}; // rho 0.9

    @Test
    void aCorrelatedPairIsOneBetUnderTheClusterCap() {
        // 0.4 + 0.4 = 0.8 > cluster cap 0.6: both scaled by 0.75 -> 0.3 each
        var a =
                PortfolioGuard.apply(
                        new double[] {0.4, 0.4},
                        TWO_CORRELATED,
                        new double[2],
                        PortfolioLimits.DEFAULTS,
                        BreakerState.ARMED);
        assertThat(a.allocation()[0]).isCloseTo(0.3, within(1e-12));
        assertThat(a.allocation()[1]).isCloseTo(0.3, within(1e-12));
        assertThat(a.cluster()).containsExactly(0, 0);
        assertThat(a.notes())
                .singleElement()
                .asString()
                .startsWith("cluster [0, 1] scaled 0.75 (sum 0.8 > cap 0.6)");
    }

    @Test
    void uncorrelatedPairIsTwoBets() {
        var a =
                PortfolioGuard.apply(
                        new double[] {0.4, 0.4},
                        new double[][] {{4e-4, 0}, {0, 4e-4}},
                        new double[2],
                        PortfolioLimits.DEFAULTS,
                        BreakerState.ARMED);
        assertThat(a.allocation()).containsExactly(0.4, 0.4);
        assertThat(a.cluster()).containsExactly(0, 1);
        assertThat(a.notes()).isEmpty();
    }

    @Test
    void breakersFlattenOrHoldNewRisk() {
        double[] proposed = {0.3, 0.1};
        double[][] cov = {{4e-4, 0}, {0, 4e-4}};
        assertThat(
                        PortfolioGuard.apply(
                                        proposed,
                                        cov,
                                        new double[] {0.2, 0.2},
                                        PortfolioLimits.DEFAULTS,
                                        BreakerState.FLATTEN)
                                .allocation())
                .containsExactly(0.0, 0.0);
        var held =
                PortfolioGuard.apply(
                        proposed,
                        cov,
                        new double[] {0.2, 0.2},
                        PortfolioLimits.DEFAULTS,
                        BreakerState.NO_NEW_RISK);
        assertThat(held.allocation()).containsExactly(0.2, 0.1); // growth held, reduction passes
        assertThat(held.notes()).singleElement().asString().contains("halts new risk");
    }

    @Test
    void garbageIsFlatAndNamed() {
        var a =
                PortfolioGuard.apply(
                        new double[] {Double.NaN, -0.1, 0.9},
                        new double[][] {{1e-4, 0, 0}, {0, 1e-4, 0}, {0, 0, 1e-4}},
                        new double[3],
                        PortfolioLimits.DEFAULTS,
                        BreakerState.ARMED);
        assertThat(a.allocation()).containsExactly(0.0, 0.0, 0.5);
        assertThat(a.notes())
                .containsExactly(
                        "symbol 0: proposal NaN is not a finite fraction >= 0 -> flat",
                        "symbol 1: proposal -0.1 is not a finite fraction >= 0 -> flat",
                        "symbol 2: 0.9 clipped to the per-symbol cap 0.5");
    }

    /**
     * 100,000 random accounts (1 to 8 symbols, random covariance and correlations, proposals from
     * garbage to far above the caps, random limits and breaker states): every cap holds exactly. A
     * plain seeded loop (jqwik's per-try overhead made 100,000 tries take 40 s on the build box); a
     * failure names the seed of the case.
     */
    @Test
    void capsHoldOnRandomInputs() {
        SplittableRandom seeds = new SplittableRandom(15);
        long checked = 0;
        for (int trial = 0; trial < 100_000; trial++) {
            long seed = seeds.nextLong();
            String violation = violation(seed);
            if (violation != null) {
                throw new AssertionError("seed " + seed + ": " + violation);
            }
            checked++;
        }
        assertThat(checked).isEqualTo(100_000);
    }

    /** One random case; the first broken limit, or null. */
    private static String violation(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int p = 1 + rnd.nextInt(8);
        double[][] factor = new double[p][p];
        for (int i = 0; i < p; i++) {
            for (int j = 0; j < p; j++) {
                factor[i][j] = rnd.nextDouble(-0.05, 0.05);
            }
        }
        double[][] cov = new double[p][p];
        for (int i = 0; i < p; i++) {
            for (int j = 0; j < p; j++) {
                for (int k = 0; k < p; k++) {
                    cov[i][j] += factor[i][k] * factor[j][k];
                }
            }
        }
        double[] proposed = new double[p];
        double[] current = new double[p];
        for (int i = 0; i < p; i++) {
            int kind = rnd.nextInt(20);
            proposed[i] =
                    kind == 0 ? Double.NaN : kind == 1 ? -rnd.nextDouble() : rnd.nextDouble(0, 3);
            current[i] = rnd.nextDouble(0, 1);
        }
        PortfolioLimits limits =
                new PortfolioLimits(
                        rnd.nextDouble(0.01, 1),
                        rnd.nextDouble(0.01, 2),
                        rnd.nextDouble(0.01, 2),
                        rnd.nextDouble(0.01, 2),
                        rnd.nextDouble(0.1, 1));
        BreakerState breakers = BreakerState.values()[rnd.nextInt(3)];

        var a = PortfolioGuard.apply(proposed, cov, current, limits, breakers);

        double[] f = a.allocation();
        double gross = 0;
        double net = 0;
        for (int i = 0; i < p; i++) {
            if (!(f[i] >= 0 && f[i] <= limits.perSymbolCap())) {
                return "symbol "
                        + i
                        + " at "
                        + f[i]
                        + " outside [0, "
                        + limits.perSymbolCap()
                        + "]";
            }
            boolean valid = Double.isFinite(proposed[i]) && proposed[i] >= 0;
            if (valid ? f[i] > proposed[i] : f[i] != 0) {
                return "symbol " + i + " raised from " + proposed[i] + " to " + f[i];
            }
            if (breakers == BreakerState.NO_NEW_RISK && f[i] > current[i]) {
                return "symbol "
                        + i
                        + " grew to "
                        + f[i]
                        + " above "
                        + current[i]
                        + " under a halt";
            }
            gross += Math.abs(f[i]);
            net += f[i];
        }
        if (gross > limits.grossCap()) {
            return "gross " + gross + " > " + limits.grossCap();
        }
        if (Math.abs(net) > limits.netCap()) {
            return "net " + net + " > " + limits.netCap();
        }
        if (breakers == BreakerState.FLATTEN && gross != 0) {
            return "not flat under FLATTEN: gross " + gross;
        }
        int[] cluster = PortfolioGuard.clusters(cov, limits.clusterCorrelation());
        for (int c = 0; c < p; c++) {
            double sum = 0;
            for (int i = 0; i < p; i++) {
                if (cluster[i] == c) {
                    sum += f[i];
                }
            }
            if (sum > limits.clusterCap()) {
                return "cluster " + c + " sums " + sum + " > " + limits.clusterCap();
            }
        }
        for (int i = 0; i < p; i++) {
            for (int j = i + 1; j < p; j++) {
                double d = Math.sqrt(cov[i][i] * cov[j][j]);
                if (d > 0
                        && cov[i][j] / d >= limits.clusterCorrelation()
                        && cluster[i] != cluster[j]) {
                    return "symbols " + i + " and " + j + " correlated but in different clusters";
                }
            }
        }
        return null;
    }
}
