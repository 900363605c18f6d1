package dev.quiver.host.web;

import dev.quiver.host.store.RolloutPointRow;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The answer of {@code GET /v1/rollouts/{id}/series}: a rollout's per-variant figures over time as
 * columns (the shape the Rollouts page's charts draw), index {@code i} the {@code i}-th outcome
 * bar.
 *
 * <p>{@code bar_time} (start of the latest outcome bar scored at that point, epoch seconds), {@code
 * committed} (when the point was stored, ISO-8601 UTC), {@code stage}, and per role ({@code
 * champion}, {@code challenger}, {@code served}: the variant that acted) the cumulative figures
 * since the rollout started: {@code n} (scored outcomes), {@code log_loss} (mean, natural log),
 * {@code brier} (mean), {@code hit_rate} (share, 0–1; these three {@code null} while no outcome had
 * a probability), {@code pnl} (sum of cost-adjusted P&amp;L per unit notional) and {@code
 * pnl_per_bar}. The same means as {@code GET /v1/rollouts/{id}}'s figures, taken at each point.
 */
final class RolloutSeriesAnswer {

    /** Outcome bars answered when no {@code bars} is given. */
    static final int DEFAULT_BARS = 10_000;

    private static final String[] ROLES = {"champion", "challenger", "served"};

    private RolloutSeriesAnswer() {}

    static Map<String, Object> of(String id, String metric, List<RolloutPointRow> rows) {
        List<Long> barTime = new ArrayList<>();
        List<String> committed = new ArrayList<>();
        List<String> stage = new ArrayList<>();
        Map<String, Map<String, List<Object>>> variants = new LinkedHashMap<>();
        for (String r : ROLES) {
            Map<String, List<Object>> cols = new LinkedHashMap<>();
            for (String c : new String[] {"n", "log_loss", "brier", "hit_rate", "pnl"}) {
                cols.put(c, new ArrayList<>());
            }
            cols.put("pnl_per_bar", new ArrayList<>());
            variants.put(r, cols);
        }
        long bar = Long.MIN_VALUE;
        for (RolloutPointRow p : rows) {
            if (p.barMs() != bar) {
                bar = p.barMs();
                barTime.add(Math.floorDiv(bar, 1000));
                committed.add(java.time.Instant.ofEpochMilli(p.timeMs()).toString());
                stage.add(p.stage());
                for (Map<String, List<Object>> cols : variants.values()) {
                    cols.values().forEach(c -> c.add(null));
                }
            }
            Map<String, List<Object>> cols = variants.get(p.role());
            int i = barTime.size() - 1;
            boolean probabilities = p.nProbability() > 0;
            cols.get("n").set(i, p.n());
            cols.get("log_loss").set(i, probabilities ? p.logLossSum() / p.nProbability() : null);
            cols.get("brier").set(i, probabilities ? p.brierSum() / p.nProbability() : null);
            cols.get("hit_rate")
                    .set(i, probabilities ? (double) p.hits() / p.nProbability() : null);
            cols.get("pnl").set(i, p.pnlSum());
            cols.get("pnl_per_bar").set(i, p.n() > 0 ? p.pnlSum() / p.n() : null);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rollout", id);
        m.put("metric", metric);
        m.put("count", barTime.size());
        m.put("bar_time", barTime);
        m.put("committed", committed);
        m.put("stage", stage);
        m.put("variants", variants);
        return m;
    }
}
