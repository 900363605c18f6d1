package dev.quiver.host.cli;

import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.host.backtest.BacktestResult;
import dev.quiver.host.backtest.CostModel;
import dev.quiver.host.backtest.Progress;
import dev.quiver.host.backtest.ReportWriter;
import dev.quiver.host.backtest.Stops;
import dev.quiver.host.backtest.TextReport;
import dev.quiver.host.backtest.WalkForwardBacktest;
import dev.quiver.host.data.BadBarPolicy;
import dev.quiver.host.data.BarCsvReader;
import dev.quiver.host.data.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.feature.FeaturePipeline;
import dev.quiver.host.fusion.WeightedFusion;
import dev.quiver.host.plugin.PluginRefusal;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.risk.CircuitBreakers;
import dev.quiver.host.risk.RiskGuard;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code quiver backtest}: the main job. */
@Command(
        name = "backtest",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Walk-forward backtest: point-in-time features, every prediction plugin, fusion fitted"
                    + " per fold, every sizing plugin side by side with buy-and-hold. Decisions at"
                    + " a bar's close fill at the next bar's open, costs charged. Only test bars"
                    + " are reported."
        })
final class BacktestCommand implements Callable<Integer> {

    @Option(
            names = "--data",
            paramLabel = "FILE",
            description = "OHLCV CSV to run on (default: the bundled --dataset).")
    Path data;

    @Option(
            names = "--dataset",
            paramLabel = "ID",
            defaultValue = "btc-usd-4h",
            description =
                    "Bundled real series: btc-usd-4h, sp500-daily, nasdaq-daily, or all (default: ${DEFAULT-VALUE}).")
    String dataset;

    @Option(
            names = "--out",
            paramLabel = "DIR",
            defaultValue = "quiver-out",
            description = "Reports go to DIR/<dataset>/ (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(
            names = "--on-bad-bar",
            paramLabel = "fail|skip",
            defaultValue = "fail",
            description =
                    "A malformed CSV row stops the run (fail) or is left out and counted (skip).")
    String onBadBar;

    @Option(
            names = "--fee-bps",
            defaultValue = "10",
            description =
                    "Fee per side, basis points of traded notional (default: ${DEFAULT-VALUE}).")
    double feeBps;

    @Option(
            names = "--slippage-bps",
            defaultValue = "5",
            description = "Slippage per side, basis points (default: ${DEFAULT-VALUE}).")
    double slippageBps;

    @Option(
            names = "--train-bars",
            defaultValue = "1000",
            description = "Training window, bars (default: ${DEFAULT-VALUE}).")
    int trainBars;

    @Option(
            names = "--embargo-bars",
            defaultValue = "5",
            description = "Gap between training and test, bars (default: ${DEFAULT-VALUE}).")
    int embargoBars;

    @Option(
            names = "--test-bars",
            defaultValue = "500",
            description = "Test window, bars (default: ${DEFAULT-VALUE}).")
    int testBars;

    @Option(
            names = "--max-position",
            defaultValue = "1.0",
            description =
                    "Risk-guard cap, fraction of equity in (0, 1] (default: ${DEFAULT-VALUE}).")
    double maxPosition;

    @Option(
            names = "--stop-loss-atr",
            defaultValue = "2",
            description =
                    "Host stop-loss below the entry, ATRs at entry; 0 = off (default: ${DEFAULT-VALUE}).")
    double stopLossAtr;

    @Option(
            names = "--take-profit-atr",
            defaultValue = "3",
            description =
                    "Host take-profit above the entry, ATRs at entry; 0 = off (default: ${DEFAULT-VALUE}).")
    double takeProfitAtr;

    @Option(
            names = "--trailing-atr",
            defaultValue = "3",
            description =
                    "Host trailing stop below the highest high, ATRs at entry; 0 = off (default: ${DEFAULT-VALUE}).")
    double trailingAtr;

    @Option(
            names = "--max-drawdown",
            defaultValue = "0.15",
            description = "Circuit breaker: drawdown limit, fraction (default: ${DEFAULT-VALUE}).")
    double maxDrawdown;

    @Option(
            names = "--daily-loss",
            defaultValue = "0.05",
            description =
                    "Circuit breaker: loss limit per UTC day, fraction (default: ${DEFAULT-VALUE}).")
    double dailyLoss;

    @Option(
            names = "--min-hit-rate",
            defaultValue = "0.40",
            description =
                    "Circuit breaker: rolling hit-rate floor, fraction (default: ${DEFAULT-VALUE}).")
    double minHitRate;

    @Option(
            names = "--hit-rate-window",
            defaultValue = "50",
            description =
                    "Circuit breaker: closed decisions in the rolling hit rate (default: ${DEFAULT-VALUE}).")
    int hitRateWindow;

    @Option(names = "--no-circuit-breakers", description = "Run without circuit breakers.")
    boolean noBreakers;

    @Mixin HostOptions host;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        BadBarPolicy policy = badBarPolicy();
        var defaults = WalkForwardBacktest.Config.defaults();
        var config =
                new WalkForwardBacktest.Config(
                        trainBars,
                        embargoBars,
                        testBars,
                        defaults.initialEquity(),
                        new CostModel(feeBps, slippageBps),
                        maxPosition,
                        defaults.rebalanceBand(),
                        defaults.payoffWindowBars(),
                        new Stops(stopLossAtr, takeProfitAtr, trailingAtr),
                        noBreakers
                                ? null
                                : new CircuitBreakers.Config(
                                        maxDrawdown,
                                        dailyLoss,
                                        minHitRate,
                                        hitRateWindow,
                                        defaults.breakers().drawdownCooldownDays()));
        List<BarData> series = new ArrayList<>();
        if (data != null) {
            var result = new BarCsvReader(policy).read(data, stem(data));
            if (!result.skipped().isEmpty()) {
                stderr.printf(
                        Locale.ROOT,
                        "%s: skipped %d malformed row(s) (--on-bad-bar=skip), first: %s%n",
                        data,
                        result.skipped().size(),
                        result.skipped().get(0).getMessage());
            }
            series.add(result.data());
        } else if (dataset.equals("all")) {
            for (BundledData d : BundledData.values()) {
                series.add(d.load());
            }
        } else {
            BundledData d =
                    BundledData.byId(dataset)
                            .orElseThrow(
                                    () ->
                                            new QuiverInputException(
                                                    "BAD_OPTION",
                                                    "--dataset",
                                                    "command line",
                                                    dataset,
                                                    "is not one of "
                                                            + BundledData.ids()
                                                            + " or all"));
            series.add(d.load());
        }
        try (PluginRuntime plugins = PluginRuntime.start(host.pluginsDir(), host.configuration())) {
            for (PluginRefusal r : plugins.refusals()) {
                stderr.println("warning: " + r.message());
            }
            if (plugins.predictions().isEmpty() || plugins.sizings().isEmpty()) {
                throw new IllegalArgumentException(
                        "[Quiver/NOTHING_TO_RUN] the plugins folder "
                                + host.pluginsDir()
                                + " has no prediction or no sizing plugin that started");
            }
            for (BarData bars : series) {
                // The built-in weighted fusion unless a plugin provides an ensemble.
                EnsembleCapability ensemble =
                        plugins.ensembles().isEmpty()
                                ? new WeightedFusion()
                                : plugins.ensembles().get(0);
                stderr.printf(
                        Locale.ROOT,
                        "backtest %s: %,d bars, period %s, features %s v%s%n",
                        bars.symbol(),
                        bars.size(),
                        bars.period(),
                        FeaturePipeline.SCHEMA.name(),
                        FeaturePipeline.SCHEMA.version());
                stderr.flush();
                BacktestResult result =
                        new WalkForwardBacktest(config)
                                .run(
                                        FeaturePipeline.compute(bars),
                                        plugins.predictions(),
                                        ensemble,
                                        plugins.sizings(),
                                        new RiskGuard(),
                                        Progress.stderr());
                Path dir = out.resolve(bars.symbol());
                try {
                    new ReportWriter().write(result, dir);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot write the report to " + dir, e);
                }
                stdout.println(TextReport.render(result));
                stdout.printf("report: %s%n", dir.resolve("report.html").toAbsolutePath());
                stdout.flush();
            }
        }
        return 0;
    }

    private BadBarPolicy badBarPolicy() {
        return switch (onBadBar) {
            case "fail" -> BadBarPolicy.FAIL;
            case "skip" -> BadBarPolicy.SKIP;
            default ->
                    throw new QuiverInputException(
                            "BAD_OPTION",
                            "--on-bad-bar",
                            "command line",
                            onBadBar,
                            "is not one of fail, skip");
        };
    }

    private static String stem(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }
}
