package dev.quiver.host.live;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowException;
import dev.quiver.host.plugin.LoadedPlugin;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.registry.AliasHistory;
import dev.quiver.host.registry.ModelRefusedException;
import dev.quiver.host.registry.ModelResolver;
import dev.quiver.host.registry.ModelStore;
import dev.quiver.host.registry.ModelUri;
import dev.quiver.host.registry.ResolvedModel;
import dev.quiver.host.registry.SmokeSet;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
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
 * off exponentially up to {@code maxBackoff}, with jitter (a uniformly random delay between half
 * and all of the ceiling: "equal jitter", AWS Architecture Blog, "Exponential Backoff and Jitter",
 * 2015). When an alias moves, the move is recorded in the {@link AliasHistory}, and the new version
 * must pass, in order: download and verification (checksum, size, format, containment: {@link
 * ModelResolver}), a smoke file stored with it, the smoke prediction in a child JVM ({@link
 * SmokeCheck#inChildJvm}), the plugin building an instance with it, and the smoke prediction on
 * that instance in this JVM. Only then is it swapped in ({@link PipelineHolder#swap}); the replaced
 * instance is closed once the decisions that hold it have finished. A version that fails any step
 * never serves, is remembered as refused (not retried until the alias moves elsewhere and back),
 * and shows in {@link #status()}, the log and {@code quiver_model_refusals_total{reason}}. Every
 * attempt is bounded by {@code attemptTimeout} as a whole, besides the registry client's own
 * connect and read timeouts.
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
         * Poll every {@code pollInterval}, back off to 60 s, child 60 s, attempt 120 s.
         *
         * @param pollInterval poll interval
         * @return settings
         */
        public static Settings every(Duration pollInterval) {
            return new Settings(
                    pollInterval,
                    Duration.ofSeconds(60),
                    Duration.ofSeconds(60),
                    Duration.ofSeconds(120));
        }
    }

    /** A version refused, with its reason. */
    private record Refusal(String version, String reason, String detail, Instant at) {}

    /** One binding's live state; mutated by the start and poller threads only, read by status. */
    private final class Bound {
        final ModelBinding binding;
        final String pluginId;
        volatile PredictionCapability instance;
        volatile ResolvedModel model;
        volatile Instant servingSince;
        volatile Instant lastPoll;
        volatile String lastPollResult = "not polled yet";
        volatile Instant nextPoll = Instant.EPOCH;
        final Map<String, Refusal> refused = new LinkedHashMap<>();
        final AtomicLong swaps = new AtomicLong();
        int unreachableInARow;
        String seenVersion;
        Instant seenAt;

        /** Whether the move to {@link #seenVersion} is in the alias history. */
        boolean seenRecorded;

        Bound(ModelBinding binding, String pluginId) {
            this.binding = binding;
            this.pluginId = pluginId;
        }

        ServedModel served() {
            ResolvedModel m = model;
            return new ServedModel(
                    binding.capability(),
                    pluginId,
                    binding.requested(),
                    m.name(),
                    m.version(),
                    m.runId(),
                    m.sha256());
        }
    }

    private final PluginRuntime runtime;
    private final Optional<MlflowClient> client;
    private final ModelResolver resolver;
    private final AliasHistory history;
    private final MeterRegistry metrics;
    private final Settings settings;
    private final Clock clock;
    private final List<Bound> bound = new ArrayList<>();
    private final ExecutorService attempts =
            Executors.newSingleThreadExecutor(
                    r -> {
                        Thread t = new Thread(r, "quiver-model-loader");
                        t.setDaemon(true);
                        return t;
                    });
    private final Timer aliasToServing;
    private final java.util.Set<String> childPassed =
            java.util.concurrent.ConcurrentHashMap.newKeySet();
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
        this.aliasToServing =
                Timer.builder("quiver.model.alias.to.serving")
                        .description(
                                "From the poll that saw an alias move to the new version serving")
                        .publishPercentileHistogram()
                        .register(metrics);
        Gauge.builder("quiver.model.instances.open", runtime, PluginRuntime::openInstances)
                .description("Model instances built for bindings and not closed yet")
                .register(metrics);
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
        Bound s = new Bound(b, pluginId);
        bound.add(s);
        try {
            serveAtStart(s);
        } catch (RuntimeException e) {
            bound.remove(s);
            throw e;
        }
    }

    private void serveAtStart(Bound s) {
        ModelBinding b = s.binding;
        ModelUri uri = b.model();
        Instant now = clock.instant();
        s.lastPoll = now;
        List<String> tried = new ArrayList<>();
        if (client.isPresent() && uri.alias().isPresent()) {
            String target = null;
            try {
                target = aliasTarget(uri);
                s.lastPollResult = "alias at version " + target;
                s.seenVersion = target;
                s.seenAt = now;
                observe(s, target, now);
                s.seenRecorded = true;
            } catch (MlflowException e) {
                if (!e.unavailable()) {
                    throw new IllegalArgumentException(
                            "[Quiver/MODEL_REFUSED] "
                                    + uri
                                    + ": the registry answered: "
                                    + e.getMessage(),
                            e);
                }
                s.lastPollResult = "registry unavailable: " + e.getMessage();
                LOG.warn(
                        "{}: registry unavailable at start ({}); serving from the cache",
                        uri,
                        e.getMessage());
            }
            if (target != null) {
                try {
                    String outcome = attempt(s, target, now, false);
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
                String outcome = serveResolved(s, cached.get(), now, false);
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
                String outcome = serveResolved(s, m, now, false);
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

    private String aliasTarget(ModelUri uri) {
        JsonNode v = client.orElseThrow().versionByAlias(uri.name(), uri.alias().orElseThrow());
        return v.path("version").asText();
    }

    private void observe(Bound s, String version, Instant at) {
        ModelUri uri = s.binding.model();
        history.observe(uri.name(), uri.alias().orElseThrow(), version, at)
                .ifPresent(
                        m ->
                                LOG.info(
                                        "{}: alias moved {} -> {} (observed {})",
                                        uri,
                                        m.from().orElse("(first seen)"),
                                        m.to(),
                                        m.observedAt()));
    }

    /**
     * Resolves, checks and serves one version.
     *
     * @return null if it serves now, else the refusal reason (also recorded)
     */
    private String attempt(Bound s, String version, Instant seenAt, boolean swap) {
        ModelUri uri = s.binding.model();
        String pinned = "models:/" + uri.name() + "/" + version;
        ResolvedModel m;
        try {
            m = resolver.resolve(pinned);
        } catch (ModelRefusedException e) {
            return refuse(s, version, classify(e.reason()), e.getMessage());
        }
        return serveResolved(s, m, seenAt, swap);
    }

    /** Checks a verified local version and serves it; null on success, else the reason. */
    private String serveResolved(Bound s, ResolvedModel m, Instant seenAt, boolean swap) {
        String version = m.version();
        if (m.sidecar().isEmpty()) {
            return refuse(
                    s,
                    version,
                    "no_sidecar",
                    "the version has no sidecar (tag quiver.sidecar); plugins read their model"
                            + " through it");
        }
        if (m.smoke().isEmpty()) {
            return refuse(
                    s,
                    version,
                    "no_smoke",
                    "the version has no smoke file (tag quiver.smoke) to check it with; register it"
                            + " with quiver models register --plugin "
                            + s.pluginId);
        }
        SmokeSet smoke;
        try {
            smoke = SmokeSet.read(m.smoke().get());
        } catch (IOException | IllegalArgumentException e) {
            return refuse(s, version, "smoke_file", e.getMessage());
        }
        Path pluginPath =
                runtime.plugins().stream()
                        .filter(p -> p.id().equals(s.pluginId))
                        .map(LoadedPlugin::path)
                        .findFirst()
                        .orElseThrow();
        // Files that already passed the child check in this process (same model, sidecar and
        // smoke bytes, re-verified above) are not re-run there: the child guards this JVM against
        // a file it has not loaded yet. The in-process smoke below runs every time.
        String childKey;
        try {
            childKey =
                    s.pluginId
                            + "|"
                            + s.binding.capability()
                            + "|"
                            + pluginPath // another build of the plugin is checked again
                            + "|"
                            + m.sha256()
                            + "|"
                            + ModelStore.sha256(m.sidecar().get())
                            + "|"
                            + ModelStore.sha256(m.smoke().get());
        } catch (IOException e) {
            return refuse(s, version, "verify", "cannot read the version's files: " + e);
        }
        SmokeCheck.Result child;
        if (childPassed.contains(childKey)) {
            child = new SmokeCheck.Result(true, 0, Double.NaN, "passed before in a child JVM");
        } else {
            child =
                    SmokeCheck.inChildJvm(
                            pluginPath,
                            s.pluginId,
                            s.binding.capability(),
                            m.sidecar().get(),
                            m.smoke().get(),
                            settings.childTimeout());
            if (!child.passed()) {
                return refuse(s, version, "smoke_child", child.reason());
            }
            childPassed.add(childKey);
        }
        PredictionCapability fresh;
        try {
            fresh =
                    runtime.newPrediction(
                                    s.binding.capability(),
                                    Map.of(
                                            ModelBinding.modelKey(s.binding.capability()),
                                            m.sidecar().get().toString()))
                            .prediction();
        } catch (RuntimeException e) {
            return refuse(s, version, "load", e.getMessage());
        }
        SmokeCheck.Result here = SmokeCheck.check(fresh, smoke);
        if (!here.passed()) {
            fresh.close();
            return refuse(s, version, "smoke", here.reason());
        }
        if (Thread.currentThread().isInterrupted()) {
            // The attempt ran past its timeout and was given up: never swap late.
            fresh.close();
            return "timeout: given up before the swap";
        }
        PredictionCapability old = s.instance;
        if (swap) {
            ServedModel served =
                    new ServedModel(
                            s.binding.capability(),
                            s.pluginId,
                            s.binding.requested(),
                            m.name(),
                            version,
                            m.runId(),
                            m.sha256());
            var replaced = new java.util.concurrent.atomic.AtomicReference<PredictionCapability>();
            try {
                holder.swap(
                        p -> {
                            Pipeline.Builder b = p.toBuilder();
                            replaced.set(
                                    b.replacePrediction(s.binding.capability(), fresh, served));
                            return b.build();
                        },
                        () -> {
                            // What the swap replaced: the instance this binding served before.
                            PredictionCapability r = replaced.get();
                            if (old != null) {
                                old.close();
                            }
                            if (r != old) {
                                LOG.warn(
                                        "{}: the swap replaced {}, not the instance this binding"
                                                + " served (closed the binding's own)",
                                        s.binding,
                                        r);
                            }
                        });
            } catch (RuntimeException e) {
                // e.g. the service is shutting down: the holder takes no more swaps.
                fresh.close();
                return refuse(s, version, "error", "the swap failed: " + e.getMessage());
            }
        }
        // Published only once the pipeline serves it: status never runs ahead of decisions.
        s.model = m;
        s.instance = fresh;
        s.servingSince = clock.instant();
        if (swap) {
            s.swaps.incrementAndGet();
            swapCounter("ok").increment();
            aliasToServing.record(Duration.between(seenAt, clock.instant()));
        }
        // The cache's alias record is the last version that passed: what a restart with the
        // registry down serves.
        s.binding.model().alias().ifPresent(a -> resolver.remember(m.name(), a, version));
        LOG.info(
                "{}: serving models:/{}/{} (run {}, sha256 {}, {}; smoke: {} cases, max |diff| {}"
                        + " here; child JVM: {})",
                s.binding,
                m.name(),
                version,
                m.runId(),
                m.sha256(),
                m.origin(),
                here.cases(),
                here.maxAbsDiff(),
                child.reason().isEmpty()
                        ? child.cases() + " cases, max |diff| " + child.maxAbsDiff()
                        : child.reason());
        return null;
    }

    private String refuse(Bound s, String version, String reason, String detail) {
        synchronized (s.refused) {
            s.refused.put(version, new Refusal(version, reason, detail, clock.instant()));
        }
        Counter.builder("quiver.model.refusals")
                .description("Model versions refused, by reason")
                .tag("reason", reason)
                .register(metrics)
                .increment();
        swapCounter("refused").increment();
        LOG.warn(
                "[Quiver/MODEL_REFUSED] {}: version {} refused ({}): {}; {} keeps serving",
                s.binding,
                version,
                reason,
                detail,
                s.model == null ? "nothing" : "version " + s.model.version());
        return reason + ": " + detail;
    }

    private Counter swapCounter(String result) {
        return Counter.builder("quiver.model.swaps")
                .description("Alias moves acted on, by result")
                .tag("result", result)
                .register(metrics);
    }

    /** A reason code for a refusal by the resolver. */
    static String classify(String reason) {
        if (reason.contains("(truncated)")) {
            return "truncated";
        }
        if (reason.contains("checksum mismatch")) {
            return "checksum";
        }
        if (reason.contains("path escape")
                || reason.contains("escapes the model folder")
                || reason.contains("external data")
                || reason.contains("not a plain file name")
                || reason.contains("folder or link")) {
            return "containment";
        }
        if (reason.contains("pickle")
                || reason.contains("not an accepted format")
                || reason.contains("does not start like")
                || reason.contains("zip archive")
                || reason.contains("is empty")) {
            return "format";
        }
        if (reason.contains("the registry answered")) {
            return "registry";
        }
        return "verify";
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
        for (Bound s : bound) {
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
        for (Bound s : bound) {
            ResolvedModel m = s.model;
            if (m == null || !capabilities.contains(s.binding.capability())) {
                continue;
            }
            attempts.execute(
                    () -> {
                        String r = serveResolved(s, m, clock.instant(), true);
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
        Thread t = new Thread(this::pollLoop, "quiver-model-poller");
        t.setDaemon(true);
        poller = t;
        t.start();
    }

    private void pollLoop() {
        while (!closed) {
            Instant now = clock.instant();
            Instant next = now.plus(settings.pollInterval());
            for (Bound s : bound) {
                if (closed) {
                    return;
                }
                if (s.binding.model().alias().isEmpty()) {
                    continue;
                }
                if (!now.isBefore(s.nextPoll)) {
                    poll(s);
                }
                if (s.nextPoll.isBefore(next)) {
                    next = s.nextPoll;
                }
            }
            long sleepMs = Math.max(10, Duration.between(clock.instant(), next).toMillis());
            try {
                Thread.sleep(sleepMs);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** One poll of one alias, on the poller thread. */
    private void poll(Bound s) {
        ModelUri uri = s.binding.model();
        Instant now = clock.instant();
        s.lastPoll = now;
        String target;
        try {
            target = aliasTarget(uri);
        } catch (MlflowException e) {
            if (closed) {
                return;
            }
            if (e.unavailable()) {
                s.unreachableInARow++;
                Duration ceiling = backoff(s.unreachableInARow);
                long half = ceiling.toMillis() / 2;
                Duration wait =
                        Duration.ofMillis(half + ThreadLocalRandom.current().nextLong(half + 1));
                s.nextPoll = clock.instant().plus(wait);
                s.lastPollResult =
                        "registry unavailable ("
                                + e.getMessage()
                                + "); next poll in "
                                + wait.toMillis()
                                + " ms; serving version "
                                + s.model.version();
                pollCounter("unavailable").increment();
                LOG.warn("{}: {}", uri, s.lastPollResult);
            } else {
                s.unreachableInARow = 0;
                s.nextPoll = clock.instant().plus(settings.pollInterval());
                s.lastPollResult = "the registry answered: " + e.getMessage();
                pollCounter("error").increment();
                LOG.warn("{}: {}", uri, s.lastPollResult);
            }
            return;
        } catch (RuntimeException e) {
            s.nextPoll = clock.instant().plus(settings.pollInterval());
            s.lastPollResult = "poll failed: " + e;
            pollCounter("error").increment();
            LOG.warn("{}: poll failed", uri, e);
            return;
        }
        s.unreachableInARow = 0;
        s.nextPoll = clock.instant().plus(settings.pollInterval());
        pollCounter("ok").increment();
        if (!target.equals(s.seenVersion)) {
            s.seenVersion = target;
            s.seenAt = now;
            s.seenRecorded = false;
        }
        if (!s.seenRecorded) {
            // The history failing must not stop the swap; the move is recorded (with the time it
            // was first seen) at the next poll that reaches the store.
            try {
                observe(s, target, s.seenAt);
                s.seenRecorded = true;
            } catch (RuntimeException e) {
                pollCounter("error").increment();
                LOG.error(
                        "{}: the alias moved to version {} at {}, but the move cannot be recorded"
                                + " in the alias history ({}); retried at the next poll",
                        uri,
                        target,
                        s.seenAt,
                        history.where(),
                        e);
            }
        }
        if (target.equals(s.model.version())) {
            s.lastPollResult = "alias at version " + target + ", serving it";
            return;
        }
        Refusal r;
        synchronized (s.refused) {
            r = s.refused.get(target);
        }
        if (r != null) {
            s.lastPollResult =
                    "alias at version "
                            + target
                            + ", refused ("
                            + r.reason()
                            + "); serving version "
                            + s.model.version();
            return;
        }
        Instant seenAt = s.seenAt;
        Future<String> f = attempts.submit(() -> attempt(s, target, seenAt, true));
        String outcome;
        try {
            outcome = f.get(settings.attemptTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            outcome =
                    refuse(
                            s,
                            target,
                            "timeout",
                            "checks did not finish within "
                                    + settings.attemptTimeout().toSeconds()
                                    + " s");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof MlflowException m && m.unavailable()) {
                // The alias answered but the download did not: transient, try again next poll.
                s.lastPollResult =
                        "alias at version "
                                + target
                                + "; download failed ("
                                + m.getMessage()
                                + "); serving version "
                                + s.model.version();
                LOG.warn("{}: {}", uri, s.lastPollResult);
                return;
            }
            outcome = refuse(s, target, "error", String.valueOf(c));
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            return;
        }
        s.lastPollResult =
                outcome == null
                        ? "alias moved to version " + target + "; swapped in"
                        : "alias at version "
                                + target
                                + ", refused ("
                                + outcome
                                + "); serving version "
                                + s.model.version();
    }

    private Counter pollCounter(String result) {
        return Counter.builder("quiver.model.polls")
                .description("Registry polls, by result")
                .tag("result", result)
                .register(metrics);
    }

    /** Exponential ceiling: interval * 2^n, capped at maxBackoff. */
    private Duration backoff(int failuresInARow) {
        long base = settings.pollInterval().toMillis();
        long cap = settings.maxBackoff().toMillis();
        long ceiling = base;
        for (int i = 0; i < failuresInARow && ceiling < cap; i++) {
            ceiling *= 2;
        }
        return Duration.ofMillis(Math.min(cap, Math.max(ceiling, 1)));
    }

    /**
     * What each binding serves and how polling goes, for {@code GET /v1/models}.
     *
     * @return one JSON-ready map per binding
     */
    public List<Map<String, Object>> status() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Bound s : bound) {
            ResolvedModel m = s.model;
            Map<String, Object> serving = new LinkedHashMap<>();
            serving.put("name", m.name());
            serving.put("version", m.version());
            serving.put("run_id", m.runId());
            serving.put("sha256", m.sha256());
            serving.put("format", m.format().tag());
            serving.put("origin", m.origin());
            serving.put("note", m.note());
            serving.put("since", String.valueOf(s.servingSince));
            List<Map<String, Object>> refused = new ArrayList<>();
            synchronized (s.refused) {
                for (Refusal r : s.refused.values()) {
                    Map<String, Object> x = new LinkedHashMap<>();
                    x.put("version", r.version());
                    x.put("reason", r.reason());
                    x.put("detail", r.detail());
                    x.put("at", r.at().toString());
                    refused.add(x);
                }
            }
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("capability", s.binding.capability());
            b.put("plugin_id", s.pluginId);
            b.put("requested", s.binding.requested());
            b.put("serving", serving);
            b.put("last_poll", String.valueOf(s.lastPoll));
            b.put("last_poll_result", s.lastPollResult);
            b.put("swaps", s.swaps.get());
            b.put("refused", refused);
            out.add(b);
        }
        return out;
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
        for (Bound s : bound) {
            PredictionCapability p = s.instance;
            if (p != null) {
                p.close();
            }
        }
    }
}
