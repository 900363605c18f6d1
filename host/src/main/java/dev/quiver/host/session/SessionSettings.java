package dev.quiver.host.session;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.error.QuiverInputException;
import java.time.Duration;

/**
 * What a session was opened with; stored as the session row's JSON, compared field by field when a
 * session is opened again (same settings: the open session answers; other settings: refused).
 *
 * @param symbol the symbol
 * @param account the account id
 * @param interval bar interval
 * @param maxGapBars largest accepted gap between bars, intervals
 * @param policy the acting policy: its book is the account
 * @param warmupBars how many of the session's first stored bars are warm-up (features only)
 * @param bundle the strategy bundle's id when the session was opened
 * @param staleAfterIntervals this session's own stale-bar limit in intervals (0: no check, for a
 *     replay of history), or {@code -1} for the service's ({@code
 *     quiver.session.stale-after-intervals})
 * @param portfolio how the account's sessions are sized together, or {@code null} for a
 *     single-symbol account (docs/portfolio.md)
 */
public record SessionSettings(
        String symbol,
        String account,
        Duration interval,
        int maxGapBars,
        String policy,
        int warmupBars,
        String bundle,
        int staleAfterIntervals,
        PortfolioSettings portfolio) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Settings with the service's stale-bar limit.
     *
     * @param symbol see the record
     * @param account see the record
     * @param interval see the record
     * @param maxGapBars see the record
     * @param policy see the record
     * @param warmupBars see the record
     * @param bundle see the record
     */
    public SessionSettings(
            String symbol,
            String account,
            Duration interval,
            int maxGapBars,
            String policy,
            int warmupBars,
            String bundle) {
        this(symbol, account, interval, maxGapBars, policy, warmupBars, bundle, -1, null);
    }

    /**
     * Settings of a single-symbol account.
     *
     * @param symbol see the record
     * @param account see the record
     * @param interval see the record
     * @param maxGapBars see the record
     * @param policy see the record
     * @param warmupBars see the record
     * @param bundle see the record
     * @param staleAfterIntervals see the record
     */
    public SessionSettings(
            String symbol,
            String account,
            Duration interval,
            int maxGapBars,
            String policy,
            int warmupBars,
            String bundle,
            int staleAfterIntervals) {
        this(
                symbol,
                account,
                interval,
                maxGapBars,
                policy,
                warmupBars,
                bundle,
                staleAfterIntervals,
                null);
    }

    String toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("symbol", symbol);
        n.put("account", account);
        n.put("interval", interval.toString());
        n.put("max_gap_bars", maxGapBars);
        n.put("policy", policy);
        n.put("warmup_bars", warmupBars);
        n.put("bundle", bundle);
        if (staleAfterIntervals >= 0) {
            n.put("stale_after_intervals", staleAfterIntervals);
        }
        if (portfolio != null) {
            portfolio.toJson(n.putObject("portfolio"));
        }
        try {
            return JSON.writeValueAsString(n);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static SessionSettings fromJson(String json) {
        try {
            JsonNode n = JSON.readTree(json);
            Duration interval;
            try {
                interval = Duration.parse(n.path("interval").asText());
            } catch (java.time.format.DateTimeParseException e) {
                throw new IllegalStateException(
                        "stored session settings: interval '"
                                + n.path("interval").asText()
                                + "' is not an ISO-8601 duration (PT4H) in "
                                + json,
                        e);
            }
            return new SessionSettings(
                    n.path("symbol").asText(),
                    n.path("account").asText(),
                    interval,
                    n.path("max_gap_bars").asInt(),
                    n.path("policy").asText(),
                    n.path("warmup_bars").asInt(),
                    n.path("bundle").asText(),
                    n.path("stale_after_intervals").asInt(-1),
                    n.hasNonNull("portfolio")
                            ? PortfolioSettings.fromJson(n.get("portfolio"))
                            : null);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored session settings are not JSON: " + json, e);
        }
    }

    /**
     * The first setting in which {@code other} differs, ignoring the warm-up (a session opened
     * again need not send its warm-up again).
     *
     * @param other settings of a second open request
     * @throws QuiverInputException {@code SESSION_CONFLICT} naming the field
     */
    void requireSame(SessionSettings other) {
        check("account", account, other.account);
        check("interval", interval, other.interval);
        check("max_gap_bars", maxGapBars, other.maxGapBars);
        check("policy", policy, other.policy);
        if (portfolio != null || other.portfolio != null) {
            String field = portfolio == null ? "portfolio" : portfolio.differs(other.portfolio);
            if (field != null) {
                throw new QuiverInputException(
                        "SESSION_CONFLICT",
                        field,
                        "session " + symbol,
                        other.portfolio,
                        "differs from the open session's portfolio settings "
                                + portfolio
                                + "; close it first (DELETE)");
            }
        }
    }

    private void check(String field, Object mine, Object theirs) {
        if (!mine.equals(theirs)) {
            throw new QuiverInputException(
                    "SESSION_CONFLICT",
                    field,
                    "session " + symbol,
                    theirs,
                    "differs from the open session's " + mine + "; close it first (DELETE)");
        }
    }
}
