package dev.quiver.host.web;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A session's history ({@code SessionManager.history}) as columns, the shape uPlot draws: one array
 * per series, the same length, index {@code i} the {@code i}-th stepped bar. The Live and Account
 * pages ask for it ({@code ?format=columns}) so that 10,000 bars arrive as a few compact arrays
 * instead of 10,000 objects (each with every policy's reason text), and each chart is drawn with
 * one {@code setData}.
 *
 * <p>Shape: {@code time} (bar start, epoch seconds), {@code open}, {@code high}, {@code low},
 * {@code close}, {@code p_up} and {@code agreement} ({@code null} where the bar had no signal),
 * {@code sources} (per source its p_up, {@code null} where it gave none), and {@code policies} (per
 * policy {@code fraction}, {@code ordered} as 0/1, {@code equity}, {@code drawdown}, {@code
 * weight}). The full entries of the last {@code recent} bars (at most 30) ride along for the
 * recent-decisions table; the other fields of the history answer are kept.
 */
final class HistoryColumns {

    /** Full entries kept beside the columns, newest last. */
    static final int RECENT = 30;

    private HistoryColumns() {}

    @SuppressWarnings("unchecked")
    static Map<String, Object> of(Map<String, Object> history) {
        List<Map<String, Object>> entries = (List<Map<String, Object>>) history.get("entries");
        int n = entries.size();
        List<Long> time = new ArrayList<>(n);
        List<Object> open = new ArrayList<>(n);
        List<Object> high = new ArrayList<>(n);
        List<Object> low = new ArrayList<>(n);
        List<Object> close = new ArrayList<>(n);
        List<Object> pUp = new ArrayList<>(n);
        List<Object> agreement = new ArrayList<>(n);
        Map<String, List<Object>> sources = new LinkedHashMap<>();
        Map<String, Map<String, List<Object>>> policies = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            Map<String, Object> e = entries.get(i);
            time.add(Instant.parse((String) e.get("bar_time")).getEpochSecond());
            open.add(e.get("open"));
            high.add(e.get("high"));
            low.add(e.get("low"));
            close.add(e.get("close"));
            pUp.add(e.get("p_up"));
            agreement.add(e.get("agreement"));
            List<Map<String, Object>> contributions =
                    (List<Map<String, Object>>) e.get("contributions");
            if (contributions != null) {
                for (Map<String, Object> c : contributions) {
                    column(sources, (String) c.get("source"), i).set(i, c.get("p_up"));
                }
            }
            Map<String, Map<String, Object>> ps =
                    (Map<String, Map<String, Object>>) e.get("policies");
            for (Map.Entry<String, Map<String, Object>> p : ps.entrySet()) {
                Map<String, List<Object>> cols =
                        policies.computeIfAbsent(p.getKey(), k -> new LinkedHashMap<>());
                Map<String, Object> d = p.getValue();
                column(cols, "fraction", i).set(i, d.get("fraction"));
                column(cols, "ordered", i).set(i, Boolean.TRUE.equals(d.get("ordered")) ? 1 : 0);
                column(cols, "equity", i).set(i, d.get("equity"));
                column(cols, "drawdown", i).set(i, d.get("drawdown"));
                column(cols, "weight", i).set(i, d.get("weight"));
            }
        }
        // A source or policy first seen late is null-padded to the full length.
        sources.values().forEach(c -> pad(c, n));
        policies.values().forEach(m -> m.values().forEach(c -> pad(c, n)));
        Map<String, Object> columns = new LinkedHashMap<>();
        columns.put("time", time);
        columns.put("open", open);
        columns.put("high", high);
        columns.put("low", low);
        columns.put("close", close);
        columns.put("p_up", pUp);
        columns.put("agreement", agreement);
        columns.put("sources", sources);
        columns.put("policies", policies);
        Map<String, Object> out = new LinkedHashMap<>(history);
        out.remove("entries");
        out.put("count", n);
        out.put("columns", columns);
        out.put("recent", entries.subList(Math.max(0, n - RECENT), n));
        return out;
    }

    /** The column {@code name}, null-padded so that index {@code i} can be set. */
    private static List<Object> column(Map<String, List<Object>> columns, String name, int i) {
        List<Object> c = columns.computeIfAbsent(name, k -> new ArrayList<>());
        pad(c, i + 1);
        return c;
    }

    private static void pad(List<Object> c, int size) {
        while (c.size() < size) {
            c.add(null);
        }
    }
}
