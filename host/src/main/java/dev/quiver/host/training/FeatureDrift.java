package dev.quiver.host.training;

import java.util.Arrays;
import org.apache.commons.math3.stat.descriptive.rank.Percentile;
import org.apache.commons.math3.stat.inference.KolmogorovSmirnovTest;

/**
 * How far one feature's live values have moved from its values in a bundle's training window: the
 * population stability index (PSI) and the two-sample Kolmogorov-Smirnov statistic (KS).
 *
 * <p><b>PSI.</b> {@code PSI = sum_i (a_i - e_i) * ln(a_i / e_i)}, where {@code e_i} and {@code a_i}
 * are the shares of the reference (training window) and live values in bin {@code i}; it is the
 * symmetrised Kullback-Leibler divergence of the two binned distributions. Source: N. Siddiqi,
 * "Credit Risk Scorecards" (Wiley, 2006), ch. 8; B. Yurdakul, "Statistical Properties of Population
 * Stability Index", dissertation, Western Michigan University (2018). The usual reading: below 0.1
 * no shift, 0.1 to 0.25 a moderate one, above 0.25 a significant one.
 *
 * <p>Binning (declared): the bins are the deciles of the reference window. The nine cut points are
 * its 10th, 20th, ..., 90th percentiles (commons-math3 {@link Percentile}, estimation type R-7, the
 * default of R and numpy); bin {@code i} is {@code (cut_{i-1}, cut_i]}, the first from minus
 * infinity, the last to plus infinity, so every live value falls in a bin. Equal cut points (a
 * feature with ties, e.g. a constant stretch) are merged, so there may be fewer than ten bins. A
 * bin with no value on one side has its share taken as {@value #EMPTY_BIN_SHARE} (the convention of
 * the widely used {@code mwburke/population-stability-index}); without it one empty bin makes the
 * index infinite. The shares are not renormalised after that replacement.
 *
 * <p><b>KS.</b> {@code D = sup_x |F_ref(x) - F_live(x)|} of the two empirical distribution
 * functions, and its p-value, both from commons-math3 {@link KolmogorovSmirnovTest}: D by {@code
 * kolmogorovSmirnovStatistic}, the p-value from the asymptotic Kolmogorov distribution of {@code
 * sqrt(n m / (n + m)) D} ({@code approximateP}; A. N. Kolmogorov 1933, N. Smirnov 1948), good for
 * the samples drift compares (hundreds of live bars, a training window of thousands) and rough
 * below a few dozen values.
 *
 * <p>Stateless and thread-safe.
 */
public final class FeatureDrift {

    /** The share a bin with no value counts as on its side. */
    public static final double EMPTY_BIN_SHARE = 1e-4;

    /** Deciles: ten bins of the reference window. */
    public static final int BINS = 10;

    private FeatureDrift() {}

    /**
     * Both figures of one feature.
     *
     * @param psi population stability index, {@code >= 0}
     * @param ks Kolmogorov-Smirnov statistic D, in {@code [0, 1]}
     * @param ksPValue the p-value of D under "same distribution", in {@code [0, 1]}
     * @param referenceValues finite reference values used
     * @param liveValues finite live values used
     */
    public record Figures(
            double psi, double ks, double ksPValue, int referenceValues, int liveValues) {}

    /**
     * Compares live values with reference values.
     *
     * @param reference the feature's values in the training window; at least {@value #BINS}, every
     *     one finite
     * @param live the feature's values on the live bars; at least 2, every one finite
     * @return PSI and KS
     * @throws IllegalArgumentException if a sample is too small or holds a value that is not finite
     *     (naming which and where)
     */
    public static Figures compare(double[] reference, double[] live) {
        check("reference", reference, BINS);
        check("live", live, 2);
        KolmogorovSmirnovTest ks = new KolmogorovSmirnovTest();
        double d = ks.kolmogorovSmirnovStatistic(reference, live);
        // The asymptotic distribution always: commons-math3 3.6.1's exactP enumerates every
        // subset of the pooled sample (C(1009, 9) for 1,000 reference and 9 live values), and its
        // default test runs a Monte Carlo of a million draws below 10,000 pairs.
        double p = ks.approximateP(d, reference.length, live.length);
        return new Figures(psi(reference, live), d, p, reference.length, live.length);
    }

    /**
     * The population stability index of {@code live} against {@code reference}, binned by the
     * reference's deciles (see the class comment).
     *
     * @param reference reference values, at least {@value #BINS}, finite
     * @param live live values, at least 1, finite
     * @return the index, {@code >= 0}
     * @throws IllegalArgumentException on a sample too small or a value not finite
     */
    public static double psi(double[] reference, double[] live) {
        check("reference", reference, BINS);
        check("live", live, 1);
        double[] cuts = decileCuts(reference);
        double[] e = shares(reference, cuts);
        double[] a = shares(live, cuts);
        double psi = 0;
        for (int i = 0; i < e.length; i++) {
            double ei = e[i] == 0 ? EMPTY_BIN_SHARE : e[i];
            double ai = a[i] == 0 ? EMPTY_BIN_SHARE : a[i];
            psi += (ai - ei) * Math.log(ai / ei);
        }
        return psi;
    }

    /**
     * The reference's decile cut points, ascending and distinct.
     *
     * @param reference reference values, finite
     * @return at most nine cut points
     */
    static double[] decileCuts(double[] reference) {
        Percentile p = new Percentile().withEstimationType(Percentile.EstimationType.R_7);
        p.setData(reference);
        double[] cuts = new double[BINS - 1];
        for (int k = 1; k < BINS; k++) {
            cuts[k - 1] = p.evaluate(100.0 * k / BINS);
        }
        return Arrays.stream(cuts).distinct().sorted().toArray();
    }

    /**
     * The share of values in each bin {@code (cut_{i-1}, cut_i]}.
     *
     * @param values the values
     * @param cuts ascending distinct cut points
     * @return {@code cuts.length + 1} shares summing to 1
     */
    static double[] shares(double[] values, double[] cuts) {
        double[] counts = new double[cuts.length + 1];
        for (double v : values) {
            int i = Arrays.binarySearch(cuts, v);
            // v equal to a cut belongs to the bin the cut closes; otherwise its insertion point.
            counts[i >= 0 ? i : -i - 1]++;
        }
        for (int i = 0; i < counts.length; i++) {
            counts[i] /= values.length;
        }
        return counts;
    }

    private static void check(String which, double[] values, int min) {
        if (values.length < min) {
            throw new IllegalArgumentException(
                    which
                            + " sample has "
                            + values.length
                            + " values; at least "
                            + min
                            + " needed");
        }
        for (int i = 0; i < values.length; i++) {
            if (!Double.isFinite(values[i])) {
                throw new IllegalArgumentException(
                        which + " sample: value " + i + " is " + values[i] + ", not finite");
            }
        }
    }
}
