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

    /**
     * McNemar from the running moments equals the exact binomial test computed from the counted
     * discordant pairs, on real-looking 0/1 losses.
     */
    @Test
    void mcNemarFromMomentsEqualsTheCountedExactTest() {
        Random rnd = new Random(3);
        Moments d = Moments.EMPTY;
        int onlyChampion = 0;
        int onlyChallenger = 0;
        for (int i = 0; i < 600; i++) {
            int champion = rnd.nextDouble() < 0.49 ? 1 : 0; // 1 = a miss
            int challenger = rnd.nextDouble() < 0.44 ? 1 : 0;
            if (champion == 0 && challenger == 1) {
                onlyChampion++;
            } else if (champion == 1 && challenger == 0) {
                onlyChallenger++;
            }
            d = d.plus(challenger - champion);
        }
        Significance.Result r = Significance.mcNemar(d);
        int m = onlyChampion + onlyChallenger;
        var bin = new org.apache.commons.math3.distribution.BinomialDistribution(null, m, 0.5);
        assertThat(r.test()).isEqualTo("mcnemar");
        assertThat(r.degreesOfFreedom()).isEqualTo(m);
        assertThat(r.pBetter())
                .isCloseTo(1 - bin.cumulativeProbability(onlyChallenger - 1), within(1e-12));
        assertThat(r.pWorse()).isCloseTo(bin.cumulativeProbability(onlyChallenger), within(1e-12));
        // commons-math's two-sided exact binomial test agrees (p-values symmetric at 1/2)
        double twoSided =
                new org.apache.commons.math3.stat.inference.BinomialTest()
                        .binomialTest(
                                m,
                                onlyChallenger,
                                0.5,
                                org.apache.commons.math3.stat.inference.AlternativeHypothesis
                                        .TWO_SIDED);
        assertThat(Math.min(1, 2 * Math.min(r.pBetter(), r.pWorse())))
                .isCloseTo(twoSided, within(1e-9));
    }

    @Test
    void mcNemarRefusesLossesThatAreNotZeroOrOne() {
        Moments d = Moments.EMPTY.plus(0.3).plus(-0.2).plus(0.5);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Significance.mcNemar(d))
                .hasMessageContaining("0/1 losses");
        Moments none = Moments.EMPTY.plus(0).plus(0).plus(0);
        assertThat(Significance.mcNemar(none).pBetter()).isEqualTo(1);
        assertThat(Significance.mcNemar(none).pWorse()).isEqualTo(1);
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
