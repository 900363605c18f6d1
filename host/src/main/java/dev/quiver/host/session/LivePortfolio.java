package dev.quiver.host.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.market.Bar;
import dev.quiver.api.sizing.PortfolioSizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.engine.PolicyStep;
import dev.quiver.engine.Step;
import dev.quiver.engine.TradingRules;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.portfolio.PortfolioBook;
import dev.quiver.engine.portfolio.TrailingMeanGain;
import dev.quiver.engine.risk.CircuitBreakers;
import dev.quiver.host.store.AccountRow;
import dev.quiver.host.store.EventRow;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One portfolio account of the live service: the sessions opened on it with the same {@link
 * PortfolioSettings} are sized jointly by one {@link PortfolioBook}, the stepper the portfolio
 * backtest drives (docs/portfolio.md, "Live"). A bar of any member re-sizes every member with the
 * others' latest state: their last calibrated signal, payoff and volatility (from their last step),
 * their trailing mean gain and their position; the covariance is the Ledoit-Wolf estimate of the
 * members' daily returns from their stored bars (warm-up included), point-in-time.
 *
 * <p>State: after every member bar (and at every join, leave or re-arm) the book's whole state and
 * the decision made go to the state store as one {@code portfolio_decision} event, in the bar's
 * transaction; a restart (or a failed commit) puts back the last one stored. Guarded by its own
 * monitor, taken after a member session's.
 *
 * <p>It owns its policy instance (made for this account alone, {@link
 * StrategyCatalog#newPortfolioPolicy}; {@link #close} closes it): accounts share no policy state.
 *
 * <p>A member whose session is quarantined ({@code failed_recovery}) is frozen in the book ({@link
 * PortfolioBook#freeze}): its position is held at its last price and counts against the gross and
 * net caps; it is never sized; closing its session sells it at its last price.
 */
final class LivePortfolio {

    /** The event kind of a stored state. */
    static final String KIND = "portfolio_decision";

    private static final ObjectMapper JSON = new ObjectMapper();

    final AccountRow account;
    final PortfolioSettings settings;
    private final PortfolioBook.Settings bookSettings;
    private final PortfolioSizingCapability policy;
    PortfolioBook book;
    private final int payoffWindowBars;
    private final Map<String, Integer> index = new HashMap<>();
    private final List<Duration> intervals = new ArrayList<>();
    private final List<List<Bar>> bars = new ArrayList<>();

    /** Per member, its trailing mean gain through its last bar, kept one close at a time. */
    private final List<TrailingMeanGain> gains = new ArrayList<>();

    /**
     * The trading rules the book was built with (costs, breakers, rebalance band, payoff window):
     * every member's strategy must carry the same.
     */
    final TradingRules rules;

    /** Per member, the JSON of the last decision its bar triggered. */
    private final Map<String, JsonNode> lastDecisions = new HashMap<>();

    /** The JSON of the last decision of the account (whichever member triggered it). */
    private JsonNode lastDecision;

    LivePortfolio(
            AccountRow account,
            PortfolioSettings settings,
            TradingRules rules,
            PortfolioSizingCapability policy) {
        this.account = account;
        this.rules = rules;
        this.settings = settings;
        this.payoffWindowBars = rules.payoffWindowBars();
        this.policy = policy;
        this.bookSettings =
                new PortfolioBook.Settings(
                        account.startingEquity(),
                        rules.costs(),
                        rules.breakers(),
                        settings.limits(),
                        settings.covarianceDays(),
                        rules.rebalanceBand());
        this.book = new PortfolioBook(bookSettings, policy);
    }

    /** Forgets everything: a fresh book with no members (before a {@link #restore}). */
    void reset() {
        book = new PortfolioBook(bookSettings, policy);
        index.clear();
        intervals.clear();
        bars.clear();
        gains.clear();
        lastDecisions.clear();
        lastDecision = null;
    }

    /** The account's id. */
    String id() {
        return account.id();
    }

    /** Whether {@code symbol} is (or was) a member. */
    boolean member(String symbol) {
        return index.containsKey(symbol);
    }

    /** Whether {@code symbol} is a member that left (its session closed). */
    boolean left(String symbol) {
        Integer j = index.get(symbol);
        return j != null && book.done(j);
    }

    /** Members that have not left. */
    List<String> openMembers() {
        List<String> out = new ArrayList<>();
        for (String s : book.symbols()) {
            if (!book.done(index.get(s))) {
                out.add(s);
            }
        }
        return out;
    }

    /**
     * Adds a member, flat, with its history so far (warm-up bars).
     *
     * @return its index
     */
    int join(String symbol, Duration interval, List<Bar> history) {
        int j = book.join(symbol, interval);
        index.put(symbol, j);
        intervals.add(interval);
        bars.add(new ArrayList<>(history));
        TrailingMeanGain g = new TrailingMeanGain(payoffWindowBars);
        for (Bar b : history) {
            g.add(b.close());
        }
        gains.add(g);
        return j;
    }

    /** Bars a member took without a step (a re-warm's), for its covariance and mean gain. */
    void history(String symbol, List<Bar> more) {
        int j = index.get(symbol);
        List<Bar> own = bars.get(j);
        for (Bar b : more) {
            if (own.isEmpty() || b.start().isAfter(own.get(own.size() - 1).start())) {
                own.add(b);
                gains.get(j).add(b.close());
            }
        }
    }

    /**
     * A member's new bar, stepped by its session: the book fills its pending target at the bar's
     * open, then marks it at the close and re-sizes every member.
     *
     * @param symbol the member
     * @param bar the bar
     * @param step the session's step of it (its signal, payoff and volatility)
     * @param halted whether the kill switch halts new risk
     * @return the decision's JSON, or {@code null} when no member could be sized
     */
    JsonNode onBar(String symbol, Bar bar, Step step, boolean halted) {
        if (quarantined != null) {
            throw new IllegalStateException(
                    "portfolio account " + id() + " is quarantined: " + quarantined);
        }
        int j = index.get(symbol);
        List<Bar> own = bars.get(j);
        own.add(bar);
        double meanGain = gains.get(j).add(bar.close());
        book.haltNewRisk(halted);
        book.open(j, bar.open());
        long close = bar.start().plus(intervals.get(j)).toEpochMilli();
        PortfolioBook.Decision d =
                book.close(
                        j,
                        close,
                        bar.close(),
                        contextOf(step),
                        meanGain,
                        false,
                        i -> new BarData(book.symbols().get(i), intervals.get(i), bars.get(i)));
        JsonNode json = d == null ? null : decisionJson(d);
        lastDecisions.put(symbol, json);
        if (json != null) {
            lastDecision = json;
        }
        return json;
    }

    /**
     * The member's sizing context at its step: any policy's (they share the signal, volatility and
     * payoff ratio; equity, drawdown and cap are the book's), or null when no policy was asked
     * (warming up, no signal, the input gate or an expired bundle abstained).
     */
    static SizingContext contextOf(Step step) {
        if (step == null) {
            return null;
        }
        for (PolicyStep ps : step.policies()) {
            if (ps.context() != null) {
                return ps.context();
            }
        }
        return null;
    }

    /**
     * Re-observes every member's latest state after a restore: the context of its session's last
     * step and its mean gain through its last bar.
     */
    void observe(String symbol, Step last) {
        int j = index.get(symbol);
        book.observe(j, contextOf(last), gains.get(j).value());
    }

    /**
     * Freezes a member whose session is quarantined, or thaws it ({@link PortfolioBook#freeze}).
     *
     * @param symbol the member
     * @param reason why, or null to thaw
     */
    void freeze(String symbol, String reason) {
        book.freeze(index.get(symbol), reason);
    }

    /** Why the account was taken out of service, or null while it serves. */
    private volatile String quarantined;

    /**
     * Takes the account out of service: every later member bar is refused at the book (its session
     * is quarantined too).
     *
     * @param reason why
     */
    void quarantine(String reason) {
        this.quarantined = reason;
    }

    /** Closes the account's own policy instance. */
    void close() {
        policy.close();
    }

    /** The member's session closed: its position is sold at its last price. */
    void leave(String symbol) {
        book.leave(index.get(symbol));
    }

    // ---- the store ------------------------------------------------------------------------------

    /**
     * The book's state (and the decision just made, if any) as the event stored with the bar.
     *
     * @param symbol the member concerned, or null for the account (a re-arm)
     * @param timeMs when
     * @param actor who ({@code engine} for a bar)
     * @param reason why, if not a bar
     * @param decision the decision's JSON, or null
     */
    EventRow event(String symbol, long timeMs, String actor, String reason, JsonNode decision) {
        ObjectNode d = JSON.createObjectNode();
        ArrayNode members = d.putArray("members");
        List<String> symbols = book.symbols();
        for (int i = 0; i < symbols.size(); i++) {
            members.addObject()
                    .put("symbol", symbols.get(i))
                    .put("interval", intervals.get(i).toString());
        }
        PortfolioBook.State s = book.snapshot();
        ObjectNode st = d.putObject("state");
        st.put("cash", s.cash());
        doubles(st.putArray("units"), s.units());
        doubles(st.putArray("price"), s.price());
        doubles(st.putArray("pending"), s.pending());
        doubles(st.putArray("pnl"), s.pnl());
        doubles(st.putArray("traded"), s.traded());
        doubles(st.putArray("costs"), s.costs());
        ArrayNode done = st.putArray("done");
        for (boolean b : s.done()) {
            done.add(b);
        }
        st.put("peak", s.peak());
        st.put("drawdown_tripped", s.drawdownTripped());
        st.put("drawdown_tripped_at", s.drawdownTrippedAt());
        st.put("loss_day", s.lossDay());
        st.put("day_start_equity", s.dayStartEquity());
        st.put("daily_tripped", s.dailyTripped());
        st.put("trips", s.trips());
        ArrayNode events = st.putArray("breaker_events");
        s.breakerEvents().forEach(events::add);
        st.put("covariance_day", s.covarianceDay());
        ArrayNode ci = st.putArray("covariance_index");
        for (int i : s.covarianceIndex()) {
            ci.add(i);
        }
        if (s.covariance() != null) {
            covariance(st.putObject("covariance"), s.covariance(), false);
        }
        st.put("decisions", s.decisions());
        st.put("guard_changes", s.guardChanges());
        d.set("rules", rulesJson(rules));
        d.set("decision", decision);
        return new EventRow(
                account.id(),
                Optional.ofNullable(symbol),
                KIND,
                Optional.of(settings.policy()),
                d.toString(),
                timeMs,
                actor,
                Optional.ofNullable(reason));
    }

    /**
     * Puts back the state stored in an event by {@link #event}: its members join in the stored
     * order (with their bars from {@code history}), then the state is restored.
     *
     * @param detail the event's detail
     * @param history each member's stored bars, by symbol (empty for a member whose session is
     *     closed)
     * @param lastDecisions per member, the decision JSON of its last stored event (or absent)
     * @throws IllegalStateException if the detail cannot be read
     */
    void restore(
            JsonNode detail, Map<String, List<Bar>> history, Map<String, JsonNode> lastDecisions) {
        for (JsonNode m : detail.path("members")) {
            String symbol = m.path("symbol").asText();
            join(
                    symbol,
                    Duration.parse(m.path("interval").asText()),
                    history.getOrDefault(symbol, List.of()));
        }
        JsonNode st = detail.path("state");
        int m = index.size();
        boolean[] done = new boolean[m];
        for (int i = 0; i < m; i++) {
            done[i] = st.path("done").path(i).asBoolean();
        }
        int[] covIndex = new int[st.path("covariance_index").size()];
        for (int i = 0; i < covIndex.length; i++) {
            covIndex[i] = st.path("covariance_index").path(i).asInt();
        }
        List<String> events = new ArrayList<>();
        st.path("breaker_events").forEach(e -> events.add(e.asText()));
        book.restore(
                new PortfolioBook.State(
                        st.path("cash").asDouble(),
                        doubles(st.path("units"), m),
                        doubles(st.path("price"), m),
                        doubles(st.path("pending"), m),
                        doubles(st.path("pnl"), m),
                        doubles(st.path("traded"), m),
                        doubles(st.path("costs"), m),
                        done,
                        st.path("peak").asDouble(),
                        st.path("drawdown_tripped").asBoolean(),
                        st.path("drawdown_tripped_at").asLong(),
                        st.path("loss_day").asLong(),
                        st.path("day_start_equity").asDouble(),
                        st.path("daily_tripped").asBoolean(),
                        st.path("trips").asInt(),
                        events,
                        st.path("covariance_day").asLong(),
                        covIndex,
                        st.hasNonNull("covariance") ? covariance(st.get("covariance")) : null,
                        st.path("decisions").asInt(),
                        st.path("guard_changes").asInt()));
        this.lastDecisions.putAll(lastDecisions);
    }

    /** The book's trading rules as stored with every state: the rules in force. */
    private static ObjectNode rulesJson(TradingRules r) {
        ObjectNode o = JSON.createObjectNode();
        o.put("fee_bps", r.costs().feeBps());
        o.put("slippage_bps", r.costs().slippageBps());
        o.put("rebalance_band", r.rebalanceBand());
        o.put("payoff_window_bars", r.payoffWindowBars());
        CircuitBreakers.Config b = r.breakers();
        if (b == null) {
            o.putNull("breakers");
        } else {
            o.putObject("breakers")
                    .put("max_drawdown", b.maxDrawdown())
                    .put("daily_loss", b.dailyLoss())
                    .put("min_hit_rate", b.minHitRate())
                    .put("hit_rate_window", b.hitRateWindow())
                    .put("drawdown_cooldown_days", b.drawdownCooldownDays())
                    .put("drawdown_rearm", b.drawdownRearm().name());
        }
        return o;
    }

    /**
     * The trading rules a stored state was made with (after a strategy swap the members' current
     * bundle may carry others): its costs, breakers, rebalance band and payoff window, with the
     * position cap and stops of {@code current} (a session's, not the book's). A state stored
     * before the rules were stored with it has none: then {@code current}'s.
     *
     * @param detail a {@link #KIND} event's detail
     * @param current the rules of the member that rebuilds the account
     * @return the rules in force
     * @throws IllegalStateException naming the field if the stored rules cannot be read
     */
    static TradingRules storedRules(JsonNode detail, TradingRules current) {
        JsonNode o = detail.get("rules");
        if (o == null || o.isNull()) {
            return current;
        }
        try {
            JsonNode b = o.path("breakers");
            CircuitBreakers.Config breakers =
                    b.isNull() || b.isMissingNode()
                            ? null
                            : new CircuitBreakers.Config(
                                    number(b, "max_drawdown"),
                                    number(b, "daily_loss"),
                                    number(b, "min_hit_rate"),
                                    (int) number(b, "hit_rate_window"),
                                    number(b, "drawdown_cooldown_days"),
                                    CircuitBreakers.DrawdownRearm.valueOf(
                                            b.path("drawdown_rearm").asText()));
            return new TradingRules(
                    new dev.quiver.engine.trading.CostModel(
                            number(o, "fee_bps"), number(o, "slippage_bps")),
                    current.maxFraction(),
                    number(o, "rebalance_band"),
                    (int) number(o, "payoff_window_bars"),
                    current.stops(),
                    breakers);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(
                    "the stored trading rules of the portfolio account cannot be read: " + o, e);
        }
    }

    private static double number(JsonNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || !v.isNumber()) {
            throw new IllegalArgumentException("field '" + field + "' is missing or not a number");
        }
        return v.asDouble();
    }

    /** The account's last decision, as stored with its latest event, for a restore. */
    void lastDecision(JsonNode latest) {
        this.lastDecision = latest;
    }

    private static void doubles(ArrayNode into, double[] values) {
        for (double v : values) {
            if (Double.isFinite(v)) {
                into.add(v);
            } else {
                into.addNull(); // NaN: none
            }
        }
    }

    private static double[] doubles(JsonNode a, int m) {
        if (a.size() != m) {
            throw new IllegalStateException(
                    "stored portfolio state has " + a.size() + " values for " + m + " members");
        }
        double[] out = new double[m];
        for (int i = 0; i < m; i++) {
            out[i] = a.get(i).isNull() ? Double.NaN : a.get(i).asDouble();
        }
        return out;
    }

    private static void covariance(ObjectNode o, PortfolioBook.Covariance c, boolean readable) {
        ArrayNode symbols = o.putArray("symbols");
        c.symbols().forEach(symbols::add);
        if (readable) {
            o.put("from", Instant.ofEpochMilli(c.fromMillis()).toString());
            o.put("to", Instant.ofEpochMilli(c.toMillis()).toString());
        } else {
            o.put("from_ms", c.fromMillis());
            o.put("to_ms", c.toMillis());
        }
        o.put("window_days", c.days());
        o.put("shrinkage", c.shrinkage());
        o.put("estimator", "Ledoit-Wolf (2004), scaled-identity target, daily log returns");
        ArrayNode rows = o.putArray("matrix_per_day");
        for (double[] row : c.matrix()) {
            doubles(rows.addArray(), row);
        }
    }

    private static PortfolioBook.Covariance covariance(JsonNode o) {
        List<String> symbols = new ArrayList<>();
        o.path("symbols").forEach(s -> symbols.add(s.asText()));
        int p = symbols.size();
        double[][] matrix = new double[p][];
        for (int i = 0; i < p; i++) {
            matrix[i] = doubles(o.path("matrix_per_day").path(i), p);
        }
        return new PortfolioBook.Covariance(
                symbols,
                o.path("from_ms").asLong(),
                o.path("to_ms").asLong(),
                o.path("window_days").asInt(),
                o.path("shrinkage").asDouble(),
                matrix);
    }

    // ---- answers --------------------------------------------------------------------------------

    /** A decision's provenance as the API shows it. */
    private static JsonNode decisionJson(PortfolioBook.Decision d) {
        ObjectNode o = JSON.createObjectNode();
        o.put("time", Instant.ofEpochMilli(d.time()).toString());
        o.put("trigger", d.trigger());
        o.put("breakers", d.breakers());
        if (d.covariance() != null) {
            covariance(o.putObject("covariance"), d.covariance(), true);
        }
        ArrayNode allocations = o.putArray("allocations");
        for (int a = 0; a < d.symbols().size(); a++) {
            ObjectNode x = allocations.addObject();
            x.put("symbol", d.symbols().get(a));
            x.put("current_weight", d.current()[a]);
            if (Double.isFinite(d.proposed()[a])) {
                x.put("proposed", d.proposed()[a]);
            } else {
                x.putNull("proposed");
            }
            x.put("allocation", d.allocation()[a]);
            x.put("cluster", d.symbols().get(d.cluster()[a]));
            x.put("reason", d.reasons().get(a));
            ObjectNode in = x.putObject("policy_inputs");
            d.inputs().get(a).forEach(in::put);
        }
        ArrayNode binding = o.putArray("binding");
        d.binding().forEach(binding::add);
        ArrayNode notes = o.putArray("guard_notes");
        d.notes().forEach(notes::add);
        if (!d.frozen().isEmpty()) {
            ArrayNode frozen = o.putArray("frozen");
            d.frozen().forEach(frozen::add);
        }
        return o;
    }

    /**
     * The decision a member's last bar triggered, with every member's target after it.
     *
     * @param symbol the member
     * @return the answer's {@code portfolio} block
     */
    Map<String, Object> answer(String symbol) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("account", account.id());
        out.put("policy", settings.policy());
        out.put("decision", lastDecisions.get(symbol));
        out.put("targets", targets());
        return out;
    }

    /** Every member's weight and pending target. */
    private Map<String, Object> targets() {
        PortfolioBook.State s = book.snapshot();
        Map<String, Object> out = new LinkedHashMap<>();
        List<String> symbols = book.symbols();
        for (int i = 0; i < symbols.size(); i++) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("weight", book.weight(i));
            x.put("pending_target", Double.isNaN(s.pending()[i]) ? null : s.pending()[i]);
            x.put("left", s.done()[i]);
            if (book.frozen(i) != null) {
                x.put("frozen", book.frozen(i));
            }
            out.put(symbols.get(i), x);
        }
        return out;
    }

    /** {@code GET /v1/accounts/{id}} of a portfolio account. */
    Map<String, Object> figures() {
        return figures(true);
    }

    /**
     * The account's figures.
     *
     * @param withLastDecision whether to add the account's last joint decision
     */
    Map<String, Object> figures(boolean withLastDecision) {
        PortfolioBook.State s = book.snapshot();
        double equity = book.equity();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", account.id());
        m.put("currency", account.currency());
        m.put("mode", account.mode().sql());
        m.put("policy", settings.policy());
        ObjectNode ps = JSON.createObjectNode();
        settings.toJson(ps);
        m.put("portfolio", ps);
        m.put("starting_equity", account.startingEquity());
        m.put("equity", equity);
        m.put("cash", s.cash());
        m.put("high_water_mark", s.peak());
        m.put("drawdown", Math.max(0, 1 - equity / s.peak()));
        double gross = 0;
        double net = 0;
        List<Map<String, Object>> members = new ArrayList<>();
        List<String> symbols = book.symbols();
        for (int i = 0; i < symbols.size(); i++) {
            double w = book.weight(i);
            gross += Math.abs(w);
            net += w;
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("symbol", symbols.get(i));
            x.put("interval", intervals.get(i).toString());
            x.put("units", s.units()[i]);
            x.put("price", Double.isNaN(s.price()[i]) ? null : s.price()[i]);
            x.put("weight", w);
            x.put("pending_target", Double.isNaN(s.pending()[i]) ? null : s.pending()[i]);
            x.put("pnl", s.pnl()[i]);
            x.put("costs", s.costs()[i]);
            x.put("left", s.done()[i]);
            x.put("frozen", book.frozen(i));
            members.add(x);
        }
        m.put("gross_exposure", gross);
        m.put("net_exposure", net);
        m.put("members", members);
        Map<String, Object> breakers = new LinkedHashMap<>();
        breakers.put("max_drawdown", s.drawdownTripped() ? "tripped" : "ready");
        breakers.put("daily_loss", s.dailyTripped() ? "tripped" : "ready");
        m.put("breakers", breakers);
        List<String> events = s.breakerEvents();
        m.put("breaker_events", events.subList(Math.max(0, events.size() - 10), events.size()));
        m.put("decisions", s.decisions());
        m.put("guard_changes", s.guardChanges());
        if (withLastDecision) {
            m.put("last_decision", lastDecision);
        }
        return m;
    }
}
