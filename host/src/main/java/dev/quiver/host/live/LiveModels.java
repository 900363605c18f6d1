package dev.quiver.host.live;

import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowException;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.registry.AliasHistory;
import dev.quiver.host.registry.AliasPollState;
import dev.quiver.host.registry.ModelRefusedException;
import dev.quiver.host.registry.ModelResolver;
import dev.quiver.host.registry.ModelUri;
import dev.quiver.host.registry.ResolvedModel;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves registered model versions to prediction capabilities and follows their aliases live.
 *
 * <p>At start, each {@link ModelBinding} is resolved (the registry, or the cache when the registry
 * is unreachable: the last version that passed every check for that alias, also across a restart)
 * and a new instance of the plugin's prediction is built with {@code <capability>.model=<sidecar>}
 * of that version ({@link ModelBinding#modelKey}, {@link PluginRuntime#newPrediction}); {@link
 * #install} puts the instances into a pipeline.
 *
 * <p>Then one poller thread ({@link #startPolling}), never on the decision path, asks the registry
 * where each alias points, every {@code pollInterval}; while the registry is unreachable it backs
 * off exponentially from a quarter of the interval up to {@code maxBackoff}, with jitter (a
 * uniformly random delay between half and all of the ceiling: "equal jitter", AWS Architecture
 * Blog, "Exponential Backoff and Jitter", 2015). When an alias moves, the move is recorded in the
 * {@link AliasHistory}, and the new version must pass, in order: download and verification
 * (checksum, size, format, containment: {@link ModelResolver}), a smoke file stored with it, the
 * smoke prediction in a child JVM ({@link SmokeCheck#inChildJvm}), the plugin building an instance
 * with it, and the smoke prediction on that instance in this JVM. Only then is it swapped in
 * ({@link PipelineHolder#swap}); the replaced instance is closed once the decisions that hold it
 * have finished. A version that fails any step never serves, is remembered as refused (not retried
 * until the alias moves elsewhere and back), and shows in {@link #status()}, the log and {@code
 * quiver_model_refusals_total{reason}}. Every attempt is bounded by {@code attemptTimeout} as a
 * whole, besides the registry client's own connect and read timeouts.
 *
 * <p>The parts: {@link BoundModel} (one binding's state and status), {@link VersionAdmission} (the
 * checks a version passes, and the swap), {@link AliasPoller} (the poller thread and its backoff),
 * {@link ModelMetrics} (the meters); this class starts them and is the service's handle.
 *
 * <p>Metrics: {@code quiver_model_swaps_total{result=ok|refused}}, {@code
 * quiver_model_refusals_total{reason}}, {@code quiver_model_polls_total{result}}, {@code
 * quiver_model_alias_to_serving_seconds} (from the poll that saw the move to the swap), {@code
 * quiver_model_instances_open} (model instances not yet closed).
 */
public final class LiveModels implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LiveModels.class);

    /**
     * Polling and checking limits.
     *
     * @param pollInterval time between two polls of an alias while the registry answers
     * @param maxBackoff longest wait between polls while the registry is unreachable
     * @param childTimeout how long the child JVM smoke check may take, start-up included
     * @param attemptTimeout how long one attempt (download, checks, build) may take in all
     */
    public record Settings(
            Duration pollInterval,
            Duration maxBackoff,
            Duration childTimeout,
            Duration attemptTimeout) {

        /** Validates. */
        public Settings {
            for (Duration d : List.of(pollInterval, maxBackoff, childTimeout, attemptTimeout)) {
                if (d.isNegative() || d.isZero()) {
                    throw new IllegalArgumentException(
                            "[Quiver/BAD_OPTION] poll settings must be positive durations: " + d);
                }
            }
        }

        /**
         * Poll every {@code pollInterval}; while the registry is unreachable back off from a
         * quarter of it to twice it (so a registry that is back is asked again within two poll
         * intervals: RELIABILITY.md P8); child 60 s, attempt 120 s.
         *
         * @param pollInterval poll interval
         * @return settings
         */
        public static Settings every(Duration pollInterval) {
            return new Settings(
                    pollInterval,
                    pollInterval.multipliedBy(2),
                    Duration.ofSeconds(60),
                    Duration.ofSeconds(120));
        }
    }

    private final PluginRuntime runtime;
    private final Optional<MlflowClient> client;
    private final ModelResolver resolver;
    private final AliasHistory history;
    private final MeterRegistry metrics;
    private final Settings settings;
    private final Clock clock;
    private final List<BoundModel> bound = new ArrayList<>();
    private final ExecutorService attempts =
            Executors.newSingleThreadExecutor(
                    r -> {
                        Thread t = new Thread(r, "quiver-model-loader");
                        t.setDaemon(true);
                        return t;
                    });
    private final ModelMetrics meters;
    private final VersionAdmission admission;
    private final AliasPoller aliases;
    private volatile Thread poller;
    private volatile PipelineHolder holder;
    private volatile boolean closed;

    private LiveModels(
            PluginRuntime runtime,
            Optional<MlflowClient> client,
            Path cacheDir,
            AliasHistory history,
            MeterRegistry metrics,
            Settings settings) {
        this.runtime = runtime;
        this.client = client;
        this.resolver = new ModelResolver(client, cacheDir);
        this.history = java.util.Objects.requireNonNull(history, "history");
        this.metrics = metrics;
        this.settings = settings;
        this.clock = Clock.systemUTC();
        this.meters = new ModelMetrics(metrics, runtime);
        this.admission =
                new VersionAdmission(runtime, resolver, settings, clock, meters, () -> holder);
        this.aliases =
                new AliasPoller(
                        bound,
                        client,
                        history,
                        admission,
                        attempts,
                        settings,
                        clock,
                        meters,
                        () -> closed);
    }

    /**
     * Resolves every binding and builds its serving instance.
     *
     * @param runtime started plugins (stays owned by the caller; must outlive this)
     * @param client the registry (with short timeouts: it is polled), or empty for the local model
     *     directory
     * @param cacheDir model cache (or local model directory)
     * @param history where the alias moves this service observes are recorded (the state store)
     * @param metrics where the {@code quiver_model_*} meters go
     * @param bindings what each capability serves
     * @param settings polling limits
     * @return the serving models
     * @throws IllegalArgumentException if a binding names no wired prediction, or its model cannot
     *     be served (refused, or the registry is unreachable and nothing is cached), with the
     *     reason
     */
    public static LiveModels open(
            PluginRuntime runtime,
            Optional<MlflowClient> client,
            Path cacheDir,
            AliasHistory history,
            MeterRegistry metrics,
            List<ModelBinding> bindings,
            Settings settings) {
        LiveModels live = new LiveModels(runtime, client, cacheDir, history, metrics, settings);
        try {
            for (ModelBinding b : bindings) {
                live.bind(b);
            }
        } catch (RuntimeException e) {
            live.close();
            throw e;
        }
        return live;
    }

    private void bind(ModelBinding b) {
        String pluginId =
                runtime.pluginOfPrediction(b.capability())
                        .orElseThrow(
                                () ->
                                        new IllegalArgumentException(
                                                "[Quiver/BAD_OPTION] --model "
                                                        + b
                                                        + ": no wired plugin provides prediction '"
                                                        + b.capability()
                                                        + "'"));
        if (bound.stream().anyMatch(x -> x.binding.capability().equals(b.capability()))) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] --model " + b + ": capability bound twice");
        }
        BoundModel s =
                new BoundModel(
                        b,
                        pluginId,
                        new AliasPollState(settings.pollInterval(), settings.maxBackoff()));
        bound.add(s);
        try {
            serveAtStart(s);
        } catch (RuntimeException e) {
            bound.remove(s);
            throw e;
        }
    }

    private void serveAtStart(BoundModel s) {
        ModelBinding b = s.binding;
        ModelUri uri = b.model();
        Instant now = clock.instant();
        s.lastPoll = now;
        List<String> tried = new ArrayList<>();
        if (client.isPresent() && uri.alias().isPresent()) {
            String target = null;
            try {
                target = aliases.aliasTarget(uri);
                s.lastPollResult = "alias at version " + target;
                s.seenVersion = target;
                s.seenAt = now;
                aliases.observe(s, target, now);
                s.seenRecorded = true;
            } catch (MlflowException e) {
                if (!e.unavailable() && !e.authFailed()) {
                    throw new IllegalArgumentException(
                            "[Quiver/MODEL_REFUSED] "
                                    + uri
                                    + ": the registry answered: "
                                    + e.getMessage(),
                            e);
                }
                // Unreachable, or refusing our credentials (AUTH_FAILED): the cache serves, and
                // the service says it is stale until a poll gets an answer.
                s.poll.startedStale(now, e.authFailed() ? "auth_failed" : "unavailable");
                s.lastPollResult =
                        (e.authFailed()
                                        ? "the registry refused the credentials: "
                                        : "registry unavailable: ")
                                + e.getMessage();
                LOG.warn(
                        "{}: {} at start ({}); serving from the cache",
                        uri,
                        e.authFailed()
                                ? "registry refused the credentials"
                                : "registry unavailable",
                        e.getMessage());
            }
            if (target != null) {
                try {
                    String outcome = admission.attempt(s, target, now, false);
                    if (outcome == null) {
                        return;
                    }
                    tried.add("version " + target + " refused: " + outcome);
                } catch (MlflowException e) {
                    tried.add("version " + target + " could not be downloaded: " + e.getMessage());
                }
            }
            // The last version that passed for this alias, from the cache.
            Optional<ResolvedModel> cached =
                    resolver.cached(uri.toString(), "registry unavailable or alias target refused");
            if (cached.isPresent() && !cached.get().version().equals(target)) {
                String outcome = admission.serveResolved(s, cached.get(), now, false);
                if (outcome == null) {
                    return;
                }
                tried.add("cached version " + cached.get().version() + " refused: " + outcome);
            } else if (cached.isEmpty()) {
                tried.add("no version of " + uri + " is cached in " + resolver.store().root());
            }
        } else {
            // A pinned version, or no registry (the local model directory).
            try {
                ResolvedModel m = resolver.resolve(uri.toString());
                String outcome = admission.serveResolved(s, m, now, false);
                if (outcome == null) {
                    return;
                }
                tried.add("version " + m.version() + " refused: " + outcome);
            } catch (ModelRefusedException e) {
                tried.add(e.getMessage());
            } catch (MlflowException e) {
                tried.add("registry unavailable and not cached: " + e.getMessage());
            }
        }
        throw new IllegalArgumentException(
                "[Quiver/MODEL_NOT_SERVABLE] --model "
                        + b
                        + ": nothing can serve it: "
                        + String.join("; ", tried));
    }

    /** A reason code for a refusal by the resolver (see {@link VersionAdmission#classify}). */
    static String classify(String reason) {
        return VersionAdmission.classify(reason);
    }

    /**
     * Replaces each bound capability in a pipeline by its serving instance, with its model as
     * provenance.
     *
     * @param base e.g. {@link Pipeline#of(PluginRuntime)}
     * @return the pipeline to serve
     */
    public Pipeline install(Pipeline base) {
        Pipeline.Builder b = base.toBuilder();
        for (BoundModel s : bound) {
            b.replacePrediction(s.binding.capability(), s.instance, s.served());
        }
        return b.build();
    }

    /**
     * Serves each binding's current version again after its plugin was replaced in a running
     * service: the plugin change took the bound instance out with the old plugin, and the new
     * plugin's own instance (its bundled model) serves until this has swapped a bound instance from
     * the new plugin back in, with every check a new version gets (the child-JVM smoke check runs
     * again: another build of the plugin). Asynchronous, on the model loader thread; the outcome
     * shows in {@code /v1/models} ({@code last_poll_result}) and the log.
     *
     * @param capabilities the prediction capabilities the plugin change wired anew
     */
    public void rebind(java.util.Collection<String> capabilities) {
        if (holder == null || closed) {
            return;
        }
        for (BoundModel s : bound) {
            ResolvedModel m = s.model;
            if (m == null || !capabilities.contains(s.binding.capability())) {
                continue;
            }
            attempts.execute(
                    () -> {
                        String r = admission.serveResolved(s, m, clock.instant(), true);
                        s.lastPollResult =
                                "plugin replaced: "
                                        + (r == null
                                                ? "models:/"
                                                        + m.name()
                                                        + "/"
                                                        + m.version()
                                                        + " serving again"
                                                : "version " + m.version() + " not served: " + r);
                        LOG.info("{}: {}", s.binding, s.lastPollResult);
                    });
        }
    }

    /**
     * Starts following the aliases: swaps go through {@code holder}, which must serve a pipeline
     * made by {@link #install}.
     *
     * @param holder the service's pipeline holder
     * @throws IllegalStateException if already polling
     */
    public synchronized void startPolling(PipelineHolder holder) {
        if (poller != null) {
            throw new IllegalStateException("already polling");
        }
        this.holder = holder;
        if (client.isEmpty()
                || bound.stream().noneMatch(s -> s.binding.model().alias().isPresent())) {
            return;
        }
        Instant first = clock.instant().plus(settings.pollInterval());
        bound.forEach(s -> s.nextPoll = first);
        Thread t = new Thread(aliases::pollLoop, "quiver-model-poller");
        t.setDaemon(true);
        poller = t;
        t.start();
    }

    /**
     * What each binding serves and how polling goes, for {@code GET /v1/models}, with the alias
     * moves observed ({@code alias_moves}, newest first) when the binding follows an alias.
     *
     * @return one JSON-ready map per binding
     */
    public List<Map<String, Object>> status() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (BoundModel s : bound) {
            Map<String, Object> m = s.status();
            s.binding
                    .model()
                    .alias()
                    .ifPresent(alias -> m.put("alias_moves", aliasMoves(s.binding, alias)));
            out.add(m);
        }
        return out;
    }

    /** The binding's alias moves this service observed, newest first, at most {@value #MOVES}. */
    private List<Map<String, Object>> aliasMoves(ModelBinding binding, String alias) {
        List<AliasHistory.Move> moves = history.moves(binding.model().name(), alias);
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = moves.size() - 1; i >= 0 && out.size() < MOVES; i--) {
            AliasHistory.Move m = moves.get(i);
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("observed_at", m.observedAt().toString());
            x.put("from", m.from().orElse(null));
            x.put("to", m.to());
            out.add(x);
        }
        return out;
    }

    /** Alias moves {@link #status()} lists per binding. */
    static final int MOVES = 20;

    /**
     * Whether some alias could not be checked lately, for {@code /health/ready}: the service keeps
     * serving the versions it has, and says since when they may be behind the registry.
     *
     * @return {@code stale_since} (the earliest), and per binding its requested URI, registry state
     *     and {@code stale_since}; empty while every alias poll gets an answer
     */
    public Optional<Map<String, Object>> staleness() {
        Instant earliest = null;
        List<Map<String, Object>> stale = new ArrayList<>();
        for (BoundModel s : bound) {
            Instant since = s.poll.staleSince().orElse(null);
            if (since == null) {
                continue;
            }
            earliest = earliest == null || since.isBefore(earliest) ? since : earliest;
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("requested", s.binding.requested());
            m.put("registry", s.poll.registryState());
            m.put("stale_since", since.toString());
            m.put("serving_version", s.model.version());
            stale.add(m);
        }
        if (earliest == null) {
            return Optional.empty();
        }
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        out.put("stale_since", earliest.toString());
        out.put("bindings", stale);
        return Optional.of(out);
    }

    /**
     * Model instances built and not yet closed (the serving ones, plus retired ones whose decisions
     * have not finished).
     *
     * @return the count
     */
    public int openInstances() {
        return runtime.openInstances();
    }

    /** The alias history this service records to. */
    public AliasHistory history() {
        return history;
    }

    /**
     * Stops polling and closes the serving instances. Call after the HTTP server has stopped (no
     * decision may hold them).
     */
    /** Stops the poller (an attempt in progress is interrupted); idempotent. */
    public void stopPolling() {
        closed = true;
        Thread t = poller;
        if (t != null) {
            t.interrupt();
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        attempts.shutdownNow();
        try {
            attempts.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops polling and closes the serving instances. Call after the HTTP server has stopped (no
     * decision may hold them).
     */
    @Override
    public void close() {
        stopPolling();
        for (BoundModel s : bound) {
            PredictionCapability p = s.instance;
            if (p != null) {
                p.close();
            }
        }
    }
}
