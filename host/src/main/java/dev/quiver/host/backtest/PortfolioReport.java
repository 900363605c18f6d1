package dev.quiver.host.backtest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The portfolio backtest's report: text ({@link #render}), {@code report.txt}, {@code report.json}
 * and {@code equity.png} (the three curves, log scale), in one folder.
 */
public final class PortfolioReport {

    private static final ObjectMapper JSON =
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private PortfolioReport() {}

    /**
     * The text report.
     *
     * @param r the result
     * @return several lines
     */
    public static String render(PortfolioBacktest.Result r) {
        StringBuilder out = new StringBuilder();
        out.append(
                String.format(
                        Locale.ROOT,
                        "portfolio %s (%s): %d daily marks, %s .. %s%n",
                        String.join(" + ", r.symbols()),
                        r.policy(),
                        r.dayMillis().length,
                        Instant.ofEpochMilli(r.dayMillis()[0]),
                        Instant.ofEpochMilli(r.dayMillis()[r.dayMillis().length - 1])));
        out.append(
                String.format(
                        Locale.ROOT,
                        "%-26s%10s%16s%9s%14s%9s%14s%9s%14s%13s%n",
                        "curve",
                        "CAGR",
                        "CAGR 95% CI",
                        "Sharpe",
                        "95% CI",
                        "Sortino",
                        "95% CI",
                        "max DD",
                        "95% CI",
                        "final equity"));
        for (Map.Entry<String, PerformanceMetrics> e : r.metrics().entrySet()) {
            PerformanceMetrics m = e.getValue();
            Bootstrap.Intervals ci = r.intervals().get(e.getKey());
            out.append(
                    String.format(
                            Locale.ROOT,
                            "%-26s%10s%16s%9s%14s%9s%14s%9s%14s%13.0f%n",
                            e.getKey(),
                            TextReport.pct(m.cagr()),
                            ci == null ? "n/a" : percentRange(ci.cagr()),
                            num2(m.sharpe()),
                            ci == null ? "n/a" : TextReport.range(ci.sharpe(), false),
                            num2(m.sortino()),
                            ci == null ? "n/a" : TextReport.range(ci.sortino(), false),
                            TextReport.pct(m.maxDrawdown()),
                            ci == null ? "n/a" : TextReport.range(ci.maxDrawdown(), true),
                            m.finalEquity()));
        }
        out.append(
                String.format(
                        Locale.ROOT,
                        "%-16s%14s%13s%16s%12s%n",
                        "symbol",
                        "contribution",
                        "mean weight",
                        "traded",
                        "costs"));
        for (PortfolioBacktest.SymbolFigures s : r.perSymbol()) {
            out.append(
                    String.format(
                            Locale.ROOT,
                            "%-16s%14s%13s%16.0f%12.0f%n",
                            s.symbol(),
                            TextReport.pct(s.contribution()),
                            TextReport.pct(s.meanWeight()),
                            s.tradedNotional(),
                            s.costs()));
        }
        out.append(
                String.format(
                        Locale.ROOT,
                        "mean gross exposure %s, turnover %.1fx/year, %,d joint decisions (%,d changed"
                                + " by the host's portfolio guard), %d account breaker trip(s)%n",
                        TextReport.pct(r.meanGrossExposure()),
                        r.turnover(),
                        r.decisions(),
                        r.guardChanges(),
                        r.breakerTrips()));
        for (String event : r.breakerEvents()) {
            out.append("breaker ").append(event).append('\n');
        }
        if (r.lastDecision() != null) {
            PortfolioBacktest.Decision d = r.lastDecision();
            out.append(
                    String.format(
                            Locale.ROOT,
                            "last joint decision %s: %s proposed %s -> %s%s%n",
                            Instant.ofEpochMilli(d.time()),
                            d.symbols(),
                            fractions(d.proposed()),
                            fractions(d.allocation()),
                            d.notes().isEmpty() ? "" : " (" + String.join("; ", d.notes()) + ")"));
        }
        out.append("method: ").append(r.method()).append('\n');
        return out.toString();
    }

    /**
     * Writes {@code report.txt}, {@code report.json} and {@code equity.png} into {@code dir}.
     *
     * @param r the result
     * @param dir the folder, created if missing
     * @throws IOException if a file cannot be written
     */
    public static void write(PortfolioBacktest.Result r, Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("report.txt"), render(r));
        ObjectNode root = JSON.createObjectNode();
        root.put("policy", r.policy());
        root.putPOJO("symbols", r.symbols());
        root.put("first_mark", Instant.ofEpochMilli(r.dayMillis()[0]).toString());
        root.put(
                "last_mark",
                Instant.ofEpochMilli(r.dayMillis()[r.dayMillis().length - 1]).toString());
        root.put("daily_marks", r.dayMillis().length);
        ObjectNode curves = root.putObject("curves");
        for (Map.Entry<String, PerformanceMetrics> e : r.metrics().entrySet()) {
            PerformanceMetrics m = e.getValue();
            ObjectNode c = curves.putObject(e.getKey());
            c.put("cagr", m.cagr());
            c.put("sharpe", m.sharpe());
            c.put("sortino", m.sortino());
            c.put("max_drawdown", m.maxDrawdown());
            c.put("final_equity", m.finalEquity());
            Bootstrap.Intervals ci = r.intervals().get(e.getKey());
            if (ci != null) {
                c.putPOJO("cagr_ci95", ci.cagr());
                c.putPOJO("sharpe_ci95", ci.sharpe());
                c.putPOJO("sortino_ci95", ci.sortino());
                c.putPOJO("max_drawdown_ci95", ci.maxDrawdown());
            }
        }
        ArrayNode per = root.putArray("per_symbol");
        for (PortfolioBacktest.SymbolFigures s : r.perSymbol()) {
            ObjectNode o = per.addObject();
            o.put("symbol", s.symbol());
            o.put("contribution", s.contribution());
            o.put("mean_weight", s.meanWeight());
            o.put("traded_notional", s.tradedNotional());
            o.put("costs", s.costs());
        }
        root.put("mean_gross_exposure", r.meanGrossExposure());
        root.put("turnover_per_year", r.turnover());
        root.put("decisions", r.decisions());
        root.put("guard_changes", r.guardChanges());
        root.put("breaker_trips", r.breakerTrips());
        root.putPOJO("breaker_events", r.breakerEvents());
        if (r.lastDecision() != null) {
            PortfolioBacktest.Decision d = r.lastDecision();
            ObjectNode o = root.putObject("last_decision");
            o.put("time", Instant.ofEpochMilli(d.time()).toString());
            o.putPOJO("symbols", d.symbols());
            o.putPOJO("covariance_per_day", d.covariance());
            o.putPOJO("proposed", d.proposed());
            o.putPOJO("allocation", d.allocation());
            o.putPOJO("guard_notes", d.notes());
        }
        root.put("method", r.method());
        JSON.writeValue(dir.resolve("report.json").toFile(), root);
        Files.write(dir.resolve("equity.png"), equityPng(r));
    }

    static byte[] equityPng(PortfolioBacktest.Result r) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (Map.Entry<String, double[]> e : r.curves().entrySet()) {
            data.addSeries(Charts.series(e.getKey(), r.dayMillis(), e.getValue()));
        }
        JFreeChart chart =
                ChartFactory.createTimeSeriesChart(
                        "portfolio "
                                + String.join(" + ", r.symbols())
                                + ": equity at UTC midnights (log scale)",
                        "time",
                        "equity",
                        data,
                        true,
                        false,
                        false);
        LogAxis axis = new LogAxis("equity (quote currency, log scale)");
        axis.setStandardTickUnits(NumberAxis.createStandardTickUnits());
        axis.setNumberFormatOverride(new java.text.DecimalFormat("#,##0"));
        chart.getXYPlot().setRangeAxis(axis);
        return Charts.png(chart);
    }

    private static String num2(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f", v) : "n/a";
    }

    private static String fractions(double[] f) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < f.length; i++) {
            b.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.3f", f[i]));
        }
        return b.append(']').toString();
    }

    /** For tests: the curve names in order. */
    static List<String> curveNames(PortfolioBacktest.Result r) {
        return List.copyOf(r.curves().keySet());
    }

    /** A 95% interval of a rate in percent with one decimal, e.g. {@code -1.2..3.4%}. */
    private static String percentRange(double[] lowHigh) {
        if (!Double.isFinite(lowHigh[0]) || !Double.isFinite(lowHigh[1])) {
            return "-";
        }
        return String.format(Locale.ROOT, "%.1f..%.1f%%", 100 * lowHigh[0], 100 * lowHigh[1]);
    }
}
