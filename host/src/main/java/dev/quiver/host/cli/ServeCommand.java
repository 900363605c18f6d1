package dev.quiver.host.cli;

import dev.quiver.host.data.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.plugin.PluginRefusal;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.web.QuiverServer;
import dev.quiver.host.web.SourceFitting;
import java.io.PrintWriter;
import java.time.Duration;
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
            description = "Address to bind (default: ${DEFAULT-VALUE}, local only).")
    String bindHost;

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

    @Mixin HostOptions host;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (watchIntervalMillis < 0 || (watchIntervalMillis > 0 && watchIntervalMillis < 10)) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] --watch-interval-ms must be 0 (off) or at least 10, was "
                            + watchIntervalMillis);
        }
        // Live service: plugin calls keep their own threads and deadlines (the default isolation).
        PluginRuntime plugins = PluginRuntime.start(host.pluginsDir(), host.configuration());
        for (PluginRefusal r : plugins.refusals()) {
            err.println("warning: " + r.message());
        }
        err.flush();
        BarData history = null;
        if (!fitOn.equals("none")) {
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
                    .forEach((name, what) -> err.println("serve: source '" + name + "' " + what));
            err.flush();
        }
        QuiverServer server;
        try {
            server = QuiverServer.start(plugins, bindHost, port, maxPosition);
        } catch (RuntimeException e) {
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
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook =
                new Thread(
                        () -> {
                            server.close();
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
