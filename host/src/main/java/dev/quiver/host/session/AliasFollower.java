package dev.quiver.host.session;

import dev.quiver.host.mlflow.MlflowException;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.registry.AliasPollState;
import dev.quiver.host.registry.ModelUri;
import dev.quiver.host.strategy.ResolvedStrategy;
import dev.quiver.host.strategy.StrategyResolver;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows a registry alias of the served strategy ({@code serve --strategy models:/NAME@ALIAS}), on
 * one daemon thread, never on the decision path: each poll asks where the alias points (a cheap
 * registry call, no download) and, when it moved, resolves, verifies and serves that version
 * ({@link ServedStrategy#serve}: every session swaps between two of its bars). A version that is
 * refused is recorded and the serving one keeps serving (it is not asked for again until the alias
 * moves elsewhere). When to poll again after a failed poll (exponential backoff from a quarter of
 * the interval to twice it, equal jitter, never sooner than a {@code Retry-After}, one interval
 * after 401/403) and since when the served bundle may be behind the registry are {@link
 * AliasPollState}'s, the policy of the model bindings' poller; the state is shown by {@code GET
 * /v1/strategy} and {@code /health/ready} ({@link ServedStrategy#registry()}). Each registry call
 * is bounded by the client's timeouts (in {@code serve}: 1 s connect, 5 s for the whole answer).
 */
public final class AliasFollower {

    private static final Logger LOG = LoggerFactory.getLogger(AliasFollower.class);

    private final String uri;
    private final String name;
    private final StrategyResolver resolver;
    private final ServedStrategy served;
    private final PluginRuntime plugins;
    private final AliasPollState poll;
    private final Clock clock;
    private final ScheduledExecutorService thread;
    private volatile String lastRefused;
    private volatile Instant lastPoll;
    private volatile String lastPollResult = "not polled yet";
    private volatile Instant nextPoll;

    private AliasFollower(
            String uri,
            StrategyResolver resolver,
            ServedStrategy served,
            PluginRuntime plugins,
            AliasPollState poll,
            Clock clock) {
        this.uri = uri;
        this.name = ModelUri.parse(uri).name();
        this.resolver = resolver;
        this.served = served;
        this.plugins = plugins;
        this.poll = poll;
        this.clock = clock;
        this.thread =
                Executors.newSingleThreadScheduledExecutor(
                        r -> {
                            Thread t = new Thread(r, "quiver-strategy-alias-poller");
                            t.setDaemon(true);
                            return t;
                        });
    }

    /**
     * Starts following, the registry having answered at start.
     *
     * @param uri {@code models:/NAME@ALIAS}
     * @param resolver the registry and its verified cache
     * @param served the served bundle and its sessions
     * @param plugins the loaded plugins
     * @param every poll interval, {@code > 0}
     * @return the poller (a daemon thread); shut it down to stop following
     */
    public static ScheduledExecutorService follow(
            String uri,
            StrategyResolver resolver,
            ServedStrategy served,
            PluginRuntime plugins,
            Duration every) {
        return follow(uri, resolver, served, plugins, every, Optional.empty());
    }

    /**
     * Starts following.
     *
     * @param uri {@code models:/NAME@ALIAS}
     * @param resolver the registry and its verified cache
     * @param served the served bundle and its sessions
     * @param plugins the loaded plugins
     * @param every poll interval, {@code > 0}; the backoff is capped at twice it
     * @param startedFromCache why the bundle at start came from the cache (the registry did not
     *     answer, or refused the credentials), or empty: the alias is stale from now on until a
     *     poll is answered
     * @return the poller (a daemon thread); shut it down to stop following
     */
    public static ScheduledExecutorService follow(
            String uri,
            StrategyResolver resolver,
            ServedStrategy served,
            PluginRuntime plugins,
            Duration every,
            Optional<String> startedFromCache) {
        Clock clock = Clock.systemUTC();
        AliasFollower f =
                new AliasFollower(
                        uri, resolver, served, plugins, AliasPollState.every(every), clock);
        startedFromCache.ifPresent(
                why -> {
                    f.poll.startedStale(
                            clock.instant(),
                            why.contains("AUTH_FAILED") ? "auth_failed" : "unavailable");
                    f.lastPollResult = "started from the cache: " + why;
                });
        served.following(f::status);
        f.schedule(every);
        return f.thread;
    }

    private void schedule(Duration wait) {
        nextPoll = clock.instant().plus(wait);
        try {
            thread.schedule(this::pollOnce, wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // Shut down: following stopped.
        }
    }

    private void pollOnce() {
        Instant now = clock.instant();
        lastPoll = now;
        Duration wait = poll.pollInterval();
        try {
            String version = resolver.currentVersion(uri);
            poll.answered();
            String id = name + "/" + version;
            if (id.equals(served.bundle().id())) {
                lastPollResult = "alias at version " + version + ", serving it";
            } else if (id.equals(lastRefused)) {
                lastPollResult =
                        "alias at version "
                                + version
                                + ", refused; serving "
                                + served.bundle().id();
            } else {
                lastPollResult = swapTo(id, version);
            }
        } catch (MlflowException e) {
            AliasPollState.Wait w = poll.failed(e, now);
            wait = w.delay();
            lastPollResult = poll.explain(w, e.getMessage(), served.bundle().id());
            LOG.warn("serve: strategy {}: {}", uri, lastPollResult);
        } catch (RuntimeException e) {
            wait = poll.failedOtherwise(now).delay();
            lastPollResult = "poll failed: " + e.getMessage();
            LOG.warn("serve: strategy alias {} not polled: {}", uri, e.getMessage());
        } finally {
            schedule(wait);
        }
    }

    /** The alias moved to {@code id}: resolve, verify and serve it, or record the refusal. */
    private String swapTo(String id, String version) {
        try {
            ResolvedStrategy next = resolver.resolve("models:/" + id);
            var swapped = served.serve(next.bundle(), plugins, "alias " + uri);
            LOG.info("serve: strategy {} now serves {}: {}", uri, id, swapped);
            // What a start with the registry down serves from the cache.
            try {
                resolver.recordAlias(uri, version);
            } catch (java.io.UncheckedIOException e) {
                LOG.error(
                        "serve: strategy {} serves {}, but the cache cannot record it ({}); a"
                                + " start with the registry down would serve the previous version",
                        uri,
                        id,
                        e.getMessage());
            }
            return "alias moved to version " + version + "; swapped in";
        } catch (MlflowException e) {
            // The alias answered but the download did not: transient, tried again next poll.
            String r =
                    "alias at version "
                            + version
                            + "; download failed ("
                            + e.getMessage()
                            + "); serving "
                            + served.bundle().id();
            LOG.warn("serve: strategy {}: {}", uri, r);
            return r;
        } catch (RuntimeException e) {
            lastRefused = id;
            served.refused("models:/" + id, e.getMessage());
            LOG.warn("serve: strategy {} -> {} refused: {}", uri, id, e.getMessage());
            return "alias at version " + version + ", refused (" + e.getMessage() + ")";
        }
    }

    /** For {@code GET /v1/strategy}: the alias, the registry state, staleness and the polls. */
    private Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("requested", uri);
        m.putAll(poll.status());
        m.put("last_poll", String.valueOf(lastPoll));
        m.put("last_poll_result", lastPollResult);
        m.put("next_poll", String.valueOf(nextPoll));
        m.put("poll_interval_ms", poll.pollInterval().toMillis());
        return m;
    }
}
