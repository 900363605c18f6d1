package dev.quiver.host.cli;

import dev.quiver.host.live.SmokeCheck;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowHttp;
import dev.quiver.host.registry.AliasHistory;
import dev.quiver.host.registry.ModelRegistrar;
import dev.quiver.host.registry.ModelResolver;
import dev.quiver.host.registry.ModelSigner;
import dev.quiver.host.registry.ModelTrust;
import dev.quiver.host.registry.ModelUri;
import dev.quiver.host.registry.ResolvedModel;
import dev.quiver.host.registry.SmokeSet;
import dev.quiver.host.store.StateStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code quiver models}: register model files in MLflow, move aliases, resolve references. */
@Command(
        name = "models",
        mixinStandardHelpOptions = true,
        description = "MLflow model registry: register, alias, resolve.",
        subcommands = {
            ModelsCommand.Register.class,
            ModelsCommand.Alias.class,
            ModelsCommand.Resolve.class,
            ModelsCommand.AsOf.class,
            ModelsCommand.Keygen.class,
            ModelsTrainCommand.class
        })
final class ModelsCommand implements Runnable {

    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static MlflowClient client(String trackingUri) {
        String uri =
                HostOptions.trackingUri(trackingUri)
                        .orElseThrow(
                                () ->
                                        new IllegalArgumentException(
                                                "[Quiver/BAD_OPTION] --tracking-uri: required (or"
                                                        + " MLFLOW_TRACKING_URI); start a local"
                                                        + " server with mlflow/server.sh start"));
        return new MlflowClient(new MlflowHttp(uri, MlflowHttp.Settings.defaults()));
    }

    /**
     * The model directory: cache of the registry, or the registry itself without one.
     *
     * @param given {@code --models-dir}
     * @return the folder
     */
    static Path modelsDir(Path given) {
        if (given != null) {
            return given;
        }
        String home = System.getProperty("quiver.home");
        return home != null ? Path.of(home, "models") : Path.of("quiver-models");
    }

    /** {@code quiver models register}. */
    @Command(
            name = "register",
            mixinStandardHelpOptions = true,
            description =
                    "Register a model file (and its sidecar) as a new version of a registered"
                            + " model, tagged with sha256, size, format, feature schema hash,"
                            + " training span and data set.")
    static final class Register implements Callable<Integer> {
        @Option(
                names = "--tracking-uri",
                paramLabel = "URI",
                description = "MLflow server (default: MLFLOW_TRACKING_URI).")
        String trackingUri;

        @Option(
                names = "--name",
                required = true,
                paramLabel = "NAME",
                description = "Registered model name.")
        String name;

        @Option(
                names = "--model",
                required = true,
                paramLabel = "FILE",
                description =
                        "Model file: .onnx, .json/.ubj (XGBoost), .txt (LightGBM), .cbm (CatBoost).")
        Path model;

        @Option(
                names = "--sidecar",
                paramLabel = "FILE",
                description = "The model's sidecar JSON (schema, training span).")
        Path sidecar;

        @Option(
                names = "--alias",
                paramLabel = "ALIAS",
                description = "Point this alias at the new version (repeatable).")
        List<String> aliases = List.of();

        @Option(
                names = "--plugin",
                paramLabel = "ID",
                description =
                        "The plugin that serves this model (e.g. prediction-lstm). Its prediction,"
                                + " built with --sidecar, forecasts the last --smoke-bars bars of"
                                + " --smoke-dataset; the probabilities are stored with the version"
                                + " as smoke.json, and a live service serves the version only if"
                                + " it reproduces them. Without it the version has no smoke"
                                + " file and is never hot-swapped in.")
        String plugin;

        @Option(
                names = "--capability",
                paramLabel = "NAME",
                description =
                        "With --plugin: the plugin's prediction this model is for, e.g. xgboost"
                                + " (ensemble-gbm provides xgboost and lightgbm); needed only when"
                                + " the plugin provides several. It is built with"
                                + " <plugin>.<capability>.model=--sidecar.")
        String capability;

        @Option(
                names = "--smoke-dataset",
                defaultValue = "btc-usd-4h",
                paramLabel = "ID",
                description = "Bundled series for the smoke cases (default: ${DEFAULT-VALUE}).")
        String smokeDataset;

        @Option(
                names = "--smoke-bars",
                defaultValue = "8",
                paramLabel = "N",
                description =
                        "Smoke cases, the series' last forecast bars (default: ${DEFAULT-VALUE}).")
        int smokeBars;

        @Option(
                names = "--smoke-tolerance",
                defaultValue = "1e-5",
                paramLabel = "X",
                description =
                        "Largest accepted |p_up - recorded| when the smoke cases are replayed"
                                + " (default: ${DEFAULT-VALUE}).")
        double smokeTolerance;

        @Option(
                names = "--plugins-dir",
                paramLabel = "DIR",
                description = "Folder of plugin zips, for --plugin (default: QUIVER_HOME/plugins).")
        Path pluginsDir;

        @Option(
                names = "--run-name",
                paramLabel = "NAME",
                description =
                        "Name of the MLflow run that registers the version (default: register"
                                + " NAME); a training script names its training here.")
        String runName = "";

        @Option(
                names = "--param",
                paramLabel = "KEY=VALUE",
                description =
                        "A training parameter to log with the registering run (repeatable), e.g."
                                + " --param epochs=40.")
        Map<String, String> params = new LinkedHashMap<>();

        @Option(
                names = "--metric",
                paramLabel = "KEY=VALUE",
                description =
                        "A training figure to log with the registering run (repeatable, a finite"
                                + " number), e.g. --metric valid_log_loss=0.6921.")
        Map<String, String> metrics = new LinkedHashMap<>();

        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            try {
                Optional<Path> smoke = Optional.empty();
                if (capability != null && plugin == null) {
                    throw new IllegalArgumentException(
                            "[Quiver/BAD_OPTION] --capability "
                                    + capability
                                    + " needs --plugin: it names that plugin's prediction");
                }
                if (plugin != null) {
                    if (sidecar == null) {
                        throw new IllegalArgumentException(
                                "[Quiver/BAD_OPTION] --plugin "
                                        + plugin
                                        + " needs --sidecar: the plugin reads its model through it");
                    }
                    Path dir =
                            pluginsDir != null ? pluginsDir : HostOptions.home().resolve("plugins");
                    SmokeSet set =
                            SmokeCheck.record(
                                    dir,
                                    plugin,
                                    capability,
                                    sidecar,
                                    smokeDataset,
                                    smokeBars,
                                    smokeTolerance);
                    Path file = java.nio.file.Files.createTempFile("quiver-smoke-", ".json");
                    file.toFile().deleteOnExit();
                    set.write(file);
                    smoke = Optional.of(file);
                    out.printf(
                            "smoke: %d cases of %s recorded by %s/%s%n",
                            set.cases().size(), set.dataset(), plugin, set.capability());
                }
                var r =
                        new ModelRegistrar(client(trackingUri))
                                .register(
                                        name,
                                        model,
                                        Optional.ofNullable(sidecar),
                                        smoke,
                                        aliases,
                                        training(runName, params, metrics));
                out.printf("registered models:/%s/%s (run %s)%n", r.name(), r.version(), r.runId());
                r.tags().forEach((k, v) -> out.printf("  %s = %s%n", k, v));
                for (String a : aliases) {
                    out.printf("  @%s -> %s%n", a, r.version());
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            out.flush();
            return 0;
        }
    }

    /** The training a registration records; {@link ModelRegistrar.Training#NONE} if none given. */
    static ModelRegistrar.Training training(
            String runName, Map<String, String> params, Map<String, String> metrics) {
        if (runName.isEmpty() && params.isEmpty() && metrics.isEmpty()) {
            return ModelRegistrar.Training.NONE;
        }
        Map<String, Double> values = new LinkedHashMap<>();
        metrics.forEach(
                (k, v) -> {
                    double x;
                    try {
                        x = Double.parseDouble(v);
                    } catch (NumberFormatException e) {
                        x = Double.NaN;
                    }
                    if (!Double.isFinite(x)) {
                        throw new IllegalArgumentException(
                                "[Quiver/BAD_OPTION] --metric "
                                        + k
                                        + "="
                                        + v
                                        + ": the value must be a finite number");
                    }
                    values.put(k, x);
                });
        return new ModelRegistrar.Training(runName, params, values);
    }

    /** {@code quiver models alias}. */
    @Command(
            name = "alias",
            mixinStandardHelpOptions = true,
            description = "Point an alias at a version.")
    static final class Alias implements Callable<Integer> {
        @Option(
                names = "--tracking-uri",
                paramLabel = "URI",
                description = "MLflow server (default: MLFLOW_TRACKING_URI).")
        String trackingUri;

        @Option(
                names = "--name",
                required = true,
                paramLabel = "NAME",
                description = "Registered model name.")
        String name;

        @Option(
                names = "--alias",
                required = true,
                paramLabel = "ALIAS",
                description = "e.g. champion.")
        String alias;

        @Option(
                names = "--version",
                required = true,
                paramLabel = "N",
                description = "Version number.")
        String version;

        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            client(trackingUri).setAlias(name, alias, version);
            spec.commandLine().getOut().printf("models:/%s@%s -> %s%n", name, alias, version);
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    /** {@code quiver models keygen}. */
    @Command(
            name = "keygen",
            mixinStandardHelpOptions = true,
            description =
                    "Make this installation's model signing key (Ed25519): registrations sign"
                            + " every version with it, and its public key goes to the trusted"
                            + " model keys, so this host then serves only signed versions."
                            + " See docs/model-signing.md.")
    static final class Keygen implements Callable<Integer> {
        @Option(
                names = "--key",
                paramLabel = "FILE",
                description =
                        "Private key file (default: quiver.models.signing-key, else"
                                + " QUIVER_HOME/config/model-signing-key.pem). Must not exist.")
        Path key;

        @Option(
                names = "--trusted-keys",
                paramLabel = "DIR",
                description =
                        "Folder the public key is added to (default: quiver.models.trusted-keys,"
                                + " else QUIVER_HOME/config/trusted-model-keys).")
        Path trustedKeys;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            Path k = key != null ? key : ModelSigner.keyFile().orElseThrow(Keygen::noHome);
            Path t =
                    trustedKeys != null
                            ? trustedKeys
                            : ModelTrust.trustedKeysFolder().orElseThrow(Keygen::noHome);
            if (java.nio.file.Files.exists(k)) {
                throw new IllegalArgumentException(
                        "[Quiver/BAD_OPTION] --key "
                                + k
                                + ": a model signing key is already there; versions it signed"
                                + " would no longer verify if it were replaced (move it away first"
                                + " if that is what you want)");
            }
            ModelSigner signer = ModelSigner.generate(k, t);
            PrintWriter out = spec.commandLine().getOut();
            out.printf(
                    "model signing key %s%n  private key: %s (keep it to the registrar)%n"
                            + "  public key:  %s (copy it into trusted-model-keys/ of every host"
                            + " that serves these models)%n",
                    signer.keyId(),
                    k.toAbsolutePath(),
                    t.toAbsolutePath().resolve("model-key-" + signer.keyId() + ".pem"));
            out.flush();
            return 0;
        }

        private static IllegalArgumentException noHome() {
            return new IllegalArgumentException(
                    "[Quiver/NO_HOME] quiver.home is not set: run through bin/quiver, or pass --key"
                            + " and --trusted-keys");
        }
    }

    /** {@code quiver models resolve}. */
    @Command(
            name = "resolve",
            mixinStandardHelpOptions = true,
            description =
                    "Resolve models:/NAME@ALIAS or models:/NAME/VERSION to a verified local folder"
                            + " (downloaded and checked, or from the cache / local model directory).")
    static final class Resolve implements Callable<Integer> {
        @Parameters(
                paramLabel = "MODEL_URI",
                description = "models:/NAME@ALIAS or models:/NAME/VERSION")
        String uri;

        @Option(
                names = "--tracking-uri",
                paramLabel = "URI",
                description =
                        "MLflow server (default: MLFLOW_TRACKING_URI; none: the local model directory).")
        String trackingUri;

        @Option(
                names = "--models-dir",
                paramLabel = "DIR",
                description = "Cache / local model directory (default: QUIVER_HOME/models).")
        Path modelsDir;

        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            ResolvedModel m = resolver(trackingUri, modelsDir).resolve(uri);
            PrintWriter out = spec.commandLine().getOut();
            out.printf(
                    "%s -> models:/%s/%s (%s%s)%n  dir %s%n  model %s (%s, sha256 %s)%n  run %s%n",
                    uri,
                    m.name(),
                    m.version(),
                    m.origin(),
                    m.note().isEmpty() ? "" : ": " + m.note(),
                    m.dir(),
                    m.modelFile().getFileName(),
                    m.format().tag(),
                    m.sha256(),
                    m.runId());
            m.sidecar().ifPresent(s -> out.printf("  sidecar %s%n", s));
            out.flush();
            return 0;
        }
    }

    /** {@code quiver models as-of}. */
    @Command(
            name = "as-of",
            mixinStandardHelpOptions = true,
            description =
                    "Which version an alias pointed at, at a past time, as observed by a live"
                            + " service (the alias history in the state store).")
    static final class AsOf implements Callable<Integer> {
        @Parameters(paramLabel = "MODEL_URI", description = "models:/NAME@ALIAS")
        String uri;

        @Option(
                names = "--at",
                required = true,
                paramLabel = "TIME",
                description = "ISO-8601 instant, e.g. 2026-11-27T10:00:00Z.")
        String at;

        @Option(
                names = "--state-url",
                paramLabel = "JDBC_URL",
                description =
                        "The state store holding the alias history: jdbc:sqlite:FILE or"
                                + " jdbc:postgresql://host:port/db?user=U (default:"
                                + " QUIVER_STATE_URL, else SQLite QUIVER_HOME/state.db).")
        String stateUrl;

        @Option(
                names = "--models-dir",
                paramLabel = "DIR",
                description =
                        "Model cache whose alias-history.jsonl (from an earlier Quiver) is imported"
                                + " into an empty state store first (default:"
                                + " QUIVER_HOME/models).")
        Path modelsDir;

        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            String version = asOf(uri, at, stateUrl, modelsDir);
            spec.commandLine()
                    .getOut()
                    .printf(
                            "%s at %s -> models:/%s/%s%n",
                            uri, at, ModelUri.parse(uri).name(), version);
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    /**
     * The version an alias pointed at, at a time, from the alias history in the state store (an
     * {@code alias-history.jsonl} of an earlier Quiver in the model cache is imported into an empty
     * store first).
     *
     * @param uri {@code models:/NAME@ALIAS}
     * @param at ISO-8601 instant
     * @param stateUrl {@code --state-url}, or null for {@code QUIVER_STATE_URL}, else {@code
     *     QUIVER_HOME/state.db}
     * @param modelsDir the cache, or null for the default
     * @return the version number
     * @throws IllegalArgumentException if the URI names no alias, the time is malformed, or no move
     *     of that alias was observed at or before it
     */
    static String asOf(String uri, String at, String stateUrl, Path modelsDir) {
        ModelUri ref = ModelUri.parse(uri);
        if (ref.alias().isEmpty()) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] "
                            + uri
                            + " names a version, not an alias (models:/NAME@ALIAS)");
        }
        java.time.Instant t;
        try {
            t = java.time.Instant.parse(at);
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] --at '"
                            + at
                            + "' is not an ISO-8601 instant (e.g. 2026-11-27T10:00:00Z)");
        }
        Optional<String> url = StateStore.configuredUrl(stateUrl);
        if (url.isEmpty() && System.getProperty("quiver.home") == null) {
            throw new IllegalArgumentException(
                    "[Quiver/NO_HOME] the alias history is in the state store: pass --state-url"
                            + " (or set QUIVER_STATE_URL), or run through bin/quiver for"
                            + " QUIVER_HOME/state.db");
        }
        // QUIVER_HOME is only read without a URL.
        Path home = url.isPresent() ? Path.of("").toAbsolutePath() : HostOptions.home();
        try (StateStore store = StateStore.open(url, home)) {
            AliasHistory history = new AliasHistory(store);
            history.importFile(modelsDir(modelsDir));
            String name = ref.name();
            String alias = ref.alias().get();
            Optional<AliasHistory.Move> found = history.asOf(name, alias, t);
            if (found.isPresent()) {
                return found.get().to();
            }
            List<AliasHistory.Move> moves = history.moves(name, alias);
            throw new IllegalArgumentException(
                    "[Quiver/NO_ALIAS_HISTORY] "
                            + uri
                            + ": no move of that alias observed at or before "
                            + t
                            + " in the state store "
                            + history.where()
                            + (moves.isEmpty()
                                    ? " (never observed)"
                                    : " (first observed " + moves.get(0).observedAt() + ")"));
        }
    }

    static ModelResolver resolver(String trackingUri, Path modelsDir) {
        Optional<MlflowClient> client =
                HostOptions.trackingUri(trackingUri)
                        .map(
                                uri ->
                                        new MlflowClient(
                                                new MlflowHttp(
                                                        uri, MlflowHttp.Settings.defaults())));
        return new ModelResolver(client, modelsDir(modelsDir));
    }
}
