package dev.quiver.host.backtest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.engine.risk.BreakerEvent;
import dev.quiver.engine.trading.StopExits;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Writes a backtest's report files into a directory: {@code report.json} (machine-readable
 * metrics), {@code report.html} (self-contained: charts embedded as base64 PNG data URIs, metric
 * tables), {@code equity.png} and {@code drawdown.png}. Undefined metrics (NaN) are written as JSON
 * {@code null} and as {@code n/a} in HTML.
 */
public final class ReportWriter {

    private static final ObjectMapper JSON =
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Creates a writer. */
    public ReportWriter() {}

    /**
     * Writes the four files, creating {@code dir} if needed and replacing earlier files.
     *
     * @param result the backtest result
     * @param dir output directory
     * @return the path of {@code report.html}
     * @throws IOException if a file cannot be written
     */
    public Path write(BacktestResult result, Path dir) throws IOException {
        Files.createDirectories(dir);
        JSON.writeValue(dir.resolve("report.json").toFile(), json(result));
        byte[] equity = Charts.equityPng(result);
        byte[] drawdown = Charts.drawdownPng(result);
        Files.write(dir.resolve("equity.png"), equity);
        Files.write(dir.resolve("drawdown.png"), drawdown);
        byte[] reliability = Charts.reliabilityPng(result);
        Files.write(dir.resolve("reliability.png"), reliability);
        Path html = dir.resolve("report.html");
        Files.writeString(
                html, html(result, equity, drawdown, reliability), StandardCharsets.UTF_8);
        return html;
    }

    /** The report.json tree. */
    static ObjectNode json(BacktestResult result) {
        ObjectNode root = JSON.createObjectNode();
        root.put("dataset", result.dataset());
        root.put("bars", result.bars());
        ObjectNode policies = root.putObject("policies");
        for (PolicyResult p : all(result)) {
            PerformanceMetrics m = p.metrics();
            ObjectNode node = policies.putObject(p.name());
            put(node, "cagr", m.cagr());
            put(node, "sharpe", m.sharpe());
            put(node, "sortino", m.sortino());
            put(node, "max_drawdown", m.maxDrawdown());
            put(node, "hit_rate", m.hitRate());
            node.put("trades", m.trades());
            put(node, "turnover", m.turnover());
            put(node, "exposure", m.exposure());
            put(node, "final_equity", m.finalEquity());
            put(node, "total_costs", m.totalCosts());
            Bootstrap.Intervals ci = result.intervals().get(p.name());
            if (ci != null) {
                pair(node, "sharpe_ci", ci.sharpe());
                pair(node, "max_drawdown_ci", ci.maxDrawdown());
                if (!p.name().equals(WalkForwardBacktest.BASELINE)) {
                    pair(node, "sharpe_diff_vs_fixed_ci", ci.sharpeDiffVsBaseline());
                }
            }
            StopExits stops = result.stopExits().get(p.name());
            if (stops != null) {
                ObjectNode s = node.putObject("stop_exits");
                s.put("stop_loss", stops.stopLoss());
                s.put("take_profit", stops.takeProfit());
                s.put("trailing", stops.trailing());
            }
        }
        root.put("bootstrap", TextReport.bootstrapNote(result));
        root.put("seed_parity", TextReport.seedParity(result));
        ArrayNode events = root.putArray("circuit_breaker_events");
        for (BreakerEvent e : result.circuitBreakerEvents()) {
            ObjectNode node = events.addObject();
            node.put("time", e.time().toString());
            node.put("policy", e.policy());
            node.put("breaker", e.breaker().label());
            node.put("event", e.event().label());
            put(node, "value", e.value());
        }
        ArrayNode later = result.laterBars().isEmpty() ? null : root.putArray("later_bars");
        for (LaterBars l : result.laterBars()) {
            ObjectNode node = later.addObject();
            node.put("policy", l.policy());
            node.put("trained_through", l.trainedThrough().toString());
            node.put("test_bars_after", l.bars());
            if (l.firstBar() < result.testTimes().length) {
                node.put("from", Instant.ofEpochMilli(result.testTimes()[l.firstBar()]).toString());
            }
            ObjectNode rows = node.putObject("policies");
            l.rows()
                    .forEach(
                            (name, r) -> {
                                ObjectNode row = rows.putObject(name);
                                put(row, "cagr", r.cagr());
                                put(row, "sharpe", r.sharpe());
                                pair(row, "sharpe_ci", r.sharpeCi());
                                pair(row, "sharpe_diff_vs_fixed_ci", r.sharpeDiffVsFixedCi());
                                put(row, "max_drawdown", r.maxDrawdown());
                                put(row, "exposure", r.exposure());
                            });
        }
        ObjectNode forecasts = root.putObject("forecasts");
        for (Map.Entry<String, ForecastMetrics> e : result.forecasts().entrySet()) {
            ObjectNode node = forecasts.putObject(e.getKey());
            put(node, "log_loss", e.getValue().logLoss());
            put(node, "brier", e.getValue().brier());
            put(node, "ece", e.getValue().ece());
            put(node, "hit_rate", e.getValue().hitRate());
            node.put("n", e.getValue().n());
            String how = result.training().get(e.getKey());
            if (how != null) {
                node.put("training", how);
            }
            ClassMetrics c = e.getValue().classes();
            if (c != null) {
                ObjectNode classes = node.putObject("classes");
                classes.put("labels", "down,sideways,up");
                classes.put("sideways_band_atr_multiple", c.atrMultiple());
                classes.put(
                        "rule",
                        "sideways iff |ln(close[t+1]/close[t])| < k * atr_pct_14[t], else up or"
                                + " down by its sign; predicted = the most probable class");
                classes.put("n", c.n());
                put(classes, "accuracy", c.accuracy());
                put(classes, "log_loss", c.logLoss());
                String[] names = {"down", "sideways", "up"};
                ObjectNode perClass = classes.putObject("per_class_accuracy");
                ObjectNode share = classes.putObject("class_share");
                ArrayNode matrix = classes.putArray("confusion_rows_true_columns_predicted");
                for (int i = 0; i < 3; i++) {
                    put(perClass, names[i], c.perClassAccuracy()[i]);
                    put(share, names[i], c.classShare()[i]);
                    ArrayNode row = matrix.addArray();
                    for (int j = 0; j < 3; j++) {
                        row.add(c.confusion()[i][j]);
                    }
                }
            }
        }
        ForecastMetrics fused = result.forecasts().get(WalkForwardBacktest.FUSED);
        if (fused != null) {
            ArrayNode bins = root.putObject("reliability").put("source", "fused").putArray("bins");
            for (int b = 0; b < fused.binCount().length; b++) {
                ObjectNode bin = bins.addObject();
                bin.put("from", (double) b / ForecastMetrics.BINS);
                bin.put("to", (double) (b + 1) / ForecastMetrics.BINS);
                put(bin, "mean_p", fused.binMeanP()[b]);
                put(bin, "observed_up", fused.binFrequency()[b]);
                bin.put("n", fused.binCount()[b]);
            }
        }
        put(root, "throughput_bars_per_s", result.throughputBarsPerSecond());
        ObjectNode eval = root.putObject("evaluation");
        var config = result.config();
        ArrayNode folds = eval.putArray("folds");
        for (Fold f : result.folds()) {
            ObjectNode fold = folds.addObject();
            fold.put("index", f.index());
            fold.put("train_start", f.trainStart().toString());
            fold.put("train_end", f.trainEnd().toString());
            fold.put("test_start", f.testStart().toString());
            fold.put("test_end", f.testEnd().toString());
            fold.put("test_bars", f.testBars());
        }
        eval.put("train_bars", config.trainBars());
        eval.put("embargo_bars", config.embargoBars());
        eval.put("test_bars", config.testBars());
        eval.put("test_bars_total", result.testTimes().length);
        eval.put("test_start", result.testStart().toString());
        eval.put("test_end", result.testEnd().toString());
        eval.put("fee_bps", config.costs().feeBps());
        eval.put("slippage_bps", config.costs().slippageBps());
        eval.put("initial_equity", config.initialEquity());
        eval.put("max_fraction", config.maxFraction());
        eval.put("rebalance_band", config.rebalanceBand());
        ObjectNode failures = eval.putObject("forecast_failures");
        result.forecastFailures().forEach(failures::put);
        eval.put("no_signal_bars", result.noSignalBars());
        eval.put("method", result.method());
        GateSummary g = result.gate();
        if (g != null) {
            ObjectNode gate = root.putObject("input_gate");
            gate.put("test_bars", g.testBars());
            gate.put("abstained", g.abstained());
            put(gate, "abstain_rate", g.abstainRate());
            ObjectNode by = gate.putObject("abstained_by");
            by.put("gap", g.gap());
            by.put("move", g.move());
            by.put("distribution", g.distribution());
            gateForecast(gate.putObject("fused_kept"), g.kept());
            gateForecast(gate.putObject("fused_abstained"), g.abstainedForecasts());
            gate.put("method", g.method());
        }
        return root;
    }

    private static void gateForecast(ObjectNode f, ForecastMetrics m) {
        put(f, "log_loss", m.logLoss());
        put(f, "brier", m.brier());
        put(f, "hit_rate", m.hitRate());
        f.put("n", m.n());
    }

    private static void pair(ObjectNode node, String key, double[] lowHigh) {
        ArrayNode a = node.putArray(key);
        for (double v : lowHigh) {
            if (Double.isFinite(v)) {
                a.add(v);
            } else {
                a.addNull();
            }
        }
    }

    private static void put(ObjectNode node, String key, double value) {
        if (Double.isFinite(value)) {
            node.put(key, value);
        } else {
            node.putNull(key);
        }
    }

    private static List<PolicyResult> all(BacktestResult result) {
        List<PolicyResult> all = new ArrayList<>(result.policies().values());
        all.add(result.buyAndHold());
        return all;
    }

    static String html(
            BacktestResult result, byte[] equityPng, byte[] drawdownPng, byte[] reliabilityPng) {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<title>Quiver backtest: ")
                .append(esc(result.dataset()))
                .append("</title><style>body{font-family:sans-serif;margin:2em;max-width:1200px}")
                .append("table{border-collapse:collapse;margin:1em 0}")
                .append("td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}")
                .append("th:first-child,td:first-child{text-align:left}</style></head><body>\n");
        h.append("<h1>Walk-forward backtest: ").append(esc(result.dataset())).append("</h1>\n");
        h.append("<p>")
                .append(esc(result.method()))
                .append("</p>\n<p>Test span ")
                .append(esc(result.testStart().toString()))
                .append(" to ")
                .append(esc(result.testEnd().toString()))
                .append(", ")
                .append(result.testTimes().length)
                .append(" test bars of ")
                .append(result.bars())
                .append(". A trade still open at the end is closed at the last close for")
                .append(" reporting.</p>\n");
        h.append("<h2>Policies</h2>\n<table><tr><th>metric</th>");
        List<PolicyResult> all = all(result);
        for (PolicyResult p : all) {
            h.append("<th>").append(esc(p.name())).append("</th>");
        }
        h.append("</tr>\n");
        htmlRow(h, all, "CAGR", m -> TextReport.pct(m.cagr()));
        htmlRow(h, all, "Sharpe (annualised)", m -> TextReport.num(m.sharpe()));
        htmlCiRow(h, all, result, "Sharpe 95% CI", ci -> TextReport.range(ci.sharpe(), false));
        htmlCiRow(
                h,
                all,
                result,
                "Sharpe - fixed, 95% CI",
                ci -> TextReport.range(ci.sharpeDiffVsBaseline(), false));
        htmlRow(h, all, "Sortino (annualised)", m -> TextReport.num(m.sortino()));
        htmlRow(h, all, "max drawdown", m -> TextReport.pct(m.maxDrawdown()));
        htmlCiRow(
                h,
                all,
                result,
                "max drawdown 95% CI",
                ci -> TextReport.range(ci.maxDrawdown(), true));
        htmlRow(h, all, "hit rate", m -> TextReport.pct(m.hitRate()));
        htmlRow(h, all, "trades", m -> Integer.toString(m.trades()));
        htmlRow(h, all, "turnover / year", m -> TextReport.num(m.turnover()));
        htmlRow(h, all, "exposure", m -> TextReport.pct(m.exposure()));
        htmlRow(
                h,
                all,
                "final equity",
                m -> String.format(java.util.Locale.ROOT, "%.2f", m.finalEquity()));
        htmlRow(
                h,
                all,
                "total costs",
                m -> String.format(java.util.Locale.ROOT, "%.2f", m.totalCosts()));
        h.append("</table>\n");
        h.append("<p>").append(esc(TextReport.bootstrapNote(result))).append("</p>\n");
        h.append("<h2>What the data says</h2>\n<p>")
                .append(esc(TextReport.seedParity(result)))
                .append("</p>\n");
        h.append("<h2>Circuit breakers</h2>\n<p>")
                .append(result.circuitBreakerEvents().size())
                .append(" events.</p>\n<table><tr><th>time</th><th>policy</th><th>breaker</th>")
                .append("<th>event</th><th>value</th></tr>\n");
        for (BreakerEvent e : result.circuitBreakerEvents()) {
            h.append("<tr><td>")
                    .append(esc(e.time().toString()))
                    .append("</td><td>")
                    .append(esc(e.policy()))
                    .append("</td><td>")
                    .append(esc(e.breaker().label()))
                    .append("</td><td>")
                    .append(esc(e.event().label()))
                    .append("</td><td>")
                    .append(TextReport.num(e.value()))
                    .append("</td></tr>\n");
        }
        h.append("</table>\n");
        h.append("<img alt=\"equity curves\" src=\"data:image/png;base64,")
                .append(Base64.getEncoder().encodeToString(equityPng))
                .append("\">\n");
        h.append("<img alt=\"drawdowns\" src=\"data:image/png;base64,")
                .append(Base64.getEncoder().encodeToString(drawdownPng))
                .append("\">\n");
        h.append("<h2>Forecast quality (test bars)</h2>\n<table><tr><th>source</th>")
                .append("<th>log-loss</th><th>Brier</th><th>ECE</th><th>hit rate</th><th>n</th>")
                .append("<th>failed bars</th><th>training</th></tr>\n");
        for (Map.Entry<String, ForecastMetrics> e : result.forecasts().entrySet()) {
            ForecastMetrics f = e.getValue();
            Integer failed = result.forecastFailures().get(e.getKey());
            h.append("<tr><td>")
                    .append(esc(e.getKey()))
                    .append("</td><td>")
                    .append(TextReport.num(f.logLoss()))
                    .append("</td><td>")
                    .append(TextReport.num(f.brier()))
                    .append("</td><td>")
                    .append(TextReport.num(f.ece()))
                    .append("</td><td>")
                    .append(TextReport.pct(f.hitRate()))
                    .append("</td><td>")
                    .append(f.n())
                    .append("</td><td>")
                    .append(failed == null ? "-" : failed)
                    .append("</td><td style=\"text-align:left\">")
                    .append(esc(result.training().getOrDefault(e.getKey(), "")))
                    .append("</td></tr>\n");
        }
        h.append("</table>\n");
        if (result.gate() != null) {
            h.append("<p>")
                    .append(esc(result.gate().line()))
                    .append(" (")
                    .append(esc(result.gate().method()))
                    .append(").</p>\n");
        }
        h.append("<p>ECE: expected calibration error over 10 equal-width bins of p")
                .append(" (Naeini, Cooper and Hauskrecht 2015; Guo et al. 2017).</p>\n");
        for (LaterBars l : result.laterBars()) {
            h.append("<h2>After ")
                    .append(esc(l.policy()))
                    .append("'s training span</h2>\n<pre>")
                    .append(esc(TextReport.laterBars(result, l)))
                    .append("</pre>\n");
        }
        String classes = TextReport.classTables(result);
        if (!classes.isEmpty()) {
            h.append("<h2>Three-class sources (test bars)</h2>\n<pre>")
                    .append(esc(classes))
                    .append("</pre>\n");
        }
        h.append(
                        "<img alt=\"reliability diagram of the fused signal\" src=\"data:image/png;base64,")
                .append(Base64.getEncoder().encodeToString(reliabilityPng))
                .append("\">\n");
        h.append("<p>Log-loss uses the natural log with p clipped to [1e-15, 1-1e-15]")
                .append(" (as scikit-learn). Sharpe and Sortino use rf = 0 and empirical bars per")
                .append(" year.</p>\n");
        h.append("<h2>Folds</h2>\n<table><tr><th>fold</th><th>train</th><th>test</th>")
                .append("<th>test bars</th></tr>\n");
        for (Fold f : result.folds()) {
            h.append("<tr><td>")
                    .append(f.index())
                    .append("</td><td>")
                    .append(esc(f.trainStart() + " .. " + f.trainEnd()))
                    .append("</td><td>")
                    .append(esc(f.testStart() + " .. " + f.testEnd()))
                    .append("</td><td>")
                    .append(f.testBars())
                    .append("</td></tr>\n");
        }
        h.append("</table>\n</body></html>\n");
        return h.toString();
    }

    private static void htmlRow(
            StringBuilder h,
            List<PolicyResult> all,
            String label,
            java.util.function.Function<PerformanceMetrics, String> value) {
        h.append("<tr><td>").append(esc(label)).append("</td>");
        for (PolicyResult p : all) {
            h.append("<td>").append(esc(value.apply(p.metrics()))).append("</td>");
        }
        h.append("</tr>\n");
    }

    private static void htmlCiRow(
            StringBuilder h,
            List<PolicyResult> all,
            BacktestResult result,
            String label,
            java.util.function.Function<Bootstrap.Intervals, String> value) {
        h.append("<tr><td>").append(esc(label)).append("</td>");
        for (PolicyResult p : all) {
            Bootstrap.Intervals ci = result.intervals().get(p.name());
            h.append("<td>").append(esc(ci == null ? "n/a" : value.apply(ci))).append("</td>");
        }
        h.append("</tr>\n");
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;")
                .replace("<", "&lt;")
                .replace(">", "&gt;")
                .replace("\"", "&quot;");
    }
}
