package dev.quiver.host.training;

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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Trains a prediction source that is fitted in Java ({@code xgboost}, {@code lightgbm}) on the last
 * labelled bars of a bundled series, exports its model through {@code
 * PredictionCapability.exportModel} and, when asked, registers it as a new version: one MLflow run
 * with the training's parameters and figures, the version tagged (sha256, format, schema hash,
 * training span, data set) with smoke cases recorded, by the exported files served pinned, on
 * another series. What {@code quiver models train} and the job kind {@code train-source} both do.
 */
public final class SourceTrainer {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Smoke cases recorded per registered version. */
    public static final int SMOKE_CASES = 8;

    /** Tolerance stored with the smoke cases. */
    public static final double SMOKE_TOLERANCE = 1e-5;

    private SourceTrainer() {}

    /**
     * What to train.
     *
     * @param source the prediction capability's name, e.g. {@code xgboost}
     * @param dataset the bundled series to train on
     * @param trainBars the training window: the series' last N labelled bars, {@code >= 1}
     * @param out the folder the model file and sidecar go to (created if missing)
     * @param smokeDataset the series whose last bars become the smoke cases (not the training one:
     *     a model declines its own training bars)
     * @param field how the caller names the source in errors, e.g. {@code --source} or {@code
     *     source}
     */
    public record Request(
            String source,
            BundledData dataset,
            int trainBars,
            Path out,
            BundledData smokeDataset,
            String field) {

        /** Checks the values. */
        public Request {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(dataset, "dataset");
            Objects.requireNonNull(out, "out");
            Objects.requireNonNull(smokeDataset, "smokeDataset");
            Objects.requireNonNull(field, "field");
            if (trainBars < 1) {
                throw new IllegalArgumentException("trainBars must be >= 1, was " + trainBars);
            }
        }
    }

    /**
     * Where to register.
     *
     * @param registrar the registry
     * @param name the registered model's name
     * @param aliases the aliases to point at the new version
     * @param params more run parameters (e.g. {@code training_job}), beside the training's own
     */
    public record Registration(
            ModelRegistrar registrar,
            String name,
            List<String> aliases,
            Map<String, String> params) {

        /** Copies the lists. */
        public Registration {
            Objects.requireNonNull(registrar, "registrar");
            Objects.requireNonNull(name, "name");
            aliases = List.copyOf(aliases);
            params = Map.copyOf(params);
        }
    }

    /**
     * A trained source.
     *
     * @param model the model file
     * @param sidecar its sidecar (the JSON the plugin loads)
     * @param pluginId the plugin that trained and serves it
     * @param series the training series' name
     * @param firstBar the first training bar (ISO-8601)
     * @param lastBar the last training bar (ISO-8601)
     * @param rows training rows
     * @param rounds boosting rounds kept (early stopping)
     * @param validLogLoss log-loss on the validation slice
     * @param library the training library and version
     * @param registered the registered version, when asked
     */
    public record Trained(
            Path model,
            Path sidecar,
            String pluginId,
            String series,
            String firstBar,
            String lastBar,
            int rows,
            int rounds,
            double validLogLoss,
            String library,
            Optional<ModelRegistrar.Registered> registered) {}

    /**
     * The default smoke series: S&P 500 daily, or NASDAQ daily when training on S&P 500.
     *
     * @param trainedOn the training series
     * @return a series the model was not trained on
     */
    public static BundledData defaultSmokeDataset(BundledData trainedOn) {
        return trainedOn == BundledData.SP500_DAILY
                ? BundledData.NASDAQ_DAILY
                : BundledData.SP500_DAILY;
    }

    /**
     * Trains, exports and (when asked) registers.
     *
     * @param runtime the plugins (the source's plugin among them)
     * @param r what to train
     * @param registration where to register, or empty for files only
     * @return the trained source
     * @throws IllegalArgumentException naming {@code r.field()} if no wired prediction has that
     *     name or the source has no model to export (only sources fitted in Java export one)
     * @throws IllegalStateException {@code TRAINING_FAILED} if the fit failed
     * @throws IOException if a file cannot be written or read
     */
    public static Trained train(
            PluginRuntime runtime, Request r, Optional<Registration> registration)
            throws IOException {
        PredictionCapability p =
                runtime.predictions().stream()
                        .filter(c -> c.descriptor().name().equals(r.source()))
                        .findFirst()
                        .orElseThrow(
                                () ->
                                        new IllegalArgumentException(
                                                "[Quiver/BAD_OPTION] "
                                                        + r.field()
                                                        + " "
                                                        + r.source()
                                                        + ": no wired prediction of that name"
                                                        + " (wired: "
                                                        + runtime.predictions().stream()
                                                                .map(c -> c.descriptor().name())
                                                                .toList()
                                                        + ")"));
        String pluginId = PluginRuntime.pluginIdOf(p).orElseThrow();
        BarData bars = r.dataset().load();
        Files.createDirectories(r.out());
        String outcome = SourceFitting.fit(List.of(p), bars, r.trainBars()).get(r.source());
        if (outcome.startsWith("fit failed")) {
            throw new IllegalStateException(
                    "[Quiver/TRAINING_FAILED] " + r.source() + ": " + outcome);
        }
        List<Path> files;
        try {
            files = p.exportModel(r.out());
        } catch (UnsupportedOperationException e) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] "
                            + r.field()
                            + " "
                            + r.source()
                            + ": "
                            + e.getMessage()
                            + " (only sources fitted in Java export one; the LSTM and CatBoost"
                            + " are trained by mlflow/train/*.py)",
                    e);
        }
        Path model = files.get(0);
        Path sidecar = files.get(1);
        JsonNode s = JSON.readTree(sidecar.toFile());
        JsonNode t = s.path("training");
        Optional<ModelRegistrar.Registered> registered = Optional.empty();
        if (registration.isPresent()) {
            Registration reg = registration.get();
            // The smoke cases come from the exported files, as a live service would load them.
            SmokeSet smoke;
            try (PredictionCapability pinned =
                    runtime.newPrediction(
                                    r.source(),
                                    Map.of(ModelBinding.modelKey(r.source()), sidecar.toString()))
                            .prediction()) {
                smoke =
                        SmokeCheck.record(
                                pinned, pluginId, r.smokeDataset(), SMOKE_CASES, SMOKE_TOLERANCE);
            }
            Path smokeFile = r.out().resolve(SmokeSet.FILE_NAME);
            smoke.write(smokeFile);
            Map<String, String> params = new LinkedHashMap<>();
            params.put("source", r.source());
            params.put("plugin", pluginId);
            params.put("dataset", r.dataset().id());
            params.put("train_bars", Integer.toString(r.trainBars()));
            params.put("library", s.path("library").asText());
            params.putAll(reg.params());
            Map<String, Double> metrics = new LinkedHashMap<>();
            metrics.put("valid_log_loss", s.path("valid_log_loss").asDouble());
            metrics.put("rounds", s.path("rounds").asDouble());
            metrics.put("rows", t.path("rows").asDouble());
            registered =
                    Optional.of(
                            reg.registrar()
                                    .register(
                                            reg.name(),
                                            model,
                                            Optional.of(sidecar),
                                            Optional.of(smokeFile),
                                            reg.aliases(),
                                            new ModelRegistrar.Training(
                                                    "train " + r.source(), params, metrics)));
        }
        return new Trained(
                model,
                sidecar,
                pluginId,
                t.path("series").asText(),
                t.path("first_bar").asText(),
                t.path("last_bar").asText(),
                t.path("rows").asInt(),
                s.path("rounds").asInt(),
                s.path("valid_log_loss").asDouble(),
                s.path("library").asText(),
                registered);
    }
}
