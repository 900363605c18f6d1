package dev.quiver.host.backtest;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/** The terminal summary of a backtest: policies side by side, then forecast quality per source. */
public final class TextReport {

    private TextReport() {}

    /**
     * Renders the side-by-side table: the policies by name (whatever order the plugins loaded in),
     * then buy and hold.
     *
     * @param result a backtest result
     * @return lines separated by {@code \n}, ending with one
     */
    public static String render(BacktestResult result) {
        List<PolicyResult> columns = new ArrayList<>();
        for (String name : columnOrder(result.policies().keySet(), result.buyAndHold().name())) {
            columns.add(result.policies().get(name));
        }
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
        ciRow(out, columns, result, "Sharpe CI", ci -> range(ci.sharpe(), false));
        ciRow(out, columns, result, "dSharpe v fix", ci -> range(ci.sharpeDiffVsBaseline(), false));
        row(out, columns, "Sortino", m -> num(m.sortino()));
        row(out, columns, "max drawdown", m -> pct(m.maxDrawdown()));
        ciRow(out, columns, result, "maxDD CI", ci -> range(ci.maxDrawdown(), true));
        row(out, columns, "hit rate", m -> pct(m.hitRate()));
        row(out, columns, "trades", m -> Integer.toString(m.trades()));
        row(out, columns, "turnover/yr", m -> num(m.turnover()));
        row(out, columns, "exposure", m -> pct(m.exposure()));
        row(out, columns, "final equity", m -> String.format(Locale.ROOT, "%.0f", m.finalEquity()));
        row(out, columns, "total costs", m -> String.format(Locale.ROOT, "%.0f", m.totalCosts()));
        out.append('\n');
        for (LaterBars later : result.laterBars()) {
            out.append(laterBars(result, later)).append('\n');
        }
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
        String classes = classTables(result);
        if (!classes.isEmpty()) {
            out.append('\n').append(classes);
        }
        out.append('\n').append(bootstrapNote(result)).append('\n');
        out.append(
                String.format(
                        Locale.ROOT,
                        "circuit breaker events: %d (report.json circuit_breaker_events)%n",
                        result.circuitBreakerEvents().size()));
        if (result.gate() != null) {
            out.append(result.gate().line()).append('\n');
        }
        out.append("what the data says: ").append(seedParity(result)).append('\n');
        out.append(
                String.format(
                        Locale.ROOT,
                        "%nthroughput: %.0f test bars/s%n",
                        result.throughputBarsPerSecond()));
        return out.toString();
    }

    /**
     * The policy table on the bars after one policy's stated training span.
     *
     * @param result the result
     * @param later the later-bars table
     * @return lines ending with a newline
     */
    static String laterBars(BacktestResult result, LaterBars later) {
        StringBuilder out = new StringBuilder();
        if (later.rows().isEmpty()) {
            return out.append(
                            String.format(
                                    Locale.ROOT,
                                    "%s was trained once on a stated span (through %s): this series"
                                            + " has %d test bars after it, too few to evaluate it"
                                            + " (its column above does not evaluate it"
                                            + " either).%n",
                                    later.policy(),
                                    later.trainedThrough(),
                                    later.bars()))
                    .toString();
        }
        out.append(
                String.format(
                        Locale.ROOT,
                        "%s was trained once on a stated span (through %s); every policy on the %d"
                                + " test bars after it only (%s ..), curves measured from there:%n",
                        later.policy(),
                        later.trainedThrough(),
                        later.bars(),
                        java.time.Instant.ofEpochMilli(result.testTimes()[later.firstBar()])));
        out.append(String.format(Locale.ROOT, "%-14s", "metric"));
        List<LaterBars.Row> rows = new ArrayList<>();
        for (String name : columnOrder(later.rows().keySet(), result.buyAndHold().name())) {
            out.append(String.format(Locale.ROOT, "%14s", name));
            rows.add(later.rows().get(name));
        }
        out.append('\n');
        laterRow(out, rows, "CAGR", r -> pct(r.cagr()));
        laterRow(out, rows, "Sharpe", r -> num(r.sharpe()));
        laterRow(out, rows, "Sharpe CI", r -> range(r.sharpeCi(), false));
        laterRow(
                out,
                rows,
                "dSharpe v fix",
                r ->
                        r == later.rows().get(WalkForwardBacktest.BASELINE)
                                ? "-"
                                : range(r.sharpeDiffVsFixedCi(), false));
        laterRow(out, rows, "max drawdown", r -> pct(r.maxDrawdown()));
        laterRow(out, rows, "exposure", r -> pct(r.exposure()));
        return out.toString();
    }

    /**
     * The terminal's column order, the same in every table: the policies by name (whatever order
     * the plugins loaded in), then buy and hold.
     */
    private static List<String> columnOrder(java.util.Collection<String> names, String hold) {
        List<String> out = new ArrayList<>(names);
        out.remove(hold);
        out.sort(Comparator.naturalOrder());
        if (names.contains(hold)) {
            out.add(hold);
        }
        return out;
    }

    private static void laterRow(
            StringBuilder out,
            List<LaterBars.Row> rows,
            String label,
            Function<LaterBars.Row, String> value) {
        out.append(String.format(Locale.ROOT, "%-14s", label));
        for (LaterBars.Row r : rows) {
            out.append(String.format(Locale.ROOT, "%14s", value.apply(r)));
        }
        out.append('\n');
    }

    /**
     * Per-class accuracy and the confusion matrix of every three-class source, or an empty string
     * when there is none.
     *
     * @param result the result
     * @return lines ending with a newline, or {@code ""}
     */
    static String classTables(BacktestResult result) {
        StringBuilder out = new StringBuilder();
        String[] names = {"down", "sideways", "up"};
        for (Map.Entry<String, ForecastMetrics> e : result.forecasts().entrySet()) {
            ClassMetrics c = e.getValue().classes();
            if (c == null) {
                continue;
            }
            int majority = 0;
            for (int i = 1; i < 3; i++) {
                if (c.classShare()[i] > c.classShare()[majority]) {
                    majority = i;
                }
            }
            out.append(
                    String.format(
                            Locale.ROOT,
                            "%s, three classes (sideways iff |ln(close[t+1]/close[t])| < %s *"
                                    + " atr_pct_14[t]), %d test bars: accuracy %s (always %s: %s),"
                                    + " log-loss %.4f (uniform 1.0986)%n",
                            e.getKey(),
                            c.atrMultiple(),
                            c.n(),
                            pct(c.accuracy()),
                            names[majority],
                            pct(c.classShare()[majority]),
                            c.logLoss()));
            out.append(
                    String.format(
                            Locale.ROOT,
                            "  %-14s%12s%12s%12s%16s%n",
                            "true \\ pred",
                            "down",
                            "sideways",
                            "up",
                            "class accuracy"));
            for (int i = 0; i < 3; i++) {
                out.append(
                        String.format(
                                Locale.ROOT,
                                "  %-14s%12d%12d%12d%16s%n",
                                names[i],
                                c.confusion()[i][0],
                                c.confusion()[i][1],
                                c.confusion()[i][2],
                                pct(c.perClassAccuracy()[i])));
            }
        }
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

    private static void ciRow(
            StringBuilder out,
            List<PolicyResult> columns,
            BacktestResult result,
            String label,
            Function<Bootstrap.Intervals, String> value) {
        out.append(String.format(Locale.ROOT, "%-14s", label));
        for (PolicyResult p : columns) {
            Bootstrap.Intervals ci = result.intervals().get(p.name());
            out.append(String.format(Locale.ROOT, "%14s", ci == null ? "n/a" : value.apply(ci)));
        }
        out.append('\n');
    }

    /** {@code [low, high]} as {@code low..high}, percent or plain; {@code -} when undefined. */
    static String range(double[] lowHigh, boolean percent) {
        if (Double.isFinite(lowHigh[0]) && lowHigh[1] == Double.POSITIVE_INFINITY) {
            // the upper bound of a Sortino interval whose resamples often have no loss
            return (percent
                            ? String.format(Locale.ROOT, "%.0f%%", 100 * lowHigh[0])
                            : String.format(Locale.ROOT, "%.2f", lowHigh[0]))
                    + "..inf";
        }
        if (!Double.isFinite(lowHigh[0]) || !Double.isFinite(lowHigh[1])) {
            return "-";
        }
        return percent
                ? String.format(Locale.ROOT, "%.0f..%.0f%%", 100 * lowHigh[0], 100 * lowHigh[1])
                : String.format(Locale.ROOT, "%.2f..%.2f", lowHigh[0], lowHigh[1]);
    }

    /**
     * How the intervals were made.
     *
     * @param result the result
     * @return one sentence
     */
    public static String bootstrapNote(BacktestResult result) {
        int n = result.testTimes().length - 1;
        return String.format(
                Locale.ROOT,
                "95%% intervals: stationary bootstrap (Politis & Romano 1994) of the %d per-bar"
                        + " returns, mean block %d bars (n^(1/3)), %d resamples, seed %d, the same"
                        + " draws for every policy (paired Sharpe differences vs fixed).",
                n,
                Bootstrap.blockLength(n),
                Bootstrap.RESAMPLES,
                Bootstrap.SEED);
    }

    /**
     * What the data says against the seed plans' promises ("Kelly &gt; 15% better than fixed", "max
     * drawdown -30-40%"), from the point estimates and the bootstrap intervals.
     *
     * @param result the result
     * @return a few sentences
     */
    public static String seedParity(BacktestResult result) {
        PolicyResult fixed = result.policies().get(WalkForwardBacktest.BASELINE);
        if (fixed == null) {
            return "no fixed policy ran: the seed plans' comparison cannot be made.";
        }
        StringBuilder s = new StringBuilder();
        double fs = fixed.metrics().sharpe();
        for (String k : List.of("kelly", "kelly_ml")) {
            PolicyResult p = result.policies().get(k);
            if (p == null) {
                continue;
            }
            double ks = p.metrics().sharpe();
            Bootstrap.Intervals ci = result.intervals().get(k);
            double[] d =
                    ci == null ? new double[] {Double.NaN, Double.NaN} : ci.sharpeDiffVsBaseline();
            boolean better15 = fs > 0 ? ks >= 1.15 * fs : ks > fs && ks > 0;
            boolean significant = d[0] > 0;
            boolean worseSig = d[1] < 0;
            s.append(
                    String.format(
                            Locale.ROOT,
                            "%s Sharpe %s vs fixed %s (difference 95%% CI %s): %s. ",
                            k,
                            num(ks),
                            num(fs),
                            range(d, false),
                            verdict(significant, worseSig, better15, ks)));
            double dd = p.metrics().maxDrawdown();
            s.append(
                    String.format(
                            Locale.ROOT,
                            "%s max drawdown %s (95%% CI %s) %s the promised 30-40%%. ",
                            k,
                            pct(dd),
                            ci == null ? "-" : range(ci.maxDrawdown(), true),
                            dd >= 0.30 && dd <= 0.40
                                    ? "is within"
                                    : dd < 0.30 ? "is below (shallower than)" : "is deeper than"));
        }
        return s.toString().trim();
    }

    private static String verdict(
            boolean significant, boolean worseSig, boolean better15, double sharpe) {
        if (worseSig) {
            return "worse than fixed beyond sampling noise; the promise is not supported";
        }
        if (!significant) {
            return "the difference is within sampling noise; the promise \"Kelly > 15% better"
                    + " than fixed\" is not supported";
        }
        if (!(sharpe > 0)) {
            return "better than fixed beyond sampling noise, but only by losing less: its own"
                    + " Sharpe is not positive, so the promise of a better strategy is not met";
        }
        return better15
                ? "better than fixed beyond sampling noise by at least 15% of Sharpe: consistent"
                        + " with the promise"
                : "better than fixed beyond sampling noise, but by less than 15% of Sharpe";
    }

    static String pct(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f%%", 100 * v) : "n/a";
    }

    static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.3f", v) : "n/a";
    }
}
