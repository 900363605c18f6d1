package dev.quiver.host.bench;

import dev.quiver.api.market.Bar;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.session.AliasFollower;
import dev.quiver.host.session.ServedStrategy;
import dev.quiver.host.session.SessionManager;
import dev.quiver.host.session.StrategyCatalog;
import dev.quiver.host.store.AccountMode;
import dev.quiver.host.store.StateStore;
import dev.quiver.host.strategy.BundleRegistrar;
import dev.quiver.host.strategy.StrategyBundle;
import dev.quiver.host.strategy.StrategyResolver;
import dev.quiver.host.strategy.StrategySmoke;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Alias move to first decision for strategy bundles, against a real MLflow registry: the time from
 * the moment {@code NAME@ALIAS} is moved to another version until a live session's decision is made
 * by that version (and names it).
 *
 * <p>Set-up: the bundle is registered twice as versions of a fresh registered model {@code
 * quiver-bench-alias-<millis>} (with its smoke cases recorded on the bundled BTC bars, as {@code
 * strategy fit --register} does; the same files, so both versions decide alike: what is timed is
 * the mechanism, not a model). An in-process service serves {@code models:/NAME@bench}, follows the
 * alias every {@code poll} ({@link AliasFollower}, as {@code serve}) and has one paper session on
 * BTC-USD 4h. Each move: {@code setAlias} returns (clock starts), the service notices at its next
 * poll, resolves, downloads (first move to a version) or reads its verified cache, verifies, loads,
 * checks and swaps the bundle ({@link ServedStrategy#serve}); as soon as the session has swapped to
 * it (checked every 2 ms) one bar is posted to the session and its decision must name that version
 * (clock stops). So the figure includes up to one poll interval of waiting: with a 1 s poll expect
 * 0 to 1 s plus the swap.
 */
public final class AliasMoveBench {

    private AliasMoveBench() {}

    /**
     * The moves.
     *
     * @param registeredModel the registered model the bench created
     * @param poll the service's poll interval
     * @param moveMillis each move's time, alias set to first decision by the new version, ms
     */
    public record Result(String registeredModel, Duration poll, double[] moveMillis) {

        /**
         * The median move.
         *
         * @return ms
         */
        public double p50() {
            double[] s = moveMillis.clone();
            Arrays.sort(s);
            return s.length == 0 ? Double.NaN : s[s.length / 2];
        }
    }

    /**
     * Runs the bench.
     *
     * @param client the MLflow registry (a real server)
     * @param bundleDir the bundle to register (the distribution's embedded one)
     * @param plugins the loaded plugins
     * @param btc the bundled BTC-USD 4h bars
     * @param work a scratch folder (state store, model cache)
     * @param poll the alias poll interval
     * @param moves moves to time, in {@code [1, 100]}, alternating between the two versions
     * @param log progress lines
     * @return the figures
     * @throws IllegalStateException if a move is not served within 60 s, or a decision names
     *     another bundle than the one the alias points at
     */
    public static Result run(
            MlflowClient client,
            Path bundleDir,
            PluginRuntime plugins,
            BarData btc,
            Path work,
            Duration poll,
            int moves,
            PrintStream log)
            throws InterruptedException {
        StrategyBundle bundle = StrategyBundle.open(bundleDir);
        int fitted = 0;
        while (fitted < btc.size()
                && btc.startMillis[fitted] < bundle.servesFrom().toEpochMilli()) {
            fitted++;
        }
        StrategySmoke.Window w = StrategySmoke.casesFor(btc, fitted, bundle.servesFrom(), 8);
        StrategySmoke smoke =
                StrategySmoke.record(
                        bundle,
                        plugins,
                        btc,
                        w,
                        StrategySmoke.DEFAULT_WARM_UP,
                        StrategySmoke.DEFAULT_TOLERANCE);
        Path smokeFile = work.resolve(StrategySmoke.FILE_NAME);
        try {
            smoke.write(smokeFile);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + smokeFile, e);
        }
        String name = "quiver-bench-alias-" + System.currentTimeMillis();
        BundleRegistrar registrar = new BundleRegistrar(client);
        String[] versions = new String[2];
        for (int v = 0; v < 2; v++) {
            versions[v] =
                    registrar
                            .register(
                                    "quiver-bench",
                                    name,
                                    bundle,
                                    smokeFile,
                                    Optional.empty(),
                                    Map.of("bench", "alias-move"),
                                    v == 0 ? List.of("bench") : List.of())
                            .version();
        }
        log.printf("bench: registered %s versions %s and %s%n", name, versions[0], versions[1]);
        String uri = "models:/" + name + "@bench";
        StrategyResolver resolver =
                new StrategyResolver(Optional.of(client), work.resolve("models"));
        StrategyBundle first = resolver.resolve(uri).bundle();
        Path stateDir = work.resolve("state");
        try (StateStore store =
                StateStore.open(
                        Optional.of("jdbc:sqlite:" + stateDir.resolve("state.db")), stateDir)) {
            StrategyCatalog.Folders catalog =
                    StrategyCatalog.folders(
                            first,
                            plugins,
                            id ->
                                    id.contains("/") && !Path.of(id).isAbsolute()
                                            ? resolver.resolve("models:/" + id).bundle()
                                            : StrategyBundle.open(Path.of(id)));
            SessionManager sessions = new SessionManager(store, catalog, Clock.systemUTC());
            ServedStrategy served =
                    new ServedStrategy(catalog, sessions, Optional.empty(), Clock.systemUTC());
            ScheduledExecutorService poller =
                    AliasFollower.follow(uri, resolver, served, plugins, poll);
            try {
                // the last bars: the embedded bundle is fitted on the whole series, so these are
                // inside its span (what a decision is made of does not change what is timed)
                int from = btc.size() - (moves + 2);
                List<Bar> warmup = new ArrayList<>();
                for (int i = 0; i < from; i++) {
                    warmup.add(btc.bar(i));
                }
                sessions.open(
                        new SessionManager.OpenRequest(
                                "BENCH-ALIAS",
                                "bench-alias",
                                "USD",
                                10_000,
                                AccountMode.PAPER,
                                btc.period(),
                                10,
                                null,
                                warmup));
                int next = from;
                sessions.bars("BENCH-ALIAS", List.of(btc.bar(next++)));
                double[] ms = new double[moves];
                for (int k = 0; k < moves; k++) {
                    String target = versions[(k + 1) % 2];
                    String id = name + "/" + target;
                    long t0 = System.nanoTime();
                    client.setAlias(name, "bench", target);
                    // served first, then the session swapped (between two of its bars)
                    while (!served.bundle().id().equals(id) || !sessionOn(sessions, id)) {
                        if (System.nanoTime() - t0 > 60_000_000_000L) {
                            throw new IllegalStateException(
                                    "alias move to "
                                            + id
                                            + " not served within 60 s; refusals: "
                                            + served.refusals());
                        }
                        Thread.sleep(2);
                    }
                    Map<String, Object> d = sessions.bars("BENCH-ALIAS", List.of(btc.bar(next++)));
                    long t1 = System.nanoTime();
                    @SuppressWarnings("unchecked")
                    Map<String, Object> provenance = (Map<String, Object>) d.get("provenance");
                    if (!id.equals(provenance.get("bundle"))) {
                        throw new IllegalStateException(
                                "the first decision after the move names "
                                        + provenance.get("bundle")
                                        + ", not "
                                        + id);
                    }
                    ms[k] = (t1 - t0) / 1e6;
                    log.printf(
                            java.util.Locale.ROOT,
                            "bench: alias move %d -> %s: first decision by it after %.0f ms%n",
                            k + 1,
                            id,
                            ms[k]);
                }
                return new Result(name, poll, ms);
            } finally {
                poller.shutdownNow();
                sessions.close();
            }
        }
    }

    /** Whether the bench's session decides with bundle {@code id} now. */
    private static boolean sessionOn(SessionManager sessions, String id) {
        @SuppressWarnings("unchecked")
        Map<String, Object> strategy =
                (Map<String, Object>) sessions.state("BENCH-ALIAS").get("strategy");
        return id.equals(strategy.get("bundle"));
    }

    /**
     * The bench's row: measured when a tracking URI is given, else skipped with the reason (a
     * registry is needed, and the bench does not start one: a user's MLflow, or the one {@code
     * mlflow/server.sh} starts, is named with {@code --tracking-uri} or {@code
     * MLFLOW_TRACKING_URI}).
     *
     * @param trackingUri the MLflow server, if any
     * @param bundleDir the bundle to register
     * @param plugins the loaded plugins
     * @param moves moves to time
     * @param log progress lines
     * @return the result, or why it was skipped
     */
    public static Outcome runOrSkip(
            Optional<String> trackingUri,
            Path bundleDir,
            PluginRuntime plugins,
            int moves,
            PrintStream log) {
        if (moves < 1) {
            return new Outcome(null, "--alias-moves 0");
        }
        if (trackingUri.isEmpty()) {
            return new Outcome(
                    null,
                    "no MLflow registry: give --tracking-uri URI or MLFLOW_TRACKING_URI (a real"
                            + " server; mlflow/server.sh starts one on 127.0.0.1)");
        }
        Path work = null;
        try {
            work = java.nio.file.Files.createTempDirectory("quiver-alias-bench-");
            log.println("bench: alias move to first decision, registry " + trackingUri.get());
            MlflowClient client =
                    new MlflowClient(
                            new dev.quiver.host.mlflow.MlflowHttp(
                                    trackingUri.get(),
                                    dev.quiver.host.mlflow.MlflowHttp.Settings.defaults()));
            return new Outcome(
                    run(
                            client,
                            bundleDir,
                            plugins,
                            dev.quiver.host.data.BundledData.BTC_USD_4H.load(),
                            work,
                            Duration.ofSeconds(1),
                            moves,
                            log),
                    null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(null, "interrupted");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a work folder for the alias bench", e);
        }
    }

    /**
     * The row's outcome.
     *
     * @param result the figures, or null when skipped
     * @param skipped why it was skipped, or null
     */
    public record Outcome(Result result, String skipped) {

        /**
         * The printed line.
         *
         * @return e.g. {@code alias move to first decision (bundles, poll 1 s): p50 812 ms ...}
         */
        public String line() {
            if (result == null) {
                return "alias move to first decision (strategy bundles): skipped: " + skipped;
            }
            double[] ms = result.moveMillis();
            double min = Arrays.stream(ms).min().orElse(Double.NaN);
            double max = Arrays.stream(ms).max().orElse(Double.NaN);
            return String.format(
                    java.util.Locale.ROOT,
                    "alias move to first decision (strategy bundles, poll %d ms, %s): p50 %.0f ms,"
                            + " min %.0f ms, max %.0f ms over %d moves (includes the wait for the"
                            + " next poll)",
                    result.poll().toMillis(),
                    result.registeredModel(),
                    result.p50(),
                    min,
                    max,
                    ms.length);
        }
    }
}
