package dev.quiver.plugins.kelly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MultivariateKellyTest {

    private static double[][] cov2(double s1, double s2, double rho) {
        return new double[][] {{s1 * s1, rho * s1 * s2}, {rho * s1 * s2, s2 * s2}};
    }

    @ParameterizedTest
    @CsvSource({
        // sigma1, sigma2, rho, mu1, mu2, c
        "0.02, 0.03, 0.4, 0.001, 0.0012, 0.25",
        "0.02, 0.03, -0.6, 0.001, 0.0012, 0.25",
        "0.01, 0.05, 0.5, 0.0004, 0.003, 1.0",
        "0.015, 0.015, 0.0, 0.0005, 0.0002, 0.5",
    })
    void twoAssetsMatchTheClosedForm(
            double s1, double s2, double rho, double mu1, double mu2, double c) {
        // Inverse of a 2x2 covariance by hand: 1 / (s1^2 s2^2 (1 - rho^2)) * [[s2^2, -rho s1 s2],
        // [-rho s1 s2, s1^2]], so f1 = c (s2^2 mu1 - rho s1 s2 mu2) / det, f2 likewise.
        double det = s1 * s1 * s2 * s2 * (1 - rho * rho);
        double f1 = c * (s2 * s2 * mu1 - rho * s1 * s2 * mu2) / det;
        double f2 = c * (s1 * s1 * mu2 - rho * s1 * s2 * mu1) / det;
        double[] f = MultivariateKelly.unconstrained(new double[] {mu1, mu2}, cov2(s1, s2, rho), c);
        assertThat(f[0]).isCloseTo(f1, within(1e-9));
        assertThat(f[1]).isCloseTo(f2, within(1e-9));
        // all four cases have both weights > 0, so the long-only optimum is the same point
        assertThat(f1).isPositive();
        assertThat(f2).isPositive();
        double[] longOnly =
                MultivariateKelly.longOnly(new double[] {mu1, mu2}, cov2(s1, s2, rho), c);
        assertThat(longOnly[0]).isCloseTo(f1, within(1e-9));
        assertThat(longOnly[1]).isCloseTo(f2, within(1e-9));
    }

    @Test
    void perfectlyCorrelatedAssetsGetTheAllocationOfOne() {
        double s = 0.02;
        double mu = 0.0008;
        double c = 0.25;
        double single =
                MultivariateKelly.unconstrained(new double[] {mu}, new double[][] {{s * s}}, c)[0];
        assertThat(single).isCloseTo(c * mu / (s * s), within(1e-9)); // 0.5
        double[][] sigma = cov2(s, s, 1.0); // singular
        double[] f = MultivariateKelly.unconstrained(new double[] {mu, mu}, sigma, c);
        assertThat(f[0] + f[1]).isCloseTo(single, within(1e-9));
        double[] g = MultivariateKelly.longOnly(new double[] {mu, mu}, sigma, c);
        assertThat(g[0] + g[1]).isCloseTo(single, within(1e-9));
        // three copies of the same asset: still one bet
        double[][] three = {{s * s, s * s, s * s}, {s * s, s * s, s * s}, {s * s, s * s, s * s}};
        double[] h = MultivariateKelly.longOnly(new double[] {mu, mu, mu}, three, c);
        assertThat(h[0] + h[1] + h[2]).isCloseTo(single, within(1e-9));
    }

    @Test
    void uncorrelatedAssetsGetTheSumOfTheirAllocations() {
        double[] s = {0.02, 0.035, 0.01};
        double[] mu = {0.0008, 0.0015, 0.0001};
        double c = 0.25;
        double[][] sigma = new double[3][3];
        double sum = 0;
        double[] single = new double[3];
        for (int i = 0; i < 3; i++) {
            sigma[i][i] = s[i] * s[i];
            single[i] =
                    MultivariateKelly.longOnly(
                            new double[] {mu[i]}, new double[][] {{s[i] * s[i]}}, c)[0];
            sum += single[i];
        }
        double[] f = MultivariateKelly.longOnly(mu, sigma, c);
        for (int i = 0; i < 3; i++) {
            assertThat(f[i]).isCloseTo(single[i], within(1e-9));
        }
        assertThat(f[0] + f[1] + f[2]).isCloseTo(sum, within(1e-9));
    }

    @Test
    void longOnlyIsTheConstrainedOptimumOnRandomInputs() {
        // KKT of max f'mu - f'Sigma f / 2, f >= 0: on the support the gradient mu - Sigma f is 0,
        // off it <= 0. Random positive definite Sigma = A A' + 1e-4 I.
        SplittableRandom rnd = new SplittableRandom(15);
        for (int trial = 0; trial < 2_000; trial++) {
            int n = 1 + rnd.nextInt(5);
            double[][] a = new double[n][n];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    a[i][j] = rnd.nextDouble(-0.03, 0.03);
                }
            }
            double[][] sigma = new double[n][n];
            double[] mu = new double[n];
            for (int i = 0; i < n; i++) {
                mu[i] = rnd.nextDouble(-0.002, 0.002);
                for (int j = 0; j < n; j++) {
                    for (int k = 0; k < n; k++) {
                        sigma[i][j] += a[i][k] * a[j][k];
                    }
                }
                sigma[i][i] += 1e-4;
            }
            double[] f = MultivariateKelly.longOnly(mu, sigma, 1.0);
            for (int i = 0; i < n; i++) {
                double grad = mu[i];
                for (int j = 0; j < n; j++) {
                    grad -= sigma[i][j] * f[j];
                }
                assertThat(f[i]).as("trial %d weight %d", trial, i).isGreaterThanOrEqualTo(0);
                if (f[i] > 0) {
                    assertThat(grad)
                            .as("trial %d gradient %d", trial, i)
                            .isCloseTo(0, within(1e-9));
                } else {
                    assertThat(grad).as("trial %d gradient %d", trial, i).isLessThan(1e-9);
                }
            }
        }
    }

    @Test
    void noEdgeIsFlat() {
        double[] f =
                MultivariateKelly.longOnly(new double[] {-0.001, 0}, cov2(0.02, 0.02, 0.3), 0.25);
        assertThat(f).containsExactly(0.0, 0.0);
    }

    @Test
    void badInputIsNamed() {
        assertThatThrownBy(
                        () ->
                                MultivariateKelly.unconstrained(
                                        new double[] {0.001, Double.NaN},
                                        cov2(0.02, 0.02, 0),
                                        0.25))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("expected return mu[1] is NaN");
        assertThatThrownBy(
                        () ->
                                MultivariateKelly.longOnly(
                                        new double[] {0.001}, cov2(0.02, 0.02, 0), 0.25))
                .hasMessage("multivariate Kelly: 1 expected returns, covariance of 2 rows");
        assertThatThrownBy(
                        () -> MultivariateKelly.longOnly(new double[13], new double[13][13], 0.25))
                .hasMessage("long-only multivariate Kelly: 13 assets, at most 12 are solved");
    }
}
