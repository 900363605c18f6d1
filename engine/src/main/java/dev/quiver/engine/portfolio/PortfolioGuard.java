package dev.quiver.engine.portfolio;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The host's last word on one account's joint allocation: whatever a portfolio sizing policy
 * proposes, the allocation that leaves here holds every {@link PortfolioLimits} limit and the
 * account's breakers, exactly (no tolerance: a scale that rounds a sum above its cap is stepped
 * down one ulp at a time).
 *
 * <p>In order, each step only ever lowers a position, so a limit met by one step is still met after
 * the later ones:
 *
 * <ol>
 *   <li>a proposal that is not a finite number {@code >= 0} is flat, and the note says so;
 *   <li>per-symbol cap: each position clipped to {@code perSymbolCap};
 *   <li>correlation clusters: symbols whose return correlation (from the covariance) is at least
 *       {@code clusterCorrelation} are linked; in each connected group whose positions sum above
 *       {@code clusterCap}, every member is scaled by the same factor (the within-cluster mix is
 *       kept: two highly correlated longs are one bet);
 *   <li>gross and net: all positions scaled by one factor so that {@code sum |f|} and {@code |sum
 *       f|} are within their caps;
 *   <li>breakers: {@link BreakerState#FLATTEN} makes every position 0; {@link
 *       BreakerState#NO_NEW_RISK} holds each position at most at its current weight.
 * </ol>
 *
 * <p>Stateless and thread-safe.
 */
public final class PortfolioGuard {

    private PortfolioGuard() {}

    /**
     * A guarded allocation.
     *
     * @param proposed the policy's proposal per symbol, as received
     * @param allocation the allocation after every limit, fractions of equity, {@code >= 0}
     * @param cluster cluster number per symbol (symbols with the same number are one cluster)
     * @param notes one line per limit that changed something, e.g. {@code cluster [0, 1] scaled
     *     0.80 (sum 0.75 > cap 0.60)}; empty when the proposal passed untouched
     */
    public record Allocation(
            double[] proposed, double[] allocation, int[] cluster, List<String> notes) {}

    /**
     * Applies the limits and the breakers.
     *
     * @param proposed the policy's proposed fraction per symbol (any doubles: garbage is made flat)
     * @param covariance {@code p x p} covariance of the symbols' returns, finite, symmetric
     * @param current each symbol's current weight in the account, finite and {@code >= 0}
     * @param limits the caps
     * @param breakers what the account's breakers allow
     * @return the guarded allocation
     * @throws IllegalArgumentException if the shapes disagree or the covariance or a current weight
     *     is not finite (naming which)
     */
    public static Allocation apply(
            double[] proposed,
            double[][] covariance,
            double[] current,
            PortfolioLimits limits,
            BreakerState breakers) {
        int p = proposed.length;
        if (covariance.length != p || current.length != p) {
            throw new IllegalArgumentException(
                    "portfolio guard: "
                            + p
                            + " proposals, covariance of "
                            + covariance.length
                            + " rows, "
                            + current.length
                            + " current weights");
        }
        for (int i = 0; i < p; i++) {
            if (covariance[i].length != p) {
                throw new IllegalArgumentException(
                        "portfolio guard: covariance row "
                                + i
                                + " has "
                                + covariance[i].length
                                + " columns, expected "
                                + p);
            }
            for (int j = 0; j < p; j++) {
                if (!Double.isFinite(covariance[i][j])) {
                    throw new IllegalArgumentException(
                            "portfolio guard: covariance["
                                    + i
                                    + "]["
                                    + j
                                    + "] is "
                                    + covariance[i][j]);
                }
            }
            if (!(current[i] >= 0) || Double.isInfinite(current[i])) {
                throw new IllegalArgumentException(
                        "portfolio guard: current weight of symbol "
                                + i
                                + " is "
                                + current[i]
                                + ", expected finite and >= 0");
            }
        }
        List<String> notes = new ArrayList<>();
        double[] f = new double[p];
        for (int i = 0; i < p; i++) {
            double v = proposed[i];
            if (!(v >= 0) || Double.isInfinite(v)) {
                notes.add(
                        "symbol "
                                + i
                                + ": proposal "
                                + v
                                + " is not a finite fraction >= 0 -> flat");
                f[i] = 0;
            } else if (v > limits.perSymbolCap()) {
                notes.add(
                        "symbol "
                                + i
                                + ": "
                                + fmt(v)
                                + " clipped to the per-symbol cap "
                                + fmt(limits.perSymbolCap()));
                f[i] = limits.perSymbolCap();
            } else {
                f[i] = v;
            }
        }
        int[] cluster = clusters(covariance, limits.clusterCorrelation());
        for (int c = 0; c < p; c++) {
            int members = 0;
            double sum = 0;
            for (int i = 0; i < p; i++) {
                if (cluster[i] == c) {
                    members++;
                    sum += f[i];
                }
            }
            if (members > 0 && sum > limits.clusterCap()) {
                double[] sub = new double[members];
                int[] idx = new int[members];
                for (int i = 0, k = 0; i < p; i++) {
                    if (cluster[i] == c) {
                        idx[k] = i;
                        sub[k++] = f[i];
                    }
                }
                double s = scaleTo(sub, limits.clusterCap(), false);
                for (int k = 0; k < members; k++) {
                    f[idx[k]] = sub[k] * s;
                }
                notes.add(
                        "cluster "
                                + Arrays.toString(idx)
                                + " scaled "
                                + fmt(s)
                                + " (sum "
                                + fmt(sum)
                                + " > cap "
                                + fmt(limits.clusterCap())
                                + ")");
            }
        }
        double gross = sumAbs(f);
        if (gross > limits.grossCap()) {
            double s = scaleTo(f, limits.grossCap(), true);
            scale(f, s);
            notes.add(
                    "gross "
                            + fmt(gross)
                            + " > cap "
                            + fmt(limits.grossCap())
                            + ": all scaled "
                            + fmt(s));
        }
        double net = Math.abs(sum(f));
        if (net > limits.netCap()) {
            double s = scaleTo(f, limits.netCap(), false);
            scale(f, s);
            notes.add(
                    "net "
                            + fmt(net)
                            + " > cap "
                            + fmt(limits.netCap())
                            + ": all scaled "
                            + fmt(s));
        }
        switch (breakers) {
            case FLATTEN -> {
                Arrays.fill(f, 0);
                notes.add("breaker flattens the account: every position 0");
            }
            case NO_NEW_RISK -> {
                for (int i = 0; i < p; i++) {
                    if (f[i] > current[i]) {
                        notes.add(
                                "symbol "
                                        + i
                                        + ": breaker halts new risk, held at current "
                                        + fmt(current[i])
                                        + " (not "
                                        + fmt(f[i])
                                        + ")");
                        f[i] = current[i];
                    }
                }
            }
            case ARMED -> {}
        }
        return new Allocation(proposed.clone(), f, cluster, List.copyOf(notes));
    }

    /**
     * Correlation clusters: connected components of the graph linking symbols {@code i != j} with
     * {@code cov[i][j] / sqrt(cov[i][i] cov[j][j]) >= threshold}. A symbol of zero variance has no
     * defined correlation and is alone.
     *
     * @param covariance {@code p x p}, finite
     * @param threshold correlation at or above which two symbols are linked
     * @return per symbol the smallest index in its cluster
     */
    public static int[] clusters(double[][] covariance, double threshold) {
        int p = covariance.length;
        int[] parent = new int[p];
        for (int i = 0; i < p; i++) {
            parent[i] = i;
        }
        for (int i = 0; i < p; i++) {
            for (int j = i + 1; j < p; j++) {
                double denom = Math.sqrt(covariance[i][i] * covariance[j][j]);
                if (denom > 0 && covariance[i][j] / denom >= threshold) {
                    int a = root(parent, i);
                    int b = root(parent, j);
                    parent[Math.max(a, b)] = Math.min(a, b);
                }
            }
        }
        int[] out = new int[p];
        for (int i = 0; i < p; i++) {
            out[i] = root(parent, i);
        }
        return out;
    }

    private static int root(int[] parent, int i) {
        while (parent[i] != i) {
            i = parent[i];
        }
        return i;
    }

    /** A factor {@code s <= cap / total} such that the scaled total is {@code <= cap} exactly. */
    private static double scaleTo(double[] f, double cap, boolean abs) {
        double total = abs ? sumAbs(f) : Math.abs(sum(f));
        double s = cap / total;
        double[] scaled = new double[f.length];
        while (true) {
            for (int i = 0; i < f.length; i++) {
                scaled[i] = f[i] * s;
            }
            double t = abs ? sumAbs(scaled) : Math.abs(sum(scaled));
            if (t <= cap) {
                return s;
            }
            s = Math.nextDown(s);
        }
    }

    private static void scale(double[] f, double s) {
        for (int i = 0; i < f.length; i++) {
            f[i] *= s;
        }
    }

    private static double sum(double[] f) {
        double t = 0;
        for (double v : f) {
            t += v;
        }
        return t;
    }

    private static double sumAbs(double[] f) {
        double t = 0;
        for (double v : f) {
            t += Math.abs(v);
        }
        return t;
    }

    /** Four decimals, without String.format (this runs on every decision). */
    private static String fmt(double v) {
        return Double.toString(Math.round(v * 1e4) / 1e4);
    }
}
