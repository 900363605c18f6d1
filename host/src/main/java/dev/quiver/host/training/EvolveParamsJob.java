package dev.quiver.host.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.risk.RiskGuard;
import dev.quiver.engine.trading.Stops;
import dev.quiver.host.backtest.BacktestResult;
import dev.quiver.host.backtest.PerformanceMetrics;
import dev.quiver.host.backtest.Progress;
import dev.quiver.host.backtest.WalkForwardBacktest;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowException;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.strategy.BundleRegistrar;
import dev.quiver.host.strategy.EvolvedSizing;
import dev.quiver.host.strategy.StrategyFitter;
import dev.quiver.host.strategy.StrategySmoke;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Job kind {@code evolve-params}: a genetic search ({@link ParamSearch}, Jenetics) for a parameter
 * set ({@link TradeParams}): the host's ATR exits (stop-loss, take-profit and trailing-stop
 * multiples, {@link Stops}), the maximum position, the Kelly fraction and the confidence/ATR
 * leverage rule ({@link EvolvedSizing}); searched on a search span, judged on a held-out span the
 * search never saw, against the current champion's set.
 *
 * <p><b>Objective.</b> The annualised Sharpe ratio, net of costs, of the acting sizing policy
 * ({@code policy}, default {@code kelly}) with the candidate's sizing part, over the out-of-sample
 * test bars of a walk-forward run ({@link WalkForwardBacktest}, {@code quiver backtest}'s defaults
 * with the job's bar counts and the candidate's stops and cap; costs 10 bps fee + 5 bps slippage
 * on every fill). The sources are {@code sources} (default {@code ["traditional"]}: one
 * walk-forward per candidate must stay cheap); the ensemble is the plugins' {@code stack}.
 *
 * <p><b>Two spans.</b> The <em>search span</em> is the bars of {@code dataset} at or before {@code
 * until} (default: the bar at 70% of the series): the search's figures are computed on the series
 * cut there, so no candidate's figure can see a later bar. The <em>held-out span</em> is every bar
 * after {@code until}: after the search, the best set and the champion's set are each run once on
 * a walk-forward whose first test bar is the first held-out bar (its first training window is the
 * end of the search span, as a live retraining would have it). Both figures of both sets are
 * reported.
 *
 * <p><b>The champion.</b> The set the best one must beat: {@code champion} when given (an object
 * of {@link TradeParams#NAMES}); else, with {@code register}, the set of the registry's {@code
 * @champion} version of that model (its run's {@code settings.stops.*}, {@code
 * settings.max_fraction} and {@code evolved.*} parameters; values it does not record are the
 * defaults below); else the defaults: stops 2/3/3 ATR, maximum position 1, the Kelly plugin's own
 * multiple, no leverage rule. A best set whose held-out Sharpe is not above the champion's is not
 * registered; the result says why ({@code verdict}).
 *
 * <p>Parameters (JSON): {@code dataset} (default {@code btc-usd-4h}); {@code until} (ISO-8601; the
 * search span's last bar); {@code population} (2..200, default 12); {@code generations} (1..100,
 * default 6); {@code seed} (default 42); {@code sources}; {@code policy}; {@code train_bars},
 * {@code test_bars}, {@code embargo_bars} (default 1000, 500, 5); {@code champion}; {@code
 * register} (a registered model name: a strategy bundle is fitted on the search span with the best
 * stops and cap and registered with {@code @challenger}, or {@code aliases}; never {@code
 * @champion}). With a tracking server, every trial is logged to MLflow ({@link EvolutionRuns}). The
 * search is deterministic for a seed: same seed, same trials, same result.
 */
public final class EvolveParamsJob implements JobKind {

    /** The kind's name. */
    public static final String NAME = "evolve-params";

    /**
     * The searched parameters and their grids: ATR multiples 0.25 ATR apart, the maximum position
     * 0.1..1 by 0.05, the Kelly fraction 0.05..1 by 0.05 (with a Kelly policy only), the leverage
     * rule's multiple at full confidence 1..4 by 0.25 and its ATR cut 0.5..10% of the close by 0.5.
     */
    public static final List<ParamSearch.Range> RANGES =
            List.of(
                    new ParamSearch.Range("stop_loss_atr", 0.5, 6, 0.25),
                    new ParamSearch.Range("take_profit_atr", 0.5, 8, 0.25),
                    new ParamSearch.Range("trailing_atr", 0.5, 8, 0.25),
                    new ParamSearch.Range("max_position", 0.1, 1, 0.05),
                    new ParamSearch.Range("kelly_fraction", 0.05, 1, 0.05),
                    new ParamSearch.Range("leverage_max", 1, 4, 0.25),
                    new ParamSearch.Range("leverage_atr_pct", 0.5, 10, 0.5));

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A source's or a policy's name. */
    private static final java.util.regex.Pattern NAME_PATTERN =
            java.util.regex.Pattern.compile("[A-Za-z0-9._-]+");

    private static final List<String> PARAMS =
            List.of(
                    "dataset",
                    "until",
                    "population",
                    "generations",
                    "seed",
                    "sources",
                    "policy",
                    "train_bars",
                    "test_bars",
                    "embargo_bars",
                    "champion",
                    "register",
                    "aliases");

    private final Supplier<PluginRuntime> plugins;
    private final Optional<Supplier<BundleRegistrar>> registrar;
    private final Optional<Supplier<MlflowClient>> tracking;
    private final Path work;

    /**
     * The job kind.
     *
     * @param plugins starts the plugins the walk-forward runs use (a fresh runtime per job)
     * @param registrar the service's MLflow registry, or empty (then {@code register} is refused)
     * @param tracking the service's MLflow tracking server (trial runs, the champion's set), or
     *     empty (nothing is logged)
     * @param work the folder the jobs' bundles go to
     */
    public EvolveParamsJob(
            Supplier<PluginRuntime> plugins,
            Optional<Supplier<BundleRegistrar>> registrar,
            Optional<Supplier<MlflowClient>> tracking,
            Path work) {
        this.plugins = plugins;
        this.registrar = registrar;
        this.tracking = tracking;
        this.work = work;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ObjectNode validate(ObjectNode p) {
        JobParams.requireKnown(p, PARAMS, NAME, true);
        if (!p.hasNonNull("dataset")) {
            p.put("dataset", BundledData.BTC_USD_4H.id());
        }
        JsonNode d = p.get("dataset");
        if (!d.isTextual() || BundledData.byId(d.asText()).isEmpty()) {
            throw TrainingService.bad("dataset", d, "is not one of " + BundledData.ids());
        }
        JobParams.instantIfPresent(p, "until");
        JobParams.count(p, "population", 12, 2, 200);
        JobParams.count(p, "generations", 6, 1, 100);
        if (!p.hasNonNull("seed")) {
            p.put("seed", 42);
        } else if (!p.get("seed").isIntegralNumber() || !p.get("seed").canConvertToLong()) {
            throw TrainingService.bad("seed", p.get("seed"), "must be an integer");
        }
        if (!p.hasNonNull("sources")) {
            p.set("sources", JSON.createArrayNode().add("traditional"));
        }
        if (!p.get("sources").isArray() || p.get("sources").isEmpty()) {
            throw TrainingService.bad(
                    "sources", p.get("sources"), "is not a non-empty array of source names");
        }
        for (JsonNode s : p.get("sources")) {
            if (!s.isTextual() || !NAME_PATTERN.matcher(s.asText()).matches()) {
                throw TrainingService.bad("sources", s, "is not a source name");
            }
        }
        if (!p.hasNonNull("policy")) {
            p.put("policy", "kelly");
        } else if (!p.get("policy").isTextual()
                || !NAME_PATTERN.matcher(p.get("policy").asText()).matches()) {
            throw TrainingService.bad("policy", p.get("policy"), "is not a sizing policy name");
        }
        JobParams.count(p, "train_bars", 1000, 1, Integer.MAX_VALUE);
        JobParams.count(p, "test_bars", 500, 1, Integer.MAX_VALUE);
        JobParams.count(p, "embargo_bars", 5, 1, Integer.MAX_VALUE);
        if (p.has("champion")) {
            TradeParams.fromJson(p.get("champion"), "champion");
        }
        JobParams.registration(p, registrar.isPresent());
        return p;
    }

    /**
     * Where the search span ends: the number of bars at or before {@code until} (default: 70% of
     * the series).
     *
     * @param series the whole series
     * @param until the span's last instant, or null
     * @return the search span's bar count, in {@code [1, series.size()]}
     * @throws dev.quiver.api.error.QuiverInputException naming {@code until} if it is before the
     *     first bar
     */
    static int searchEnd(BarData series, String until) {
        int n;
        if (until == null) {
            n = (int) Math.round(series.size() * 0.7);
        } else {
            long t = Instant.parse(until).toEpochMilli();
            n = 0;
            while (n < series.size() && series.startMillis[n] <= t) {
                n++;
            }
        }
        if (n == 0) {
            throw TrainingService.bad(
                    "until",
                    until,
                    "is before the series' first bar "
                            + Instant.ofEpochMilli(series.startMillis[0]));
        }
        return n;
    }

    /**
     * The held-out walk-forward: bars of {@code series} from where its first fold's training window
     * (after warm-up) ends just before bar {@code n}, to the end; so its first test bar is bar
     * {@code n}, the first held-out bar, and every test bar is held out.
     *
     * @param series the whole series
     * @param n the first held-out bar's index, {@code < series.size()}
     * @param config the walk-forward settings
     * @return the held-out run's features (of a slice of {@code series})
     * @throws IllegalStateException if no slice puts the first test bar at {@code n}
     */
    static FeatureMatrix heldOut(BarData series, int n, WalkForwardBacktest.Config config) {
        int warm = FeaturePipeline.compute(series.truncate(n)).firstWarmIndex();
        for (int attempt = 0; attempt < 5; attempt++) {
            int from = n - warm - config.trainBars() - config.embargoBars();
            if (from < 0) {
                throw new IllegalStateException(
                        "the search span is too short for a held-out walk-forward: needs "
                                + (warm + config.trainBars() + config.embargoBars())
                                + " bars before the held-out span, has "
                                + n);
            }
            BarData slice =
                    new BarData(
                            series.symbol(),
                            series.period(),
                            series.toList().subList(from, series.size()));
            FeatureMatrix f = FeaturePipeline.compute(slice);
            List<dev.quiver.host.backtest.Fold> folds =
                    WalkForwardBacktest.layout(slice, f.firstWarmIndex(), config);
            if (!folds.isEmpty() && from + folds.get(0).testFirst() == n) {
                return f;
            }
            warm = f.firstWarmIndex();
        }
        throw new IllegalStateException(
                "no slice of " + series.symbol() + " starts its walk-forward's tests at bar " + n);
    }

    /**
     * The objective: the acting policy's walk-forward Sharpe, net of costs, on the features given,
     * with a parameter set.
     *
     * @param features the span's features (nothing after the span)
     * @param config the walk-forward settings (the set's stops and cap are applied here)
     * @param predictors the sources
     * @param ensemble the ensemble
     * @param policy the acting policy (wrapped in {@link EvolvedSizing} with the set)
     * @param params the candidate
     * @param progress told after each fold (may throw to stop)
     * @return its metrics on the test bars
     */
    static PerformanceMetrics evaluate(
            FeatureMatrix features,
            WalkForwardBacktest.Config config,
            List<PredictionCapability> predictors,
            EnsembleCapability ensemble,
            SizingCapability policy,
            TradeParams params,
            Progress progress) {
        BacktestResult r =
                new WalkForwardBacktest(params.apply(config))
                        .withThreads(1)
                        .withoutIntervals()
                        .run(
                                features,
                                predictors,
                                ensemble,
                                List.of(
                                        EvolvedSizing.wrap(
                                                policy, params.rule(policy.descriptor().name()))),
                                new RiskGuard(),
                                progress);
        return r.policies().get(policy.descriptor().name()).metrics();
    }

    private static ObjectNode describe(PerformanceMetrics m) {
        ObjectNode o = JSON.createObjectNode();
        putFigure(o, "sharpe", m.sharpe());
        putFigure(o, "cagr", m.cagr());
        putFigure(o, "max_drawdown", m.maxDrawdown());
        o.put("trades", m.trades());
        putFigure(o, "total_costs", m.totalCosts());
        return o;
    }

    private static void putFigure(ObjectNode o, String k, double v) {
        if (Double.isFinite(v)) {
            o.put(k, v);
        } else {
            o.putNull(k);
        }
    }

    private static String span(BarData series, int from, int to) {
        return series.symbol()
                + " "
                + Instant.ofEpochMilli(series.startMillis[from])
                + ".."
                + Instant.ofEpochMilli(series.startMillis[to - 1])
                + " ("
                + (to - from)
                + " bars)";
    }

    /** A Sharpe ratio for comparing: an undefined one (no trade, flat curve) ranks lowest. */
    private static double rank(double sharpe) {
        return Double.isNaN(sharpe) ? Double.NEGATIVE_INFINITY : sharpe;
    }

    /** The champion's set and where it comes from. */
    private record Champion(TradeParams params, String source) {}

    private Champion champion(ObjectNode p, TradeParams defaults, boolean kelly) {
        TradeParams c;
        String source;
        if (p.has("champion")) {
            c = TradeParams.fromJson(p.get("champion"), "champion");
            source = "given (parameter champion)";
        } else if (p.hasNonNull("register") && tracking.isPresent()) {
            String name = p.get("register").asText();
            MlflowClient client = tracking.get().get();
            JsonNode version;
            try {
                version = client.versionByAlias(name, "champion");
            } catch (MlflowException e) {
                if (!e.notFound()) {
                    throw e;
                }
                version = null;
            }
            if (version == null || version.path("run_id").asText("").isEmpty()) {
                c = defaults;
                source = "the defaults (models:/" + name + " has no @champion)";
            } else {
                Map<String, JsonNode> run =
                        MlflowClient.byKey(
                                client.getRun(version.path("run_id").asText())
                                        .path("data")
                                        .path("params"));
                Map<String, Double> v = new LinkedHashMap<>(defaults.values());
                readParam(run, "settings.stops.stop_loss_atr", "stop_loss_atr", v);
                readParam(run, "settings.stops.take_profit_atr", "take_profit_atr", v);
                readParam(run, "settings.stops.trailing_atr", "trailing_atr", v);
                readParam(run, "settings.max_fraction", "max_position", v);
                for (String k : List.of("kelly_fraction", "leverage_max", "leverage_atr_pct")) {
                    readParam(run, "evolved." + k, k, v);
                }
                c =
                        new TradeParams(
                                new Stops(
                                        v.get("stop_loss_atr"),
                                        v.get("take_profit_atr"),
                                        v.get("trailing_atr")),
                                v.get("max_position"),
                                v.get("kelly_fraction"),
                                v.get("leverage_max"),
                                v.get("leverage_atr_pct"));
                source =
                        "models:/"
                                + name
                                + "/"
                                + version.path("version").asText()
                                + " (@champion; its run's settings and evolved parameters)";
            }
        } else {
            c = defaults;
            source = "the defaults (no register: no champion in a registry to read)";
        }
        // The policy decides whether a Kelly fraction applies.
        double k =
                kelly
                        ? (Double.isNaN(c.kellyFraction())
                                ? defaults.kellyFraction()
                                : c.kellyFraction())
                        : Double.NaN;
        return new Champion(
                new TradeParams(c.stops(), c.maxPosition(), k, c.leverageMax(), c.leverageAtrPct()),
                source);
    }

    private static void readParam(
            Map<String, JsonNode> run, String key, String name, Map<String, Double> into) {
        JsonNode n = run.get(key);
        if (n == null || n.asText().equals("none") || n.asText().equals("null")) {
            return;
        }
        try {
            into.put(name, Double.parseDouble(n.asText()));
        } catch (NumberFormatException e) {
            throw new IllegalStateException(
                    "the champion's run parameter " + key + " is not a number: " + n.asText(), e);
        }
    }

    @Override
    public ObjectNode run(ObjectNode p, JobContext context) throws Exception {
        context.progress(0, "reading the bars");
        BarData series = BundledData.byId(p.get("dataset").asText()).orElseThrow().load();
        int n = searchEnd(series, p.hasNonNull("until") ? p.get("until").asText() : null);
        if (n >= series.size()) {
            throw TrainingService.bad(
                    "until",
                    p.get("until"),
                    "leaves no held-out bar: the series ends at "
                            + Instant.ofEpochMilli(series.startMillis[series.size() - 1]));
        }
        BarData span = series.truncate(n);
        FeatureMatrix features = FeaturePipeline.compute(span);
        WalkForwardBacktest.Config d = WalkForwardBacktest.Config.defaults();
        WalkForwardBacktest.Config config =
                d.withWindows(
                        p.get("train_bars").asInt(),
                        p.get("embargo_bars").asInt(),
                        p.get("test_bars").asInt());
        if (WalkForwardBacktest.layout(span, features.firstWarmIndex(), config).isEmpty()) {
            throw TrainingService.bad(
                    "until",
                    p.get("until"),
                    String.format(
                            Locale.ROOT,
                            "leaves %d bars: no walk-forward test bar after warm-up, %d training"
                                    + " and %d embargo bars",
                            span.size(),
                            config.trainBars(),
                            config.embargoBars()));
        }
        FeatureMatrix heldOut = heldOut(series, n, config);
        List<String> wanted = new ArrayList<>();
        p.get("sources").forEach(s -> wanted.add(s.asText()));
        String policyName = p.get("policy").asText();
        int population = p.get("population").asInt();
        int generations = p.get("generations").asInt();
        long seed = p.get("seed").asLong();
        context.progress(0.01, "starting the plugins");
        ObjectNode r = JSON.createObjectNode();
        TradeParams best;
        boolean better;
        Optional<EvolutionRuns> runs = Optional.empty();
        String ended = "FAILED";
        Map<String, String> outcome = new LinkedHashMap<>();
        Map<String, Double> figures = new LinkedHashMap<>();
        try (PluginRuntime runtime = plugins.get()) {
            List<PredictionCapability> predictors = new ArrayList<>();
            for (String w : wanted) {
                predictors.add(
                        runtime.predictions().stream()
                                .filter(c -> c.descriptor().name().equals(w))
                                .findFirst()
                                .orElseThrow(
                                        () ->
                                                TrainingService.bad(
                                                        "sources",
                                                        w,
                                                        "is not a wired prediction (wired: "
                                                                + runtime.predictions().stream()
                                                                        .map(
                                                                                c ->
                                                                                        c.descriptor()
                                                                                                .name())
                                                                        .toList()
                                                                + ")")));
            }
            SizingCapability policy =
                    runtime.sizings().stream()
                            .filter(c -> c.descriptor().name().equals(policyName))
                            .findFirst()
                            .orElseThrow(
                                    () ->
                                            TrainingService.bad(
                                                    "policy",
                                                    policyName,
                                                    "is not a wired sizing policy (wired: "
                                                            + runtime.sizings().stream()
                                                                    .map(c -> c.descriptor().name())
                                                                    .toList()
                                                            + ")"));
            EnsembleCapability ensemble = StrategyFitter.ensembleOf(runtime);
            double multiplier = EvolvedSizing.kellyMultiplier(policy);
            boolean kelly = !Double.isNaN(multiplier);
            TradeParams defaults =
                    new TradeParams(
                            Stops.DEFAULT,
                            d.maxFraction(),
                            multiplier,
                            1,
                            Double.POSITIVE_INFINITY);
            Champion champion = champion(p, defaults, kelly);
            List<ParamSearch.Range> ranges =
                    RANGES.stream()
                            .filter(x -> kelly || !x.name().equals("kelly_fraction"))
                            .toList();
            List<String> names = ranges.stream().map(ParamSearch.Range::name).toList();
            if (tracking.isPresent()) {
                Map<String, String> params = new LinkedHashMap<>();
                p.properties().forEach(e -> params.put(e.getKey(), e.getValue().toString()));
                for (ParamSearch.Range x : ranges) {
                    params.put("range." + x.name(), x.min() + ".." + x.max() + " by " + x.step());
                }
                params.put("champion_source", champion.source());
                runs =
                        Optional.of(
                                EvolutionRuns.start(tracking.get().get(), context.jobId(), params));
            }
            // A cancel or a shutdown interrupts this thread: seen after each fold of a candidate's
            // walk-forward, and at each candidate's report.
            Progress interruptible =
                    (dataset, fold, folds, barsDone, barsTotal) -> {
                        if (Thread.currentThread().isInterrupted()) {
                            throw new JobCancelledException(context.jobId());
                        }
                    };
            List<EvolutionRuns.Trial> trials = new ArrayList<>();
            Optional<EvolutionRuns> logTo = runs;
            ParamSearch.Result found =
                    ParamSearch.maximize(
                            ranges,
                            v -> {
                                double planned = (double) population * generations;
                                TradeParams candidate = TradeParams.of(names, v, defaults);
                                context.progress(
                                        0.03 + 0.8 * Math.min(1.0, (trials.size() + 1) / planned),
                                        String.format(
                                                Locale.ROOT,
                                                "parameter set %d: %s",
                                                trials.size() + 1,
                                                candidate));
                                double sharpe =
                                        evaluate(
                                                        features,
                                                        config,
                                                        predictors,
                                                        ensemble,
                                                        policy,
                                                        candidate,
                                                        interruptible)
                                                .sharpe();
                                trials.add(new EvolutionRuns.Trial(v.clone(), sharpe));
                                return sharpe;
                            },
                            population,
                            generations,
                            seed,
                            new java.util.function.Consumer<ParamSearch.Generation>() {
                                private int logged;

                                @Override
                                public void accept(ParamSearch.Generation g) {
                                    List<EvolutionRuns.Trial> fresh =
                                            List.copyOf(trials.subList(logged, trials.size()));
                                    logged = trials.size();
                                    logTo.ifPresent(x -> x.generation(g, names, fresh));
                                    context.progress(
                                            0.03 + 0.8 * g.generation() / generations,
                                            String.format(
                                                    Locale.ROOT,
                                                    "generation %d/%d: best Sharpe %.3f at %s,"
                                                            + " %d parameter sets evaluated",
                                                    g.generation(),
                                                    generations,
                                                    g.best(),
                                                    TradeParams.of(names, g.bestValues(), defaults),
                                                    g.evaluations()));
                                }
                            });
            best = TradeParams.of(names, found.best(), defaults);
            context.progress(0.84, "judging the best set and the champion on the held-out span");
            PerformanceMetrics bestSearch =
                    evaluate(features, config, predictors, ensemble, policy, best, interruptible);
            PerformanceMetrics champSearch =
                    evaluate(
                            features,
                            config,
                            predictors,
                            ensemble,
                            policy,
                            champion.params(),
                            interruptible);
            PerformanceMetrics bestHeld =
                    evaluate(heldOut, config, predictors, ensemble, policy, best, interruptible);
            PerformanceMetrics champHeld =
                    evaluate(
                            heldOut,
                            config,
                            predictors,
                            ensemble,
                            policy,
                            champion.params(),
                            interruptible);
            better = rank(bestHeld.sharpe()) > rank(champHeld.sharpe());
            String verdict =
                    String.format(
                            Locale.ROOT,
                            "held-out Sharpe %.4f of the best set %s the champion's %.4f (search"
                                    + " span: %.4f against %.4f)",
                            bestHeld.sharpe(),
                            better ? "is above" : "is not above",
                            champHeld.sharpe(),
                            bestSearch.sharpe(),
                            champSearch.sharpe());
            r.put(
                    "objective",
                    "annualised Sharpe, net of costs, of policy '"
                            + policyName
                            + "' with the set's Kelly fraction and leverage rule, over the"
                            + " walk-forward test bars");
            r.put("dataset", span.symbol());
            r.put("search_span", span(series, 0, n));
            r.put("held_out_span", span(series, n, series.size()));
            r.put("seed", seed);
            r.put("population", population);
            r.put("generations", generations);
            r.put("evaluations", found.evaluations());
            ArrayNode searched = r.putArray("searched");
            for (ParamSearch.Range x : ranges) {
                searched.addObject()
                        .put("name", x.name())
                        .put("min", x.min())
                        .put("max", x.max())
                        .put("step", x.step());
            }
            r.set("best", best.toJson());
            r.set("best_search", describe(bestSearch));
            r.set("best_held_out", describe(bestHeld));
            ObjectNode ch = r.putObject("champion");
            ch.put("source", champion.source());
            ch.set("params", champion.params().toJson());
            ch.set("search", describe(champSearch));
            ch.set("held_out", describe(champHeld));
            r.put("better_than_champion", better);
            r.put("verdict", verdict);
            ArrayNode gens = r.putArray("history");
            for (ParamSearch.Generation g : found.generations()) {
                ObjectNode o = gens.addObject();
                o.put("generation", g.generation());
                o.put("best_sharpe", g.best());
                o.put("mean_sharpe", Double.isFinite(g.mean()) ? g.mean() : null);
                o.set("best", TradeParams.of(names, g.bestValues(), defaults).toJson());
            }
            figures.put("best_search_sharpe", bestSearch.sharpe());
            figures.put("best_held_out_sharpe", bestHeld.sharpe());
            figures.put("champion_search_sharpe", champSearch.sharpe());
            figures.put("champion_held_out_sharpe", champHeld.sharpe());
            figures.put("evaluations", (double) found.evaluations());
            best.values().forEach((k, v) -> outcome.put("best." + k, Double.toString(v)));
            outcome.put("verdict", verdict);
            if (p.hasNonNull("register") && !better) {
                r.put("registered", false);
                r.put(
                        "refused",
                        "not registered: "
                                + verdict
                                + "; a set must beat the champion ("
                                + champion.source()
                                + ") on the held-out span");
                outcome.put("refused", r.get("refused").asText());
            }
            runs.ifPresent(x -> r.put("mlflow_run_id", x.parentRunId()));
            if (p.hasNonNull("register") && better) {
                registerBest(p, context, span, config, best, wanted, policyName, r);
                outcome.put("registered", r.path("registered").asText());
            }
            ended = "FINISHED";
        } catch (JobCancelledException e) {
            ended = "KILLED";
            throw e;
        } finally {
            String status = ended;
            runs.ifPresent(x -> x.end(outcome, figures, status));
        }
        return r;
    }

    private void registerBest(
            ObjectNode p,
            JobContext context,
            BarData span,
            WalkForwardBacktest.Config config,
            TradeParams best,
            List<String> sources,
            String policyName,
            ObjectNode r)
            throws java.io.IOException {
        context.progress(0.9, "fitting a strategy bundle with the best set: " + best);
        Path out = work.resolve(context.jobId()).resolve("bundle");
        Files.createDirectories(out.getParent());
        List<String> aliases = new ArrayList<>();
        p.get("aliases").forEach(a -> aliases.add(a.asText()));
        Map<String, String> extra = new LinkedHashMap<>();
        extra.put("training_job", context.jobId());
        best.values()
                .forEach(
                        (k, v) ->
                                extra.put(
                                        "evolved." + k,
                                        Double.isFinite(v) ? v.toString() : "none"));
        StrategyFitter.Fitted f;
        try (PluginRuntime runtime = plugins.get()) {
            f =
                    StrategyFitter.fit(
                            runtime,
                            new StrategyFitter.Request(
                                    span,
                                    span,
                                    best.apply(config),
                                    1,
                                    out,
                                    Duration.ofDays(30),
                                    Instant.now(),
                                    sources,
                                    Optional.of(best.rule(policyName))),
                            Optional.of(
                                    new StrategyFitter.Registration(
                                            registrar.orElseThrow().get(),
                                            BundleRegistrar.EXPERIMENT,
                                            p.get("register").asText(),
                                            aliases,
                                            StrategySmoke.DEFAULT_CASES,
                                            StrategySmoke.DEFAULT_TOLERANCE,
                                            extra)),
                            context.walkForward(0.9, 0.99));
        }
        r.put("bundle", f.bundle().dir().toString());
        r.put(
                "served_by_the_bundle",
                "the judged sources "
                        + sources
                        + ", stops and max position (settings.stops, settings.max_fraction) and"
                        + " policy '"
                        + policyName
                        + "' with the Kelly fraction and leverage rule"
                        + " (settings.evolved_sizing), sized by the same EvolvedSizing as the"
                        + " search");
        f.registered()
                .ifPresent(
                        reg -> {
                            r.put("registered", "models:/" + reg.name() + "/" + reg.version());
                            r.put("run_id", reg.runId());
                            ArrayNode a = r.putArray("aliases");
                            aliases.forEach(a::add);
                        });
    }
}
