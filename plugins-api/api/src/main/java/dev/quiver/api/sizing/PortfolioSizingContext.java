package dev.quiver.api.sizing;

import dev.quiver.api.Experimental;
import dev.quiver.api.error.QuiverInputException;
import java.util.List;

/**
 * What a portfolio sizing capability may know when it sizes every symbol of one account together.
 * Built by the host, point-in-time: each member's context is from its last bar closed by the
 * decision time, the covariance from returns observed by then.
 *
 * @param members the symbols sized together, at least one, distinct symbols; copied
 * @param covariance covariance of the members' returns over one covariance period (e.g. a day),
 *     {@code n x n} in member order, finite and symmetric; deep-copied in and out
 * @param grossCap the host's cap on the sum of the members' fractions, {@code > 0}; the host also
 *     caps each member at its {@code context.maxFraction()} and enforces its own cluster, net and
 *     breaker limits on whatever is returned
 * @since 1.4.0
 */
@Experimental(since = "1.4.0")
public record PortfolioSizingContext(
        List<PortfolioMember> members, double[][] covariance, double grossCap) {

    /**
     * Validates and copies.
     *
     * @throws QuiverInputException with code {@code BAD_SIZING_CONTEXT} naming the field if the
     *     members are empty or repeat a symbol, the covariance is not {@code n x n}, finite and
     *     symmetric, or the cap is not finite and {@code > 0}
     */
    public PortfolioSizingContext {
        if (members == null || members.isEmpty()) {
            throw new QuiverInputException(
                    "BAD_SIZING_CONTEXT", "members", "portfolio sizing context", 0, "is empty");
        }
        members = List.copyOf(members);
        int n = members.size();
        if (members.stream().map(PortfolioMember::symbol).distinct().count() != n) {
            throw new QuiverInputException(
                    "BAD_SIZING_CONTEXT",
                    "members",
                    "portfolio sizing context",
                    members.stream().map(PortfolioMember::symbol).toList(),
                    "repeat a symbol");
        }
        if (covariance == null || covariance.length != n) {
            throw new QuiverInputException(
                    "BAD_SIZING_CONTEXT",
                    "covariance",
                    "portfolio sizing context",
                    covariance == null ? null : covariance.length,
                    "must have one row per member (" + n + ")");
        }
        double[][] copy = new double[n][];
        for (int i = 0; i < n; i++) {
            if (covariance[i] == null || covariance[i].length != n) {
                throw new QuiverInputException(
                        "BAD_SIZING_CONTEXT",
                        "covariance[" + i + "]",
                        "portfolio sizing context",
                        covariance[i] == null ? null : covariance[i].length,
                        "must have " + n + " columns");
            }
            copy[i] = covariance[i].clone();
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double v = copy[i][j];
                if (!Double.isFinite(v) || v != copy[j][i]) {
                    throw new QuiverInputException(
                            "BAD_SIZING_CONTEXT",
                            "covariance[" + i + "][" + j + "]",
                            "portfolio sizing context",
                            v,
                            "must be finite and equal to covariance[" + j + "][" + i + "]");
                }
            }
        }
        covariance = copy;
        if (!(grossCap > 0) || Double.isInfinite(grossCap)) {
            throw new QuiverInputException(
                    "BAD_SIZING_CONTEXT",
                    "grossCap",
                    "portfolio sizing context",
                    grossCap,
                    "must be finite and > 0");
        }
    }

    /**
     * The covariance, a fresh copy.
     *
     * @return {@code n x n}, in member order
     */
    @Override
    public double[][] covariance() {
        double[][] out = new double[covariance.length][];
        for (int i = 0; i < out.length; i++) {
            out[i] = covariance[i].clone();
        }
        return out;
    }
}
