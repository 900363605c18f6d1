package dev.quiver.host.session;

import dev.quiver.host.strategy.StrategyBundle;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The strategy bundles a service serves and the sessions stepping them.
 *
 * @param catalog the bundle serving now and the ones sessions decided with
 * @param sessions its live sessions
 * @param maxAge a maximum age that replaces the manifest's, or empty
 * @param clock the service's clock
 */
public record ServedStrategy(
        StrategyCatalog catalog, SessionManager sessions, Optional<Duration> maxAge, Clock clock) {

    /**
     * The bundle serving now.
     *
     * @return the catalog's current bundle
     */
    public StrategyBundle bundle() {
        return catalog.current();
    }

    /**
     * Serves another bundle: verified (files, plugin and capability versions, feature schema, age)
     * and loaded once before anything changes; then new sessions get it and every open session
     * swaps to it between two of its bars. A refused bundle changes nothing: the serving one keeps
     * serving.
     *
     * @param next the bundle to serve
     * @param runtime the loaded plugins
     * @param actor who asked
     * @return per session, the bundle it decides with now (or why it kept its own)
     * @throws dev.quiver.api.error.QuiverInputException {@code BAD_BUNDLE}, {@code BUNDLE_MISMATCH}
     *     or {@code BUNDLE_EXPIRED} with the reason
     */
    public synchronized java.util.Map<String, String> serve(
            StrategyBundle next, dev.quiver.host.plugin.PluginRuntime runtime, String actor) {
        next.checkFresh(clock.instant(), maxAge);
        dev.quiver.host.strategy.BundleLoader.load(next, runtime).close();
        if (!(catalog instanceof StrategyCatalog.Folders folders)) {
            throw new IllegalStateException("this service's catalog cannot change its bundle");
        }
        folders.serve(next);
        return sessions.swapToCurrent(actor);
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
}
