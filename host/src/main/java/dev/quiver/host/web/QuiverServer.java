package dev.quiver.host.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.host.data.BarData;
import dev.quiver.host.live.Pipeline;
import dev.quiver.host.live.PipelineHolder;
import dev.quiver.host.plugin.LoadedPlugin;
import dev.quiver.host.plugin.PluginFolderWatcher;
import dev.quiver.host.plugin.PluginHealth;
import dev.quiver.host.plugin.PluginRefusal;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.plugin.PluginTransition;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.micrometer.core.instrument.Counter;
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

    private final PluginRuntime runtime;
    private final PrometheusMeterRegistry metrics;
    private final PipelineHolder pipelines;
    private final DecisionService decisions;
    private final Counter decisionCount;
    private final Javalin app;
    private final String openApi;
    private volatile PluginFolderWatcher watcher;

    private QuiverServer(PluginRuntime runtime, double maxFraction) {
        this.runtime = runtime;
        this.metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        this.pipelines = new PipelineHolder(Pipeline.of(runtime));
        this.decisions = new DecisionService(pipelines, metrics, maxFraction);
        this.decisionCount =
                Counter.builder("quiver.decisions")
                        .description("Decisions answered")
                        .register(metrics);
        this.openApi = resource("openapi.json");
        this.app =
                Javalin.create(
                        config -> {
                            config.showJavalinBanner = false;
                        });
        app.post("/v1/decisions", this::decision);
        app.get("/v1/plugins", this::plugins);
        app.get("/v1/capabilities", this::capabilities);
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
        if (!(maxFraction > 0 && maxFraction <= 1)) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] --max-position must be in (0, 1], was " + maxFraction);
        }
        QuiverServer server = new QuiverServer(runtime, maxFraction);
        server.app.start(host, port);
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
        return pipelines.swap(
                current -> {
                    Pipeline.Builder b = current.toBuilder();
                    transition.removedPluginIds().forEach(b::removePlugin);
                    for (LoadedPlugin p : transition.added()) {
                        b.plugin(p.id(), p.version());
                    }
                    transition.addedPredictions().forEach(c -> b.addPrediction(pluginOf(c), c));
                    transition.addedEnsembles().forEach(c -> b.addEnsemble(pluginOf(c), c));
                    transition.addedSizings().forEach(c -> b.addSizing(pluginOf(c), c));
                    return b.build();
                },
                transition::retire);
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
        Counter.builder("quiver.errors")
                .description("Requests answered with an error")
                .tag("kind", kind)
                .register(metrics)
                .increment();
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
        Map<String, Object> answer = decisions.decide(bars);
        decisionCount.increment();
        json(ctx, 200, answer);
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
        Pipeline serving = pipelines.current();
        Map<String, Object> pipeline = new LinkedHashMap<>();
        pipeline.put("generation", serving.generation());
        pipeline.put("plugins", serving.pluginVersions());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("plugins", loaded);
        body.put("refusals", refused);
        body.put("health", health);
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
        if (predictions > 0 && sizings > 0) {
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

    private static void json(Context ctx, int status, Object body) {
        try {
            ctx.status(status).contentType(JSON_TYPE).result(JSON.writeValueAsString(body));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
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
        app.stop();
        pipelines.close();
        metrics.close();
    }
}
