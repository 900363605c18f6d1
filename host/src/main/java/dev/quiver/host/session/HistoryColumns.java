package dev.quiver.host.session;

import dev.quiver.api.ensemble.SourceContribution;
import dev.quiver.engine.PolicyStep;
import dev.quiver.engine.Step;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A session's history as columns, the shape uPlot draws: one array per series, the same length,
 * index {@code i} the {@code i}-th stepped bar, read straight from the journal (no per-bar object).
 * The Live and Account pages ask for it ({@code GET /v1/sessions/{symbol}/history?format=columns})
 * so that 10,000 bars arrive as a few compact arrays instead of 10,000 entries each carrying every
 * policy's reason text, and each chart is drawn from them once.
 *
 * <p>Only what the pages draw: {@code time} (bar start, epoch seconds), {@code close}, {@code p_up}
 * and {@code agreement} ({@code null} where the bar had no signal), {@code sources} (per source its
 * p_up, {@code null} where it gave none), and {@code policies} (per policy {@code ordered} as 0/1,
 * {@code equity}, {@code drawdown}); the full entries ({@link SessionAnswers#historyEntry}) of the
 * last {@value #RECENT} bars ride along as {@code recent} for the recent-decisions table.
 *
 * <p>Values are drawn, not computed with: they are sent at single precision (about 7 significant
 * digits, JSON's shortest form of a {@code float}), which halves the answer against doubles' 17
 * digits; the entries ({@code format=entries}) carry every figure exactly.
 */
final class HistoryColumns {

    /** Full entries kept beside the columns, newest last. */
    static final int RECENT = 30;

    private HistoryColumns() {}

    /** The last {@code min(limit, journal size)} stepped bars of {@code s}; under its monitor. */
    static Map<String, Object> of(LiveSession s, int limit) {
        int n = Math.min(limit, s.journal.size());
        long[] time = new long[n];
        float[] close = new float[n];
        Float[] pUp = new Float[n];
        Float[] agreement = new Float[n];
        Map<String, Float[]> sources = new LinkedHashMap<>();
        Map<String, Map<String, Object>> policies = new LinkedHashMap<>();
        List<LiveSession.Stepped> recent = new ArrayList<>(Math.min(n, RECENT));
        Iterator<LiveSession.Stepped> it = s.journal.iterator();
        for (int skip = s.journal.size() - n; skip > 0; skip--) {
            it.next();
        }
        for (int i = 0; i < n; i++) {
            LiveSession.Stepped x = it.next();
            Step step = x.step();
            time[i] = step.barTime().getEpochSecond();
            close[i] = (float) x.bar().close();
            if (step.signal() != null) {
                pUp[i] = (float) step.signal().probabilityUp();
                agreement[i] = (float) step.signal().agreement();
                for (SourceContribution c : step.signal().contributions()) {
                    sources.computeIfAbsent(c.source(), k -> new Float[n])[i] =
                            (float) c.probabilityUp();
                }
            }
            for (PolicyStep ps : step.policies()) {
                Map<String, Object> cols =
                        policies.computeIfAbsent(ps.policy(), k -> newPolicyColumns(n));
                ((int[]) cols.get("ordered"))[i] = ps.ordered() ? 1 : 0;
                ((Float[]) cols.get("equity"))[i] = (float) ps.equity();
                ((Float[]) cols.get("drawdown"))[i] = (float) ps.drawdown();
            }
            if (i >= n - RECENT) {
                recent.add(x);
            }
        }
        Map<String, Object> columns = new LinkedHashMap<>();
        columns.put("time", time);
        columns.put("close", close);
        columns.put("p_up", pUp);
        columns.put("agreement", agreement);
        columns.put("sources", sources);
        columns.put("policies", policies);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("symbol", s.settings.symbol());
        m.put("account", s.account.id());
        m.put("generation", s.generation);
        m.put("acting_policy", s.settings.policy());
        m.put("policies", s.strategy.strategy().policyNames());
        m.put("kept_bars", LiveSession.JOURNAL_BARS);
        m.put("count", n);
        m.put("columns", columns);
        List<Map<String, Object>> entries = new ArrayList<>(recent.size());
        for (LiveSession.Stepped x : recent) {
            entries.add(SessionAnswers.historyEntry(s, x.bar(), x.step()));
        }
        m.put("recent", entries);
        return m;
    }

    private static Map<String, Object> newPolicyColumns(int n) {
        Map<String, Object> cols = new LinkedHashMap<>();
        cols.put("ordered", new int[n]);
        cols.put("equity", new Float[n]);
        cols.put("drawdown", new Float[n]);
        return cols;
    }
}
