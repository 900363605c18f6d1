package dev.quiver.host.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * {@link FeatureDrift}: PSI against hand-computed cases and an independent re-computation on real
 * bars, KS against hand cases and a brute-force ECDF comparison on real bars.
 */
class FeatureDriftTest {

    private static double[] range(int from, int to) {
        return IntStream.rangeClosed(from, to).asDoubleStream().toArray();
    }

    @Test
    void decileCutsOfOneToHundredAreTheR7Quantiles() {
        // h = (n - 1) p + 1 = 99 * 0.1 + 1 = 10.9 -> x[10] + 0.9 (x[11] - x[10]) = 10.9, ...
        assertThat(FeatureDrift.decileCuts(range(1, 100)))
                .containsExactly(
                        new double[] {10.9, 20.8, 30.7, 40.6, 50.5, 60.4, 70.3, 80.2, 90.1},
                        within(1e-12));
    }

    @Test
    void psiOfHandComputedCases() {
        double[] ref = range(1, 100); // ten values in each decile bin: shares 0.1
        // The same values: every share equal, PSI 0.
        assertThat(FeatureDrift.psi(ref, ref)).isEqualTo(0.0);
        // Live 1..50: bins 1-5 hold 0.2 each, bins 6-10 nothing (counted as 1e-4):
        // 5 * (0.2 - 0.1) ln(0.2 / 0.1) + 5 * (1e-4 - 0.1) ln(1e-4 / 0.1)
        //   = 0.5 ln 2 + 0.4995 ln 1000 = 0.346574 + 3.450423 = 3.796997
        double expected = 0.5 * Math.log(2) + 0.4995 * Math.log(1000);
        assertThat(FeatureDrift.psi(ref, range(1, 50))).isCloseTo(expected, within(1e-12));
        assertThat(FeatureDrift.psi(ref, range(51, 100))).isCloseTo(expected, within(1e-12));
        // Live 1..20: bins 1 and 2 hold 0.5 each, the other eight nothing:
        // 2 * (0.5 - 0.1) ln 5 + 8 * (1e-4 - 0.1) ln(1e-3) = 0.8 ln 5 + 0.7992 ln 1000
        assertThat(FeatureDrift.psi(ref, range(1, 20)))
                .isCloseTo(0.8 * Math.log(5) + 0.7992 * Math.log(1000), within(1e-12));
        // A value equal to a cut point falls in the bin the cut closes.
        assertThat(FeatureDrift.shares(new double[] {10.9, 10.9000001}, new double[] {10.9}))
                .containsExactly(0.5, 0.5);
        // Ties in the reference merge cut points: fifty 0s then fifty 1s give the deciles
        // 0, 0, 0, 0, 0.5 (h = 50.5: halfway from x[50] = 0 to x[51] = 1), 1, 1, 1, 1 -> {0, 0.5,
        // 1}.
        double[] ties = new double[100];
        Arrays.fill(ties, 50, 100, 1.0);
        assertThat(FeatureDrift.decileCuts(ties)).containsExactly(0.0, 0.5, 1.0);
    }

    @Test
    void ksOfHandComputedCases() {
        // ECDFs of 1..10 and 6..15: at x = 5, 0.5 vs 0; at x = 10, 1 vs 0.5: D = 0.5.
        assertThat(FeatureDrift.compare(range(1, 10), range(6, 15)).ks())
                .isCloseTo(0.5, within(1e-12));
        assertThat(FeatureDrift.compare(range(1, 100), range(1, 50)).ks())
                .isCloseTo(0.5, within(1e-12));
        assertThat(FeatureDrift.compare(range(1, 100), range(1, 100)).ks()).isEqualTo(0.0);
        assertThat(FeatureDrift.compare(range(1, 100), range(1, 100)).ksPValue())
                .isCloseTo(1.0, within(1e-9));
        // Disjoint samples: D = 1, and a tiny p-value.
        FeatureDrift.Figures apart = FeatureDrift.compare(range(1, 200), range(301, 400));
        assertThat(apart.ks()).isEqualTo(1.0);
        assertThat(apart.ksPValue()).isLessThan(1e-10);
    }

    /** D = max over every sample point of |F_ref - F_live|, straight from the definition. */
    private static double bruteForceD(double[] ref, double[] live) {
        double d = 0;
        for (double x : concat(ref, live)) {
            d = Math.max(d, Math.abs(ecdf(ref, x) - ecdf(live, x)));
        }
        return d;
    }

    private static double ecdf(double[] s, double x) {
        return (double) Arrays.stream(s).filter(v -> v <= x).count() / s.length;
    }

    private static double[] concat(double[] a, double[] b) {
        double[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** PSI re-computed independently: R-7 deciles by formula, bins counted by linear scan. */
    private static double independentPsi(double[] ref, double[] live) {
        double[] sorted = ref.clone();
        Arrays.sort(sorted);
        double[] cuts =
                IntStream.rangeClosed(1, 9)
                        .mapToDouble(
                                k -> {
                                    double h = (sorted.length - 1) * k / 10.0;
                                    int lo = (int) Math.floor(h);
                                    int hi = Math.min(lo + 1, sorted.length - 1);
                                    return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
                                })
                        .distinct()
                        .toArray();
        double psi = 0;
        for (int b = 0; b <= cuts.length; b++) {
            double lo = b == 0 ? Double.NEGATIVE_INFINITY : cuts[b - 1];
            double hi = b == cuts.length ? Double.POSITIVE_INFINITY : cuts[b];
            double e =
                    Arrays.stream(ref).filter(v -> v > lo && v <= hi).count() / (double) ref.length;
            double a =
                    Arrays.stream(live).filter(v -> v > lo && v <= hi).count()
                            / (double) live.length;
            e = e == 0 ? 1e-4 : e;
            a = a == 0 ? 1e-4 : a;
            psi += (a - e) * Math.log(a / e);
        }
        return psi;
    }

    private static double[] column(FeatureMatrix fm, String feature, int from, int to) {
        double[] all = fm.column(feature);
        return Arrays.copyOfRange(all, from, to);
    }

    @Test
    void onRealBarsBothFiguresMatchIndependentComputationsAndSeeTheVolatilityRegime() {
        BarData btc = BundledData.BTC_USD_4H.load();
        FeatureMatrix fm = FeaturePipeline.compute(btc);
        int n = btc.size();
        // The embedded bundle's training window: the last 1,000 bars; unshifted live bars: the
        // 300 bars before it. Shifted: the NASDAQ Composite's daily bars of 2000-2002.
        BarData nasdaq = BundledData.NASDAQ_DAILY.load();
        FeatureMatrix nq = FeaturePipeline.compute(nasdaq);
        int crash = firstAtOrAfter(nasdaq, "2000-04-03T00:00:00Z");
        for (String feature : TrainingTriggers.SCALE_FREE) {
            double[] ref = column(fm, feature, n - 1000, n);
            double[] same = column(fm, feature, n - 1300, n - 1000);
            double[] shifted = column(nq, feature, crash, crash + 300);
            FeatureDrift.Figures a = FeatureDrift.compare(ref, same);
            FeatureDrift.Figures b = FeatureDrift.compare(ref, shifted);
            assertThat(a.psi()).isCloseTo(independentPsi(ref, same), within(1e-12));
            assertThat(b.psi()).isCloseTo(independentPsi(ref, shifted), within(1e-12));
            assertThat(a.ks()).isCloseTo(bruteForceD(ref, same), within(1e-12));
            assertThat(b.ks()).isCloseTo(bruteForceD(ref, shifted), within(1e-12));
            System.out.printf(
                    "drift %-18s BTC prior 300 bars: psi %.4f ks %.4f (p %.3g) | NASDAQ 2000-04..:"
                            + " psi %.4f ks %.4f (p %.3g)%n",
                    feature, a.psi(), a.ks(), a.ksPValue(), b.psi(), b.ks(), b.ksPValue());
        }
        // The volatility features see the regime: far above 0.25 on the shifted bars.
        double[] ref = column(fm, "atr_pct_14", n - 1000, n);
        assertThat(FeatureDrift.psi(ref, column(nq, "atr_pct_14", crash, crash + 300)))
                .isGreaterThan(1.0);
    }

    private static int firstAtOrAfter(BarData d, String instant) {
        long t = java.time.Instant.parse(instant).toEpochMilli();
        int i = 0;
        while (d.startMillis[i] < t) {
            i++;
        }
        return i;
    }

    @Test
    void badSamplesAreRefusedNamingWhichAndWhere() {
        assertThatThrownBy(() -> FeatureDrift.compare(range(1, 9), range(1, 5)))
                .hasMessageContaining("reference sample has 9 values; at least 10");
        double[] live = {1, 2, Double.NaN};
        assertThatThrownBy(() -> FeatureDrift.compare(range(1, 20), live))
                .hasMessageContaining("live sample: value 2 is NaN, not finite");
    }
}
