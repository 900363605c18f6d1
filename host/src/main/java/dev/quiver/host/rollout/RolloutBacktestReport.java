package dev.quiver.host.rollout;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The reports of a {@link RolloutBacktest}: the text report, {@code report.json} (its {@code
 * rollout} section), {@code rollout.png} (cumulative loss difference challenger minus champion over
 * time, transitions marked) and {@code rollout-bars.csv} (every replayed bar: both forecasts, their
 * status, the routed and acting variant), from which every figure can be recomputed.
 */
public final class RolloutBacktestReport {

    /** File names in the report folder. */
    public static final String JSON_FILE = "report.json",
            TEXT_FILE = "report.txt",
            CHART_FILE = "rollout.png",
            BARS_FILE = "rollout-bars.csv";

    private static final ObjectMapper JSON =
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private RolloutBacktestReport() {}

    /**
     * The {@code rollout} section of {@code report.json}.
     *
     * @param r the result
     * @param descriptions per role, what ran (e.g. {@code prediction-analogs as installed})
     * @return a JSON-ready map
     */
    public static Map<String, Object> json(
            RolloutBacktest.Result r, Map<Role, String> descriptions) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", r.spec().id());
        m.put("spec", JSON.convertValue(r.spec().toJson(), Map.class));
        m.put("routing_key", r.keyMode().id());
        m.put("series", r.series());
        Map<String, Object> folds = new LinkedHashMap<>();
        r.folds()
                .forEach(
                        (s, fs) ->
                                folds.put(
                                        s,
                                        Map.of(
                                                "folds", fs.size(),
                                                "test_start", fs.get(0).testStart().toString(),
                                                "test_end",
                                                        fs.get(fs.size() - 1)
                                                                .testEnd()
                                                                .toString())));
        m.put("windows", folds);
        m.put("bars", r.rows().size());
        Map<String, Object> variants = new LinkedHashMap<>();
        for (Role role : Role.values()) {
            RolloutBacktest.VariantReport v = r.variants().get(role);
            Map<String, Object> vm = new LinkedHashMap<>();
            vm.put("runs", descriptions.getOrDefault(role, ""));
            vm.put("figures", v.figures());
            vm.put("bars_routed", v.routed());
            vm.put("bars_declined", v.declined());
            vm.put("bars_failed", v.failed());
            vm.put("fit_failures", v.fitFailures());
            vm.put("controller_figures", r.controllerFigures().get(role));
            variants.put(role.id(), vm);
        }
        m.put("variants", variants);
        m.put("served", r.served());
        List<Map<String, Object>> timeline = new ArrayList<>();
        for (RolloutBacktest.Event e : r.timeline()) {
            Map<String, Object> em = new LinkedHashMap<>();
            em.put("bar_time", e.barStart().toString());
            em.put("series", e.series());
            em.put("scored_bars", e.scoredBars());
            em.put("from", e.transition().from());
            em.put("to", e.transition().to());
            em.put("reason", e.transition().reason());
            em.put("metric", e.transition().metric());
            em.put("figures", e.transition().figures());
            em.put("test", e.transition().test());
            em.put("stage_samples", e.transition().stageSamples());
            timeline.add(em);
        }
        m.put("timeline", timeline);
        m.put("final_stage", r.finalStage().id());
        m.put("final_stage_status", r.stageStatus());
        return m;
    }

    /**
     * The text report.
     *
     * @param r the result
     * @param descriptions per role, what ran
     * @return lines ending in a newline
     */
    public static String text(RolloutBacktest.Result r, Map<Role, String> descriptions) {
        StringBuilder b = new StringBuilder();
        RolloutSpec s = r.spec();
        b.append(
                String.format(
                        Locale.ROOT,
                        "Rollout backtest '%s' (%s '%s'): start %s, canary %.2f%%, routing key %s,"
                                + " rules %s, min_samples %d, test %s, alpha %s, cost %s bps/side%n",
                        s.id(),
                        s.kind().id(),
                        s.capability(),
                        s.mode().id(),
                        s.canaryPercent(),
                        r.keyMode().id(),
                        s.rules().metric().id(),
                        s.rules().minSamples(),
                        s.rules().test().id(),
                        s.rules().alpha(),
                        s.rules().costBps()));
        r.folds()
                .forEach(
                        (name, fs) ->
                                b.append(
                                        String.format(
                                                Locale.ROOT,
                                                "  %s: %d folds, test bars %s .. %s%n",
                                                name,
                                                fs.size(),
                                                fs.get(0).testStart(),
                                                fs.get(fs.size() - 1).testEnd())));
        b.append(
                String.format(
                        Locale.ROOT,
                        "  %,d bars replayed in time order (all series interleaved)%n%n",
                        r.rows().size()));
        b.append(
                String.format(
                        Locale.ROOT,
                        "%-11s %8s %8s %8s %10s %8s %8s %7s  %s%n",
                        "variant",
                        "log-loss",
                        "Brier",
                        "hit",
                        "P&L",
                        "routed",
                        "declined",
                        "failed",
                        "runs"));
        for (Role role : Role.values()) {
            RolloutBacktest.VariantReport v = r.variants().get(role);
            b.append(
                    String.format(
                            Locale.ROOT,
                            "%-11s %8s %8s %8s %+10.4f %8d %8d %7d  %s%n",
                            role.id(),
                            num(v.figures().logLoss(), 4),
                            num(v.figures().brier(), 4),
                            num(v.figures().hitRate(), 4),
                            v.figures().pnl(),
                            v.routed(),
                            v.declined(),
                            v.failed(),
                            descriptions.getOrDefault(role, "")));
        }
        b.append(
                String.format(
                        Locale.ROOT,
                        "served      %8s %8s %8s %+10.4f   (whichever variant acted, until the rollout"
                                + " ended)%n",
                        num(r.served().logLoss(), 4),
                        num(r.served().brier(), 4),
                        num(r.served().hitRate(), 4),
                        r.served().pnl()));
        b.append(
                "(log-loss, Brier, hit rate over the bars each variant forecast; P&L = sum of"
                        + " w r - c|w - w_prev| per series, long when p > 0.5)\n\n");
        if (r.timeline().isEmpty()) {
            b.append("Transitions: none; the rules reached no verdict. Final stage: ")
                    .append(r.finalStage().id())
                    .append('\n');
        } else {
            b.append("Transitions:\n");
            for (RolloutBacktest.Event e : r.timeline()) {
                Transition t = e.transition();
                Transition.TestFigures tf = t.test();
                b.append(
                        String.format(
                                Locale.ROOT,
                                "  %s  %-8s -> %-11s after %,d scored bars (%s)%s%n",
                                e.barStart(),
                                t.from(),
                                t.to(),
                                e.scoredBars(),
                                e.series(),
                                tf == null
                                        ? ""
                                        : String.format(
                                                Locale.ROOT,
                                                ": %s mean difference %+.5f, %s t = %s,"
                                                        + " p = %.3g < alpha %.3g (look %d, n = %d)",
                                                t.metric(),
                                                tf.meanDifference(),
                                                tf.test(),
                                                tf.statistic() == null
                                                        ? "inf"
                                                        : String.format(
                                                                Locale.ROOT,
                                                                "%.3f",
                                                                tf.statistic()),
                                                tf.pValue(),
                                                tf.alpha(),
                                                tf.look(),
                                                tf.n())));
            }
            b.append("Final stage: ").append(r.finalStage().id()).append('\n');
        }
        return b.toString();
    }

    private static String num(Double v, int digits) {
        return v == null ? "-" : String.format(Locale.ROOT, "%." + digits + "f", v);
    }

    /**
     * Writes {@code report.json}, {@code report.txt}, {@code rollout.png} and {@code
     * rollout-bars.csv} into {@code dir} (created).
     *
     * @param r the result
     * @param descriptions per role, what ran
     * @param dir the report folder
     * @throws IOException if a file cannot be written
     */
    public static void write(RolloutBacktest.Result r, Map<Role, String> descriptions, Path dir)
            throws IOException {
        Files.createDirectories(dir);
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("kind", "rollout-backtest");
        root.put("rollout", json(r, descriptions));
        Files.writeString(dir.resolve(JSON_FILE), JSON.writeValueAsString(root) + "\n");
        Files.writeString(dir.resolve(TEXT_FILE), text(r, descriptions));
        Files.write(dir.resolve(CHART_FILE), chart(r));
        StringBuilder csv =
                new StringBuilder(
                        "bar_time,series,key,close,outcome_close,champion_p,challenger_p,"
                                + "champion_status,challenger_status,routed,acted,stage,"
                                + "loss_difference\n");
        for (RolloutBacktest.Row row : r.rows()) {
            csv.append(row.barStart())
                    .append(',')
                    .append(row.series())
                    .append(',')
                    .append(row.key())
                    .append(',')
                    .append(row.close())
                    .append(',')
                    .append(row.outcomeClose())
                    .append(',')
                    .append(Double.isNaN(row.champion()) ? "" : Double.toString(row.champion()))
                    .append(',')
                    .append(Double.isNaN(row.challenger()) ? "" : Double.toString(row.challenger()))
                    .append(',')
                    .append(row.championStatus().id())
                    .append(',')
                    .append(row.challengerStatus().id())
                    .append(',')
                    .append(row.routed().id())
                    .append(',')
                    .append(row.acted().id())
                    .append(',')
                    .append(row.stage().id())
                    .append(',')
                    .append(
                            Double.isNaN(row.lossDifference())
                                    ? ""
                                    : Double.toString(row.lossDifference()))
                    .append('\n');
        }
        Files.writeString(dir.resolve(BARS_FILE), csv);
    }

    /** Cumulative loss difference (challenger - champion) over time, transitions marked. */
    static byte[] chart(RolloutBacktest.Result r) {
        XYSeries cum =
                new XYSeries(
                        "cumulative "
                                + r.spec().rules().metric().id()
                                + " difference, challenger - champion",
                        false,
                        true);
        double sum = 0;
        List<RolloutBacktest.Row> rows = r.rows();
        int step = Math.max(1, rows.size() / 4000);
        for (int i = 0; i < rows.size(); i++) {
            double d = rows.get(i).lossDifference();
            if (!Double.isNaN(d)) {
                sum += d;
            }
            if (i % step == 0 || i == rows.size() - 1) {
                cum.addOrUpdate(rows.get(i).barStart().toEpochMilli(), sum);
            }
        }
        JFreeChart chart =
                ChartFactory.createTimeSeriesChart(
                        "rollout " + r.spec().id() + ": below zero = challenger better",
                        "time",
                        "cumulative loss difference",
                        new XYSeriesCollection(cum),
                        true,
                        false,
                        false);
        var plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        int k = 0;
        for (RolloutBacktest.Event e : r.timeline()) {
            ValueMarker mk = new ValueMarker(e.barStart().toEpochMilli());
            // Labels on three rows, so transitions close in time do not print over each other.
            mk.setLabelOffset(new org.jfree.chart.ui.RectangleInsets(4 + 16 * (k++ % 3), 4, 4, 4));
            mk.setPaint(
                    e.transition().to().equals("rolled_back") ? Color.RED : new Color(0, 120, 0));
            mk.setStroke(new BasicStroke(1.5f));
            mk.setLabel(e.transition().from() + " -> " + e.transition().to());
            mk.setLabelAnchor(RectangleAnchor.TOP_LEFT);
            mk.setLabelTextAnchor(TextAnchor.TOP_RIGHT);
            plot.addDomainMarker(mk);
        }
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            ChartUtils.writeChartAsPNG(out, chart, 1100, 480);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
