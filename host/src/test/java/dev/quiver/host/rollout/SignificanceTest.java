package dev.quiver.host.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.apache.commons.math3.stat.inference.TTest;
import org.junit.jupiter.api.Test;

/** The running-moment tests agree with commons-math3's array-based t tests. */
class SignificanceTest {

    @Test
    void pairedMatchesCommonsMathPairedT() {
        Random rnd = new Random(7);
        double[] a = new double[400];
        double[] b = new double[400];
        Moments d = Moments.EMPTY;
        for (int i = 0; i < a.length; i++) {
            double common = rnd.nextGaussian();
            a[i] = 0.69 + 0.1 * common + 0.02 * rnd.nextGaussian();
            b[i] = 0.68 + 0.1 * common + 0.02 * rnd.nextGaussian();
            d = d.plus(b[i] - a[i]);
        }
        Significance.Result r = Significance.paired(d);
        TTest tt = new TTest();
        assertThat(r.statistic()).isCloseTo(tt.pairedT(b, a), within(1e-9));
        // commons-math's p is two-sided
        assertThat(2 * Math.min(r.pBetter(), r.pWorse()))
                .isCloseTo(tt.pairedTTest(b, a), within(1e-9));
        assertThat(r.pBetter()).isLessThan(0.001);
        assertThat(r.degreesOfFreedom()).isEqualTo(399);
    }

    @Test
    void welchMatchesCommonsMathUnequalVarianceT() {
        Random rnd = new Random(11);
        double[] a = new double[300];
        double[] b = new double[200];
        Moments ma = Moments.EMPTY;
        Moments mb = Moments.EMPTY;
        for (int i = 0; i < a.length; i++) {
            a[i] = 1 + rnd.nextGaussian();
            ma = ma.plus(a[i]);
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = 1.3 + 2 * rnd.nextGaussian();
            mb = mb.plus(b[i]);
        }
        Significance.Result r = Significance.welch(ma, mb);
        TTest tt = new TTest();
        assertThat(r.statistic()).isCloseTo(tt.t(b, a), within(1e-9));
        assertThat(2 * Math.min(r.pBetter(), r.pWorse())).isCloseTo(tt.tTest(b, a), within(1e-9));
        assertThat(r.pWorse()).isLessThan(r.pBetter());
    }

    @Test
    void welfordMatchesTheTwoPassVariance() {
        double[] x = {1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16};
        Moments m = Moments.EMPTY;
        for (double v : x) {
            m = m.plus(v);
        }
        assertThat(m.mean()).isEqualTo(1e9 + 10);
        assertThat(m.variance()).isCloseTo(30.0, within(1e-6));
    }

    @Test
    void zeroStandardErrorDecidesByTheSignOfTheMean() {
        Moments same = Moments.EMPTY.plus(-0.1).plus(-0.1).plus(-0.1);
        // every bar the challenger's loss is 0.1 lower: certain improvement
        assertThat(Significance.paired(same).pBetter()).isEqualTo(0.0);
        assertThat(Significance.paired(same).pWorse()).isEqualTo(1.0);
        Moments none = Moments.EMPTY.plus(0).plus(0);
        assertThat(Significance.paired(none).pBetter()).isEqualTo(0.5);
    }
}
