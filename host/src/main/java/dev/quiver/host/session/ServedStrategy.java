package dev.quiver.host.session;

import dev.quiver.host.strategy.StrategyBundle;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The strategy bundle a service serves and the sessions stepping it.
 *
 * @param bundle the verified bundle
 * @param sessions its live sessions
 * @param maxAge a maximum age that replaces the manifest's, or empty
 * @param clock the service's clock
 */
public record ServedStrategy(
        StrategyBundle bundle, SessionManager sessions, Optional<Duration> maxAge, Clock clock) {

    /**
     * Why the service is degraded, if it is: the bundle is past its maximum age (its sessions'
     * decisions on current bars abstain).
     *
     * @return the reason, or empty while the bundle is fresh
     */
    public Optional<String> degradedReason() {
        Instant expires = bundle.expiresAt(maxAge);
        return clock.instant().isBefore(expires)
                ? Optional.empty()
                : Optional.of(bundle.expiryReason(maxAge));
    }
}
