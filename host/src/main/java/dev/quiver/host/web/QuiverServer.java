package dev.quiver.host.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.live.LiveModels;
import dev.quiver.host.live.Pipeline;
import dev.quiver.host.live.PipelineHolder;
import dev.quiver.host.live.ServedModel;
import dev.quiver.host.plugin.LoadedPlugin;
import dev.quiver.host.plugin.PluginFolderWatcher;
import dev.quiver.host.plugin.PluginHealth;
import dev.quiver.host.plugin.PluginRefusal;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.plugin.PluginStopFailure;
import dev.quiver.host.plugin.PluginTransition;
import dev.quiver.host.rollout.LiveRollouts;
import dev.quiver.host.rollout.Role;
import dev.quiver.host.rollout.RolloutController;
import dev.quiver.host.rollout.RolloutManager;
import dev.quiver.host.rollout.RolloutSpec;
import dev.quiver.host.rollout.RolloutSpecException;
import dev.quiver.host.rollout.RolloutStore;
import dev.quiver.host.rollout.Transition;
import dev.quiver.host.session.ServedStrategy;
import dev.quiver.host.session.SessionManager;
import dev.quiver.host.training.TrainingService;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;
import io.javalin.http.staticfiles.Location;
import io.javalin.router.ParsedEndpoint;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The decision service's HTTP API over a started {@link PluginRuntime}. The runtime stays owned by
 * the caller; {@link #close()} stops the HTTP server only.
 */
public final class QuiverServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(QuiverServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String JSON_TYPE = "application/json";

    /**
     * Writes answers: {@link RolloutStore#JSON}'s mapping, with Jackson's shortest-digits double
     * writer (Schubfach) instead of {@link Double#toString}, which this JDK runs slower; the
     * numbers read back to the same doubles.
     */
    private static final com.fasterxml.jackson.databind.ObjectWriter ANSWERS =
            RolloutStore.JSON
                    .writer()
                    .with(com.fasterxml.jackson.core.StreamWriteFeature.USE_FAST_DOUBLE_WRITER);

    /** The dashboard pages a session's stepped bar is published to. */
    private static final EventStreams.Page[] DECISION_PAGES = {
        EventStreams.Page.LIVE, EventStreams.Page.ACCOUNT, EventStreams.Page.ROLLOUTS
    };

    private final PluginRuntime runtime;
    private final PrometheusMeterRegistry metrics;
    private final PipelineHolder pipelines;
    private final LiveModels models;
    private final DecisionService decisions;
    private final ServiceMetrics serviceMetrics;
    private final Javalin app;
    private final String openApi;
    private volatile PluginFolderWatcher watcher;
    private final EventStreams events = new EventStreams();

    private final Optional<LiveRollouts> rollouts;
    private final Optional<ServedStrategy> strategy;
    private final Optional<BundleDecisions> bundleDecisions;

    private QuiverServer(
            PluginRuntime runtime,
            PrometheusMeterRegistry metrics,
            LiveModels models,
            Optional<LiveRollouts> rollouts,
            Optional<ServedStrategy> strategy,
            Optional<TrainingService> training,
            double maxFraction,
            String host,
            DashboardSettings dashboard) {
        this.runtime = runtime;
        this.strategy = strategy;
        this.metrics = metrics;
        this.models = models;
        this.rollouts = rollouts;
        this.pipelines =
                new PipelineHolder(
                        models == null
                                ? Pipeline.of(runtime)
                                : models.install(Pipeline.of(runtime)));
        this.serviceMetrics = new ServiceMetrics(metrics);
        this.decisions = new DecisionService(pipelines, serviceMetrics, maxFraction, rollouts);
        this.bundleDecisions = strategy.map(s -> new BundleDecisions(s, runtime, serviceMetrics));
        registerCapabilityTimers(pipelines.current(), strategy);
        // Session steps are timed into the same histograms as stateless decisions.
        strategy.ifPresent(s -> s.sessions().listener(serviceMetrics));
        this.openApi = resource("openapi.json");
        this.app =
                Javalin.create(
                        config -> {
                            config.showJavalinBanner = false;
                            // The dashboard: its files inside the jar, uPlot from its WebJar.
                            config.staticFiles.add(
                                    files -> {
                                        files.hostedPath = "/";
                                        files.directory = "/dev/quiver/host/web/dashboard";
                                        files.location = Location.CLASSPATH;
                                    });
                            config.staticFiles.enableWebjars();
                            // A method a known path does not declare: 405 with Allow, not 404.
                            config.http.prefer405over404 = true;
                            config.http.customCompression(compression());
                            // Jetty's own refusals (bad URI 400, 414, 431) as JSON too.
                            config.jetty.modifyServer(
                                    server -> server.setErrorHandler(new JettyErrors()));
                            config.jetty.modifyServletContextHandler(
                                    handler -> {
                                        handler.setErrorHandler(new JettyErrors());
                                        // A chunked body over the limit: 413 as a declared one.
                                        handler.addFilter(
                                                new org.eclipse.jetty.servlet.FilterHolder(
                                                        new BodyLimit(config.http.maxRequestSize)),
                                                "/*",
                                                java.util.EnumSet.of(
                                                        jakarta.servlet.DispatcherType.REQUEST));
                                    });
                        });
        ActionGuard guard = ActionGuard.of(host, dashboard.apiToken());
        app.before(ctx -> guard.check(ctx, (c, status, body) -> json(c, status, body)));
        events.register(app);
        DashboardRoutes.register(
                app,
                strategy,
                training.isPresent(),
                dashboard,
                guard,
                host,
                (c, status, body) -> json(c, status, body));
        strategy.ifPresent(
                s ->
                        s.sessions()
                                .observer(
                                        new SessionManager.StepObserver() {
                                            @Override
                                            public void stepped(
                                                    String symbol, Map<String, Object> entry) {
                                                events.publish(
                                                        "decision",
                                                        Map.of("symbol", symbol, "entry", entry),
                                                        DECISION_PAGES);
                                            }

                                            @Override
                                            public boolean listening() {
                                                return events.listening(DECISION_PAGES);
                                            }
                                        }));
        rollouts.ifPresent(
                r ->
                        r.manager()
                                .onTransition(
                                        (spec, t) ->
                                                events.publish(
                                                        "transition",
                                                        t,
                                                        EventStreams.Page.ROLLOUTS,
                                                        EventStreams.Page.MODELS)));
        app.post("/v1/decisions", this::decision);
        app.get("/v1/plugins", this::plugins);
        app.post("/v1/rollouts", ctx -> rolloutCall(ctx, () -> startRollout(ctx)));
        app.get(
                "/v1/rollouts",
                ctx -> rolloutCall(ctx, () -> json(ctx, 200, Map.of("rollouts", rolloutList()))));
        app.get(
                "/v1/rollouts/{id}",
                ctx -> rolloutCall(ctx, () -> json(ctx, 200, rolloutStatus(rollout(ctx)))));
        app.get(
                "/v1/rollouts/{id}/series",
                ctx -> rolloutCall(ctx, () -> rolloutSeries(ctx, rollout(ctx))));
        app.post(
                "/v1/rollouts/{id}/promote",
                ctx -> rolloutCall(ctx, () -> command(ctx, "promote")));
        app.post(
                "/v1/rollouts/{id}/rollback",
                ctx -> rolloutCall(ctx, () -> command(ctx, "rollback")));
        app.post("/v1/rollouts/{id}/abort", ctx -> rolloutCall(ctx, () -> command(ctx, "abort")));
        app.exception(
                RolloutSpecException.class,
                (e, ctx) -> {
                    error("bad_request");
                    Map<String, Object> body = new LinkedHashMap<>();
                    body.put("error", RolloutSpecException.CODE);
                    body.put("field", e.field());
                    body.put("message", e.getMessage());
                    json(ctx, 400, body);
                });
        SessionRoutes.register(app, strategy.orElse(null), runtime, this::sessionAnswer);
        TrainingRoutes.register(app, training, this::sessionAnswer);
        io.micrometer.core.instrument.Gauge.builder(
                        "quiver.strategy.expired",
                        () -> strategy.flatMap(ServedStrategy::degradedReason).isPresent() ? 1 : 0)
                .description("1 while the served strategy bundle is past its maximum age")
                .register(metrics);
        io.micrometer.core.instrument.FunctionCounter.builder(
                        "quiver.strategy.expired.decisions",
                        strategy,
                        st -> st.map(x -> (double) x.sessions().expiredDecisions()).orElse(0.0))
                .description(
                        "Bars posted to sessions on which every policy abstained because the"
                                + " served bundle was past its maximum age")
                .register(metrics);
        io.micrometer.core.instrument.Gauge.builder(
                        "quiver.halted",
                        () -> strategy.map(s -> s.sessions().halt().halted() ? 1 : 0).orElse(0))
                .description(
                        "1 while the kill switch halts all new risk (POST /v1/halt; cleared only"
                                + " by POST /v1/resume)")
                .register(metrics);
        app.get("/v1/capabilities", this::capabilities);
        app.get("/v1/models", this::models);
        app.get("/v1/models/{name}/ready", this::modelReady);
        app.get("/health/live", ctx -> json(ctx, 200, Map.of("status", "live")));
        app.get("/health/ready", this::ready);
        app.get(
                "/metrics",
                ctx ->
                        ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                                .result(metrics.scrape()));
        app.get("/openapi.json", ctx -> ctx.contentType(JSON_TYPE).result(openApi));
        app.exception(
                BadRequestException.class,
                (e, ctx) -> {
                    error("bad_request");
                    Map<String, Object> body = new LinkedHashMap<>();
                    body.put("error", e.code());
                    body.put("field", e.field());
                    if (e.index() != null) {
                        body.put("index", e.index());
                    }
                    body.put("message", e.getMessage());
                    json(ctx, 400, body);
                });
        // Javalin's own refusals (no such path, a method the path does not declare, ...) as the
        // same JSON error as every other refusal; a 405 lists the path's methods in Allow.
        app.exception(
                HttpResponseException.class,
                (e, ctx) -> {
                    int status = e.getStatus();
                    Map<String, Object> body = new LinkedHashMap<>();
                    if (status == 405) {
                        List<String> allowed = allowedMethods(app, ctx.path());
                        ctx.header("Allow", String.join(", ", allowed));
                        body.put("error", "METHOD_NOT_ALLOWED");
                        body.put(
                                "message",
                                "[Quiver/METHOD_NOT_ALLOWED] "
                                        + ctx.req().getMethod()
                                        + " "
                                        + ctx.path()
                                        + " is not part of the API; this path takes "
                                        + String.join(", ", allowed)
                                        + " (see /openapi.json)");
                    } else if (status == 404) {
                        body.put("error", "NOT_FOUND");
                        body.put(
                                "message",
                                "[Quiver/NOT_FOUND] no route "
                                        + ctx.req().getMethod()
                                        + " "
                                        + ctx.path()
                                        + " (see /openapi.json)");
                    } else if (status == 413) {
                        body.put("error", "CONTENT_TOO_LARGE");
                        body.put(
                                "message",
                                "[Quiver/CONTENT_TOO_LARGE] the body of "
                                        + ctx.req().getMethod()
                                        + " "
                                        + ctx.path()
                                        + " is larger than the service's limit of "
                                        + app.unsafeConfig().http.maxRequestSize
                                        + " bytes");
                    } else {
                        body.put("error", HttpStatus.forStatus(status).name());
                        body.put("message", String.valueOf(e.getMessage()));
                    }
                    error(status == 404 ? "not_found" : "bad_request");
                    json(ctx, status, body);
                });
        app.exception(
                Exception.class,
                (e, ctx) -> {
                    error("internal");
                    LOG.warn("request {} {} failed", ctx.method(), ctx.path(), e);
                    Map<String, Object> body = new LinkedHashMap<>();
                    body.put("error", "INTERNAL");
                    body.put("message", String.valueOf(e.getMessage()));
                    json(ctx, 500, body);
                });
    }

    /**
     * Starts the API on {@code host:port} (port 0 picks a free one).
     *
     * @param runtime started plugins; stays owned by the caller
     * @param host address to bind, e.g. {@code 127.0.0.1}
     * @param port port, 0 for any free one
     * @param maxFraction the risk guard's cap, in (0, 1]
     * @return the running server
     */
    public static QuiverServer start(
            PluginRuntime runtime, String host, int port, double maxFraction) {
        return start(
                runtime,
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                null,
                Optional.empty(),
                host,
                port,
                maxFraction);
    }

    /**
     * Starts the API with rollouts applied to its decisions and the {@code /v1/rollouts} endpoints.
     *
     * @param runtime started plugins; stays owned by the caller
     * @param host address to bind, e.g. {@code 127.0.0.1}
     * @param port port, 0 for any free one
     * @param maxFraction the risk guard's cap, in (0, 1]
     * @param rollouts the service's rollouts (stays owned by the caller), or empty: the rollout
     *     endpoints then answer 404
     * @return the running server
     */
    public static QuiverServer start(
            PluginRuntime runtime,
            String host,
            int port,
            double maxFraction,
            Optional<LiveRollouts> rollouts) {
        return start(
                runtime,
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                null,
                rollouts,
                host,
                port,
                maxFraction);
    }

    /**
     * Starts the API serving registered model versions, without rollouts.
     *
     * @see #start(PluginRuntime, PrometheusMeterRegistry, LiveModels, Optional, String, int,
     *     double)
     */
    public static QuiverServer start(
            PluginRuntime runtime,
            PrometheusMeterRegistry metrics,
            LiveModels models,
            String host,
            int port,
            double maxFraction) {
        return start(runtime, metrics, models, Optional.empty(), host, port, maxFraction);
    }

    /**
     * Starts the API serving registered model versions and rollouts: the pipeline holds the {@code
     * models}' instances in place of the plugins' own, and the models follow their aliases (swaps
     * go through this server's {@link #pipelines()}).
     *
     * @param runtime started plugins; stays owned by the caller
     * @param metrics the registry {@code /metrics} exposes (the models' meters are in it); closed
     *     with the server
     * @param models the bound model versions, or null for none; stays owned by the caller, who
     *     closes it after the server
     * @param rollouts the service's rollouts (stays owned by the caller), or empty: the rollout
     *     endpoints then answer 404
     * @param host address to bind, e.g. {@code 127.0.0.1}
     * @param port port, 0 for any free one
     * @param maxFraction the risk guard's cap, in (0, 1]
     * @return the running server
     * @throws IllegalArgumentException if {@code maxFraction} is outside (0, 1]
     */
    public static QuiverServer start(
            PluginRuntime runtime,
            PrometheusMeterRegistry metrics,
            LiveModels models,
            Optional<LiveRollouts> rollouts,
            String host,
            int port,
            double maxFraction) {
        return start(runtime, metrics, models, rollouts, Optional.empty(), host, port, maxFraction);
    }

    /**
     * Starts the API as {@link #start(PluginRuntime, PrometheusMeterRegistry, LiveModels, Optional,
     * String, int, double)}, with live sessions stepping a strategy bundle ({@code /v1/sessions},
     * {@code /v1/accounts}).
     *
     * @param runtime started plugins; stays owned by the caller
     * @param metrics the registry {@code /metrics} exposes; closed with the server
     * @param models the bound model versions, or null for none
     * @param rollouts the service's rollouts, or empty
     * @param strategy the served bundle and its sessions (owned by the caller), or empty: the
     *     session endpoints then answer 409
     * @param host address to bind
     * @param port port, 0 for any free one
     * @param maxFraction the risk guard's cap, in (0, 1]
     * @return the running server
     * @throws IllegalArgumentException if {@code maxFraction} is outside (0, 1]
     */
    public static QuiverServer start(
            PluginRuntime runtime,
            PrometheusMeterRegistry metrics,
            LiveModels models,
            Optional<LiveRollouts> rollouts,
            Optional<ServedStrategy> strategy,
            String host,
            int port,
            double maxFraction) {
        return start(
                runtime,
                metrics,
                models,
                rollouts,
                strategy,
                host,
                port,
                maxFraction,
                DashboardSettings.defaults());
    }

    /**
     * Starts the API and the dashboard at {@code /} as {@link #start(PluginRuntime,
     * PrometheusMeterRegistry, LiveModels, Optional, Optional, String, int, double)}, with the
     * dashboard's settings: where reports are listed from, and the token state-changing requests
     * need when {@code host} is not a loopback address (without one they are refused there).
     *
     * @param runtime started plugins; stays owned by the caller
     * @param metrics the registry {@code /metrics} exposes; closed with the server
     * @param models the bound model versions, or null for none
     * @param rollouts the service's rollouts, or empty
     * @param strategy the served bundle and its sessions, or empty
     * @param host address to bind
     * @param port port, 0 for any free one
     * @param maxFraction the risk guard's cap, in (0, 1]
     * @param dashboard the reports folder and the API token
     * @return the running server
     * @throws IllegalArgumentException if {@code maxFraction} is outside (0, 1] or {@code host}
     *     does not resolve
     */
    public static QuiverServer start(
            PluginRuntime runtime,
            PrometheusMeterRegistry metrics,
            LiveModels models,
            Optional<LiveRollouts> rollouts,
            Optional<ServedStrategy> strategy,
            String host,
            int port,
            double maxFraction,
            DashboardSettings dashboard) {
        return start(
                runtime,
                metrics,
                models,
                rollouts,
                strategy,
                Optional.empty(),
                host,
                port,
                maxFraction,
                dashboard);
    }

    /**
     * Starts the API, the dashboard and the training jobs' endpoints: everything {@code quiver
     * serve} runs.
     *
     * @param runtime started plugins; stays owned by the caller
     * @param metrics the registry {@code /metrics} exposes; closed with the server
     * @param models the bound model versions, or null for none
     * @param rollouts the service's rollouts, or empty
     * @param strategy the served bundle and its sessions, or empty
     * @param training the training scheduler (owned by the caller), or empty: the training
     *     endpoints then answer 409
     * @param host address to bind
     * @param port port, 0 for any free one
     * @param maxFraction the risk guard's cap, in (0, 1]
     * @param dashboard the reports folder and the API token
     * @return the running server
     * @throws IllegalArgumentException if {@code maxFraction} is outside (0, 1] or {@code host}
     *     does not resolve
     */
    public static QuiverServer start(
            PluginRuntime runtime,
            PrometheusMeterRegistry metrics,
            LiveModels models,
            Optional<LiveRollouts> rollouts,
            Optional<ServedStrategy> strategy,
            Optional<TrainingService> training,
            String host,
            int port,
            double maxFraction,
            DashboardSettings dashboard) {
        if (!(maxFraction > 0 && maxFraction <= 1)) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] --max-position must be in (0, 1], was " + maxFraction);
        }
        QuiverServer server =
                new QuiverServer(
                        runtime,
                        metrics,
                        models,
                        rollouts,
                        strategy,
                        training,
                        maxFraction,
                        host,
                        dashboard);
        server.app.start(host, port);
        if (models != null) {
            models.startPolling(server.pipelines);
        }
        return server;
    }

    /**
     * The pipeline holder decisions are served from: swap through it to change models or plugins
     * while the server runs.
     */
    public PipelineHolder pipelines() {
        return pipelines;
    }

    /**
     * Swaps a change of the plugins folder into service: the capabilities of the plugins it took
     * out leave the pipeline, those of the plugins it wired join it (a replaced plugin's new
     * version takes its place), in one atomic swap; the old plugins are retired (extensions closed,
     * unloaded) once the decisions that hold the old pipeline have finished.
     *
     * @param transition what {@link PluginRuntime#apply} changed
     * @return the pipeline now serving
     * @throws IllegalStateException if the server is closed
     */
    public Pipeline publish(PluginTransition transition) {
        Pipeline now = swapIn(transition);
        events.publish(
                "plugins",
                Map.of("generation", now.generation(), "actions", transition.actions()),
                EventStreams.Page.PLUGINS,
                EventStreams.Page.MODELS,
                EventStreams.Page.LIVE);
        if (models != null) {
            // A replaced plugin took its bound model instances out: serve the versions again.
            models.rebind(
                    transition.addedPredictions().stream()
                            .map(c -> c.descriptor().name())
                            .toList());
        }
        return now;
    }

    private Pipeline swapIn(PluginTransition transition) {
        // Everything the swap takes out, also instances made for a model binding
        // (PluginRuntime.newPrediction): closed once drained, before their plugin is unloaded.
        var removed = new java.util.concurrent.CopyOnWriteArrayList<Object>();
        return pipelines.swap(
                current -> {
                    Pipeline.Builder b = current.toBuilder();
                    removed.clear();
                    transition.removedPluginIds().forEach(id -> removed.addAll(b.removePlugin(id)));
                    for (LoadedPlugin p : transition.added()) {
                        b.plugin(p.id(), p.version());
                    }
                    transition.addedPredictions().forEach(c -> b.addPrediction(pluginOf(c), c));
                    transition.addedEnsembles().forEach(c -> b.addEnsemble(pluginOf(c), c));
                    transition.addedSizings().forEach(c -> b.addSizing(pluginOf(c), c));
                    return b.build();
                },
                () -> {
                    for (Object c : removed) {
                        if (c instanceof AutoCloseable closeable) {
                            try {
                                closeable.close(); // idempotent: the plugin's own are closed again
                            } catch (Exception e) {
                                LOG.warn("[Quiver/EXTENSION_CLOSE_FAILED] {}: {}", c, e.toString());
                            }
                        }
                    }
                    transition.retire();
                });
    }

    private static String pluginOf(Object capability) {
        return PluginRuntime.pluginIdOf(capability).orElseThrow();
    }

    /**
     * Watches the runtime's plugins folder and publishes every change (see {@link
     * PluginFolderWatcher}); stopped by {@link #close()}.
     *
     * @param interval time between polls, at least 10 ms
     * @param prepare runs on each change before it is published, e.g. to fit the added trainable
     *     sources; an exception stops that publication and is reported as the watcher's last error
     * @return the running watcher
     * @throws IllegalStateException if the folder is already watched
     */
    public synchronized PluginFolderWatcher watchPlugins(
            Duration interval, Consumer<PluginTransition> prepare) {
        if (watcher != null) {
            throw new IllegalStateException("the plugins folder is already watched");
        }
        watcher =
                new PluginFolderWatcher(
                        runtime,
                        interval,
                        interval.multipliedBy(10).compareTo(Duration.ofSeconds(30)) > 0
                                ? interval.multipliedBy(10)
                                : Duration.ofSeconds(30),
                        t -> {
                            prepare.accept(t);
                            return "generation " + publish(t).generation();
                        });
        return watcher.start();
    }

    /** The bound port. */
    public int port() {
        return app.port();
    }

    private void error(String kind) {
        serviceMetrics.error(kind);
    }

    /** A session route's answer, counted: a bar's decision, or an error by its status. */
    private void sessionAnswer(Context ctx, int status, Object body) {
        if (status >= 200 && status < 300) {
            if (ctx.method() == io.javalin.http.HandlerType.POST
                    && ctx.endpointHandlerPath().endsWith("/bars")) {
                serviceMetrics.decided("session");
            }
        } else {
            error(
                    switch (status) {
                        case 404 -> "not_found";
                        case 409 -> "conflict";
                        default -> status >= 500 ? "internal" : "bad_request";
                    });
        }
        json(ctx, status, body);
    }

    /**
     * Registers the histogram of every capability the service calls now (the pipeline's and the
     * served strategy's), so each shows in {@code /metrics} with its buckets before its first call.
     */
    private void registerCapabilityTimers(Pipeline pipeline, Optional<ServedStrategy> served) {
        pipeline.predictions()
                .forEach(c -> serviceMetrics.timer("prediction", c.descriptor().name()));
        pipeline.ensembles().forEach(c -> serviceMetrics.timer("ensemble", c.descriptor().name()));
        pipeline.sizings().forEach(c -> serviceMetrics.timer("sizing", c.descriptor().name()));
        served.ifPresent(
                s ->
                        s.bundle()
                                .components()
                                .forEach(c -> serviceMetrics.timer(c.kind(), c.name())));
    }

    private void decision(Context ctx) {
        JsonNode body;
        try {
            body = JSON.readTree(ctx.body());
        } catch (JsonProcessingException e) {
            throw new BadRequestException(
                    "BAD_JSON",
                    "body",
                    null,
                    "[Quiver/BAD_JSON] the body is not valid JSON: " + e.getOriginalMessage());
        }
        BarData bars = DecisionService.parse(body);
        JsonNode account = body.get("account");
        Map<String, Object> answer =
                bundleDecisions.isPresent()
                        ? bundleDecisions.get().decide(bars)
                        : decisions.decide(
                                bars,
                                account == null || account.isNull() ? null : account.asText());
        serviceMetrics.decided("window");
        json(ctx, 200, answer);
    }

    /**
     * Unknown rollout: 404; taken id, conflicting or finished rollout: 409 (the message says
     * which).
     */
    private void rolloutCall(Context ctx, Runnable call) {
        try {
            call.run();
        } catch (java.util.NoSuchElementException e) {
            error("not_found");
            json(ctx, 404, Map.of("error", "NOT_FOUND", "message", String.valueOf(e.getMessage())));
        } catch (IllegalStateException e) {
            error("conflict");
            json(ctx, 409, Map.of("error", "CONFLICT", "message", String.valueOf(e.getMessage())));
        }
    }

    private LiveRollouts live() {
        return rollouts.orElseThrow(
                () ->
                        new java.util.NoSuchElementException(
                                "[Quiver/NO_ROLLOUTS] this service was started without rollouts"));
    }

    private RolloutController rollout(Context ctx) {
        String id = ctx.pathParam("id");
        return live().manager()
                .get(id)
                .orElseThrow(
                        () ->
                                new java.util.NoSuchElementException(
                                        "[Quiver/NO_SUCH_ROLLOUT] no rollout with id '"
                                                + id
                                                + "'"));
    }

    private void startRollout(Context ctx) {
        RolloutSpec spec = RolloutSpec.parse(ctx.body(), "request body", null);
        if (strategy.isPresent() && spec.kind() != RolloutSpec.Kind.STRATEGY) {
            throw new IllegalStateException(
                    "[Quiver/ROLLOUT_REFUSED] rollout '"
                            + spec.id()
                            + "' pairs versions of "
                            + spec.kind().id()
                            + " '"
                            + spec.capability()
                            + "', but this service decides with strategy bundle "
                            + strategy.get().bundle().id()
                            + ", whose components are its own: the rollout would change no"
                            + " decision. Roll out a bundle ({\"challenger\": {\"strategy\":"
                            + " \"models:/NAME/VERSION\"}}), or serve with --strategy none");
        }
        RolloutController c = live().start(spec);
        json(ctx, 201, rolloutStatus(c));
    }

    private void command(Context ctx, String what) {
        String id = ctx.pathParam("id");
        String reason = ctx.queryParam("reason");
        if (reason == null || reason.isBlank()) {
            reason = "operator " + what + " over HTTP";
        }
        String actor = ctx.queryParam("actor");
        RolloutManager m = live().manager();
        Transition t =
                switch (what) {
                    case "promote" -> m.promote(id, actor, reason);
                    case "rollback" -> m.rollback(id, actor, reason);
                    default -> m.abort(id, actor, reason);
                };
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("transition", t);
        body.put("rollout", rolloutStatus(m.get(id).orElseThrow()));
        json(ctx, 200, body);
    }

    /**
     * {@code GET /v1/rollouts/{id}/series?bars=N}: the rollout's per-variant figures over its last
     * {@code N} outcome bars (default {@value RolloutSeriesAnswer#DEFAULT_BARS}), as committed.
     */
    private void rolloutSeries(Context ctx, RolloutController c) {
        String text = ctx.queryParam("bars");
        int bars = RolloutSeriesAnswer.DEFAULT_BARS;
        if (text != null) {
            try {
                bars = Integer.parseInt(text);
            } catch (NumberFormatException e) {
                bars = 0;
            }
            if (bars < 1) {
                error("bad_request");
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("error", "BAD_REQUEST");
                body.put("field", "bars");
                body.put(
                        "message",
                        "[Quiver/BAD_REQUEST] bars: '"
                                + text
                                + "' must be a whole number >= 1 (outcome bars of the series)");
                json(ctx, 400, body);
                return;
            }
        }
        json(
                ctx,
                200,
                RolloutSeriesAnswer.of(
                        c.id(),
                        c.spec().rules().metric().id(),
                        live().manager().store().series(c.id(), bars)));
    }

    private List<Map<String, Object>> rolloutList() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (RolloutController c : live().manager().list()) {
            out.add(rolloutStatus(c));
        }
        return out;
    }

    private Map<String, Object> rolloutStatus(RolloutController c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", c.id());
        m.put("stage", c.stage().id());
        m.put("spec", c.spec().toJson());
        m.put("variants", live().variantDescriptions(c.id()));
        Map<String, Object> figures = new LinkedHashMap<>();
        for (Role r : Role.values()) {
            figures.put(r.id(), c.figures(r));
        }
        figures.put("served", c.servedFigures());
        m.put("figures", figures);
        Map<String, Object> acted = new LinkedHashMap<>();
        for (Role r : Role.values()) {
            acted.put(r.id(), c.acted(r));
        }
        m.put("acted", acted);
        m.put("current_stage", c.stageStatus());
        m.put("transitions", c.transitions());
        // true once all of the above is in the state store (outcomes are written within
        // RolloutManager.FLUSH_MILLIS of a decision, transitions before they are answered)
        m.put("saved", live().manager().isSaved(c.id()));
        return m;
    }

    private void plugins(Context ctx) {
        List<Map<String, Object>> loaded = new ArrayList<>();
        Map<String, PluginHealth> byId = new LinkedHashMap<>();
        runtime.health().forEach(h -> byId.put(h.pluginId(), h));
        for (LoadedPlugin p : runtime.plugins()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", p.id());
            m.put("version", p.version());
            m.put("requires", p.requires());
            m.put("extensions", p.extensions());
            PluginHealth h = byId.get(p.id());
            m.put("state", h == null ? "LOADED" : h.state());
            if (h != null && h.quarantined()) {
                m.put("reason", h.reason());
            }
            loaded.add(m);
        }
        List<Map<String, Object>> refused = new ArrayList<>();
        for (PluginRefusal r : runtime.refusals()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("code", r.code());
            m.put("plugin_id", r.pluginId());
            m.put("path", String.valueOf(r.path()));
            m.put("message", r.message());
            refused.add(m);
        }
        List<Map<String, Object>> health = new ArrayList<>();
        for (PluginHealth h : runtime.health()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("plugin_id", h.pluginId());
            m.put("state", h.state());
            m.put("calls", h.calls());
            m.put("failures", h.failures());
            m.put("deadline_misses", h.deadlineMisses());
            m.put("reason", h.reason());
            m.put("recent_failures", h.recentFailures());
            health.add(m);
        }
        // A stop() that threw leaves the plugin FAILED and unloaded: kept here, since the plugin
        // is no longer among the loaded ones (RELIABILITY.md P1).
        List<Map<String, Object>> stopFailures = new ArrayList<>();
        for (PluginStopFailure f : runtime.stopFailures()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("plugin_id", f.pluginId());
            m.put("version", f.version());
            m.put("state", "FAILED");
            m.put("at", f.at().toString());
            m.put("exception", f.exception());
            stopFailures.add(m);
        }
        Pipeline serving = pipelines.current();
        Map<String, Object> pipeline = new LinkedHashMap<>();
        pipeline.put("generation", serving.generation());
        pipeline.put("plugins", serving.pluginVersions());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("plugins", loaded);
        body.put("refusals", refused);
        body.put("health", health);
        body.put("stop_failures", stopFailures);
        body.put("serving", pipeline);
        body.put("watcher", watcherStatus());
        json(ctx, 200, body);
    }

    private Map<String, Object> watcherStatus() {
        PluginFolderWatcher w = watcher;
        Map<String, Object> m = new LinkedHashMap<>();
        if (w == null) {
            m.put("enabled", false);
            return m;
        }
        PluginFolderWatcher.Status s = w.status();
        m.put("enabled", s.running());
        m.put("folder", s.folder().toString());
        m.put("interval_ms", s.intervalMillis());
        m.put("scans", s.scans());
        m.put("pending", s.pending());
        PluginFolderWatcher.Change c = s.lastChange();
        if (c != null) {
            Map<String, Object> last = new LinkedHashMap<>();
            last.put("at", c.at().toString());
            last.put("sequence", c.sequence());
            last.put("actions", c.actions());
            last.put("published", c.published());
            m.put("last_change", last);
        }
        m.put("last_error", s.lastError());
        return m;
    }

    private void models(Context ctx) {
        Pipeline current = pipelines.current();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("pipeline_generation", current.generation());
        body.put("bindings", models == null ? List.of() : models.status());
        // Model instances built for bindings and not closed: one per binding once every retired
        // version has drained and been closed.
        body.put("open_model_instances", runtime.openInstances());
        body.put("decisions_in_flight", pipelines.inFlight());
        // The most recent retired generations: what each swap replaced was closed only once the
        // decisions holding it had finished (in_flight_at_close 0).
        List<Map<String, Object>> retired = new ArrayList<>();
        for (PipelineHolder.Retirement r : pipelines.retirements()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("generation", r.generation());
            x.put("decisions", r.leases());
            x.put("in_flight_at_close", r.inFlightAtClose());
            x.put("closed_at", r.closedAt().toString());
            x.put("close_failed", r.failed());
            retired.add(x);
        }
        body.put("retired_generations", retired);
        json(ctx, 200, body);
    }

    /**
     * Whether one model (a prediction source, or the ensemble of a served strategy bundle) can
     * serve now, in the manner of the Open Inference Protocol's model-ready endpoint
     * (RELIABILITY.md P9): 200 when it is wired and its plugin is not quarantined (a registered
     * version bound with {@code --model} passed its checks, golden rows included, before it was
     * swapped in; a bundle's components were verified when the bundle loaded); 503 with the reason
     * when it is known but its plugin is quarantined or not wired; 404 when nothing by that name is
     * served.
     */
    private void modelReady(Context ctx) {
        String name = ctx.pathParam("name");
        Map<String, PluginHealth> health = new LinkedHashMap<>();
        runtime.health().forEach(h -> health.put(h.pluginId(), h));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        String pluginId = null;
        if (strategy.isPresent()) {
            var bundle = strategy.get().bundle();
            var component =
                    bundle.components().stream()
                            .filter(c -> !c.kind().equals("sizing") && c.name().equals(name))
                            .findFirst();
            if (component.isPresent()) {
                pluginId = component.get().plugin();
                body.put("strategy", bundle.id());
                body.put("version", component.get().version());
            }
        } else {
            Pipeline current = pipelines.current();
            var p = current.prediction(name);
            if (p.isPresent()) {
                pluginId = PluginRuntime.pluginIdOf(p.get()).orElse(null);
                ServedModel model = current.models().get(name);
                if (model != null) {
                    pluginId = model.pluginId();
                    body.put("model", model.name());
                    body.put("version", model.version());
                }
            }
        }
        if (pluginId == null && !body.containsKey("version")) {
            body.put("ready", false);
            body.put("reason", "no model or source named '" + name + "' is served");
            json(ctx, 404, body);
            return;
        }
        body.put("plugin_id", pluginId);
        PluginHealth h = pluginId == null ? null : health.get(pluginId);
        String owner = pluginId;
        boolean wired =
                owner == null || runtime.plugins().stream().anyMatch(lp -> lp.id().equals(owner));
        if (!wired) {
            body.put("ready", false);
            body.put("reason", "its plugin '" + pluginId + "' is not wired");
            json(ctx, 503, body);
        } else if (h != null && h.quarantined()) {
            body.put("ready", false);
            body.put("reason", "its plugin '" + pluginId + "' is quarantined: " + h.reason());
            json(ctx, 503, body);
        } else {
            body.put("ready", true);
            json(ctx, 200, body);
        }
    }

    private void capabilities(Context ctx) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (LoadedPlugin p : runtime.plugins()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("plugin_id", p.id());
            m.put("version", p.version());
            m.put("provide_capability", p.provides());
            m.put("extensions", p.extensions());
            out.add(m);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("capabilities", out);
        body.put("wiring", runtime.wiring());
        json(ctx, 200, body);
    }

    private void ready(Context ctx) {
        Pipeline pipeline = pipelines.current();
        int predictions = pipeline.predictions().size();
        int sizings = pipeline.sizings().size();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("predictions", predictions);
        body.put("sizings", sizings);
        strategy.ifPresent(s -> body.put("strategy", s.bundle().id()));
        // Halted is still ready: the service serves reductions and answers; it is not degraded.
        body.put("halted", strategy.map(s -> s.sessions().halt().halted()).orElse(false));
        strategy.filter(s -> s.sessions().halt().halted())
                .ifPresent(s -> body.put("halt", s.sessions().halt().status()));
        // A registry that cannot be reached (or refuses our credentials) leaves the service ready:
        // it serves the versions it has, and says since when they may be behind the registry.
        Map<String, Object> registry = new LinkedHashMap<>();
        String staleSince = null;
        if (models != null) {
            Optional<Map<String, Object>> m = models.staleness();
            if (m.isPresent()) {
                registry.putAll(m.get());
                staleSince = (String) m.get().get("stale_since");
            }
        }
        // The strategy bundle's alias (serve --strategy models:/NAME@ALIAS), when it is stale.
        Optional<Map<String, Object>> followed =
                strategy.flatMap(ServedStrategy::registry)
                        .filter(r -> r.get("stale_since") != null);
        if (followed.isPresent()) {
            String since = (String) followed.get().get("stale_since");
            registry.put("strategy", followed.get());
            staleSince =
                    staleSince == null
                                    || java.time.Instant.parse(since)
                                            .isBefore(java.time.Instant.parse(staleSince))
                            ? since
                            : staleSince;
            registry.put("stale_since", staleSince);
        }
        if (staleSince != null) {
            body.put("stale_since", staleSince);
            body.put("registry", registry);
        }
        java.util.Optional<String> degraded = strategy.flatMap(ServedStrategy::degradedReason);
        // A session quarantined at start (its replay failed) degrades the service; the others
        // serve.
        Map<String, String> failedSessions =
                strategy.map(x -> x.sessions().failedRecoveries()).orElse(Map.of());
        if (!failedSessions.isEmpty()) {
            body.put("failed_sessions", failedSessions);
            String sessions =
                    failedSessions.size()
                            + " session(s) failed recovery and are quarantined: "
                            + failedSessions.keySet();
            degraded =
                    java.util.Optional.of(degraded.map(d -> d + "; " + sessions).orElse(sessions));
        }
        if (predictions > 0 && sizings > 0 && degraded.isPresent()) {
            body.put("status", "degraded");
            body.put("reason", degraded.get());
            json(ctx, 503, body);
        } else if (predictions > 0 && sizings > 0) {
            body.put("status", "ready");
            json(ctx, 200, body);
        } else {
            body.put("status", "not_ready");
            body.put(
                    "reason",
                    (predictions == 0 ? "no prediction capability is wired" : "")
                            + (predictions == 0 && sizings == 0 ? "; " : "")
                            + (sizings == 0 ? "no sizing capability is wired" : ""));
            json(ctx, 503, body);
        }
    }

    /**
     * The methods registered for the path, in the order GET, HEAD (Javalin answers HEAD from a GET
     * route), POST, PUT, PATCH, DELETE.
     */
    private static List<String> allowedMethods(Javalin app, String path) {
        java.util.Set<HandlerType> types = java.util.EnumSet.noneOf(HandlerType.class);
        for (ParsedEndpoint e : app.unsafeConfig().pvt.internalRouter.allHttpHandlers()) {
            if (e.getEndpoint().getMethod().isHttpMethod() && e.matches(path)) {
                types.add(e.getEndpoint().getMethod());
            }
        }
        if (types.contains(HandlerType.GET)) {
            types.add(HandlerType.HEAD);
        }
        List<String> out = new ArrayList<>();
        for (HandlerType t :
                List.of(
                        HandlerType.GET,
                        HandlerType.HEAD,
                        HandlerType.POST,
                        HandlerType.PUT,
                        HandlerType.PATCH,
                        HandlerType.DELETE)) {
            if (types.contains(t)) {
                out.add(t.name());
            }
        }
        return out;
    }

    /**
     * Every HTTP route the app serves, as {@code METHOD path} with Javalin's path syntax ({@code
     * /v1/sessions/{symbol}}), for the route-coverage test.
     */
    List<String> routes() {
        List<String> out = new ArrayList<>();
        for (ParsedEndpoint e : app.unsafeConfig().pvt.internalRouter.allHttpHandlers()) {
            if (e.getEndpoint().getMethod().isHttpMethod()) {
                out.add(e.getEndpoint().getMethod().name() + " " + e.getEndpoint().getPath());
            }
        }
        return out;
    }

    private static void json(Context ctx, int status, Object body) {
        try {
            // UTF-8 bytes straight from the generator: no String to build and encode again.
            ctx.status(status).contentType(JSON_TYPE).result(ANSWERS.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Javalin's default compression (gzip, level 6, answers over 1500 bytes to clients that accept
     * it) with JSON declared compressible up front: Javalin then takes an answer's content type
     * from that list instead of scanning it, case-insensitively, against each excluded type on
     * every answer over the size (a JSON answer was never among the excluded ones, so which answers
     * are compressed does not change).
     */
    static io.javalin.compression.CompressionStrategy compression() {
        io.javalin.compression.CompressionStrategy s =
                new io.javalin.compression.CompressionStrategy(
                        null, new io.javalin.compression.Gzip(6));
        s.setAllowedMimeTypes(List.of(JSON_TYPE));
        return s;
    }

    private static String resource(String name) {
        try (InputStream in = QuiverServer.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Stops the plugins folder watcher and the HTTP server (in-flight requests finish first) and
     * waits for pending drains; the plugin runtime stays open.
     */
    @Override
    public void close() {
        PluginFolderWatcher w = watcher;
        if (w != null) {
            w.close();
        }
        if (models != null) {
            models.stopPolling();
        }
        events.close();
        app.stop();
        bundleDecisions.ifPresent(BundleDecisions::close);
        pipelines.close();
        metrics.close();
    }
}
