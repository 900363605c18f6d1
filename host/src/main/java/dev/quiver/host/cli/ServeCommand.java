package dev.quiver.host.cli;

import dev.quiver.host.data.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowHttp;
import dev.quiver.host.plugin.PluginRefusal;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.registry.ModelResolver;
import dev.quiver.host.rollout.LiveRollouts;
import dev.quiver.host.rollout.RolloutManager;
import dev.quiver.host.rollout.RolloutStore;
import dev.quiver.host.web.QuiverServer;
import dev.quiver.host.web.SourceFitting;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
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
            description = "Address to bind (default: ${DEFAULT-VALUE}, local only).")
    String bindHost;

    @Option(
            names = "--max-position",
            defaultValue = "1.0",
            description =
                    "Risk-guard cap, fraction of equity in (0, 1] (default: ${DEFAULT-VALUE}).")
    double maxPosition;

    @Option(
            names = "--rollouts-dir",
            paramLabel = "DIR",
            description =
                    "Rollout state and audit log (default: QUIVER_HOME/rollouts); rollouts saved"
                            + " there resume on start.")
    Path rolloutsDir;

    @Option(
            names = "--tracking-uri",
            paramLabel = "URI",
            description =
                    "MLflow registry for model-version rollouts (their aliases follow the rollout)."
                            + " Default: MLFLOW_TRACKING_URI if set, else the local --models-dir.")
    String trackingUri;

    @Option(
            names = "--models-dir",
            paramLabel = "DIR",
            description = "Model cache / local model directory (default: QUIVER_HOME/models).")
    Path modelsDir;

    @Mixin HostOptions host;

    @Spec CommandSpec spec;

    private Optional<MlflowClient> registry() {
        String uri = trackingUri;
        if (uri == null || uri.isBlank()) {
            uri = System.getenv("MLFLOW_TRACKING_URI");
        }
        return uri == null || uri.isBlank()
                ? Optional.empty()
                : Optional.of(
                        new MlflowClient(new MlflowHttp(uri, MlflowHttp.Settings.defaults())));
    }

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        // Live service: plugin calls keep their own threads and deadlines (the default isolation).
        PluginRuntime plugins = PluginRuntime.start(host.pluginsDir(), host.configuration());
        for (PluginRefusal r : plugins.refusals()) {
            err.println("warning: " + r.message());
        }
        err.flush();
        if (!fitOn.equals("none")) {
            BarData history =
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
                    .forEach((name, what) -> err.println("serve: source '" + name + "' " + what));
            err.flush();
        }
        QuiverServer server;
        LiveRollouts rollouts;
        try {
            ModelResolver resolver = ModelsCommand.resolver(trackingUri, modelsDir);
            Path dir = rolloutsDir != null ? rolloutsDir : HostOptions.home().resolve("rollouts");
            RolloutManager manager =
                    RolloutManager.open(new RolloutStore(dir), registry(), Clock.systemUTC());
            rollouts =
                    LiveRollouts.open(
                            manager,
                            host.pluginsDir(),
                            host.configuration(),
                            Optional.of(resolver),
                            dir.resolve("variants"));
            for (LiveRollouts.Active a : rollouts.active()) {
                err.printf(
                        "serve: rollout %s resumed in %s%n",
                        a.controller().id(), a.controller().stage().id());
            }
            err.flush();
        } catch (RuntimeException e) {
            plugins.close();
            throw e;
        }
        try {
            server =
                    QuiverServer.start(plugins, bindHost, port, maxPosition, Optional.of(rollouts));
        } catch (RuntimeException e) {
            rollouts.close();
            plugins.close();
            throw e;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook =
                new Thread(
                        () -> {
                            server.close();
                            rollouts.close();
                            plugins.close();
                            stopped.countDown();
                        },
                        "quiver-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        out.printf("quiver serve: listening on http://%s:%d/%n", bindHost, server.port());
        out.flush();
        stopped.await();
        return 0;
    }
}
