package dev.quiver.host.cli;

import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.backtest.TextReport;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowHttp;
import dev.quiver.host.plugin.PluginRefusal;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.registry.ModelUri;
import dev.quiver.host.strategy.BundleRegistrar;
import dev.quiver.host.strategy.ResolvedStrategy;
import dev.quiver.host.strategy.StrategyBundle;
import dev.quiver.host.strategy.StrategyFitter;
import dev.quiver.host.strategy.StrategyRefusedException;
import dev.quiver.host.strategy.StrategyResolver;
import dev.quiver.host.strategy.StrategySmoke;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
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

        @Option(
                names = "--register",
                paramLabel = "NAME",
                description =
                        "After writing the bundle, log the fit as an MLflow run (parameters,"
                                + " the walk-forward's figures, the bundle and the report as"
                                + " artifacts), record smoke cases, and register the bundle as a"
                                + " new version of this registered model (tag quiver.kind ="
                                + " quiver-strategy). No alias moves unless --alias names it.")
        String register;

        @Option(
                names = "--tracking-uri",
                paramLabel = "URI",
                description =
                        "MLflow server for --register (default: MLFLOW_TRACKING_URI), e.g."
                                + " http://127.0.0.1:5000.")
        String trackingUri;

        @Option(
                names = "--alias",
                paramLabel = "ALIAS",
                description =
                        "With --register: point this alias at the new version, e.g. challenger"
                                + " (repeatable). @champion moves only if named here.")
        List<String> aliases = List.of();

        @Option(
                names = "--experiment",
                paramLabel = "NAME",
                defaultValue = BundleRegistrar.EXPERIMENT,
                description =
                        "With --register: the MLflow experiment of the fit's run, created if"
                                + " missing (default: ${DEFAULT-VALUE}).")
        String experiment;

        @Option(
                names = "--smoke-bars",
                paramLabel = "N",
                defaultValue = "" + StrategySmoke.DEFAULT_CASES,
                description =
                        "With --register: decisions recorded as smoke cases (smoke.json): the"
                                + " first N bars after the bundle's data in the series, or its"
                                + " last N fitted bars when there are none (default:"
                                + " ${DEFAULT-VALUE}).")
        int smokeBars;

        @Option(
                names = "--smoke-tolerance",
                paramLabel = "X",
                defaultValue = "" + StrategySmoke.DEFAULT_TOLERANCE,
                description =
                        "With --register: largest accepted difference of a replayed probability"
                                + " or fraction (default: ${DEFAULT-VALUE}).")
        double smokeTolerance;

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
            // Registry options are checked, and the registry reached, before the fit: a fit that
            // cannot be registered is not run.
            Optional<BundleRegistrar> registrar = registrar();
            checkCosts(List.of(bars), stderr);
            try (PluginRuntime plugins =
                            PluginRuntime.start(host.pluginsDir(), host.batchConfiguration());
                    TerminalProgress progress = progress()) {
                for (PluginRefusal r : plugins.refusals()) {
                    stderr.println("warning: " + r.message());
                }
                stderr.printf(
                        Locale.ROOT,
                        "strategy fit %s: %,d bars through %s, walk-forward then the final fit%n",
                        bars.symbol(),
                        bars.size(),
                        Instant.ofEpochMilli(bars.startMillis[bars.size() - 1]));
                stderr.flush();
                Optional<StrategyFitter.Registration> registration =
                        registrar.map(
                                r -> {
                                    Map<String, String> extra = new LinkedHashMap<>();
                                    for (Path f : data) {
                                        extra.put("data_file", f.toAbsolutePath().toString());
                                    }
                                    extra.put("until", until == null ? "none" : until);
                                    return new StrategyFitter.Registration(
                                            r,
                                            experiment,
                                            register,
                                            aliases,
                                            smokeBars,
                                            smokeTolerance,
                                            extra);
                                });
                StrategyFitter.Fitted fitted =
                        StrategyFitter.fit(
                                plugins,
                                new StrategyFitter.Request(
                                        all.get(0), bars, config, threads(), out, age, at),
                                registration,
                                progress);
                progress.finish();
                stdout.println(TextReport.render(fitted.fit().result()));
                stdout.println();
                stdout.print(Show.describe(fitted.bundle()));
                stdout.printf("bundle: %s%n", fitted.bundle().dir());
                stdout.printf("walk-forward report: %s%n", fitted.report().resolve("report.html"));
                if (fitted.smoke().isPresent()) {
                    StrategyFitter.Smoke smoke = fitted.smoke().get();
                    stdout.printf(
                            Locale.ROOT,
                            "smoke: %d decisions recorded on %s (%s) in %s%n",
                            smoke.smoke().cases().size(),
                            all.get(0).symbol(),
                            smoke.window().note(),
                            smoke.file());
                }
                if (fitted.registered().isPresent()) {
                    BundleRegistrar.Registered r = fitted.registered().get();
                    stdout.printf(
                            "registered models:/%s/%s (run %s, experiment %s)%n",
                            r.name(), r.version(), r.runId(), experiment);
                    new TreeMap<>(r.tags()).forEach((k, v) -> stdout.printf("  %s = %s%n", k, v));
                    for (String a : aliases) {
                        stdout.printf("  @%s -> %s%n", a, r.version());
                    }
                }
                stdout.flush();
            }
            return 0;
        }

        /** The registrar for --register, after checking the options; empty without --register. */
        private Optional<BundleRegistrar> registrar() {
            if (register == null) {
                if (!aliases.isEmpty()) {
                    throw new QuiverInputException(
                            "BAD_OPTION",
                            "--alias",
                            "strategy fit",
                            aliases,
                            "needs --register NAME: an alias points at a registered version");
                }
                if (trackingUri != null) {
                    throw new QuiverInputException(
                            "BAD_OPTION",
                            "--tracking-uri",
                            "strategy fit",
                            trackingUri,
                            "is used only with --register NAME (nothing would be logged)");
                }
                return Optional.empty();
            }
            ModelUri.parse("models:/" + register + "/1");
            for (String a : aliases) {
                ModelUri.parse("models:/" + register + "@" + a);
            }
            if (smokeBars < 1) {
                throw new QuiverInputException(
                        "BAD_OPTION", "--smoke-bars", "strategy fit", smokeBars, "must be >= 1");
            }
            if (!(smokeTolerance > 0 && smokeTolerance <= 0.5)) {
                throw new QuiverInputException(
                        "BAD_OPTION",
                        "--smoke-tolerance",
                        "strategy fit",
                        smokeTolerance,
                        "must be in (0, 0.5]");
            }
            MlflowClient client = ModelsCommand.client(trackingUri);
            client.experimentId(experiment);
            return Optional.of(new BundleRegistrar(client));
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

    /** The ensemble the backtest uses: see {@link StrategyFitter#ensembleOf}. */
    static EnsembleCapability ensembleOf(PluginRuntime plugins) {
        return StrategyFitter.ensembleOf(plugins);
    }

    /**
     * Resolves {@code --strategy}/{@code show}'s argument: a folder, or a registered version
     * through the registry (or the cache when it is unreachable, said on {@code err}).
     */
    static ResolvedStrategy resolve(
            String reference, String trackingUri, Path modelsDir, PrintWriter err) {
        Optional<MlflowClient> client =
                StrategyResolver.isRegistryUri(reference)
                        ? HostOptions.trackingUri(trackingUri)
                                .map(
                                        uri ->
                                                new MlflowClient(
                                                        new MlflowHttp(
                                                                uri,
                                                                MlflowHttp.Settings.defaults())))
                        : Optional.empty();
        ResolvedStrategy r =
                new StrategyResolver(client, ModelsCommand.modelsDir(modelsDir)).resolve(reference);
        if (!r.note().isEmpty()) {
            err.printf("strategy %s: %s%n", reference, r.note());
        }
        if (StrategyResolver.isRegistryUri(reference)) {
            err.printf(
                    "strategy %s -> %s (%s, run %s) in %s%n",
                    reference, r.pinned(), r.origin(), r.runId(), r.dir());
        }
        err.flush();
        return r;
    }

    /**
     * Replays a registered version's smoke cases through fresh instances and refuses the version if
     * a decision differs from the recorded one.
     *
     * @return the line to print
     * @throws StrategyRefusedException if a case differs
     */
    static String checkSmoke(ResolvedStrategy r, PluginRuntime plugins) {
        Optional<StrategySmoke> smoke = r.readSmoke();
        if (smoke.isEmpty()) {
            return "smoke: "
                    + r.pinned()
                    + (r.name().isEmpty()
                            ? " is a folder, no recorded decisions to replay"
                            : " has no recorded decisions to replay");
        }
        StrategySmoke.Result result = smoke.get().check(r.bundle(), plugins);
        if (!result.passed()) {
            throw new StrategyRefusedException(
                    r.pinned(),
                    "it does not decide like the registered version: " + result.reason());
        }
        return String.format(
                Locale.ROOT,
                "smoke: %d recorded decisions of %s reproduced (%s, largest difference %.3g)",
                result.cases(),
                r.pinned(),
                smoke.get().window(),
                result.maxDifference());
    }

    /** {@code strategy show}: the manifest, readable. */
    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            description =
                    "Resolves and verifies a bundle (a folder, or a registered version:"
                            + " models:/NAME@ALIAS, models:/NAME/VERSION) and prints its manifest"
                            + " in short.")
    static final class Show implements Callable<Integer> {

        @Parameters(
                paramLabel = "BUNDLE",
                description =
                        "models:/NAME@ALIAS, models:/NAME/VERSION (downloaded into the cache and"
                                + " verified) or a bundle folder.")
        String bundle;

        @Option(names = "--json", description = "Print the whole manifest as JSON.")
        boolean json;

        @Option(
                names = "--tracking-uri",
                paramLabel = "URI",
                description =
                        "MLflow server for models:/ references (default: MLFLOW_TRACKING_URI;"
                                + " none: the cache is the registry).")
        String trackingUri;

        @Option(
                names = "--models-dir",
                paramLabel = "DIR",
                description = "Model and strategy cache (default: QUIVER_HOME/models).")
        Path modelsDir;

        @Option(
                names = "--check",
                description =
                        "Also load the plugins and replay the version's smoke cases: refused"
                                + " (exit 2) if a decision differs from the recorded one.")
        boolean check;

        @Mixin HostOptions host;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            ResolvedStrategy r =
                    resolve(bundle, trackingUri, modelsDir, spec.commandLine().getErr());
            StrategyBundle b = r.bundle();
            if (json) {
                out.println(Files.readString(b.dir().resolve(StrategyBundle.MANIFEST)));
            } else {
                out.print(describe(b));
                if (!r.name().isEmpty()) {
                    out.printf(
                            "  registered %s (run %s), resolved from %s%s%n",
                            r.pinned(),
                            r.runId(),
                            r.origin(),
                            r.note().isEmpty() ? "" : ": " + r.note());
                }
                r.readSmoke()
                        .ifPresent(
                                sm ->
                                        out.printf(
                                                Locale.ROOT,
                                                "  smoke: %d recorded decisions on %s, %s%n",
                                                sm.cases().size(),
                                                sm.symbol(),
                                                sm.note()));
                out.printf("  folder %s%n", b.dir());
            }
            if (check) {
                try (PluginRuntime plugins =
                        PluginRuntime.start(host.pluginsDir(), host.batchConfiguration())) {
                    out.println(checkSmoke(r, plugins));
                }
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
            var st = b.settings();
            s.append(
                    String.format(
                            Locale.ROOT,
                            "  trading: max position %s, stops %s/%s/%s ATR (loss/profit/trailing)%n",
                            st.path("max_fraction").asText(),
                            st.path("stops").path("stop_loss_atr").asText(),
                            st.path("stops").path("take_profit_atr").asText(),
                            st.path("stops").path("trailing_atr").asText()));
            var ev = st.path(dev.quiver.host.strategy.EvolvedSizing.FIELD);
            if (ev.isObject()) {
                s.append(
                        String.format(
                                Locale.ROOT,
                                "  evolved sizing of %s: Kelly fraction %s, leverage up to %sx,"
                                        + " cut above %s%% ATR%n",
                                ev.path("policy").asText(),
                                ev.path("kelly_fraction").isNull()
                                        ? "none (the policy's own)"
                                        : ev.path("kelly_fraction").asText(),
                                ev.path("leverage_max").asText(),
                                ev.path("leverage_atr_pct").isNull()
                                        ? "no"
                                        : ev.path("leverage_atr_pct").asText()));
            }
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
