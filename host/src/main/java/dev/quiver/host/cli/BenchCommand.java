package dev.quiver.host.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.host.backtest.CostModel;
import dev.quiver.host.bench.Bench;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.plugin.PluginRuntime;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code quiver bench}: throughput against ta4j, with a trade-for-trade check. */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description =
                "Backtest throughput (bars/s) of the traditional signal with fixed sizing, beside"
                        + " ta4j (DoubleNum and DecimalNum) computing the same indicators and rule on"
                        + " the same bars, and whether both trade identically.")
final class BenchCommand implements Callable<Integer> {

    @Option(names = "--out", paramLabel = "DIR", description = "Also write DIR/bench.json.")
    Path out;

    @Option(
            names = "--dataset",
            paramLabel = "ID",
            defaultValue = "btc-usd-4h",
            description = "Bundled series to run on (default: ${DEFAULT-VALUE}).")
    String dataset;

    @Option(
            names = "--runs",
            defaultValue = "7",
            description = "Timed runs per side (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(
            names = "--warmup-runs",
            defaultValue = "5",
            description = "Untimed warm-up runs per side (default: ${DEFAULT-VALUE}).")
    int warmupRuns;

    @Option(
            names = "--decimal-runs",
            defaultValue = "3",
            description =
                    "Timed runs for ta4j DecimalNum, the slow side (default: ${DEFAULT-VALUE}).")
    int decimalRuns;

    @Mixin HostOptions host;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        if (runs < 1 || decimalRuns < 1 || warmupRuns < 0) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] --runs and --decimal-runs must be >= 1, --warmup-runs >= 0");
        }
        var bars =
                BundledData.byId(dataset)
                        .orElseThrow(
                                () ->
                                        new IllegalArgumentException(
                                                "[Quiver/BAD_OPTION] --dataset "
                                                        + dataset
                                                        + " is not one of "
                                                        + BundledData.ids()))
                        .load();
        try (PluginRuntime plugins = PluginRuntime.start(host.pluginsDir(), host.configuration())) {
            PredictionCapability traditional =
                    pick(plugins.predictions(), "prediction", "traditional");
            SizingCapability fixed = pick(plugins.sizings(), "sizing", "fixed");
            Bench.Result r =
                    new Bench(bars, traditional, fixed, CostModel.DEFAULT, System.err)
                            .run(warmupRuns, runs, decimalRuns);
            PrintWriter o = spec.commandLine().getOut();
            o.printf(
                    Locale.ROOT,
                    "bench %s: %,d bars, median of %d timed runs per side (DecimalNum: %d)%n",
                    r.dataset(),
                    r.bars(),
                    r.runs(),
                    decimalRuns);
            o.printf(
                    Locale.ROOT,
                    "  quiver (traditional + fixed)  %,14.0f bars/s%n",
                    r.quiverBarsPerSecond());
            o.printf(
                    Locale.ROOT,
                    "  ta4j DoubleNum                %,14.0f bars/s   quiver is %.1fx (target >= 5x)%n",
                    r.ta4jDoubleBarsPerSecond(),
                    r.speedupOverDouble());
            o.printf(
                    Locale.ROOT,
                    "  ta4j DecimalNum (default)     %,14.0f bars/s   quiver is %.1fx (target >= 50x)%n",
                    r.ta4jDecimalBarsPerSecond(),
                    r.speedupOverDecimal());
            o.printf(
                    Locale.ROOT,
                    "  trades: quiver %d, ta4j %d, identical: %s%s%n",
                    r.quiverTrades(),
                    r.ta4jTrades(),
                    r.identicalTrades(),
                    r.identicalTrades() ? "" : " (" + r.firstDifference() + ")");
            o.flush();
            if (out != null) {
                write(r);
            }
            return r.identicalTrades() ? 0 : 1;
        }
    }

    private void write(Bench.Result r) {
        Map<String, Object> backtest = new LinkedHashMap<>();
        backtest.put("quiver_bars_per_s", r.quiverBarsPerSecond());
        backtest.put("ta4j_double_bars_per_s", r.ta4jDoubleBarsPerSecond());
        backtest.put("ta4j_decimal_bars_per_s", r.ta4jDecimalBarsPerSecond());
        backtest.put("identical_trades", r.identicalTrades());
        backtest.put("speedup_over_double", r.speedupOverDouble());
        backtest.put("speedup_over_decimal", r.speedupOverDecimal());
        backtest.put("trades", r.quiverTrades());
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("dataset", r.dataset());
        json.put("bars", r.bars());
        json.put("runs", r.runs());
        json.put(
                "method",
                "median wall time of timed runs after warm-up, same JVM; data loading not timed");
        json.put("backtest", backtest);
        try {
            Files.createDirectories(out);
            new ObjectMapper()
                    .enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValue(out.resolve("bench.json").toFile(), json);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out.resolve("bench.json"), e);
        }
    }

    private static <T> T pick(List<T> capabilities, String kind, String name) {
        return capabilities.stream()
                .filter(c -> nameOf(c).equals(name))
                .findFirst()
                .orElseThrow(
                        () ->
                                new IllegalArgumentException(
                                        "[Quiver/NOTHING_TO_RUN] bench needs the "
                                                + kind
                                                + " capability '"
                                                + name
                                                + "' from the plugins folder"));
    }

    private static String nameOf(Object c) {
        if (c instanceof PredictionCapability p) {
            return p.descriptor().name();
        }
        return ((SizingCapability) c).descriptor().name();
    }
}
