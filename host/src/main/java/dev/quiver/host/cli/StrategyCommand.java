package dev.quiver.host.cli;

import dev.quiver.api.QuiverApi;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.fusion.WeightedFusion;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.backtest.Progress;
import dev.quiver.host.backtest.ReportWriter;
import dev.quiver.host.backtest.TextReport;
import dev.quiver.host.backtest.WalkForwardBacktest;
import dev.quiver.host.plugin.LoadedPlugin;
import dev.quiver.host.plugin.PluginRefusal;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.strategy.BundleWriter;
import dev.quiver.host.strategy.StrategyBundle;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code quiver strategy fit|show}: the fitted strategy as one versioned bundle. */
@Command(
        name = "strategy",
        mixinStandardHelpOptions = true,
        description =
                "Strategy bundles: the walk-forward's fitted sources, ensemble and sizing state,"
                        + " settings and figures in one versioned artifact that the service serves.",
        subcommands = {StrategyCommand.Fit.class, StrategyCommand.Show.class})
final class StrategyCommand implements Runnable {

    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code strategy fit}: walk-forward, final fit, bundle. */
    @Command(
            name = "fit",
            mixinStandardHelpOptions = true,
            description =
                    "Runs the backtest's walk-forward on one series, then fits every component on"
                            + " the most recent window (the ensemble on out-of-fold forecasts"
                            + " only) and writes the bundle: models, states, manifest with spans,"
                            + " settings, the walk-forward's figures and sha256 of every file.")
    static final class Fit extends WalkForwardOptions implements Callable<Integer> {

        @Option(
                names = "--out",
                paramLabel = "DIR",
                defaultValue = "quiver-out/strategy",
                description =
                        "The bundle folder to create (must not exist; default: ${DEFAULT-VALUE}).")
        Path out;

        @Option(
                names = "--until",
                paramLabel = "TIME",
                description =
                        "Fit only on bars that start at or before this ISO-8601 instant (the rest"
                                + " of the series is left for evaluating the bundle).")
        String until;

        @Option(
                names = "--max-age",
                paramLabel = "DURATION",
                defaultValue = "P30D",
                description =
                        "The bundle's maximum age (ISO-8601 duration) after which decisions"
                                + " abstain (default: ${DEFAULT-VALUE}).")
        String maxAge;

        @Option(
                names = "--created",
                paramLabel = "TIME",
                description =
                        "The bundle's creation time (ISO-8601; default now). Its age counts from"
                                + " here.")
        String created;

        @Mixin HostOptions host;

        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter stdout = spec.commandLine().getOut();
            PrintWriter stderr = spec.commandLine().getErr();
            List<BarData> all = series(badBarPolicy(), stderr);
            if (all.size() != 1) {
                throw new QuiverInputException(
                        "BAD_OPTION",
                        "--data/--dataset",
                        "strategy fit",
                        all.size(),
                        "a bundle is fitted on exactly one series");
            }
            BarData bars = truncate(all.get(0));
            Duration age = duration(maxAge, "--max-age");
            Instant at = created == null ? Instant.now() : instant(created, "--created");
            var config = config();
            try (PluginRuntime plugins =
                    PluginRuntime.start(host.pluginsDir(), host.batchConfiguration())) {
                for (PluginRefusal r : plugins.refusals()) {
                    stderr.println("warning: " + r.message());
                }
                if (plugins.predictions().isEmpty() || plugins.sizings().isEmpty()) {
                    throw new IllegalArgumentException(
                            "[Quiver/NOTHING_TO_RUN] the plugins folder "
                                    + host.pluginsDir()
                                    + " has no prediction or no sizing plugin that started");
                }
                EnsembleCapability ensemble = ensembleOf(plugins);
                stderr.printf(
                        Locale.ROOT,
                        "strategy fit %s: %,d bars through %s, walk-forward then the final fit%n",
                        bars.symbol(),
                        bars.size(),
                        Instant.ofEpochMilli(bars.startMillis[bars.size() - 1]));
                stderr.flush();
                WalkForwardBacktest.FinalFit fit =
                        new WalkForwardBacktest(config)
                                .withThreads(threads())
                                .runAndFitFinal(
                                        FeaturePipeline.compute(bars),
                                        plugins.predictions(),
                                        ensemble,
                                        plugins.sizings(),
                                        Progress.stderr());
                Map<String, String> versions = new TreeMap<>();
                for (LoadedPlugin p : plugins.plugins()) {
                    versions.put(p.id(), p.version());
                }
                StrategyBundle bundle =
                        BundleWriter.write(
                                out,
                                plugins.predictions(),
                                ensemble,
                                plugins.sizings(),
                                new BundleWriter.Context(
                                        bars,
                                        config,
                                        fit,
                                        FeaturePipeline.SCHEMA,
                                        QuiverApi.VERSION,
                                        versions,
                                        age,
                                        at));
                Path report = out.resolve("..").resolve(out.getFileName() + "-report").normalize();
                try {
                    new ReportWriter().write(fit.result(), report);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot write the report to " + report, e);
                }
                stdout.println(TextReport.render(fit.result()));
                stdout.println();
                stdout.print(Show.describe(bundle));
                stdout.printf("bundle: %s%n", bundle.dir());
                stdout.printf("walk-forward report: %s%n", report.resolve("report.html"));
                stdout.flush();
            }
            return 0;
        }

        private BarData truncate(BarData bars) {
            if (until == null) {
                return bars;
            }
            long t = instant(until, "--until").toEpochMilli();
            int n = 0;
            while (n < bars.size() && bars.startMillis[n] <= t) {
                n++;
            }
            if (n == 0) {
                throw new QuiverInputException(
                        "BAD_OPTION",
                        "--until",
                        "strategy fit",
                        until,
                        "is before the series' first bar "
                                + Instant.ofEpochMilli(bars.startMillis[0]));
            }
            return bars.truncate(n);
        }
    }

    /** The ensemble the backtest uses: the plugin's stack, else the first, else the built-in. */
    static EnsembleCapability ensembleOf(PluginRuntime plugins) {
        return plugins.ensembles().stream()
                .filter(e -> e.descriptor().name().equals("stack"))
                .findFirst()
                .or(() -> plugins.ensembles().stream().findFirst())
                .orElseGet(WeightedFusion::new);
    }

    /** {@code strategy show}: the manifest, readable. */
    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            description = "Verifies a bundle folder and prints its manifest in short.")
    static final class Show implements Callable<Integer> {

        @Parameters(paramLabel = "BUNDLE", description = "A bundle folder.")
        Path bundle;

        @Option(names = "--json", description = "Print the whole manifest as JSON.")
        boolean json;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            StrategyBundle b = StrategyBundle.open(bundle);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(Files.readString(b.dir().resolve(StrategyBundle.MANIFEST)));
            } else {
                out.print(describe(b));
            }
            out.flush();
            return 0;
        }

        static String describe(StrategyBundle b) {
            var m = b.manifest();
            StringBuilder s = new StringBuilder();
            s.append(
                    String.format(
                            Locale.ROOT,
                            "strategy bundle %s (%s)%n  fitted %s on %s (%s bars), serves bars from"
                                    + " %s, expires %s%n  features %s v%s hash %s%n",
                            b.id(),
                            m.path("format").asText(),
                            m.path("created").asText(),
                            m.path("dataset").asText(),
                            m.path("interval").asText(),
                            m.path("serves_from").asText(),
                            b.expiresAt(java.util.Optional.empty()),
                            m.path("feature_schema").path("name").asText(),
                            m.path("feature_schema").path("version").asText(),
                            m.path("feature_schema").path("hash").asText()));
            List<String> lines = new ArrayList<>();
            for (StrategyBundle.Component c : b.components()) {
                lines.add(
                        String.format(
                                Locale.ROOT,
                                "  %-10s %-12s %s %s, %s",
                                c.kind(),
                                c.name(),
                                c.plugin(),
                                c.version(),
                                c.files().isEmpty()
                                        ? "no fitted state"
                                        : c.files().size() + " file(s)"));
            }
            lines.forEach(l -> s.append(l).append(System.lineSeparator()));
            var wf = m.path("walk_forward");
            s.append(
                    String.format(
                            Locale.ROOT,
                            "  walk-forward: %d folds, %d out-of-sample bars %s..%s; fused log-loss"
                                    + " %s, ECE %s%n",
                            wf.path("folds").asInt(),
                            wf.path("test_bars").asInt(),
                            wf.path("test_from").asText(),
                            wf.path("test_to").asText(),
                            wf.path("forecasts").path("fused").path("log_loss").asText(),
                            wf.path("forecasts").path("fused").path("ece").asText()));
            for (var e : wf.path("policies").properties()) {
                s.append(
                        String.format(
                                Locale.ROOT,
                                "    %-13s CAGR %s, Sharpe %s, max drawdown %s%n",
                                e.getKey(),
                                e.getValue().path("cagr").asText(),
                                e.getValue().path("sharpe").asText(),
                                e.getValue().path("max_drawdown").asText()));
            }
            return s.toString();
        }
    }

    static Duration duration(String text, String option) {
        try {
            return Duration.parse(text);
        } catch (DateTimeParseException e) {
            throw new QuiverInputException(
                    "BAD_OPTION",
                    option,
                    "command line",
                    text,
                    "is not an ISO-8601 duration (P30D)");
        }
    }

    static Instant instant(String text, String option) {
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw new QuiverInputException(
                    "BAD_OPTION",
                    option,
                    "command line",
                    text,
                    "is not an ISO-8601 instant (2025-01-01T00:00:00Z)");
        }
    }
}
