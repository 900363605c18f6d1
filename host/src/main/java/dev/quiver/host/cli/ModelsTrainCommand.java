package dev.quiver.host.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.live.ModelBinding;
import dev.quiver.host.live.SmokeCheck;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.registry.ModelRegistrar;
import dev.quiver.host.registry.SmokeSet;
import dev.quiver.host.web.SourceFitting;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code quiver models train}: fits a trainable prediction source (e.g. {@code xgboost}, {@code
 * lightgbm}) on the last labelled bars of a bundled series, exports its model through {@code
 * PredictionCapability.exportModel}, and, with a tracking URI, logs the training as an MLflow run
 * and registers the model as a new version (tags, smoke cases recorded on another series).
 */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Train a source that is fitted in Java (xgboost, lightgbm) on the last --train-bars"
                    + " labelled bars of a bundled series, write its model and sidecar, and with"
                    + " --tracking-uri log the training run and register the model as a new"
                    + " version (smoke cases recorded on --smoke-dataset)."
        })
final class ModelsTrainCommand implements Callable<Integer> {

    @Option(
            names = "--source",
            required = true,
            paramLabel = "NAME",
            description = "The prediction capability to train, e.g. xgboost or lightgbm.")
    String source;

    @Option(
            names = "--dataset",
            defaultValue = "btc-usd-4h",
            paramLabel = "ID",
            description = "Bundled series to train on (default: ${DEFAULT-VALUE}).")
    String dataset;

    @Option(
            names = "--train-bars",
            defaultValue = "1000",
            paramLabel = "N",
            description = "Training window: the series' last N labelled bars (default: 1000).")
    int trainBars;

    @Option(
            names = "--out",
            paramLabel = "DIR",
            description =
                    "Folder for the model file and sidecar (default: a new temporary folder).")
    Path outDir;

    @Option(
            names = "--tracking-uri",
            paramLabel = "URI",
            description =
                    "MLflow server: log the training and register the model (default:"
                            + " MLFLOW_TRACKING_URI; neither: only write the files).")
    String trackingUri;

    @Option(
            names = "--name",
            paramLabel = "NAME",
            description = "Registered model name (default: quiver-<source>).")
    String name;

    @Option(
            names = "--alias",
            paramLabel = "ALIAS",
            description = "Point this alias at the new version (repeatable).")
    List<String> aliases = List.of();

    @Option(
            names = "--smoke-dataset",
            paramLabel = "ID",
            description =
                    "Bundled series whose last bars become the version's smoke cases; not the"
                            + " training series, whose bars up to the last training bar the model"
                            + " declines (default: sp500-daily, or nasdaq-daily when training on"
                            + " sp500-daily).")
    String smokeDataset;

    /** The smoke series: as given, else one the model was not trained on. */
    String smokeDataset() {
        if (smokeDataset != null) {
            return smokeDataset;
        }
        return dataset.equals(BundledData.SP500_DAILY.id())
                ? BundledData.NASDAQ_DAILY.id()
                : BundledData.SP500_DAILY.id();
    }

    @Mixin HostOptions host;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        BarData bars = bundled("--dataset", dataset).load();
        Path dir =
                outDir != null
                        ? Files.createDirectories(outDir)
                        : Files.createTempDirectory("quiver-train-");
        try (PluginRuntime runtime =
                PluginRuntime.start(host.pluginsDir(), host.batchConfiguration())) {
            PredictionCapability p =
                    runtime.predictions().stream()
                            .filter(c -> c.descriptor().name().equals(source))
                            .findFirst()
                            .orElseThrow(
                                    () ->
                                            new IllegalArgumentException(
                                                    "[Quiver/BAD_OPTION] --source "
                                                            + source
                                                            + ": no wired prediction of that name"
                                                            + " (wired: "
                                                            + runtime.predictions().stream()
                                                                    .map(c -> c.descriptor().name())
                                                                    .toList()
                                                            + ")"));
            String pluginId = PluginRuntime.pluginIdOf(p).orElseThrow();
            err.printf("train: fitting %s on the last %d bars of %s%n", source, trainBars, dataset);
            err.flush();
            String outcome = SourceFitting.fit(List.of(p), bars, trainBars).get(source);
            if (outcome.startsWith("fit failed")) {
                throw new IllegalStateException(
                        "[Quiver/TRAINING_FAILED] " + source + ": " + outcome);
            }
            List<Path> files;
            try {
                files = p.exportModel(dir);
            } catch (UnsupportedOperationException e) {
                throw new IllegalArgumentException(
                        "[Quiver/BAD_OPTION] --source "
                                + source
                                + ": "
                                + e.getMessage()
                                + " (only sources fitted in Java export one; the LSTM and CatBoost"
                                + " are trained by mlflow/train/*.py)",
                        e);
            }
            Path model = files.get(0);
            Path sidecar = files.get(1);
            JsonNode s = new ObjectMapper().readTree(sidecar.toFile());
            JsonNode t = s.path("training");
            out.printf("model   %s%nsidecar %s%n", model, sidecar);
            out.printf(
                    "trained on %s %s..%s (%d rows), %d rounds, validation log-loss %.4f%n",
                    t.path("series").asText(),
                    t.path("first_bar").asText(),
                    t.path("last_bar").asText(),
                    t.path("rows").asInt(),
                    s.path("rounds").asInt(),
                    s.path("valid_log_loss").asDouble());
            if (HostOptions.trackingUri(trackingUri).isEmpty()) {
                out.println("not registered: no --tracking-uri (or MLFLOW_TRACKING_URI)");
                out.flush();
                return 0;
            }
            // The smoke cases come from the exported files, as a live service would load them.
            SmokeSet smoke;
            try (PredictionCapability pinned =
                    runtime.newPrediction(
                                    source,
                                    Map.of(ModelBinding.modelKey(source), sidecar.toString()))
                            .prediction()) {
                smoke =
                        SmokeCheck.record(
                                pinned,
                                pluginId,
                                bundled("--smoke-dataset", smokeDataset()),
                                8,
                                1e-5);
            }
            Path smokeFile = dir.resolve(SmokeSet.FILE_NAME);
            smoke.write(smokeFile);
            Map<String, String> params = new LinkedHashMap<>();
            params.put("source", source);
            params.put("plugin", pluginId);
            params.put("dataset", dataset);
            params.put("train_bars", Integer.toString(trainBars));
            params.put("library", s.path("library").asText());
            Map<String, Double> metrics = new LinkedHashMap<>();
            metrics.put("valid_log_loss", s.path("valid_log_loss").asDouble());
            metrics.put("rounds", s.path("rounds").asDouble());
            metrics.put("rows", t.path("rows").asDouble());
            String registered = name != null ? name : "quiver-" + source;
            var r =
                    new ModelRegistrar(ModelsCommand.client(trackingUri))
                            .register(
                                    registered,
                                    model,
                                    Optional.of(sidecar),
                                    Optional.of(smokeFile),
                                    aliases,
                                    new ModelRegistrar.Training(
                                            "train " + source, params, metrics));
            out.printf("registered models:/%s/%s (run %s)%n", r.name(), r.version(), r.runId());
            for (String a : aliases) {
                out.printf("  @%s -> %s%n", a, r.version());
            }
            out.flush();
            return 0;
        }
    }

    private static BundledData bundled(String option, String id) {
        return BundledData.byId(id)
                .orElseThrow(
                        () ->
                                new IllegalArgumentException(
                                        "[Quiver/BAD_OPTION] "
                                                + option
                                                + " "
                                                + id
                                                + " is not one of "
                                                + BundledData.ids()));
    }
}
