package dev.quiver.host.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.registry.ModelRegistrar;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Job kind {@code train-source}: trains one prediction source and, with {@code register}, registers
 * it as a new version with {@code @challenger} (or the aliases given) moved to it, never {@code
 * @champion}.
 *
 * <ul>
 *   <li>{@code xgboost}, {@code lightgbm}: fitted in Java by {@link SourceTrainer} (what {@code
 *       quiver models train} runs) on the last {@code train_bars} labelled bars of {@code dataset},
 *       smoke cases recorded on {@code smoke_dataset}.
 *   <li>{@code catboost}, {@code lstm}: the training scripts {@code mlflow/train/catboost_model.py}
 *       and {@code lstm.py} run as child processes with the pinned venv's Python ({@link Python}),
 *       on their own stated span (BTC-USD 4h 2016-05-28..2018-12-31), registering through {@code
 *       quiver models register} with their {@code --tracking-uri/--register/--alias} flags. Their
 *       output becomes the job's progress (CatBoost's iterations, Keras' epochs); a cancel kills
 *       the child's whole process tree; a non-zero exit fails the job with the tail of its stderr.
 * </ul>
 *
 * <p>Parameters (JSON): {@code source} (required); {@code register} (a registered model name;
 * needs the service's MLflow registry); {@code aliases} (default {@code ["challenger"]}); for the
 * Java sources {@code dataset} (default {@code btc-usd-4h}), {@code train_bars} (default 1000),
 * {@code smoke_dataset} (default {@code sp500-daily}, or {@code nasdaq-daily} when training on it);
 * for the LSTM {@code epochs} (default the script's, 40); for CatBoost {@code iterations} (the most
 * trees, default the script's 400; early stopping usually ends it sooner). Files go to {@code
 * <work>/<job id>/}.
 */
public final class TrainSourceJob implements JobKind {

    /** The kind's name. */
    public static final String NAME = "train-source";

    /** Sources fitted in Java. */
    public static final List<String> JAVA_SOURCES = List.of("xgboost", "lightgbm");

    /** Sources trained by a Python script. */
    public static final List<String> PYTHON_SOURCES = List.of("catboost", "lstm");

    private static final ObjectMapper JSON = new ObjectMapper();

    private static final List<String> PARAMS =
            List.of(
                    "source",
                    "register",
                    "aliases",
                    "dataset",
                    "train_bars",
                    "smoke_dataset",
                    "epochs",
                    "iterations");

    /** CatBoost's verbose line, every 100 iterations: {@code 100:\tlearn: 0.69 ...}. */
    private static final Pattern CATBOOST_ITERATION = Pattern.compile("^(\\d+):\\s+learn:");

    /** CatBoost's most iterations in {@code catboost_model.py} (its {@code --iterations}). */
    private static final int CATBOOST_ITERATIONS = 400;

    /** Keras' epoch line (verbose 2): {@code Epoch 3/40}. */
    private static final Pattern KERAS_EPOCH = Pattern.compile("^Epoch (\\d+)/(\\d+)");

    /** {@code quiver models register}'s line. */
    private static final Pattern REGISTERED =
            Pattern.compile("registered models:/([^/\\s]+)/(\\d+) \\(run (\\w+)\\)");

    /**
     * The Python side: the pinned venv's interpreter and the training scripts.
     *
     * @param python the venv's {@code bin/python} ({@code mlflow/venv.sh} creates {@code
     *     mlflow/.venv})
     * @param scripts the folder of {@code catboost_model.py} and {@code lstm.py} ({@code
     *     mlflow/train}); the scripts run the built distribution beside them ({@code
     *     host/target/quiver/bin/quiver}) for the features and the registration
     */
    public record Python(Path python, Path scripts) {

        /**
         * The settings {@code quiver.training.python} and {@code quiver.training.scripts}, from the
         * service's configuration ({@code -D key=value}, {@code config/quiver.properties}) or else
         * the system properties, defaulting to the repository's {@code mlflow/.venv/bin/python} and
         * {@code mlflow/train} when the distribution runs from a checkout ({@code QUIVER_HOME} is
         * {@code host/target/quiver}).
         *
         * @param configuration the service's configuration values
         * @param home the distribution's folder
         * @return the settings, or empty when there are no scripts to run
         */
        public static Optional<Python> from(Map<String, String> configuration, Path home) {
            Path repo = home.toAbsolutePath().normalize().getParent();
            repo = repo == null || repo.getParent() == null ? null : repo.getParent().getParent();
            String scripts =
                    configuration.getOrDefault(
                            "quiver.training.scripts",
                            System.getProperty("quiver.training.scripts"));
            Path s =
                    scripts != null
                            ? Path.of(scripts)
                            : repo == null ? null : repo.resolve("mlflow").resolve("train");
            if (s == null || !Files.isDirectory(s)) {
                return Optional.empty();
            }
            String python =
                    configuration.getOrDefault(
                            "quiver.training.python", System.getProperty("quiver.training.python"));
            Path p =
                    python != null
                            ? Path.of(python)
                            : s.toAbsolutePath()
                                    .getParent()
                                    .resolve(".venv")
                                    .resolve("bin")
                                    .resolve("python");
            return Optional.of(new Python(p, s));
        }

        Path script(String source) {
            return scripts.resolve(source.equals("catboost") ? "catboost_model.py" : "lstm.py");
        }
    }

    private final Supplier<PluginRuntime> plugins;
    private final Optional<Supplier<ModelRegistrar>> registrar;
    private final Optional<String> trackingUri;
    private final Optional<Python> python;
    private final Path work;

    /**
     * The job kind.
     *
     * @param plugins starts the plugins a Java training uses (a fresh runtime per job)
     * @param registrar the service's MLflow registry, or empty (then {@code register} is refused)
     * @param trackingUri the same registry's URI, handed to the Python scripts
     * @param python the Python side, or empty (then {@code catboost} and {@code lstm} are refused)
     * @param work the folder the jobs' files go to
     */
    public TrainSourceJob(
            Supplier<PluginRuntime> plugins,
            Optional<Supplier<ModelRegistrar>> registrar,
            Optional<String> trackingUri,
            Optional<Python> python,
            Path work) {
        this.plugins = plugins;
        this.registrar = registrar;
        this.trackingUri = trackingUri;
        this.python = python;
        this.work = work;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ObjectNode validate(ObjectNode p) {
        JobParams.requireKnown(p, PARAMS, NAME, true);
        JsonNode s = p.get("source");
        List<String> all = new ArrayList<>(JAVA_SOURCES);
        all.addAll(PYTHON_SOURCES);
        if (s == null || !s.isTextual() || !all.contains(s.asText())) {
            throw TrainingService.bad("source", s, "is not one of " + all);
        }
        String source = s.asText();
        if (JAVA_SOURCES.contains(source)) {
            dataset(p, "dataset", BundledData.BTC_USD_4H);
            BundledData trained = BundledData.byId(p.get("dataset").asText()).orElseThrow();
            dataset(p, "smoke_dataset", SourceTrainer.defaultSmokeDataset(trained));
            if (p.get("smoke_dataset").asText().equals(trained.id())) {
                throw TrainingService.bad(
                        "smoke_dataset",
                        p.get("smoke_dataset"),
                        "is the training series: the model declines its own training bars; name"
                                + " another");
            }
            JobParams.count(p, "train_bars", 1000, 50);
            for (String f : List.of("epochs", "iterations")) {
                if (p.has(f)) {
                    throw TrainingService.bad(
                            f,
                            p.get(f),
                            "is for source "
                                    + (f.equals("epochs") ? "lstm" : "catboost")
                                    + " only");
                }
            }
        } else {
            for (String f : List.of("dataset", "train_bars", "smoke_dataset")) {
                if (p.has(f)) {
                    throw TrainingService.bad(
                            f,
                            p.get(f),
                            "is for the Java sources only: the "
                                    + source
                                    + " script trains on its own stated span (btc-usd-4h"
                                    + " 2016-05-28..2018-12-31)");
                }
            }
            if (p.has("iterations")) {
                if (!source.equals("catboost")) {
                    throw TrainingService.bad(
                            "iterations", p.get("iterations"), "is for source catboost only");
                }
                JobParams.count(p, "iterations", CATBOOST_ITERATIONS, 1);
            }
            if (p.has("epochs")) {
                if (!source.equals("lstm")) {
                    throw TrainingService.bad("epochs", p.get("epochs"), "is for source lstm only");
                }
                JobParams.count(p, "epochs", 40, 1);
            }
            if (python.isEmpty()) {
                throw TrainingService.bad(
                        "source",
                        s,
                        "needs the training scripts (mlflow/train): run the service from a"
                                + " checkout, or set -Dquiver.training.scripts");
            }
            Path py = python.get().python();
            if (!Files.isExecutable(py)) {
                throw TrainingService.bad(
                        "source",
                        s,
                        "needs the pinned training venv's Python at "
                                + py
                                + ": run mlflow/venv.sh, or set -Dquiver.training.python");
            }
            if (!Files.isRegularFile(python.get().script(source))) {
                throw TrainingService.bad(
                        "source", s, "has no script at " + python.get().script(source));
            }
        }
        JobParams.registration(p, registrar.isPresent() && trackingUri.isPresent());
        return p;
    }

    private static void dataset(ObjectNode p, String field, BundledData defaultValue) {
        if (!p.hasNonNull(field)) {
            p.put(field, defaultValue.id());
            return;
        }
        if (!p.get(field).isTextual() || BundledData.byId(p.get(field).asText()).isEmpty()) {
            throw TrainingService.bad(field, p.get(field), "is not one of " + BundledData.ids());
        }
    }

    private static List<String> aliases(ObjectNode p) {
        List<String> a = new ArrayList<>();
        if (p.has("aliases")) {
            p.get("aliases").forEach(x -> a.add(x.asText()));
        }
        return a;
    }

    @Override
    public ObjectNode run(ObjectNode p, JobContext context) throws Exception {
        String source = p.get("source").asText();
        Path dir = work.resolve(context.jobId());
        Files.createDirectories(dir);
        return JAVA_SOURCES.contains(source)
                ? runJava(source, p, dir, context)
                : runPython(source, p, dir, context);
    }

    private ObjectNode runJava(String source, ObjectNode p, Path dir, JobContext context)
            throws Exception {
        BundledData dataset = BundledData.byId(p.get("dataset").asText()).orElseThrow();
        Optional<SourceTrainer.Registration> registration =
                p.hasNonNull("register")
                        ? Optional.of(
                                new SourceTrainer.Registration(
                                        registrar.orElseThrow().get(),
                                        p.get("register").asText(),
                                        aliases(p),
                                        Map.of("training_job", context.jobId())))
                        : Optional.empty();
        context.progress(
                0.05,
                String.format(
                        Locale.ROOT,
                        "%s: fitting on the last %d bars of %s",
                        source,
                        p.get("train_bars").asInt(),
                        dataset.id()));
        SourceTrainer.Trained t;
        try (PluginRuntime runtime = plugins.get()) {
            t =
                    SourceTrainer.train(
                            runtime,
                            new SourceTrainer.Request(
                                    source,
                                    dataset,
                                    p.get("train_bars").asInt(),
                                    dir.resolve("model"),
                                    BundledData.byId(p.get("smoke_dataset").asText()).orElseThrow(),
                                    "source"),
                            registration);
        }
        context.progress(0.99, "trained");
        ObjectNode r = JSON.createObjectNode();
        r.put("source", source);
        r.put("model", t.model().toString());
        r.put("sidecar", t.sidecar().toString());
        r.put("plugin", t.pluginId());
        r.put("trained_span", t.series() + " " + t.firstBar() + ".." + t.lastBar());
        r.put("rows", t.rows());
        r.put("rounds", t.rounds());
        r.put("valid_log_loss", t.validLogLoss());
        r.put("library", t.library());
        t.registered()
                .ifPresent(
                        reg -> {
                            r.put("registered", "models:/" + reg.name() + "/" + reg.version());
                            r.put("run_id", reg.runId());
                            ArrayNode a = r.putArray("aliases");
                            aliases(p).forEach(a::add);
                        });
        return r;
    }

    private ObjectNode runPython(String source, ObjectNode p, Path dir, JobContext context)
            throws Exception {
        Python py = python.orElseThrow();
        List<String> cmd = new ArrayList<>();
        cmd.add(py.python().toString());
        cmd.add("-u"); // unbuffered: the progress arrives as it is printed
        cmd.add(py.script(source).toString());
        cmd.add("--work");
        cmd.add(dir.resolve("work").toString());
        cmd.add("--model-dir");
        cmd.add(dir.resolve("model").toString());
        if (p.has("epochs")) {
            cmd.add("--epochs");
            cmd.add(p.get("epochs").asText());
        }
        int iterations = p.path("iterations").asInt(CATBOOST_ITERATIONS);
        if (p.has("iterations")) {
            cmd.add("--iterations");
            cmd.add(Integer.toString(iterations));
        }
        if (p.hasNonNull("register")) {
            cmd.add("--tracking-uri");
            cmd.add(trackingUri.orElseThrow());
            cmd.add("--register");
            cmd.add(p.get("register").asText());
            for (String a : aliases(p)) {
                cmd.add("--alias");
                cmd.add(a);
            }
        }
        context.progress(0.01, source + ": starting " + String.join(" ", cmd));
        Matcher[] registered = new Matcher[1];
        double[] done = {0.02};
        String[] lastNote = {null}; // the last news, repeated until there is newer
        ChildProcess.Outcome o =
                ChildProcess.run(
                        cmd,
                        dir,
                        Map.of("PYTHONUNBUFFERED", "1"),
                        (pid, lines) -> {
                            String note = lastNote[0];
                            for (String line : lines) {
                                Matcher m = REGISTERED.matcher(line);
                                if (m.find()) {
                                    registered[0] = m;
                                    done[0] = Math.max(done[0], 0.97);
                                    note = line;
                                    continue;
                                }
                                Matcher c = CATBOOST_ITERATION.matcher(line);
                                Matcher k = KERAS_EPOCH.matcher(line);
                                if (c.find()) {
                                    int i = Integer.parseInt(c.group(1));
                                    done[0] =
                                            Math.max(done[0], 0.1 + 0.75 * i / (double) iterations);
                                    note = "iteration " + i + "/" + iterations;
                                } else if (k.find()) {
                                    int e = Integer.parseInt(k.group(1));
                                    int of = Integer.parseInt(k.group(2));
                                    done[0] = Math.max(done[0], 0.1 + 0.75 * (e - 1) / of);
                                    note = "epoch " + e + "/" + of + " (early stopping may end it)";
                                } else if (line.startsWith(source + ":")) {
                                    note = line.substring(source.length() + 1).trim();
                                }
                            }
                            lastNote[0] = note;
                            // Called about once a second even without news: a cancel asked
                            // meanwhile throws here, and the child's tree is killed.
                            context.progress(
                                    Math.min(done[0], 0.99),
                                    String.format(
                                            Locale.ROOT,
                                            "%s: python pid %d%s",
                                            source,
                                            pid,
                                            note == null ? "" : ": " + note));
                        });
        if (o.exitCode() != 0) {
            throw new IllegalStateException(
                    String.format(
                            Locale.ROOT,
                            "[Quiver/TRAINING_FAILED] %s: %s exited with %d; the end of its"
                                    + " stderr:%n%s",
                            source,
                            py.script(source).getFileName(),
                            o.exitCode(),
                            String.join("\n", o.stderrTail())));
        }
        ObjectNode r = JSON.createObjectNode();
        r.put("source", source);
        r.put("script", py.script(source).toString());
        r.put("python", py.python().toString());
        r.put("pid", o.pid());
        r.put("exit_code", o.exitCode());
        r.put("model_dir", dir.resolve("model").toString());
        Path sidecar =
                dir.resolve("model")
                        .resolve(source.equals("lstm") ? "lstm.json" : source + ".json");
        if (Files.isRegularFile(sidecar)) {
            JsonNode s = JSON.readTree(sidecar.toFile());
            r.set("training", s.path("training").deepCopy());
            r.set("evaluation", s.path("evaluation").deepCopy());
        }
        if (p.hasNonNull("register")) {
            if (registered[0] == null) {
                throw new IllegalStateException(
                        "[Quiver/TRAINING_FAILED] "
                                + source
                                + ": the script ended with 0 but printed no 'registered"
                                + " models:/NAME/VERSION' line");
            }
            r.put("registered", "models:/" + registered[0].group(1) + "/" + registered[0].group(2));
            r.put("run_id", registered[0].group(3));
            ArrayNode a = r.putArray("aliases");
            aliases(p).forEach(a::add);
        }
        return r;
    }
}
