package dev.quiver.host.session;

import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.registry.ModelUri;
import dev.quiver.host.strategy.ResolvedStrategy;
import dev.quiver.host.strategy.StrategyResolver;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows a registry alias of the served strategy ({@code serve --strategy models:/NAME@ALIAS}):
 * every poll interval asks where it points (a cheap registry call, no download) and, when it moved,
 * resolves, verifies and serves that version ({@link ServedStrategy#serve}: every session swaps
 * between two of its bars). A version that is refused is recorded and the serving one keeps serving
 * (it is not asked for again until the alias moves elsewhere); an unreachable registry is retried
 * at the next poll.
 */
public final class AliasFollower {

    private static final Logger LOG = LoggerFactory.getLogger(AliasFollower.class);

    private AliasFollower() {}

    /**
     * Starts following.
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
        ScheduledExecutorService poller =
                Executors.newSingleThreadScheduledExecutor(
                        r -> {
                            Thread t = new Thread(r, "quiver-strategy-alias-poller");
                            t.setDaemon(true);
                            return t;
                        });
        String name = ModelUri.parse(uri).name();
        AtomicReference<String> lastRefused = new AtomicReference<>();
        poller.scheduleWithFixedDelay(
                () -> {
                    try {
                        String version = resolver.currentVersion(uri);
                        String id = name + "/" + version;
                        if (id.equals(served.bundle().id()) || id.equals(lastRefused.get())) {
                            return;
                        }
                        try {
                            ResolvedStrategy next = resolver.resolve("models:/" + id);
                            var swapped = served.serve(next.bundle(), plugins, "alias " + uri);
                            LOG.info("serve: strategy {} now serves {}: {}", uri, id, swapped);
                        } catch (RuntimeException e) {
                            lastRefused.set(id);
                            served.refused("models:/" + id, e.getMessage());
                            LOG.warn(
                                    "serve: strategy {} -> {} refused: {}",
                                    uri,
                                    id,
                                    e.getMessage());
                        }
                    } catch (RuntimeException e) {
                        LOG.warn("serve: strategy alias {} not polled: {}", uri, e.getMessage());
                    }
                },
                every.toMillis(),
                every.toMillis(),
                TimeUnit.MILLISECONDS);
        return poller;
    }
}
