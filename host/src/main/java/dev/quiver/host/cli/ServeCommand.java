package dev.quiver.host.cli;

import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.live.LiveModels;
import dev.quiver.host.live.ModelBinding;
import dev.quiver.host.live.SmokeCheck;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowHttp;
import dev.quiver.host.plugin.PluginRefusal;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.registry.AliasHistory;
import dev.quiver.host.registry.ModelResolver;
import dev.quiver.host.registry.SmokeSet;
import dev.quiver.host.rollout.LiveRollouts;
import dev.quiver.host.rollout.RolloutManager;
import dev.quiver.host.rollout.RolloutStore;
import dev.quiver.host.session.AliasFollower;
import dev.quiver.host.session.ServedStrategy;
import dev.quiver.host.session.SessionManager;
import dev.quiver.host.session.StrategyCatalog;
import dev.quiver.host.session.StrategyRollouts;
import dev.quiver.host.store.StateStore;
import dev.quiver.host.strategy.BundleLoader;
import dev.quiver.host.strategy.BundleRegistrar;
import dev.quiver.host.strategy.ResolvedStrategy;
import dev.quiver.host.strategy.StrategyBundle;
import dev.quiver.host.strategy.StrategyResolver;
import dev.quiver.host.training.ChallengerRollout;
import dev.quiver.host.training.DriftMonitor;
import dev.quiver.host.training.EvolveParamsJob;
import dev.quiver.host.training.FitStrategyJob;
import dev.quiver.host.training.TrainSourceJob;
import dev.quiver.host.training.TrainingService;
import dev.quiver.host.training.TrainingTriggers;
import dev.quiver.host.web.DashboardSettings;
import dev.quiver.host.web.QuiverServer;
import dev.quiver.host.web.SourceFitting;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code quiver serve}: the live decision service over HTTP. */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Live decision service: POST /v1/decisions (bars in, fused and risk-guarded decision"
                    + " per sizing policy out, with provenance), GET /v1/plugins,"
                    + " /v1/capabilities, /health/live, /health/ready, /metrics (Prometheus),"
                    + " /openapi.json. Stops on SIGTERM / Ctrl-C."
        })
final class ServeCommand implements Callable<Integer> {

    private static final org.slf4j.Logger log =
            org.slf4j.LoggerFactory.getLogger(ServeCommand.class);

    @Option(
            names = "--fit-on",
            defaultValue = "btc-usd-4h",
            description =
                    "Bundled series whose last --fit-bars labelled bars fit the trainable sources"
                            + " (XGBoost, LightGBM) before serving, or none (default:"
                            + " ${DEFAULT-VALUE}). Features are scale-free, so a fit carries to"
                            + " other markets.")
    String fitOn;

    @Option(
            names = "--fit-bars",
            defaultValue = "1000",
            description = "Training window for --fit-on, bars (default: ${DEFAULT-VALUE}).")
    int fitBars;

    @Option(
            names = "--port",
            defaultValue = "8080",
            description = "Port to listen on, 0 for any free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(
            names = "--host",
            defaultValue = "127.0.0.1",
            description =
                    "Address to bind (default: ${DEFAULT-VALUE}, local only). Bound to any other"
                            + " address, state-changing requests need `Authorization: Bearer"
                            + " TOKEN` with the token in the environment variable "
                            + DashboardSettings.TOKEN_VARIABLE
                            + ", and are refused when it is unset.")
    String bindHost;

    @Option(
            names = "--reports-dir",
            paramLabel = "DIR",
            defaultValue = "quiver-out",
            description =
                    "Folder whose backtest reports the dashboard lists (backtest --out; default:"
                            + " ${DEFAULT-VALUE}).")
    Path reportsDir;

    @Option(
            names = "--max-position",
            defaultValue = "1.0",
            description =
                    "Risk-guard cap, fraction of equity in (0, 1] (default: ${DEFAULT-VALUE}).")
    double maxPosition;

    @Option(
            names = "--watch-interval-ms",
            defaultValue = "1000",
            description =
                    "Poll the plugins folder this often and load, reload or unload a plugin zip"
                            + " added, replaced or removed while serving, 0 to never (default:"
                            + " ${DEFAULT-VALUE}).")
    long watchIntervalMillis;

    @Option(
            names = "--rollouts-dir",
            paramLabel = "DIR",
            description =
                    "Working folder of the rollouts' variants (default: QUIVER_HOME/rollouts)."
                            + " Rollout state and audit log live in the state store (--state-url);"
                            + " rollout files an earlier Quiver left here are imported into an"
                            + " empty store once, at start.")
    Path rolloutsDir;

    @Option(
            names = "--tracking-uri",
            paramLabel = "URI",
            description =
                    "MLflow server the --model bindings resolve against and are polled on"
                            + " (default: MLFLOW_TRACKING_URI; none: --model-cache is the local"
                            + " model directory).")
    String trackingUri;

    @Option(
            names = "--model",
            paramLabel = "CAP=MODEL_URI",
            description =
                    "Serve capability CAP with a registered model, e.g."
                            + " lstm=models:/quiver-lstm@champion (follows the alias) or"
                            + " lstm=models:/quiver-lstm/3 (pinned). Repeatable.")
    List<String> models = List.of();

    @Option(
            names = "--poll-interval",
            defaultValue = "5s",
            paramLabel = "DURATION",
            description =
                    "How often aliases are polled, e.g. 500ms, 5s, 1m (default: ${DEFAULT-VALUE});"
                            + " while the registry is unreachable polls back off with jitter from"
                            + " a quarter of it to twice it, never sooner than a Retry-After.")
    String pollInterval;

    @Option(
            names = "--model-cache",
            paramLabel = "DIR",
            description =
                    "Verified model cache (default: QUIVER_HOME/models); the local model"
                            + " directory without a tracking URI. The alias history lives in the"
                            + " state store (--state-url); an alias-history.jsonl an earlier Quiver"
                            + " left here is imported into an empty store once.")
    Path modelCache;

    @Option(
            names = "--strategy",
            paramLabel = "BUNDLE|none",
            description =
                    "The strategy bundle live sessions step: a folder from `strategy fit`, or a"
                            + " registered version models:/NAME/N or models:/NAME@ALIAS (followed:"
                            + " when the alias moves, every session swaps to the new version"
                            + " between two bars); default: the bundle the build fitted on the"
                            + " bundled BTC series, QUIVER_HOME/strategies/btc-usd-4h; none: no"
                            + " sessions.")
    String strategy;

    @Option(
            names = "--strategy-max-age",
            paramLabel = "DURATION",
            description =
                    "Override the bundle's maximum age (ISO-8601, e.g. P30D); past it decisions"
                            + " abstain and /health/ready reports degraded.")
    String strategyMaxAge;

    @Option(
            names = "--state-url",
            paramLabel = "JDBC_URL",
            description =
                    "Where sessions, accounts, bars, fills, breaker events, rollouts and the alias"
                            + " history are kept:"
                            + " jdbc:sqlite:FILE or jdbc:postgresql://host:port/db?user=U (default:"
                            + " QUIVER_STATE_URL, else SQLite QUIVER_HOME/state.db).")
    String stateUrl;

    @Mixin HostOptions host;

    @Spec CommandSpec spec;

    /**
     * The registry client for polling: short timeouts (1 s connect, 5 s read) and 2 attempts, so a
     * slow registry never holds a poll long; the poller adds its own backoff.
     */
    static Optional<MlflowClient> client(String trackingUri) {
        return HostOptions.trackingUri(trackingUri)
                .map(
                        uri ->
                                new MlflowClient(
                                        new MlflowHttp(
                                                uri,
                                                new MlflowHttp.Settings(
                                                        Duration.ofSeconds(1),
                                                        Duration.ofSeconds(5),
                                                        2,
                                                        Duration.ofMillis(100),
                                                        Duration.ofMillis(500)))));
    }

    /**
     * Parses {@code 500ms}, {@code 5s}, {@code 2m}.
     *
     * @throws IllegalArgumentException naming the option
     */
    static Duration duration(String option, String value) {
        var m = java.util.regex.Pattern.compile("([0-9]+)(ms|s|m)").matcher(value.trim());
        if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] "
                            + option
                            + " '"
                            + value
                            + "': expected a positive duration like 500ms, 5s or 1m");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            default -> Duration.ofMinutes(n);
        };
    }

    /** The bundle to serve: --strategy (a folder or models:/ URI), else the distribution's. */
    private Optional<String> strategyReference() {
        if ("none".equals(strategy)) {
            return Optional.empty();
        }
        if (strategy != null) {
            return Optional.of(strategy);
        }
        Path embedded = HostOptions.home().resolve("strategies").resolve("btc-usd-4h");
        if (!java.nio.file.Files.isDirectory(embedded)) {
            throw new IllegalArgumentException(
                    "[Quiver/NO_STRATEGY] the distribution has no embedded strategy bundle at "
                            + embedded
                            + " (the build fits it); pass --strategy BUNDLE or --strategy none");
        }
        return Optional.of(embedded.toString());
    }

    /**
     * The training scheduler of this service: job kind {@code fit-strategy} fitting with the
     * plugins folder's plugins (batch configuration, as {@code quiver strategy fit}), registering
     * through this service's MLflow registry when it has one; bundles under {@code
     * QUIVER_HOME/training}.
     */
    private TrainingService startTraining(
            StateStore store,
            PrometheusMeterRegistry metrics,
            Optional<ServedStrategy> served,
            LiveRollouts rollouts) {
        Optional<java.util.function.Supplier<BundleRegistrar>> registrar =
                HostOptions.trackingUri(trackingUri)
                        .map(uri -> () -> new BundleRegistrar(ModelsCommand.client(trackingUri)));
        FitStrategyJob fit =
                new FitStrategyJob(
                        () -> PluginRuntime.start(host.pluginsDir(), host.batchConfiguration()),
                        registrar,
                        HostOptions.home().resolve("training"));
        TrainSourceJob trainSource =
                new TrainSourceJob(
                        () -> PluginRuntime.start(host.pluginsDir(), host.batchConfiguration()),
                        HostOptions.trackingUri(trackingUri)
                                .map(
                                        uri ->
                                                () ->
                                                        new dev.quiver.host.registry.ModelRegistrar(
                                                                ModelsCommand.client(trackingUri))),
                        HostOptions.trackingUri(trackingUri),
                        TrainSourceJob.Python.from(host.configuration(), HostOptions.home()),
                        HostOptions.home().resolve("training"));
        EvolveParamsJob evolve =
                new EvolveParamsJob(
                        () -> PluginRuntime.start(host.pluginsDir(), host.batchConfiguration()),
                        registrar,
                        HostOptions.trackingUri(trackingUri)
                                .map(uri -> () -> ModelsCommand.client(trackingUri)),
                        HostOptions.home().resolve("training"));
        // A registered challenger may start a strategy rollout (param "rollout"); the rules decide.
        ChallengerRollout fitThenRollout =
                new ChallengerRollout(
                        fit, served.isPresent() ? Optional.of(rollouts::start) : Optional.empty());
        TrainingService training =
                TrainingService.start(
                        store,
                        java.util.List.of(fitThenRollout, trainSource, evolve),
                        TrainingService.Settings.fromSystemProperties(),
                        java.time.Instant::now);
        // Drift and bundle-age triggers watch the sessions and the served bundle.
        served.ifPresent(
                s -> {
                    java.util.function.Supplier<Optional<DriftMonitor.TrainingWindow>> window =
                            () -> Optional.of(DriftMonitor.TrainingWindow.of(s.bundle()));
                    TrainingTriggers.start(
                            training,
                            new DriftMonitor(store, window, metrics),
                            window,
                            Clock.systemUTC(),
                            Duration.ofMillis(
                                    Long.getLong("quiver.training.trigger-check-ms", 60_000)));
                });
        return training;
    }

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (watchIntervalMillis < 0 || (watchIntervalMillis > 0 && watchIntervalMillis < 10)) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] --watch-interval-ms must be 0 (off) or at least 10, was "
                            + watchIntervalMillis);
        }
        StartTimeline timeline = new StartTimeline();
        Optional<String> reference = strategyReference();
        StrategyResolver strategies =
                new StrategyResolver(client(trackingUri), ModelsCommand.modelsDir(modelCache));
        // Beside the plugins' start (RELIABILITY.md P8: a restart within 10 s), on two threads of
        // their own: the state store, the strategy bundle's resolution (registry or cache,
        // checksums and files checked), the smoke features. None needs a plugin; every check
        // still runs before the port opens. The threads end when the start does.
        java.util.concurrent.atomic.AtomicInteger threads =
                new java.util.concurrent.atomic.AtomicInteger();
        ExecutorService beside =
                Executors.newFixedThreadPool(
                        2,
                        r -> {
                            Thread t =
                                    new Thread(
                                            r, "quiver-serve-start-" + threads.incrementAndGet());
                            t.setDaemon(true);
                            return t;
                        });
        try {
            Future<StateStore> storeOpening =
                    beside.submit(
                            () -> {
                                long t0 = System.nanoTime();
                                StateStore s =
                                        StateStore.open(
                                                StateStore.configuredUrl(stateUrl),
                                                HostOptions.home());
                                timeline.beside("state store", System.nanoTime() - t0);
                                return s;
                            });
            Future<Optional<ResolvedStrategy>> strategyResolving =
                    beside.submit(
                            () -> {
                                long t0 = System.nanoTime();
                                Optional<ResolvedStrategy> r = reference.map(strategies::resolve);
                                if (r.isPresent()) {
                                    timeline.beside("strategy resolution", System.nanoTime() - t0);
                                }
                                return r;
                            });
            // The smoke check of a cached model version computes the features of the bundled
            // dataset its cases were recorded on (about 1 s of CPU for the BTC series): begun
            // here for the bound names' cached versions, so their check (still run in full
            // before the port opens) finds them computed.
            if (!models.isEmpty()) {
                beside.submit(
                        () -> {
                            long t0 = System.nanoTime();
                            Set<String> datasets = smokeDatasets();
                            try {
                                datasets.forEach(SmokeCheck::prepare);
                            } catch (RuntimeException e) {
                                // only a head start: the smoke check before the port opens
                                // computes them again and names the problem
                                log.debug("serve: smoke features of {} not prepared", datasets, e);
                            }
                            if (!datasets.isEmpty()) {
                                timeline.beside(
                                        "smoke features " + datasets, System.nanoTime() - t0);
                            }
                        });
            }
            // Live service: plugin calls keep their own threads and deadlines (the default
            // isolation).
            PluginRuntime plugins;
            try {
                plugins = PluginRuntime.start(host.pluginsDir(), host.configuration());
            } catch (RuntimeException | Error e) {
                closeWhenOpened(storeOpening);
                throw e;
            }
            timeline.mark("plugins");
            return serve(
                    out,
                    err,
                    timeline,
                    plugins,
                    storeOpening,
                    strategyResolving,
                    reference,
                    strategies,
                    beside);
        } catch (RuntimeException | Error | InterruptedException e) {
            // a failed start stops what still runs beside it (a download, the smoke features)
            beside.shutdownNow();
            throw e;
        } finally {
            beside.shutdown();
        }
    }

    /**
     * The bundled datasets the smoke files of the bound names' cached versions were recorded on
     * ({@code CACHE/NAME/VERSION/smoke.json}, {@link dev.quiver.host.registry.ModelStore}). Only a
     * head start: a binding or file that cannot be read here is left to the start's own checks,
     * which name the problem.
     */
    private Set<String> smokeDatasets() {
        Path cache = ModelsCommand.modelsDir(modelCache);
        Set<String> datasets = new java.util.TreeSet<>();
        for (String m : models) {
            try {
                Path dir = cache.resolve(ModelBinding.parse(m).model().name());
                if (!java.nio.file.Files.isDirectory(dir)) {
                    continue;
                }
                try (var versions = java.nio.file.Files.list(dir)) {
                    for (Path v : versions.toList()) {
                        Path smoke = v.resolve(SmokeSet.FILE_NAME);
                        if (java.nio.file.Files.isRegularFile(smoke)) {
                            String d = SmokeSet.read(smoke).dataset();
                            if (BundledData.byId(d).isPresent()) {
                                datasets.add(d);
                            }
                        }
                    }
                }
            } catch (java.io.IOException | RuntimeException e) {
                log.debug("serve: no head start for the smoke features of {}: {}", m, e.toString());
            }
        }
        return datasets;
    }

    /** Waits for a task of the start and returns its result, or throws what it threw. */
    private static <T> T join(Future<T> task) {
        try {
            return task.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while quiver serve was starting", e);
        }
    }

    /** On a failed start: closes what a task of the start opened (once it has), never throwing. */
    private static void closeWhenOpened(Future<? extends AutoCloseable> task) {
        try {
            AutoCloseable c = task.get();
            if (c != null) {
                c.close();
            }
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            // The start failed already; its own exception is the one to report.
            log.debug("serve: closing after a failed start: {}", e.toString());
        }
    }

    private Integer serve(
            PrintWriter out,
            PrintWriter err,
            StartTimeline timeline,
            PluginRuntime plugins,
            Future<StateStore> storeOpening,
            Future<Optional<ResolvedStrategy>> strategyResolving,
            Optional<String> reference,
            StrategyResolver strategies,
            ExecutorService beside)
            throws InterruptedException {
        for (PluginRefusal r : plugins.refusals()) {
            err.println("warning: " + r.message());
        }
        err.flush();
        BarData history = null;
        if (!fitOn.equals("none")) {
            try {
                history =
                        BundledData.byId(fitOn)
                                .orElseThrow(
                                        () ->
                                                new IllegalArgumentException(
                                                        "[Quiver/BAD_OPTION] --fit-on "
                                                                + fitOn
                                                                + " is not one of "
                                                                + BundledData.ids()
                                                                + " or none"))
                                .load();
                SourceFitting.fit(plugins.predictions(), history, fitBars)
                        .forEach(
                                (name, what) ->
                                        err.println("serve: source '" + name + "' " + what));
                err.flush();
                timeline.mark("fitting");
            } catch (RuntimeException e) {
                closeWhenOpened(storeOpening);
                plugins.close();
                throw e;
            }
        }
        Future<LiveModels> modelsOpening = null;
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        LiveModels live = null;
        QuiverServer server;
        LiveRollouts rollouts = null;
        StateStore store = null;
        TrainingService training = null;
        Optional<ServedStrategy> served = Optional.empty();
        StrategyCatalog.Folders servedCatalog = null;
        try {
            // The state store: sessions, rollouts and the alias history (opened beside the
            // plugins).
            store = join(storeOpening);
            Optional<ResolvedStrategy> resolvedStrategy = join(strategyResolving);
            timeline.mark("state store and strategy resolution (after the plugins)");
            if (reference.isPresent()) {
                ResolvedStrategy resolved = resolvedStrategy.orElseThrow();
                StrategyBundle bundle = resolved.bundle();
                if (!resolved.note().isBlank()) {
                    err.println("serve: strategy " + bundle.id() + ": " + resolved.note());
                }
                Optional<Duration> maxAge =
                        Optional.ofNullable(strategyMaxAge)
                                .map(a -> StrategyCommand.duration(a, "--strategy-max-age"));
                // Checked once now: a bundle the loaded plugins cannot serve stops the start.
                BundleLoader.load(bundle, plugins).close();
                StrategyCatalog.Folders catalog =
                        StrategyCatalog.folders(
                                bundle,
                                plugins,
                                id ->
                                        id.contains("/") && !Path.of(id).isAbsolute()
                                                ? strategies.resolve("models:/" + id).bundle()
                                                : StrategyBundle.open(Path.of(id)));
                servedCatalog = catalog;
                SessionManager sessions = new SessionManager(store, catalog, Clock.systemUTC());
                sessions.staleAfterIntervals(staleAfterIntervals(host.configuration()));
                sessions.strategyMaxAge(maxAge);
                List<String> recovered = sessions.recover();
                sessions.failedRecoveries()
                        .forEach(
                                (symbol, reason) ->
                                        err.printf(
                                                "serve: session %s could not be replayed and is"
                                                        + " quarantined (failed_recovery): %s%n",
                                                symbol, reason));
                served =
                        Optional.of(
                                new ServedStrategy(catalog, sessions, maxAge, Clock.systemUTC()));
                if (StrategyResolver.isRegistryUri(reference.get())
                        && reference.get().contains("@")
                        && HostOptions.trackingUri(trackingUri).isPresent()) {
                    AliasFollower.follow(
                            reference.get(),
                            strategies,
                            served.get(),
                            plugins,
                            duration("--poll-interval", pollInterval),
                            resolved.origin().equals("cache")
                                    ? Optional.of(resolved.note())
                                    : Optional.empty());
                    err.printf("serve: following %s every %s%n", reference.get(), pollInterval);
                }
                err.printf(
                        "serve: strategy %s (%s), state %s, %d session(s) recovered %s%n",
                        bundle.id(),
                        served.get().degradedReason().orElse("fresh"),
                        store.displayUrl(),
                        recovered.size(),
                        recovered);
                err.flush();
                timeline.mark("strategy and sessions");
            }
            if (!models.isEmpty() && served.isPresent()) {
                throw new IllegalArgumentException(
                        "[Quiver/BAD_OPTION] --model "
                                + models
                                + " binds a model version to the plugin pipeline, which decides"
                                + " only when no strategy bundle serves; this service serves "
                                + served.get().bundle().id()
                                + " (its sources are the bundle's). Add --strategy none to serve"
                                + " the bound models (unfitted fusion, said so in every answer), or"
                                + " register a bundle that contains them");
            }
            ModelResolver resolver = ModelsCommand.resolver(trackingUri, modelCache);
            Path dir = rolloutsDir != null ? rolloutsDir : HostOptions.home().resolve("rollouts");
            RolloutStore rolloutStore = new RolloutStore(store);
            rolloutStore
                    .importFiles(dir)
                    .ifPresent(
                            i ->
                                    err.printf(
                                            "serve: imported %d rollout(s) and %d audit line(s)"
                                                    + " from %s into the state store %s (%s)%n",
                                            i.rollouts(),
                                            i.auditLines(),
                                            i.dir(),
                                            rolloutStore.stateStore().displayUrl(),
                                            i.marker()));
            RolloutManager manager =
                    RolloutManager.open(rolloutStore, client(trackingUri), Clock.systemUTC());
            rollouts =
                    LiveRollouts.open(
                            manager,
                            host.pluginsDir(),
                            host.configuration(),
                            Optional.of(resolver),
                            dir.resolve("variants"));
            if (!models.isEmpty()) {
                List<ModelBinding> bindings = models.stream().map(ModelBinding::parse).toList();
                AliasHistory aliasHistory = new AliasHistory(store);
                aliasHistory
                        .importFile(ModelsCommand.modelsDir(modelCache))
                        .ifPresent(
                                i ->
                                        err.printf(
                                                "serve: imported %d alias move(s) from %s into the"
                                                        + " state store %s%n",
                                                i.moves(), i.file(), aliasHistory.where()));
                // The bound models (registry or cache, every check, the instances built and
                // smoke-checked) load beside the rest of the start; the port opens after them.
                // Not beside LiveRollouts.open: a resumed rollout resolves versions into the same
                // model cache, whose version folders two resolvers must not publish at once.
                modelsOpening =
                        beside.submit(
                                () -> {
                                    long t0 = System.nanoTime();
                                    LiveModels opened =
                                            LiveModels.open(
                                                    plugins,
                                                    client(trackingUri),
                                                    ModelsCommand.modelsDir(modelCache),
                                                    aliasHistory,
                                                    metrics,
                                                    bindings,
                                                    LiveModels.Settings.every(
                                                            duration(
                                                                    "--poll-interval",
                                                                    pollInterval)));
                                    timeline.beside("models", System.nanoTime() - t0);
                                    return opened;
                                });
            }
            if (served.isPresent()) {
                // Strategy rollouts: a challenger bundle beside the served one, on the sessions.
                StrategyRollouts.connect(
                        rollouts,
                        served.get(),
                        servedCatalog,
                        plugins,
                        ref -> strategies.resolve(ref).bundle(),
                        Clock.systemUTC());
                rollouts.strategyRollout()
                        .filter(c -> !c.stage().terminal())
                        .ifPresent(
                                c ->
                                        err.printf(
                                                "serve: strategy rollout %s resumed in %s%n",
                                                c.id(), c.stage().id()));
            }
            for (LiveRollouts.Active a : rollouts.active()) {
                err.printf(
                        "serve: rollout %s resumed in %s%n",
                        a.controller().id(), a.controller().stage().id());
            }
            err.flush();
            timeline.mark("rollouts");
            if (modelsOpening != null) {
                live = join(modelsOpening);
                for (var b : live.status()) {
                    @SuppressWarnings("unchecked")
                    var serving = (java.util.Map<String, Object>) b.get("serving");
                    err.printf(
                            "serve: %s <- %s: serving models:/%s/%s (run %s, %s)%n",
                            b.get("capability"),
                            b.get("requested"),
                            serving.get("name"),
                            serving.get("version"),
                            serving.get("run_id"),
                            serving.get("origin"));
                }
                err.flush();
                timeline.mark("models (after the rollouts)");
            }
            // Training jobs (issue 12): db-scheduler on the same database, one low-priority thread.
            training = startTraining(store, metrics, served, rollouts);
            timeline.mark("training");
            server =
                    QuiverServer.start(
                            plugins,
                            metrics,
                            live,
                            Optional.of(rollouts),
                            served,
                            Optional.of(training),
                            bindHost,
                            port,
                            maxPosition,
                            new DashboardSettings(
                                    reportsDir,
                                    Optional.ofNullable(
                                                    System.getenv(DashboardSettings.TOKEN_VARIABLE))
                                            .filter(t -> !t.isBlank())));
            timeline.mark("HTTP server");
        } catch (RuntimeException e) {
            if (training != null) {
                training.close();
            }
            served.ifPresent(x -> x.sessions().close());
            if (live != null) {
                live.close();
            } else if (modelsOpening != null) {
                closeWhenOpened(modelsOpening);
            }
            if (rollouts != null) {
                rollouts.close();
            }
            // Last: the rollouts write their pending state to it as they close.
            if (store != null) {
                store.close();
            } else {
                closeWhenOpened(storeOpening);
            }
            plugins.close();
            throw e;
        }
        if (watchIntervalMillis > 0) {
            BarData fitHistory = history;
            server.watchPlugins(
                    Duration.ofMillis(watchIntervalMillis),
                    t -> {
                        // A plugin dropped in answers like the ones loaded at start: fitted first.
                        if (fitHistory != null) {
                            SourceFitting.fit(t.addedPredictions(), fitHistory, fitBars)
                                    .forEach(
                                            (name, what) ->
                                                    log.info("serve: source '{}' {}", name, what));
                        }
                        t.actions().forEach(a -> log.info("serve: plugins: {}", a));
                    });
            err.printf(
                    "serve: watching %s every %d ms for plugin zips added, replaced or removed%n",
                    host.pluginsDir(), watchIntervalMillis);
            err.flush();
        }
        LiveRollouts liveRollouts = rollouts;
        LiveModels liveModels = live;
        Optional<ServedStrategy> servedStrategy = served;
        StateStore stateStore = store;
        TrainingService trainingService = training;
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook =
                new Thread(
                        () -> {
                            server.close();
                            trainingService.close();
                            servedStrategy.ifPresent(x -> x.sessions().close());
                            if (liveModels != null) {
                                liveModels.close();
                            }
                            liveRollouts.close();
                            // Last: the rollouts write their pending state to it as they close.
                            stateStore.close();
                            plugins.close();
                            stopped.countDown();
                        },
                        "quiver-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        beside.shutdown();
        err.println("serve: " + timeline.summary());
        err.flush();
        out.printf("quiver serve: listening on http://%s:%d/%n", bindHost, server.port());
        out.printf(
                "quiver serve: dashboard at http://%s:%d/ (Live, Account, Models, Plugins,"
                        + " Rollouts, Training, Reports)%n",
                bindHost, server.port());
        out.flush();
        stopped.await();
        return 0;
    }

    /** The default of {@code quiver.session.stale-after-intervals} (RELIABILITY.md P13: 2). */
    static final int STALE_AFTER_INTERVALS = 2;

    /**
     * {@code quiver.session.stale-after-intervals}: a batch whose last bar starts more than this
     * many intervals before the service's clock is refused with {@code BAR_STALE} (no decision on
     * stale data, RELIABILITY.md P13); absent: {@value #STALE_AFTER_INTERVALS}; 0: no check (a
     * service that replays history). A session can set its own ({@code stale_after_intervals} in
     * its open request, 0 for a replay).
     *
     * @throws IllegalArgumentException naming the key if the value is not an integer {@code >= 0}
     */
    static int staleAfterIntervals(Map<String, String> config) {
        String key = "quiver.session.stale-after-intervals";
        String v = config.get(key);
        if (v == null || v.isBlank()) {
            return STALE_AFTER_INTERVALS;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_CONFIG] " + key + " must be an integer >= 0 (value: " + v + ")");
        }
    }
}
