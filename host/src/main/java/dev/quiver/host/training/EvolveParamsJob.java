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
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.strategy.BundleRegistrar;
import dev.quiver.host.strategy.StrategyFitter;
import dev.quiver.host.strategy.StrategySmoke;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Job kind {@code evolve-params}: a genetic search ({@link ParamSearch}, Jenetics) for the host's
 * ATR exits, the stop-loss, take-profit and trailing-stop multiples ({@link Stops}), judged on the
 * training span only.
 *
 * <p><b>Objective.</b> The annualised Sharpe ratio, net of costs, of the acting sizing policy
 * ({@code policy}, default {@code fixed}) over the out-of-sample test bars of a walk-forward run
 * ({@link WalkForwardBacktest}, {@code quiver backtest}'s defaults with the job's bar counts and
 * the candidate's stops; costs 10 bps fee + 5 bps slippage on every fill) on the <em>training
 * span</em>: the bars of {@code dataset} at or before {@code until}. The bars after {@code until}
 * are cut off before anything is computed, so no candidate's figure can see them; every forecast
 * inside the span is itself walk-forward (trained only on bars before it, with the embargo). The
 * sources are {@code sources} (default {@code ["traditional"]}: one walk-forward per candidate must
 * stay cheap); the ensemble is the plugins' {@code stack}.
 *
 * <p><b>Not searched.</b> Leverage: the engine is long only with a position cap of at most 1 (no
 * leverage), so the background's confidence/ATR leverage rule has nothing to act on; the Kelly
 * fraction and the cap are the plugins' and the rules' settings, left as they are.
 *
 * <p>Parameters (JSON): {@code dataset} (default {@code btc-usd-4h}); {@code until} (ISO-8601; the
 * training span's last bar; default: the bar at 70% of the series); {@code population} (2..200,
 * default 12); {@code generations} (1..100, default 6); {@code seed} (default 42); {@code sources};
 * {@code policy}; {@code train_bars}, {@code test_bars}, {@code embargo_bars} (default 1000, 500,
 * 5); {@code register} (a registered model name: a strategy bundle is fitted on the training span
 * with the best stops and registered with {@code @challenger}, or {@code aliases}; never {@code
 * @champion}). The search is deterministic for a seed: same seed, same trials, same result.
 */
public final class EvolveParamsJob implements JobKind {

    /** The kind's name. */
    public static final String NAME = "evolve-params";

    /** The searched parameters: ATR multiples, 0.25 ATR apart. */
    public static final List<ParamSearch.Range> RANGES =
            List.of(
                    new ParamSearch.Range("stop_loss_atr", 0.5, 6, 0.25),
                    new ParamSearch.Range("take_profit_atr", 0.5, 8, 0.25),
                    new ParamSearch.Range("trailing_atr", 0.5, 8, 0.25));

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
                    "register",
                    "aliases");

    private final Supplier<PluginRuntime> plugins;
    private final Optional<Supplier<BundleRegistrar>> registrar;
    private final Path work;

    /**
     * The job kind.
     *
     * @param plugins starts the plugins the walk-forward runs use (a fresh runtime per job)
     * @param registrar the service's MLflow registry, or empty (then {@code register} is refused)
     * @param work the folder the jobs' bundles go to
     */
    public EvolveParamsJob(
            Supplier<PluginRuntime> plugins,
            Optional<Supplier<BundleRegistrar>> registrar,
            Path work) {
        this.plugins = plugins;
        this.registrar = registrar;
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
            p.put("policy", "fixed");
        } else if (!p.get("policy").isTextual()
                || !NAME_PATTERN.matcher(p.get("policy").asText()).matches()) {
            throw TrainingService.bad("policy", p.get("policy"), "is not a sizing policy name");
        }
        JobParams.count(p, "train_bars", 1000, 1, Integer.MAX_VALUE);
        JobParams.count(p, "test_bars", 500, 1, Integer.MAX_VALUE);
        JobParams.count(p, "embargo_bars", 5, 1, Integer.MAX_VALUE);
        JobParams.registration(p, registrar.isPresent());
        return p;
    }

    /**
     * The training span: the series cut after {@code until} (default: at 70% of its bars).
     *
     * @param series the whole series
     * @param until the span's last instant, or null
     * @return the span's bars
     * @throws IllegalArgumentException if {@code until} is before the first bar
     */
    static BarData trainingSpan(BarData series, String until) {
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
            throw new IllegalArgumentException(
                    "until "
                            + until
                            + " is before the series' first bar "
                            + Instant.ofEpochMilli(series.startMillis[0]));
        }
        return series.truncate(n);
    }

    /**
     * The objective: the acting policy's walk-forward Sharpe, net of costs, on the span.
     *
     * @param features the span's features (nothing after the span)
     * @param config the walk-forward settings (the candidate's stops are set here)
     * @param predictors the sources
     * @param ensemble the ensemble
     * @param policy the acting policy
     * @param stops the candidate
     * @return its metrics on the span's test bars
     */
    static PerformanceMetrics evaluate(
            FeatureMatrix features,
            WalkForwardBacktest.Config config,
            List<PredictionCapability> predictors,
            EnsembleCapability ensemble,
            SizingCapability policy,
            Stops stops) {
        return evaluate(features, config, predictors, ensemble, policy, stops, Progress.NONE);
    }

    private static PerformanceMetrics evaluate(
            FeatureMatrix features,
            WalkForwardBacktest.Config config,
            List<PredictionCapability> predictors,
            EnsembleCapability ensemble,
            SizingCapability policy,
            Stops stops,
            Progress progress) {
        BacktestResult r =
                new WalkForwardBacktest(config.withRisk(stops, config.breakers()))
                        .withThreads(1)
                        .withoutIntervals()
                        .run(
                                features,
                                predictors,
                                ensemble,
                                List.of(policy),
                                new RiskGuard(),
                                progress);
        return r.policies().get(policy.descriptor().name()).metrics();
    }

    private static Stops stops(double[] v) {
        return new Stops(v[0], v[1], v[2]);
    }

    private static ObjectNode describe(Stops s) {
        ObjectNode o = JSON.createObjectNode();
        o.put("stop_loss_atr", s.stopLossAtr());
        o.put("take_profit_atr", s.takeProfitAtr());
        o.put("trailing_atr", s.trailingAtr());
        return o;
    }

    private static ObjectNode describe(PerformanceMetrics m) {
        ObjectNode o = JSON.createObjectNode();
        o.put("sharpe", m.sharpe());
        o.put("cagr", m.cagr());
        o.put("max_drawdown", m.maxDrawdown());
        o.put("trades", m.trades());
        o.put("total_costs", m.totalCosts());
        return o;
    }

    @Override
    public ObjectNode run(ObjectNode p, JobContext context) throws Exception {
        context.progress(0, "reading the bars");
        BarData series = BundledData.byId(p.get("dataset").asText()).orElseThrow().load();
        BarData span = trainingSpan(series, p.hasNonNull("until") ? p.get("until").asText() : null);
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
        List<String> wanted = new ArrayList<>();
        p.get("sources").forEach(s -> wanted.add(s.asText()));
        String policyName = p.get("policy").asText();
        int population = p.get("population").asInt();
        int generations = p.get("generations").asInt();
        long seed = p.get("seed").asLong();
        String spanText =
                span.symbol()
                        + " "
                        + Instant.ofEpochMilli(span.startMillis[0])
                        + ".."
                        + Instant.ofEpochMilli(span.startMillis[span.size() - 1])
                        + " ("
                        + span.size()
                        + " bars)";
        context.progress(0.01, "starting the plugins");
        ObjectNode r = JSON.createObjectNode();
        Stops best;
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
            context.progress(0.02, "baseline: the default stops " + Stops.DEFAULT);
            PerformanceMetrics baseline =
                    evaluate(features, config, predictors, ensemble, policy, Stops.DEFAULT);
            // A cancel or a shutdown interrupts this thread: seen after each fold of a candidate's
            // walk-forward, and at each candidate's report.
            Progress interruptible =
                    (dataset, fold, folds, barsDone, barsTotal) -> {
                        if (Thread.currentThread().isInterrupted()) {
                            throw new JobCancelledException(context.jobId());
                        }
                    };
            int[] evaluated = {0};
            ParamSearch.Result found =
                    ParamSearch.maximize(
                            RANGES,
                            v -> {
                                evaluated[0]++;
                                double planned = (double) population * generations;
                                context.progress(
                                        0.03 + 0.87 * Math.min(1.0, evaluated[0] / planned),
                                        String.format(
                                                Locale.ROOT,
                                                "parameter set %d: %s",
                                                evaluated[0],
                                                stops(v)));
                                return evaluate(
                                                features,
                                                config,
                                                predictors,
                                                ensemble,
                                                policy,
                                                stops(v),
                                                interruptible)
                                        .sharpe();
                            },
                            population,
                            generations,
                            seed,
                            g ->
                                    context.progress(
                                            0.03 + 0.87 * g.generation() / generations,
                                            String.format(
                                                    Locale.ROOT,
                                                    "generation %d/%d: best Sharpe %.3f at %s,"
                                                            + " %d parameter sets evaluated",
                                                    g.generation(),
                                                    generations,
                                                    g.best(),
                                                    stops(g.bestValues()),
                                                    g.evaluations())));
            best = stops(found.best());
            PerformanceMetrics bestMetrics =
                    evaluate(features, config, predictors, ensemble, policy, best);
            r.put(
                    "objective",
                    "annualised Sharpe, net of costs, of policy '"
                            + policyName
                            + "' over the walk-forward test bars of the training span");
            r.put("training_span", spanText);
            r.put("dataset", span.symbol());
            r.put("seed", seed);
            r.put("population", population);
            r.put("generations", generations);
            r.put("evaluations", found.evaluations());
            r.set("best", describe(best));
            r.set("best_metrics", describe(bestMetrics));
            r.set("baseline", describe(Stops.DEFAULT));
            r.set("baseline_metrics", describe(baseline));
            ArrayNode gens = r.putArray("history");
            for (ParamSearch.Generation g : found.generations()) {
                ObjectNode o = gens.addObject();
                o.put("generation", g.generation());
                o.put("best_sharpe", g.best());
                o.put("mean_sharpe", Double.isFinite(g.mean()) ? g.mean() : null);
                o.set("best", describe(stops(g.bestValues())));
            }
        }
        if (p.hasNonNull("register")) {
            context.progress(0.9, "fitting a strategy bundle with the best stops " + best);
            Path out = work.resolve(context.jobId()).resolve("bundle");
            Files.createDirectories(out.getParent());
            List<String> aliases = new ArrayList<>();
            p.get("aliases").forEach(a -> aliases.add(a.asText()));
            StrategyFitter.Fitted f;
            try (PluginRuntime runtime = plugins.get()) {
                f =
                        StrategyFitter.fit(
                                runtime,
                                new StrategyFitter.Request(
                                        span,
                                        span,
                                        config.withRisk(best, config.breakers()),
                                        1,
                                        out,
                                        Duration.ofDays(30),
                                        Instant.now()),
                                Optional.of(
                                        new StrategyFitter.Registration(
                                                registrar.orElseThrow().get(),
                                                BundleRegistrar.EXPERIMENT,
                                                p.get("register").asText(),
                                                aliases,
                                                StrategySmoke.DEFAULT_CASES,
                                                StrategySmoke.DEFAULT_TOLERANCE,
                                                Map.of(
                                                        "training_job",
                                                        context.jobId(),
                                                        "evolved_stops",
                                                        best.toString()))),
                                context.walkForward(0.9, 0.99));
            }
            r.put("bundle", f.bundle().dir().toString());
            f.registered()
                    .ifPresent(
                            reg -> {
                                r.put("registered", "models:/" + reg.name() + "/" + reg.version());
                                r.put("run_id", reg.runId());
                                ArrayNode a = r.putArray("aliases");
                                aliases.forEach(a::add);
                            });
        }
        return r;
    }
}
