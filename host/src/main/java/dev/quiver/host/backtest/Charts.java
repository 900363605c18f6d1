package dev.quiver.host.backtest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** PNG charts of a backtest, rendered with JFreeChart (headless). */
final class Charts {

    static final int WIDTH = 1100;
    static final int HEIGHT = 480;

    private Charts() {}

    /** Equity of every policy and buy-and-hold on one chart, log scale. */
    static byte[] equityPng(BacktestResult result) {
        List<PolicyResult> all = new ArrayList<>(result.policies().values());
        all.add(result.buyAndHold());
        XYSeriesCollection data = new XYSeriesCollection();
        for (PolicyResult p : all) {
            data.addSeries(series(p.name(), result.testTimes(), p.equity()));
        }
        JFreeChart chart =
                ChartFactory.createTimeSeriesChart(
                        result.dataset() + ": equity, out-of-sample test bars (log scale)",
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
        return png(chart);
    }

    /** Drawdown of every policy and buy-and-hold, as negative fractions. */
    static byte[] drawdownPng(BacktestResult result) {
        List<PolicyResult> all = new ArrayList<>(result.policies().values());
        all.add(result.buyAndHold());
        XYSeriesCollection data = new XYSeriesCollection();
        for (PolicyResult p : all) {
            double[] dd = p.drawdown().clone();
            for (int i = 0; i < dd.length; i++) {
                dd[i] = -dd[i];
            }
            data.addSeries(series(p.name(), result.testTimes(), dd));
        }
        JFreeChart chart =
                ChartFactory.createTimeSeriesChart(
                        result.dataset() + ": drawdown from equity peak",
                        "time",
                        "drawdown (fraction)",
                        data,
                        true,
                        false,
                        false);
        return png(chart);
    }

    /**
     * Reliability diagram of the fused signal: observed share of up moves against mean predicted
     * probability per equal-width bin (non-empty bins only), beside the diagonal of perfect
     * calibration.
     */
    static byte[] reliabilityPng(BacktestResult result) {
        ForecastMetrics f = result.forecasts().get(WalkForwardBacktest.FUSED);
        XYSeriesCollection data = new XYSeriesCollection();
        XYSeries diagonal = new XYSeries("perfect calibration");
        diagonal.add(0, 0);
        diagonal.add(1, 1);
        XYSeries fused = new XYSeries("fused (ECE " + TextReport.num(f.ece()) + ")", false, true);
        for (int b = 0; b < f.binCount().length; b++) {
            if (f.binCount()[b] > 0) {
                fused.add(f.binMeanP()[b], f.binFrequency()[b]);
            }
        }
        data.addSeries(diagonal);
        data.addSeries(fused);
        JFreeChart chart =
                ChartFactory.createXYLineChart(
                        result.dataset()
                                + ": reliability of the fused probability, test bars ("
                                + ForecastMetrics.BINS
                                + " bins)",
                        "mean predicted probability of an up move",
                        "observed share of up moves",
                        data,
                        org.jfree.chart.plot.PlotOrientation.VERTICAL,
                        true,
                        false,
                        false);
        var renderer = new org.jfree.chart.renderer.xy.XYLineAndShapeRenderer(true, true);
        renderer.setSeriesShapesVisible(0, false);
        chart.getXYPlot().setRenderer(renderer);
        ((NumberAxis) chart.getXYPlot().getDomainAxis()).setRange(0, 1);
        ((NumberAxis) chart.getXYPlot().getRangeAxis()).setRange(0, 1);
        return png(chart);
    }

    static XYSeries series(String name, long[] times, double[] values) {
        XYSeries s = new XYSeries(name, false, true);
        int step = Math.max(1, values.length / 4000);
        for (int i = 0; i < values.length; i += step) {
            s.add(times[i], values[i], false);
        }
        s.add(times[values.length - 1], values[values.length - 1], true);
        return s;
    }

    static byte[] png(JFreeChart chart) {
        chart.getXYPlot().setBackgroundPaint(java.awt.Color.WHITE);
        chart.getXYPlot().setRangeGridlinePaint(java.awt.Color.LIGHT_GRAY);
        chart.getXYPlot().setDomainGridlinePaint(java.awt.Color.LIGHT_GRAY);
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            ChartUtils.writeChartAsPNG(out, chart, WIDTH, HEIGHT);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
