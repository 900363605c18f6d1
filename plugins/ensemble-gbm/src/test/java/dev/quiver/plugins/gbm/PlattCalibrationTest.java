package dev.quiver.plugins.gbm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.quiver.gbmtrees.TreeEnsemble;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PlattCalibrationTest {

    /**
     * An overconfident source: it reports p, the truth is sigmoid(0.5 * logit(p)) (half its
     * log-odds). Platt scaling fitted on 20,000 rows recovers the slope 0.5 and intercept 0, and on
     * new rows its output is calibrated where the raw p is not.
     */
    @Test
    void recoversTheTrueSlopeOfAnOverconfidentSourceAndCalibratesNewRows() {
        double[] p = new double[20_000];
        boolean[] up = new boolean[p.length];
        draw(p, up, 7);
        PlattCalibration platt = PlattCalibration.fit(p, up, 1e-6);
        // 20,000 Bernoulli draws: the slope's standard error is about 0.02
        assertThat(platt.slope()).isCloseTo(0.5, within(0.06));
        assertThat(platt.intercept()).isCloseTo(0.0, within(0.06));
        assertThat(platt.describe()).startsWith("Platt a=0.");
        double[] q = new double[20_000];
        boolean[] upQ = new boolean[q.length];
        draw(q, upQ, 8);
        double rawEce = ece(q, upQ, null);
        double calibratedEce = ece(q, upQ, platt);
        assertThat(rawEce).isGreaterThan(0.05);
        assertThat(calibratedEce).isLessThan(0.02);
        assertThat(platt.apply(0.5)).isCloseTo(0.5, within(0.02));
    }

    private static void draw(double[] p, boolean[] up, long seed) {
        var rng = new SplittableRandom(seed);
        for (int i = 0; i < p.length; i++) {
            p[i] = 0.02 + 0.96 * rng.nextDouble();
            double truth = TreeEnsemble.sigmoid(0.5 * StackEnsemble.logit(p[i]));
            up[i] = rng.nextDouble() < truth;
        }
    }

    /** Expected calibration error, 10 equal-width bins (Naeini et al. 2015). */
    private static double ece(double[] p, boolean[] up, Calibrator c) {
        double[] sumP = new double[10];
        double[] sumY = new double[10];
        int[] n = new int[10];
        for (int i = 0; i < p.length; i++) {
            double q = c == null ? p[i] : c.apply(p[i]);
            int b = Math.min(9, (int) (q * 10));
            sumP[b] += q;
            sumY[b] += up[i] ? 1 : 0;
            n[b]++;
        }
        double e = 0;
        for (int b = 0; b < 10; b++) {
            if (n[b] > 0) {
                e += Math.abs(sumP[b] - sumY[b]) / p.length;
            }
        }
        return e;
    }
}
