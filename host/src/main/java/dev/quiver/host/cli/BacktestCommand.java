package dev.quiver.host.cli;

import dev.quiver.api.QuiverApi;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.sizing.PortfolioSizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.portfolio.PortfolioLimits;
import dev.quiver.engine.risk.RiskGuard;
import dev.quiver.host.backtest.BacktestResult;
import dev.quiver.host.backtest.PortfolioBacktest;
import dev.quiver.host.backtest.PortfolioReport;
import dev.quiver.host.backtest.ReportWriter;
import dev.quiver.host.backtest.TextReport;
import dev.quiver.host.backtest.WalkForwardBacktest;
import dev.quiver.host.data.BadBarPolicy;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowHttp;
import dev.quiver.host.plugin.LoadedPlugin;
import dev.quiver.host.plugin.PluginRefusal;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.registry.ModelResolver;
import dev.quiver.host.registry.ModelUri;
import dev.quiver.host.registry.ResolvedModel;
import dev.quiver.host.rollout.BundleRolloutBacktest;
import dev.quiver.host.rollout.Role;
import dev.quiver.host.rollout.RolloutBacktest;
import dev.quiver.host.rollout.RolloutBacktestReport;
import dev.quiver.host.rollout.RolloutSpec;
import dev.quiver.host.rollout.VariantRuntime;
import dev.quiver.host.strategy.BundleLoader;
import dev.quiver.host.strategy.ResolvedStrategy;
import dev.quiver.host.strategy.StrategyBundle;
import dev.quiver.host.strategy.StrategyFitter;
import dev.quiver.host.strategy.StrategyResolver;
import dev.quiver.host.tracking.BacktestTracking;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
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
final class BacktestCommand extends WalkForwardOptions implements Callable<Integer> {

    @Option(
            names = "--portfolio",
            description =
                    "Run the series as one account (docs/portfolio.md): each series' walk-forward"
                            + " as usual, then all stepped together in time order, bars visible"
                            + " only once closed, the open set sized jointly by --portfolio-policy"
                            + " on a shrunk covariance, under the portfolio caps; reported beside"
                            + " the sum of the single-symbol runs and an equal-weight buy-and-hold.")
    boolean portfolio;

    @Option(
            names = "--portfolio-policy",
            defaultValue = "kelly_portfolio",
            description =
                    "With --portfolio: the portfolio sizing plugin (default: ${DEFAULT-VALUE}).")
    String portfolioPolicy;

    @Option(
            names = "--covariance-days",
            defaultValue = "120",
            description =
                    "With --portfolio: rolling window of daily returns for the Ledoit-Wolf"
                            + " covariance, days (default: ${DEFAULT-VALUE}).")
    int covarianceDays;

    @Option(
            names = "--symbol-cap",
            defaultValue = "0.5",
            description =
                    "With --portfolio: largest weight of one symbol (default: ${DEFAULT-VALUE}).")
    double symbolCap;

    @Option(
            names = "--gross-cap",
            defaultValue = "1.0",
            description = "With --portfolio: largest sum of |weights| (default: ${DEFAULT-VALUE}).")
    double grossCap;

    @Option(
            names = "--net-cap",
            defaultValue = "1.0",
            description = "With --portfolio: largest |sum of weights| (default: ${DEFAULT-VALUE}).")
    double netCap;

    @Option(
            names = "--cluster-cap",
            defaultValue = "0.6",
            description =
                    "With --portfolio: largest sum of weights in one correlation cluster (default:"
                            + " ${DEFAULT-VALUE}).")
    double clusterCap;

    @Option(
            names = "--cluster-correlation",
            defaultValue = "0.7",
            description =
                    "With --portfolio: correlation at or above which two symbols are one cluster"
                            + " (default: ${DEFAULT-VALUE}).")
    double clusterCorrelation;

    @Option(
            names = "--rollout",
            paramLabel = "SPEC.json",
            description =
                    "Replay a prediction rollout instead: champion and challenger fitted per fold"
                            + " and forecast point-in-time, every series' bars interleaved in time,"
                            + " routed and judged by the service's controller; reports per-variant"
                            + " figures and when the rules would have promoted or rolled back.")
    Path rollout;

    @Option(
            names = "--strategy",
            paramLabel = "BUNDLE",
            description =
                    "Evaluate a fitted strategy bundle on the bars after it was fitted, with no"
                            + " refits: the same engine, accounts and report; writes decisions.csv"
                            + " (every bar's fused p_up and each policy's fraction and equity)"
                            + " beside the report. A folder from `strategy fit`, or a registered"
                            + " version, models:/NAME@ALIAS or models:/NAME/VERSION (resolved"
                            + " through --tracking-uri into --models-dir, verified, and its smoke"
                            + " cases replayed first).")
    String strategy;

    @Option(
            names = "--rollout-key",
            paramLabel = "series|bar",
            defaultValue = "series",
            description =
                    "With --rollout: the routing key is the series (the service's symbol key) or"
                            + " each bar (series@time: a canary share of bars) (default:"
                            + " ${DEFAULT-VALUE}).")
    String rolloutKey;

    @Option(
            names = "--out",
            paramLabel = "DIR",
            defaultValue = "quiver-out",
            description = "Reports go to DIR/<dataset>/ (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(
            names = "--tracking-uri",
            paramLabel = "URI",
            description =
                    "MLflow server to log the run to (params, every report figure as a metric,"
                            + " the report files as artifacts), e.g. http://127.0.0.1:5000."
                            + " Default: MLFLOW_TRACKING_URI if set, else no tracking.")
    String trackingUri;

    @Option(
            names = "--experiment",
            paramLabel = "NAME",
            defaultValue = "quiver-backtest",
            description = "MLflow experiment, created if missing (default: ${DEFAULT-VALUE}).")
    String experiment;

    @Option(
            names = "--model",
            paramLabel = "PLUGIN|CAP=MODEL_URI",
            description =
                    "Serve a registered model version, e.g."
                            + " prediction-lstm=models:/quiver-lstm@champion or"
                            + " xgboost=models:/quiver-xgboost@champion: resolved (registry,"
                            + " cache, or --models-dir without a tracking URI), verified, and"
                            + " passed to the prediction as <plugin>.<capability>.model=<sidecar>;"
                            + " a plugin with several predictions (ensemble-gbm) needs the"
                            + " prediction's name. Repeatable.")
    List<String> models = List.of();

    @Option(
            names = "--models-as-of",
            paramLabel = "TIME",
            description =
                    "Resolve every --model alias as it pointed at this ISO-8601 instant, from the"
                            + " alias history a live service recorded in the state store"
                            + " (--state-url; e.g. 2026-11-27T10:00:00Z); pinned versions stay as"
                            + " given.")
    String modelsAsOf;

    @Option(
            names = "--state-url",
            paramLabel = "JDBC_URL",
            description =
                    "The state store holding the alias history, for --models-as-of:"
                            + " jdbc:sqlite:FILE or jdbc:postgresql://host:port/db?user=U"
                            + " (default: QUIVER_STATE_URL, else SQLite QUIVER_HOME/state.db).")
    String stateUrl;

    @Option(
            names = "--models-dir",
            paramLabel = "DIR",
            description = "Model cache / local model directory (default: QUIVER_HOME/models).")
    Path modelsDir;

    @Mixin HostOptions host;

    @picocli.CommandLine.Option(
            names = "--no-input-gate",
            description =
                    "Decide every test bar: no input gate (gap, ATR move, distance to each fold's"
                            + " training distribution), for a comparison. The report's input_gate"
                            + " then says so.")
    boolean noInputGate;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        BadBarPolicy policy = badBarPolicy();
        var config = config();
        List<BarData> series = series(policy, stderr);
        checkCosts(series, stderr);
        try (TerminalProgress progress = progress()) {
            return run(series, config, progress, stdout, stderr);
        }
    }

    private int run(
            List<BarData> series,
            WalkForwardBacktest.Config config,
            TerminalProgress progress,
            PrintWriter stdout,
            PrintWriter stderr) {
        if (rollout != null) {
            return runRollout(series, config, progress, stdout, stderr);
        }
        if (portfolio) {
            return runPortfolio(series, config, progress, stdout, stderr);
        }
        Map<String, String> configuration = host.batchConfiguration();
        Map<String, String> modelParams = resolveModels(configuration);
        try (PluginRuntime plugins = PluginRuntime.start(host.pluginsDir(), configuration)) {
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
                // The plugin's stacking ensemble when installed, else the first plugin ensemble,
                // else the built-in weighted fusion.
                if (strategy != null) {
                    runStrategy(plugins, bars, config, progress, stdout, stderr);
                    continue;
                }
                EnsembleCapability ensemble = StrategyCommand.ensembleOf(plugins);
                int threads = threads();
                stderr.printf(
                        Locale.ROOT,
                        "backtest %s: %,d bars, period %s, features %s v%s, %d thread%s%n",
                        bars.symbol(),
                        bars.size(),
                        bars.period(),
                        FeaturePipeline.SCHEMA.name(),
                        FeaturePipeline.SCHEMA.version(),
                        threads,
                        threads == 1 ? "" : "s");
                stderr.flush();
                List<EnsembleCapability> compared =
                        StrategyFitter.comparedEnsembles(plugins, ensemble);
                BacktestResult result =
                        (noInputGate
                                        ? new WalkForwardBacktest(config).withoutGate()
                                        : new WalkForwardBacktest(config))
                                .withThreads(threads)
                                .withComparedEnsembles(compared)
                                .run(
                                        FeaturePipeline.compute(bars),
                                        plugins.predictions(),
                                        ensemble,
                                        plugins.sizings(),
                                        new RiskGuard(),
                                        progress);
                progress.finish();
                Path dir = out.resolve(bars.symbol());
                try {
                    new ReportWriter().write(result, dir);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot write the report to " + dir, e);
                }
                stdout.println(TextReport.render(result));
                stdout.printf("report: %s%n", dir.resolve("report.html").toAbsolutePath());
                stdout.flush();
                String tracking = trackingUri();
                if (tracking != null) {
                    var client =
                            new MlflowClient(
                                    new MlflowHttp(tracking, MlflowHttp.Settings.defaults()));
                    MlflowClient.Run run;
                    try {
                        run =
                                new BacktestTracking(client)
                                        .log(
                                                experiment,
                                                "backtest " + bars.symbol(),
                                                withModels(
                                                        params(result, plugins, config),
                                                        modelParams),
                                                dir);
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot read the report in " + dir, e);
                    }
                    stdout.printf(
                            "mlflow run: %s (experiment %s at %s)%n",
                            run.runId(), experiment, tracking);
                    stdout.flush();
                }
            }
        }
        return 0;
    }

    /** backtest --strategy: the bundle's components replayed on the bars after its fit. */
    private void runStrategy(
            PluginRuntime plugins,
            BarData bars,
            WalkForwardBacktest.Config config,
            TerminalProgress progress,
            PrintWriter stdout,
            PrintWriter stderr) {
        ResolvedStrategy resolved =
                StrategyCommand.resolve(strategy, trackingUri, modelsDir, stderr);
        StrategyBundle bundle = resolved.bundle();
        long from = bundle.servesFrom().toEpochMilli();
        int fromIndex = 0;
        while (fromIndex < bars.size() && bars.startMillis[fromIndex] < from) {
            fromIndex++;
        }
        if (fromIndex >= bars.size()) {
            throw new QuiverInputException(
                    "NO_BARS_AFTER_BUNDLE",
                    "--strategy",
                    "backtest " + bars.symbol(),
                    bundle.servesFrom(),
                    "the series ends at "
                            + Instant.ofEpochMilli(bars.startMillis[bars.size() - 1])
                            + ", before the bundle serves (it declines every bar it was fitted on)");
        }
        stderr.printf(
                Locale.ROOT,
                "backtest %s --strategy %s: %,d bars from %s, no refits%n",
                bars.symbol(),
                bundle.id(),
                bars.size() - fromIndex,
                Instant.ofEpochMilli(bars.startMillis[fromIndex]));
        stderr.flush();
        if (StrategyResolver.isRegistryUri(strategy)) {
            stderr.println(StrategyCommand.checkSmoke(resolved, plugins));
            stderr.flush();
        }
        Path dir = out.resolve(bars.symbol());
        try (BundleLoader.Loaded loaded = BundleLoader.load(bundle, plugins);
                DecisionsCsv csv =
                        DecisionsCsv.create(
                                dir.resolve("decisions.csv"), loaded.strategy().policyNames())) {
            BacktestResult result =
                    new WalkForwardBacktest(config)
                            .runPinned(
                                    FeaturePipeline.compute(bars),
                                    loaded.strategy(),
                                    loaded.rules(),
                                    fromIndex,
                                    "strategy bundle " + bundle.id(),
                                    progress,
                                    csv::write,
                                    engine -> loaded.applyExpiry(engine, Optional.empty()));
            progress.finish();
            new ReportWriter().write(result, dir);
            stdout.println(TextReport.render(result));
            stdout.printf("report: %s%n", dir.resolve("report.html").toAbsolutePath());
            stdout.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the report to " + dir, e);
        }
    }

    /** backtest --rollout: both variants started as the service starts them, then the replay. */
    private int runPortfolio(
            List<BarData> series,
            WalkForwardBacktest.Config config,
            TerminalProgress progress,
            PrintWriter stdout,
            PrintWriter stderr) {
        PortfolioLimits limits;
        PortfolioBacktest.Settings settings;
        try {
            limits =
                    new PortfolioLimits(
                            symbolCap, grossCap, netCap, clusterCap, clusterCorrelation);
            settings = new PortfolioBacktest.Settings(limits, covarianceDays, "kelly");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("[Quiver/BAD_OPTION] " + e.getMessage(), e);
        }
        Map<String, String> configuration = host.batchConfiguration();
        try (PluginRuntime plugins = PluginRuntime.start(host.pluginsDir(), configuration)) {
            for (PluginRefusal r : plugins.refusals()) {
                stderr.println("warning: " + r.message());
            }
            PortfolioSizingCapability policy =
                    plugins.portfolioSizings().stream()
                            .filter(p -> p.descriptor().name().equals(portfolioPolicy))
                            .findFirst()
                            .orElseThrow(
                                    () ->
                                            new IllegalArgumentException(
                                                    "[Quiver/NOTHING_TO_RUN] no portfolio sizing"
                                                            + " plugin named '"
                                                            + portfolioPolicy
                                                            + "' started (available: "
                                                            + plugins.portfolioSizings().stream()
                                                                    .map(p -> p.descriptor().name())
                                                                    .toList()
                                                            + ")"));
            if (plugins.predictions().isEmpty() || plugins.sizings().isEmpty()) {
                throw new IllegalArgumentException(
                        "[Quiver/NOTHING_TO_RUN] the plugins folder "
                                + host.pluginsDir()
                                + " has no prediction or no sizing plugin that started");
            }
            List<PortfolioBacktest.SymbolRun> runs = new ArrayList<>();
            for (BarData bars : series) {
                stderr.printf(
                        Locale.ROOT,
                        "backtest %s (portfolio member): %,d bars, period %s%n",
                        bars.symbol(),
                        bars.size(),
                        bars.period());
                stderr.flush();
                List<SizingContext> contexts = new ArrayList<>();
                BacktestResult result =
                        new WalkForwardBacktest(config)
                                .withThreads(threads())
                                .withStepListener(PortfolioBacktest.collecting("kelly", contexts))
                                .run(
                                        FeaturePipeline.compute(bars),
                                        plugins.predictions(),
                                        StrategyCommand.ensembleOf(plugins),
                                        plugins.sizings(),
                                        new RiskGuard(),
                                        progress);
                progress.finish();
                runs.add(
                        new PortfolioBacktest.SymbolRun(
                                bars, result, contexts.toArray(SizingContext[]::new)));
            }
            PortfolioBacktest.Result result =
                    new PortfolioBacktest(config, settings).run(runs, policy, progress);
            progress.finish();
            Path dir = out.resolve("portfolio");
            try {
                PortfolioReport.write(result, dir);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the report to " + dir, e);
            }
            stdout.println(PortfolioReport.render(result));
            stdout.printf("report: %s%n", dir.toAbsolutePath());
            stdout.flush();
        }
        return 0;
    }

    private int runRollout(
            List<BarData> series,
            WalkForwardBacktest.Config config,
            TerminalProgress progress,
            PrintWriter stdout,
            PrintWriter stderr) {
        RolloutBacktest.KeyMode keyMode = RolloutBacktest.KeyMode.parse(rolloutKey);
        RolloutSpec spec = RolloutSpec.read(rollout);
        if (spec.kind() == RolloutSpec.Kind.STRATEGY) {
            return runBundleRollout(spec, keyMode, series, config, progress, stdout, stderr);
        }
        if (spec.kind() != RolloutSpec.Kind.PREDICTION) {
            throw new IllegalArgumentException(
                    "[Quiver/ROLLOUT_BACKTEST] "
                            + rollout
                            + ": rollout '"
                            + spec.id()
                            + "' is of a sizing capability; only prediction rollouts can be"
                            + " backtested (a sizing policy's output depends on the account it"
                            + " sizes)");
        }
        RolloutBacktest.checkCosts(spec, config);
        boolean needsResolver =
                spec.champion().model().isPresent() || spec.challenger().model().isPresent();
        Optional<ModelResolver> resolver =
                needsResolver
                        ? Optional.of(ModelsCommand.resolver(trackingUri(), modelsDir))
                        : Optional.empty();
        Map<String, String> configuration = host.batchConfiguration();
        Path work;
        try {
            work = Files.createTempDirectory("quiver-rollout-backtest-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a work folder for the variants", e);
        }
        List<FeatureMatrix> features = new ArrayList<>();
        for (BarData bars : series) {
            stderr.printf(
                    Locale.ROOT,
                    "rollout backtest %s: %,d bars, period %s, features %s v%s%n",
                    bars.symbol(),
                    bars.size(),
                    bars.period(),
                    FeaturePipeline.SCHEMA.name(),
                    FeaturePipeline.SCHEMA.version());
            features.add(FeaturePipeline.compute(bars));
        }
        stderr.flush();
        RolloutBacktest.Result result;
        Map<Role, String> descriptions = new java.util.EnumMap<>(Role.class);
        try (VariantRuntime champion =
                        VariantRuntime.start(
                                spec,
                                Role.CHAMPION,
                                host.pluginsDir(),
                                configuration,
                                resolver,
                                work);
                VariantRuntime challenger =
                        VariantRuntime.start(
                                spec,
                                Role.CHALLENGER,
                                host.pluginsDir(),
                                configuration,
                                resolver,
                                work)) {
            descriptions.put(Role.CHAMPION, champion.description());
            descriptions.put(Role.CHALLENGER, challenger.description());
            result =
                    new RolloutBacktest(config, keyMode)
                            .run(
                                    spec,
                                    features,
                                    champion.prediction(),
                                    challenger.prediction(),
                                    progress);
            progress.finish();
        } finally {
            try {
                Files.deleteIfExists(work.resolve(spec.id()));
                Files.deleteIfExists(work);
            } catch (IOException e) {
                stderr.println("warning: cannot delete " + work + ": " + e.getMessage());
            }
        }
        Path dir = out.resolve("rollout-" + spec.id());
        try {
            RolloutBacktestReport.write(result, descriptions, dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the report to " + dir, e);
        }
        stdout.print(RolloutBacktestReport.text(result, descriptions));
        stdout.printf("report: %s%n", dir.toAbsolutePath());
        stdout.flush();
        return 0;
    }

    /**
     * backtest --rollout with a strategy rollout: the champion bundle ({@code --strategy}, else the
     * distribution's embedded one, as {@code serve}) and the spec's challenger replayed on the bars
     * after both were fitted, no refits, through the service's rollout rules.
     */
    private int runBundleRollout(
            RolloutSpec spec,
            RolloutBacktest.KeyMode keyMode,
            List<BarData> series,
            WalkForwardBacktest.Config config,
            TerminalProgress progress,
            PrintWriter stdout,
            PrintWriter stderr) {
        String championRef = strategy;
        if (championRef == null) {
            Path embedded = HostOptions.home().resolve("strategies").resolve("btc-usd-4h");
            if (!Files.isDirectory(embedded)) {
                throw new IllegalArgumentException(
                        "[Quiver/NO_STRATEGY] --rollout "
                                + rollout
                                + " rolls out a strategy bundle: name the champion with --strategy"
                                + " BUNDLE (the distribution has no embedded bundle at "
                                + embedded
                                + ")");
            }
            championRef = embedded.toString();
        }
        ResolvedStrategy champion =
                StrategyCommand.resolve(championRef, trackingUri, modelsDir, stderr);
        ResolvedStrategy challenger =
                StrategyCommand.resolve(
                        spec.challenger().strategy().orElseThrow(), trackingUri, modelsDir, stderr);
        if (champion.bundle().id().equals(challenger.bundle().id())) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_ROLLOUT_SPEC] "
                            + rollout
                            + ": field 'challenger.strategy' is the champion bundle itself ("
                            + champion.bundle().id()
                            + ")");
        }
        List<FeatureMatrix> features = new ArrayList<>();
        for (BarData bars : series) {
            features.add(FeaturePipeline.compute(bars));
        }
        Map<String, String> configuration = host.batchConfiguration();
        BundleRolloutBacktest.Result result;
        try (PluginRuntime plugins = PluginRuntime.start(host.pluginsDir(), configuration)) {
            for (ResolvedStrategy r : List.of(champion, challenger)) {
                if (StrategyResolver.isRegistryUri(r.pinned())) {
                    stderr.println(StrategyCommand.checkSmoke(r, plugins));
                }
            }
            stderr.printf(
                    "rollout backtest %s: champion %s (serves from %s), challenger %s (serves"
                            + " from %s), no refits%n",
                    spec.id(),
                    champion.bundle().id(),
                    champion.bundle().servesFrom(),
                    challenger.bundle().id(),
                    challenger.bundle().servesFrom());
            stderr.flush();
            try (BundleLoader.Loaded c = BundleLoader.load(champion.bundle(), plugins);
                    BundleLoader.Loaded x = BundleLoader.load(challenger.bundle(), plugins)) {
                result =
                        new BundleRolloutBacktest(config, keyMode)
                                .run(spec, features, c, x, progress);
                progress.finish();
            }
        }
        Map<Role, String> descriptions = new java.util.EnumMap<>(Role.class);
        descriptions.put(Role.CHAMPION, "strategy bundle " + champion.bundle().id());
        descriptions.put(Role.CHALLENGER, "strategy bundle " + challenger.bundle().id());
        Path dir = out.resolve("rollout-" + spec.id());
        try {
            RolloutBacktestReport.write(result.rollout(), descriptions, dir);
            for (int i = 0; i < series.size(); i++) {
                String name = series.get(i).symbol();
                new ReportWriter().write(result.champion().get(i), dir.resolve("champion-" + name));
                new ReportWriter()
                        .write(result.challenger().get(i), dir.resolve("challenger-" + name));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the report to " + dir, e);
        }
        for (int i = 0; i < series.size(); i++) {
            String name = series.get(i).symbol();
            stdout.printf(
                    "%n== champion: %s on %s from %s ==%n",
                    champion.bundle().id(), name, result.fromBar().get(name));
            stdout.println(TextReport.render(result.champion().get(i)));
            stdout.printf(
                    "%n== challenger: %s on %s from %s ==%n",
                    challenger.bundle().id(), name, result.fromBar().get(name));
            stdout.println(TextReport.render(result.challenger().get(i)));
        }
        stdout.printf(
                "%n== rollout %s: each bundle's fused p_up and %s's fraction, routed and judged by"
                        + " the service's rules ==%n",
                spec.id(), result.policy());
        stdout.print(RolloutBacktestReport.text(result.rollout(), descriptions));
        stdout.printf("report: %s%n", dir.toAbsolutePath());
        stdout.flush();
        return 0;
    }

    /**
     * Resolves every --model, sets {@code <plugin>.<capability>.model} for the prediction it names,
     * returns the provenance params.
     */
    private Map<String, String> resolveModels(Map<String, String> configuration) {
        Map<String, String> params = new LinkedHashMap<>();
        if (models.isEmpty()) {
            return params;
        }
        var resolver = ModelsCommand.resolver(trackingUri(), modelsDir);
        for (String spec : models) {
            int eq = spec.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException(
                        "[Quiver/BAD_OPTION] --model "
                                + spec
                                + ": expected PLUGIN=models:/NAME@ALIAS or"
                                + " CAPABILITY=models:/NAME@ALIAS");
            }
            String plugin = spec.substring(0, eq).trim();
            String uri = spec.substring(eq + 1).trim();
            ModelTarget target = ModelTarget.of(host.pluginsDir(), plugin, "--model " + spec);
            if (modelsAsOf != null && ModelUri.parse(uri).alias().isPresent()) {
                String version = ModelsCommand.asOf(uri, modelsAsOf, stateUrl, modelsDir);
                String pinned = "models:/" + ModelUri.parse(uri).name() + "/" + version;
                params.put("model." + plugin + ".as_of", uri + " at " + modelsAsOf);
                uri = pinned;
            }
            ResolvedModel m = resolver.resolve(uri);
            Path sidecar =
                    m.sidecar()
                            .orElseThrow(
                                    () ->
                                            new IllegalArgumentException(
                                                    "[Quiver/BAD_OPTION] --model "
                                                            + spec
                                                            + ": version "
                                                            + m.version()
                                                            + " has no sidecar; plugins read their model through it"));
            configuration.put(target.configKey(), sidecar.toString());
            params.put("model." + plugin, "models:/" + m.name() + "/" + m.version());
            params.put("model." + plugin + ".run_id", m.runId());
            params.put("model." + plugin + ".sha256", m.sha256());
            spec().commandLine()
                    .getErr()
                    .printf(
                            "model %s: models:/%s/%s (%s) %s, served by %s/%s%n",
                            plugin,
                            m.name(),
                            m.version(),
                            m.origin(),
                            m.note(),
                            target.pluginId(),
                            target.capability());
        }
        return params;
    }

    private CommandSpec spec() {
        return spec;
    }

    private static Map<String, String> withModels(
            Map<String, String> p, Map<String, String> models) {
        p.putAll(models);
        return p;
    }

    private String trackingUri() {
        return HostOptions.trackingUri(trackingUri).orElse(null);
    }

    /** The run's parameters: data set, span, plugins and versions, feature schema, costs. */
    Map<String, String> params(
            BacktestResult result, PluginRuntime plugins, WalkForwardBacktest.Config config) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("dataset", result.dataset());
        for (Path file : data) {
            if (stem(file).equals(result.dataset())) {
                p.put("data_file", file.toAbsolutePath().toString());
            }
        }
        p.put("bars", Integer.toString(result.bars()));
        p.put("test_start", result.testStart().toString());
        p.put("test_end", result.testEnd().toString());
        p.put("folds", Integer.toString(result.folds().size()));
        p.put("train_bars", Integer.toString(config.trainBars()));
        p.put("embargo_bars", Integer.toString(config.embargoBars()));
        p.put("test_bars", Integer.toString(config.testBars()));
        p.put("fee_bps", Double.toString(config.costs().feeBps()));
        p.put("slippage_bps", Double.toString(config.costs().slippageBps()));
        p.put("max_position", Double.toString(config.maxFraction()));
        p.put("initial_equity", Double.toString(config.initialEquity()));
        p.put(
                "feature_schema",
                FeaturePipeline.SCHEMA.name() + " v" + FeaturePipeline.SCHEMA.version());
        p.put("feature_schema_hash", FeaturePipeline.SCHEMA.hash());
        p.put("plugins_api", QuiverApi.VERSION);
        String host = BacktestCommand.class.getPackage().getImplementationVersion();
        p.put("quiver_host", host == null ? "dev" : host);
        for (LoadedPlugin lp : plugins.plugins()) {
            p.put("plugin." + lp.id(), lp.version());
        }
        return p;
    }
}
