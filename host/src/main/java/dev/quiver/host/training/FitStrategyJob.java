package dev.quiver.host.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.backtest.WalkForwardBacktest;
import dev.quiver.host.data.BadBarPolicy;
import dev.quiver.host.data.BarCsvReader;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.strategy.BundleRegistrar;
import dev.quiver.host.strategy.StrategyFitter;
import dev.quiver.host.strategy.StrategySmoke;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Job kind {@code fit-strategy}: the fit of {@code quiver strategy fit} ({@link StrategyFitter}),
 * run by the scheduler, on a bundled data set or a CSV file, optionally registered as a new version
 * with {@code @challenger} moved to it. Training never moves {@code @champion}: a challenger goes
 * through the rollout rules.
 *
 * <p>Parameters (JSON): {@code dataset} (a bundled data set id) or {@code data} (a CSV path), one
 * of them; {@code until} (ISO-8601 instant: fit only on bars at or before it); {@code register} (a
 * registered model name; needs the service's MLflow registry); {@code aliases} (default {@code
 * ["challenger"]} when registering); {@code max_age} (ISO-8601 duration, default {@code P30D});
 * {@code threads} (fold threads, default 1 so decisions keep the other core); {@code train_bars},
 * {@code test_bars}, {@code embargo_bars} (bars per walk-forward fold; the other walk-forward
 * settings are {@link WalkForwardBacktest.Config#defaults()}, those of {@code quiver backtest}
 * without options). The bundle is written to {@code <work>/<job id>/bundle}, its walk-forward
 * report beside it.
 */
public final class FitStrategyJob implements JobKind {

    /** The kind's name. */
    public static final String NAME = "fit-strategy";

    private static final ObjectMapper JSON = new ObjectMapper();

    private static final List<String> PARAMS =
            List.of(
                    "dataset",
                    "data",
                    "until",
                    "register",
                    "aliases",
                    "max_age",
                    "threads",
                    "train_bars",
                    "test_bars",
                    "embargo_bars");

    private final Supplier<PluginRuntime> plugins;
    private final Optional<Supplier<BundleRegistrar>> registrar;
    private final Path work;

    /**
     * The job kind.
     *
     * @param plugins starts the plugins a fit uses (a fresh runtime per job, closed after it)
     * @param registrar the registrar of the service's MLflow registry, or empty when the service
     *     has none (then {@code register} is refused)
     * @param work the folder the jobs' bundles and reports go to
     */
    public FitStrategyJob(
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
        JobParams.requireKnown(p, PARAMS, NAME, false);
        boolean dataset = p.hasNonNull("dataset");
        boolean data = p.hasNonNull("data");
        if (dataset == data) {
            throw TrainingService.bad(
                    "dataset",
                    p.get("dataset"),
                    "give exactly one of dataset (one of "
                            + BundledData.ids()
                            + ") or data (a CSV file)");
        }
        if (dataset && BundledData.byId(JobParams.text(p, "dataset")).isEmpty()) {
            throw TrainingService.bad(
                    "dataset", p.get("dataset"), "is not one of " + BundledData.ids());
        }
        if (data) {
            Path file;
            try {
                file = Path.of(JobParams.text(p, "data"));
            } catch (java.nio.file.InvalidPathException e) {
                throw TrainingService.bad("data", p.get("data"), "is not a path: " + e.getReason());
            }
            if (!Files.isRegularFile(file)) {
                throw TrainingService.bad("data", p.get("data"), "is not a readable file");
            }
        }
        JobParams.instantIfPresent(p, "until");
        Duration age;
        try {
            age = Duration.parse(p.path("max_age").asText("P30D"));
        } catch (DateTimeParseException e) {
            throw TrainingService.bad("max_age", p.get("max_age"), "is not an ISO-8601 duration");
        }
        if (age.isNegative() || age.isZero()) {
            throw TrainingService.bad("max_age", p.get("max_age"), "must be positive");
        }
        p.put("max_age", age.toString());
        WalkForwardBacktest.Config d = WalkForwardBacktest.Config.defaults();
        JobParams.count(p, "threads", 1, 1);
        JobParams.count(p, "train_bars", d.trainBars(), 1);
        JobParams.count(p, "test_bars", d.testBars(), 1);
        JobParams.count(p, "embargo_bars", d.embargoBars(), 0);
        JobParams.registration(p, registrar.isPresent());
        return p;
    }

    /** The walk-forward settings: {@code quiver backtest}'s defaults with the job's bar counts. */
    private static WalkForwardBacktest.Config config(JsonNode p) {
        WalkForwardBacktest.Config d = WalkForwardBacktest.Config.defaults();
        return new WalkForwardBacktest.Config(
                p.get("train_bars").asInt(),
                p.get("embargo_bars").asInt(),
                p.get("test_bars").asInt(),
                d.initialEquity(),
                d.costs(),
                d.maxFraction(),
                d.rebalanceBand(),
                d.payoffWindowBars(),
                d.stops(),
                d.breakers());
    }

    @Override
    public ObjectNode run(ObjectNode p, JobContext context) throws Exception {
        context.progress(0, "reading the bars");
        BarData series;
        if (p.hasNonNull("dataset")) {
            series = BundledData.byId(p.get("dataset").asText()).orElseThrow().load();
        } else {
            Path file = Path.of(p.get("data").asText());
            String name = file.getFileName().toString();
            series =
                    new BarCsvReader(BadBarPolicy.FAIL)
                            .read(
                                    file,
                                    name.endsWith(".csv")
                                            ? name.substring(0, name.length() - 4)
                                            : name)
                            .data();
        }
        BarData fitted = series;
        if (p.hasNonNull("until")) {
            long t = Instant.parse(p.get("until").asText()).toEpochMilli();
            int n = 0;
            while (n < series.size() && series.startMillis[n] <= t) {
                n++;
            }
            if (n == 0) {
                throw new IllegalArgumentException(
                        "until "
                                + p.get("until").asText()
                                + " is before the series' first bar "
                                + Instant.ofEpochMilli(series.startMillis[0]));
            }
            fitted = series.truncate(n);
        }
        Path out = work.resolve(context.jobId()).resolve("bundle");
        Files.createDirectories(out.getParent());
        Optional<StrategyFitter.Registration> registration = Optional.empty();
        if (p.hasNonNull("register")) {
            List<String> aliases = new ArrayList<>();
            p.get("aliases").forEach(a -> aliases.add(a.asText()));
            registration =
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
                                            "until",
                                            p.path("until").asText("none"))));
        }
        context.progress(0.01, "starting the plugins");
        StrategyFitter.Fitted f;
        try (PluginRuntime runtime = plugins.get()) {
            f =
                    StrategyFitter.fit(
                            runtime,
                            new StrategyFitter.Request(
                                    series,
                                    fitted,
                                    config(p),
                                    p.get("threads").asInt(),
                                    out,
                                    Duration.parse(p.get("max_age").asText()),
                                    Instant.now()),
                            registration,
                            context.walkForward(0.02, 0.95));
        }
        context.progress(0.99, "written");
        ObjectNode r = JSON.createObjectNode();
        r.put("bundle", f.bundle().dir().toString());
        r.put("bundle_id", f.bundle().id());
        r.put("report", f.report().resolve("report.html").toString());
        r.put("fitted_bars", fitted.size());
        r.put(
                "fitted_span",
                Instant.ofEpochMilli(fitted.startMillis[0])
                        + ".."
                        + Instant.ofEpochMilli(fitted.startMillis[fitted.size() - 1]));
        r.set("provenance", JSON.valueToTree(f.bundle().provenance()));
        f.registered()
                .ifPresent(
                        reg -> {
                            r.put("registered", "models:/" + reg.name() + "/" + reg.version());
                            r.put("run_id", reg.runId());
                            ArrayNode a = r.putArray("aliases");
                            p.get("aliases").forEach(a::add);
                        });
        return r;
    }
}
