package dev.quiver.host.cli;

import dev.quiver.host.data.BundledData;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.registry.ModelRegistrar;
import dev.quiver.host.training.SourceTrainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * and registers the model as a new version (tags, smoke cases recorded on another series): {@link
 * SourceTrainer}, which the training job kind {@code train-source} runs too.
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
        BundledData data = bundled("--dataset", dataset);
        BundledData smoke = bundled("--smoke-dataset", smokeDataset());
        Path dir =
                outDir != null
                        ? Files.createDirectories(outDir)
                        : Files.createTempDirectory("quiver-train-");
        Optional<SourceTrainer.Registration> registration =
                HostOptions.trackingUri(trackingUri)
                        .map(
                                uri ->
                                        new SourceTrainer.Registration(
                                                new ModelRegistrar(
                                                        ModelsCommand.client(trackingUri)),
                                                name != null ? name : "quiver-" + source,
                                                aliases,
                                                Map.of()));
        try (PluginRuntime runtime =
                PluginRuntime.start(host.pluginsDir(), host.batchConfiguration())) {
            err.printf("train: fitting %s on the last %d bars of %s%n", source, trainBars, dataset);
            err.flush();
            SourceTrainer.Trained t =
                    SourceTrainer.train(
                            runtime,
                            new SourceTrainer.Request(
                                    source, data, trainBars, dir, smoke, "--source"),
                            registration);
            out.printf("model   %s%nsidecar %s%n", t.model(), t.sidecar());
            out.printf(
                    "trained on %s %s..%s (%d rows), %d rounds, validation log-loss %.4f%n",
                    t.series(), t.firstBar(), t.lastBar(), t.rows(), t.rounds(), t.validLogLoss());
            if (t.registered().isEmpty()) {
                out.println("not registered: no --tracking-uri (or MLFLOW_TRACKING_URI)");
                out.flush();
                return 0;
            }
            var r = t.registered().get();
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
