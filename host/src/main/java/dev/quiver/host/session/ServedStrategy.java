package dev.quiver.host.session;

import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.strategy.BundleLoader;
import dev.quiver.host.strategy.StrategyBundle;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/** The strategy bundles a service serves, the sessions stepping them, and the swaps it refused. */
public final class ServedStrategy {

    /**
     * A bundle the service refused to swap in, and why (the serving one kept serving).
     *
     * @param at when
     * @param requested what was asked for (a folder or a registry version)
     * @param reason the refusal
     */
    public record Refusal(Instant at, String requested, String reason) {}

    private static final int KEPT_REFUSALS = 20;

    private final StrategyCatalog catalog;
    private final SessionManager sessions;
    private final Optional<Duration> maxAge;
    private final Clock clock;
    private final List<Refusal> refusals = new CopyOnWriteArrayList<>();
    private volatile Supplier<Map<String, Object>> registry;

    /**
     * @param catalog the bundle serving now and the ones sessions decided with
     * @param sessions its live sessions
     * @param maxAge a maximum age that replaces the manifests', or empty
     * @param clock the service's clock
     */
    public ServedStrategy(
            StrategyCatalog catalog,
            SessionManager sessions,
            Optional<Duration> maxAge,
            Clock clock) {
        this.catalog = catalog;
        this.sessions = sessions;
        this.maxAge = maxAge;
        this.clock = clock;
    }

    /**
     * The bundle serving now.
     *
     * @return the catalog's current bundle
     */
    public StrategyBundle bundle() {
        return catalog.current();
    }

    /**
     * The sessions.
     *
     * @return the session manager
     */
    public SessionManager sessions() {
        return sessions;
    }

    /**
     * The maximum age override.
     *
     * @return the override, or empty for the manifests'
     */
    public Optional<Duration> maxAge() {
        return maxAge;
    }

    /**
     * Serves another bundle: verified (files, plugin and capability versions, feature schema, age)
     * and loaded once before anything changes; then new sessions get it and every open session
     * swaps to it between two of its bars. A refused bundle changes nothing: the serving one keeps
     * serving, and the refusal is recorded.
     *
     * @param next the bundle to serve
     * @param runtime the loaded plugins
     * @param actor who asked
     * @return per session, the bundle it decides with now (or why it kept its own)
     * @throws dev.quiver.api.error.QuiverInputException {@code BAD_BUNDLE}, {@code BUNDLE_MISMATCH}
     *     or {@code BUNDLE_EXPIRED} with the reason
     */
    public synchronized Map<String, String> serve(
            StrategyBundle next, PluginRuntime runtime, String actor) {
        try {
            next.checkFresh(clock.instant(), maxAge);
            BundleLoader.load(next, runtime).close();
        } catch (RuntimeException e) {
            refused(next.id(), e.getMessage());
            throw e;
        }
        if (!(catalog instanceof StrategyCatalog.Folders folders)) {
            throw new IllegalStateException("this service's catalog cannot change its bundle");
        }
        folders.serve(next);
        return sessions.swapToCurrent(actor);
    }

    /**
     * Records a refusal (shown by {@code GET /v1/strategy}); the last 20 are kept.
     *
     * @param requested what was asked for
     * @param reason why it was refused
     */
    public void refused(String requested, String reason) {
        refusals.add(new Refusal(clock.instant(), requested, reason));
        while (refusals.size() > KEPT_REFUSALS) {
            refusals.remove(0);
        }
    }

    /**
     * The last refusals, oldest first.
     *
     * @return at most 20
     */
    public List<Refusal> refusals() {
        return List.copyOf(refusals);
    }

    /**
     * Why the service is degraded, if it is: the bundle is past its maximum age (its sessions'
     * decisions on current bars abstain).
     *
     * @return the reason, or empty while the bundle is fresh
     */
    public Optional<String> degradedReason() {
        StrategyBundle bundle = catalog.current();
        Instant expires = bundle.expiresAt(maxAge);
        return clock.instant().isBefore(expires)
                ? Optional.empty()
                : Optional.of(bundle.expiryReason(maxAge));
    }

    /**
     * Connects the alias follower's state (set by {@link AliasFollower}).
     *
     * @param status what the follower reports: {@code requested}, {@code registry}, {@code
     *     stale_since}, the last poll and its result
     */
    void following(Supplier<Map<String, Object>> status) {
        this.registry = status;
    }

    /**
     * How following the registry alias goes, for {@code GET /v1/strategy} and {@code
     * /health/ready}: {@code stale_since} is set while the alias could not be checked (the registry
     * unreachable or refusing the credentials); the served bundle keeps serving meanwhile.
     *
     * @return the follower's state, or empty when the service does not follow an alias
     */
    public Optional<Map<String, Object>> registry() {
        Supplier<Map<String, Object>> r = registry;
        return r == null ? Optional.empty() : Optional.of(r.get());
    }
}
