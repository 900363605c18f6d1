package dev.quiver.host.backtest;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/** The terminal summary of a backtest: policies side by side, then forecast quality per source. */
public final class TextReport {

    private TextReport() {}

    /**
     * Renders the side-by-side table.
     *
     * @param result a backtest result
     * @return lines separated by {@code \n}, ending with one
     */
    public static String render(BacktestResult result) {
        List<PolicyResult> columns = new ArrayList<>(result.policies().values());
        columns.add(result.buyAndHold());
        StringBuilder out = new StringBuilder();
        out.append(
                String.format(
                        Locale.ROOT,
                        "%s: %d test bars, %s .. %s, %d folds%n",
                        result.dataset(),
                        result.testTimes().length,
                        result.testStart(),
                        result.testEnd(),
                        result.folds().size()));
        out.append(result.method()).append('\n').append('\n');
        out.append(String.format(Locale.ROOT, "%-14s", "metric"));
        for (PolicyResult p : columns) {
            out.append(String.format(Locale.ROOT, "%14s", p.name()));
        }
        out.append('\n');
        row(out, columns, "CAGR", m -> pct(m.cagr()));
        row(out, columns, "Sharpe", m -> num(m.sharpe()));
        row(out, columns, "Sortino", m -> num(m.sortino()));
        row(out, columns, "max drawdown", m -> pct(m.maxDrawdown()));
        row(out, columns, "hit rate", m -> pct(m.hitRate()));
        row(out, columns, "trades", m -> Integer.toString(m.trades()));
        row(out, columns, "turnover/yr", m -> num(m.turnover()));
        row(out, columns, "exposure", m -> pct(m.exposure()));
        row(out, columns, "final equity", m -> String.format(Locale.ROOT, "%.0f", m.finalEquity()));
        row(out, columns, "total costs", m -> String.format(Locale.ROOT, "%.0f", m.totalCosts()));
        out.append('\n');
        out.append(
                String.format(
                        Locale.ROOT,
                        "%-14s%12s%12s%12s%12s%10s%10s%n",
                        "forecast",
                        "log-loss",
                        "Brier",
                        "ECE",
                        "hit rate",
                        "n",
                        "failed"));
        for (Map.Entry<String, ForecastMetrics> e : result.forecasts().entrySet()) {
            ForecastMetrics f = e.getValue();
            Integer failed = result.forecastFailures().get(e.getKey());
            out.append(
                    String.format(
                            Locale.ROOT,
                            "%-14s%12s%12s%12s%12s%10d%10s%n",
                            e.getKey(),
                            String.format(Locale.ROOT, "%.4f", f.logLoss()),
                            String.format(Locale.ROOT, "%.4f", f.brier()),
                            String.format(Locale.ROOT, "%.4f", f.ece()),
                            pct(f.hitRate()),
                            f.n(),
                            failed == null ? "-" : failed.toString()));
        }
        out.append(
                String.format(
                        Locale.ROOT,
                        "%nthroughput: %.0f test bars/s%n",
                        result.throughputBarsPerSecond()));
        return out.toString();
    }

    private static void row(
            StringBuilder out,
            List<PolicyResult> columns,
            String label,
            Function<PerformanceMetrics, String> value) {
        out.append(String.format(Locale.ROOT, "%-14s", label));
        for (PolicyResult p : columns) {
            out.append(String.format(Locale.ROOT, "%14s", value.apply(p.metrics())));
        }
        out.append('\n');
    }

    static String pct(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f%%", 100 * v) : "n/a";
    }

    static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.3f", v) : "n/a";
    }
}
