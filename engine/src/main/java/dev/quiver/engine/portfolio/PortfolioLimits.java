package dev.quiver.engine.portfolio;

/**
 * The limits on one account's joint allocation, as fractions of the account's equity (long only:
 * every allocation is {@code >= 0}).
 *
 * @param perSymbolCap largest position in one symbol, in {@code (0, 1]}
 * @param grossCap largest sum of absolute positions, {@code > 0} (1 = fully invested, no leverage)
 * @param netCap largest absolute sum of signed positions, {@code > 0}; equal to gross for a
 *     long-only book, kept separate so a book that may short is limited the same way
 * @param clusterCap largest sum of positions within one correlation cluster, {@code > 0}
 * @param clusterCorrelation two symbols whose return correlation is at least this are in one
 *     cluster (clusters are the connected components), in {@code (0, 1]}
 */
public record PortfolioLimits(
        double perSymbolCap,
        double grossCap,
        double netCap,
        double clusterCap,
        double clusterCorrelation) {

    /** Defaults: 0.5 per symbol, 1.0 gross and net, 0.6 per cluster of correlation >= 0.7. */
    public static final PortfolioLimits DEFAULTS = new PortfolioLimits(0.5, 1.0, 1.0, 0.6, 0.7);

    /**
     * Validates.
     *
     * @throws IllegalArgumentException naming the limit and its value if it is out of range
     */
    public PortfolioLimits {
        check("perSymbolCap", perSymbolCap, perSymbolCap > 0 && perSymbolCap <= 1, "(0, 1]");
        check("grossCap", grossCap, grossCap > 0 && Double.isFinite(grossCap), "(0, inf)");
        check("netCap", netCap, netCap > 0 && Double.isFinite(netCap), "(0, inf)");
        check("clusterCap", clusterCap, clusterCap > 0 && Double.isFinite(clusterCap), "(0, inf)");
        check(
                "clusterCorrelation",
                clusterCorrelation,
                clusterCorrelation > 0 && clusterCorrelation <= 1,
                "(0, 1]");
    }

    private static void check(String name, double value, boolean ok, String range) {
        if (!ok) {
            throw new IllegalArgumentException(
                    "portfolio limit " + name + " = " + value + " is not in " + range);
        }
    }
}
