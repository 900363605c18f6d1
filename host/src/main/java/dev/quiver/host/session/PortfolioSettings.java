package dev.quiver.host.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.engine.portfolio.PortfolioLimits;

/**
 * How the sessions of one portfolio account are sized together (docs/portfolio.md, "Live"): the
 * portfolio policy, the account's caps and the covariance window, the same settings as {@code
 * quiver backtest --portfolio}. Every session opened on the account names the same settings; they
 * are stored with each session's settings and compared field by field.
 *
 * @param policy the portfolio sizing policy's name, e.g. {@code kelly_portfolio}
 * @param limits the account's caps (per symbol, gross, net, correlation cluster)
 * @param covarianceDays rolling window of daily returns for the covariance, in {@code [20, 3650]}
 */
public record PortfolioSettings(String policy, PortfolioLimits limits, int covarianceDays) {

    /** The defaults: {@code kelly_portfolio}, {@link PortfolioLimits#DEFAULTS}, 120 days. */
    public static final PortfolioSettings DEFAULTS =
            new PortfolioSettings("kelly_portfolio", PortfolioLimits.DEFAULTS, 120);

    /**
     * Validates.
     *
     * @throws QuiverInputException {@code BAD_SESSION} naming the field
     */
    public PortfolioSettings {
        if (policy == null || policy.isBlank()) {
            throw bad("portfolio.policy", policy, "is blank");
        }
        if (limits == null) {
            throw bad("portfolio", null, "has no limits");
        }
        if (covarianceDays < 20 || covarianceDays > 3650) {
            throw bad(
                    "portfolio.covariance_days",
                    covarianceDays,
                    "must be a whole number of days in [20, 3650]");
        }
    }

    /**
     * Reads {@code {"policy", "symbol_cap", "gross_cap", "net_cap", "cluster_cap",
     * "cluster_correlation", "covariance_days"}}, each optional (the defaults).
     *
     * @param n the JSON object
     * @return the settings
     * @throws QuiverInputException {@code BAD_SESSION} naming the field ({@code
     *     portfolio.gross_cap}) of a value of the wrong type or out of range, or an unknown field
     */
    public static PortfolioSettings fromJson(JsonNode n) {
        if (n == null || !n.isObject()) {
            throw bad(
                    "portfolio",
                    n,
                    "must be an object: {policy, symbol_cap, gross_cap, net_cap, cluster_cap,"
                            + " cluster_correlation, covariance_days}");
        }
        for (java.util.Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!java.util.List.of(
                            "policy",
                            "symbol_cap",
                            "gross_cap",
                            "net_cap",
                            "cluster_cap",
                            "cluster_correlation",
                            "covariance_days")
                    .contains(f)) {
                throw bad("portfolio." + f, n.get(f), "is not a portfolio setting");
            }
        }
        PortfolioLimits d = DEFAULTS.limits();
        String policy = DEFAULTS.policy();
        if (n.has("policy")) {
            if (!n.get("policy").isTextual()) {
                throw bad("portfolio.policy", n.get("policy"), "must be a name (a string)");
            }
            policy = n.get("policy").asText();
        }
        int days = DEFAULTS.covarianceDays();
        JsonNode cd = n.get("covariance_days");
        if (cd != null) {
            if (!cd.isIntegralNumber() || !cd.canConvertToInt()) {
                throw bad(
                        "portfolio.covariance_days",
                        cd,
                        "must be a whole number of days in [20, 3650]");
            }
            days = cd.intValue();
        }
        PortfolioLimits limits;
        double symbolCap = number(n, "symbol_cap", d.perSymbolCap());
        double grossCap = number(n, "gross_cap", d.grossCap());
        double netCap = number(n, "net_cap", d.netCap());
        double clusterCap = number(n, "cluster_cap", d.clusterCap());
        double clusterCorrelation = number(n, "cluster_correlation", d.clusterCorrelation());
        try {
            limits =
                    new PortfolioLimits(
                            symbolCap, grossCap, netCap, clusterCap, clusterCorrelation);
        } catch (IllegalArgumentException e) {
            String field =
                    e.getMessage().contains("perSymbolCap")
                            ? "symbol_cap"
                            : e.getMessage().contains("grossCap")
                                    ? "gross_cap"
                                    : e.getMessage().contains("netCap")
                                            ? "net_cap"
                                            : e.getMessage().contains("clusterCorrelation")
                                                    ? "cluster_correlation"
                                                    : "cluster_cap";
            throw bad("portfolio." + field, n.get(field), e.getMessage());
        }
        return new PortfolioSettings(policy, limits, days);
    }

    private static double number(JsonNode n, String field, double fallback) {
        JsonNode v = n.get(field);
        if (v == null) {
            return fallback;
        }
        if (!v.isNumber()) {
            throw bad("portfolio." + field, v, "must be a number");
        }
        return v.doubleValue();
    }

    /**
     * Writes the settings as {@link #fromJson} reads them.
     *
     * @param n the object to fill
     */
    void toJson(ObjectNode n) {
        n.put("policy", policy);
        n.put("symbol_cap", limits.perSymbolCap());
        n.put("gross_cap", limits.grossCap());
        n.put("net_cap", limits.netCap());
        n.put("cluster_cap", limits.clusterCap());
        n.put("cluster_correlation", limits.clusterCorrelation());
        n.put("covariance_days", covarianceDays);
    }

    /**
     * The first setting in which {@code other} differs, named as in the request.
     *
     * @param other the settings of another session opened on the account
     * @return the field ({@code portfolio.gross_cap}), or {@code null} when they are the same
     */
    String differs(PortfolioSettings other) {
        if (other == null) {
            return "portfolio";
        }
        if (!policy.equals(other.policy)) {
            return "portfolio.policy";
        }
        PortfolioLimits o = other.limits;
        if (Double.compare(limits.perSymbolCap(), o.perSymbolCap()) != 0) {
            return "portfolio.symbol_cap";
        }
        if (Double.compare(limits.grossCap(), o.grossCap()) != 0) {
            return "portfolio.gross_cap";
        }
        if (Double.compare(limits.netCap(), o.netCap()) != 0) {
            return "portfolio.net_cap";
        }
        if (Double.compare(limits.clusterCap(), o.clusterCap()) != 0) {
            return "portfolio.cluster_cap";
        }
        if (Double.compare(limits.clusterCorrelation(), o.clusterCorrelation()) != 0) {
            return "portfolio.cluster_correlation";
        }
        if (covarianceDays != other.covarianceDays) {
            return "portfolio.covariance_days";
        }
        return null;
    }

    private static QuiverInputException bad(String field, Object value, String problem) {
        return new QuiverInputException("BAD_SESSION", field, "portfolio settings", value, problem);
    }
}
