package dev.quiver.host.session;

import dev.quiver.api.market.Bar;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.engine.PolicyStep;
import dev.quiver.engine.Step;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.risk.BreakerEvent;
import dev.quiver.engine.risk.CircuitBreakers;
import dev.quiver.engine.trading.Account;
import dev.quiver.host.store.SessionRow;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the session API answers about a {@link LiveSession}: a decision, a session's state, an
 * account's figures. Read-only views of the session's engine; the caller holds the session's
 * monitor.
 */
final class SessionAnswers {

    /** The served feature schema's hash (a SHA-256 of its names: made once, not per answer). */
    private static final String SCHEMA_HASH = FeaturePipeline.SCHEMA.hash();

    private SessionAnswers() {}

    /**
     * A decision's answer.
     *
     * @param rollouts the strategy rollout running, or {@code null}: it adds the shadow's decision
     *     to the provenance
     */
    static Map<String, Object> decision(LiveSession s, Step step, StrategyRollouts rollouts) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("symbol", s.settings.symbol());
        out.put("bar_time", step.barTime().toString());
        if (step.signal() != null) {
            Map<String, Object> fused =
                    FusedJson.of(
                            step.signal(), s.strategy.strategy().ensemble().descriptor().name());
            out.put("fused", fused);
        } else {
            out.put("fused", null);
            out.put("no_signal", step.noSignalReason());
        }
        Map<String, Object> decisions = new LinkedHashMap<>();
        for (int p = 0; p < step.policies().size(); p++) {
            PolicyStep ps = step.policies().get(p);
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("fraction", ps.decision().fraction());
            d.put("reason", ps.decision().reason());
            d.put("overridden_by_risk", ps.decision().overridden());
            d.put("ordered", ps.ordered());
            d.put("acting", p == s.acting);
            d.put("equity", ps.equity());
            d.put("drawdown", ps.drawdown());
            SizingContext c = ps.context();
            if (c != null) {
                Map<String, Object> in = new LinkedHashMap<>();
                in.put("p_up", c.signal().probabilityUp());
                in.put("payoff_ratio", c.payoffRatio());
                in.put("volatility", c.volatility());
                in.put("equity", c.equity());
                in.put("drawdown", c.drawdown());
                in.put("max_fraction", c.maxFraction());
                d.put("inputs", in);
            }
            decisions.put(ps.policy(), d);
        }
        out.put("decisions", decisions);
        out.put("gate", GateJson.of(s.engine().gate(), s.engine().lastGate()));
        LivePortfolio p = s.portfolio;
        if (p != null) {
            // A portfolio member: the account is the portfolio's; the policies above keep
            // single-symbol paper books of this session beside it.
            synchronized (p) {
                out.put("account", p.figures(false));
                out.put("portfolio", p.answer(s.settings.symbol()));
            }
        } else {
            out.put("account", accountFigures(s));
        }
        Map<String, Object> provenance = new LinkedHashMap<>(s.strategy.bundle().provenance());
        provenance.put("feature_schema_hash", SCHEMA_HASH);
        provenance.put("failed_sources", step.failures());
        if (rollouts != null) {
            rollouts.annotate(s, step, provenance);
        }
        out.put("provenance", provenance);
        out.put("session", sessionFigures(s));
        return out;
    }

    /**
     * One bar of a session's history: {@code bar_time}, OHLC, {@code p_up}, {@code agreement},
     * {@code contributions} (per source: {@code source}, {@code p_up}, {@code weight}) or {@code
     * no_signal}, and per policy its {@code fraction}, {@code reason}, {@code ordered}, {@code
     * overridden_by_risk}, {@code equity}, {@code drawdown} and {@code weight} at the close.
     */
    static Map<String, Object> historyEntry(LiveSession s, Bar bar, Step step) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("bar_time", step.barTime().toString());
        out.put("open", bar.open());
        out.put("high", bar.high());
        out.put("low", bar.low());
        out.put("close", bar.close());
        if (step.signal() != null) {
            out.put("p_up", step.signal().probabilityUp());
            out.put("agreement", step.signal().agreement());
            List<Map<String, Object>> contributions = new ArrayList<>();
            for (dev.quiver.api.ensemble.SourceContribution c : step.signal().contributions()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("source", c.source());
                m.put("p_up", c.probabilityUp());
                m.put("weight", c.weight());
                contributions.add(m);
            }
            out.put("contributions", contributions);
        } else {
            out.put("p_up", null);
            out.put("no_signal", step.noSignalReason());
        }
        Map<String, Object> policies = new LinkedHashMap<>();
        for (int p = 0; p < step.policies().size(); p++) {
            PolicyStep ps = step.policies().get(p);
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("fraction", ps.decision().fraction());
            d.put("reason", ps.decision().reason());
            d.put("ordered", ps.ordered());
            d.put("overridden_by_risk", ps.decision().overridden());
            d.put("acting", p == s.acting);
            d.put("equity", ps.equity());
            d.put("drawdown", ps.drawdown());
            d.put("weight", ps.weight());
            policies.put(ps.policy(), d);
        }
        out.put("policies", policies);
        return out;
    }

    static Map<String, Object> state(LiveSession s, StrategyRollouts rollouts) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("symbol", s.settings.symbol());
        out.putAll(sessionFigures(s));
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("interval", s.settings.interval().toString());
        settings.put("max_gap_bars", s.settings.maxGapBars());
        settings.put("policy", s.settings.policy());
        settings.put("warmup_bars", s.settings.warmupBars());
        if (s.settings.portfolio() != null) {
            com.fasterxml.jackson.databind.node.ObjectNode ps =
                    new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
            s.settings.portfolio().toJson(ps);
            settings.put("portfolio", ps);
        }
        out.put("settings", settings);
        out.put("strategy", s.strategy.bundle().provenance());
        LivePortfolio p = s.portfolio;
        if (p != null) {
            synchronized (p) {
                out.put("account", p.figures(false));
            }
        } else {
            out.put("account", accountFigures(s));
        }
        Step last = s.session.lastStep();
        if (last != null) {
            out.put("last_decision", decision(s, last, rollouts));
        }
        return out;
    }

    static Map<String, Object> sessionFigures(LiveSession s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("state", s.session.state().name().toLowerCase(java.util.Locale.ROOT));
        m.put("generation", s.generation);
        if (s.session.rewarmReason() != null) {
            m.put("rewarm_reason", s.session.rewarmReason());
        }
        m.put("bars", s.session.barCount());
        m.put("stepped_bars", s.engine().barCount());
        Bar last = s.session.lastBar();
        m.put("last_bar_time", last == null ? null : last.start().toString());
        m.put("expired_decisions", s.engine().expiredDecisions());
        m.put("gate_abstentions", s.engine().gateAbstentions());
        m.put("halted", s.engine().halted() != null);
        return m;
    }

    static Map<String, Object> accountFigures(LiveSession s) {
        Account a = s.engine().account(s.acting);
        Bar last = s.session.lastBar();
        double close = last == null ? Double.NaN : last.close();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", s.account.id());
        m.put("currency", s.account.currency());
        m.put("mode", s.account.mode().sql());
        m.put("policy", s.settings.policy());
        m.put("starting_equity", s.account.startingEquity());
        m.put("equity", a.equity());
        m.put("cash", a.cash());
        m.put("position_units", a.units());
        m.put("position_weight", last == null ? 0.0 : a.weight(close));
        m.put("high_water_mark", a.highWaterMark());
        m.put("drawdown", a.drawdown());
        m.put("daily_pnl", a.dailyPnl());
        m.put("pending_order", finite(s.engine().pendingOrder(s.acting)));
        CircuitBreakers b = s.engine().breakers(s.acting);
        if (b != null) {
            m.put("hit_rate", finite(b.hitRate()));
            Map<String, Object> breakers = new LinkedHashMap<>();
            for (CircuitBreakers.Breaker k : CircuitBreakers.Breaker.values()) {
                breakers.put(k.label(), b.tripped(k) ? "armed" : "ready");
            }
            m.put("breakers", breakers);
            if (b.halted()) {
                m.put("halt_reason", b.haltReason());
            }
            List<Map<String, Object>> events = new ArrayList<>();
            for (BreakerEvent e : b.lastEvents(10)) {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("time", e.time().toString());
                x.put("breaker", e.breaker().label());
                x.put("event", e.event().label());
                x.put("value", e.value());
                x.put("reason", e.reason());
                events.add(x);
            }
            m.put("breaker_events", events);
        }
        Map<String, Object> books = new LinkedHashMap<>();
        List<SizingCapability> policies = s.strategy.strategy().policies();
        for (int p = 0; p < policies.size(); p++) {
            if (p != s.acting) {
                Account o = s.engine().account(p);
                books.put(
                        policies.get(p).descriptor().name(),
                        Map.of("equity", o.equity(), "drawdown", o.drawdown()));
            }
        }
        m.put("paper_books", books);
        return m;
    }

    private static Object finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    /** A closed session (its last generation) as {@code GET /v1/sessions/{symbol}} shows it. */
    static Map<String, Object> closed(SessionRow r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("symbol", r.symbol());
        m.put("state", "closed");
        m.put("generation", r.generation());
        m.put("account", r.accountId());
        m.put("opened", Instant.ofEpochMilli(r.openedMs()).toString());
        m.put("closed", Instant.ofEpochMilli(r.closedMs().getAsLong()).toString());
        return m;
    }
}
