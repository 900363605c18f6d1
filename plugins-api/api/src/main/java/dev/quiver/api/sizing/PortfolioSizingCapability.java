package dev.quiver.api.sizing;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.Experimental;
import dev.quiver.api.error.CapabilityException;
import org.pf4j.ExtensionPoint;

/**
 * Sizes every symbol of one account together, from each symbol's calibrated signal and payoff and
 * the covariance of their returns (e.g. correlation-adjusted Kelly: two highly correlated long
 * positions are one bet, not two). Declared in a manifest as {@code quiver.portfolio; name=...}.
 *
 * <p>Contract: one decision per member, in member order; each finite, {@code >= 0} and never above
 * the member's {@code context.maxFraction()}; their sum never above {@code context.grossCap()}; all
 * zero when no member has a positive edge; deterministic for the same context. The host's portfolio
 * guard enforces its caps and breakers whatever is returned.
 *
 * <p>Single-symbol policies ({@link SizingCapability}) are unchanged by this extension point.
 *
 * <p>Implemented by plugins; experimental in 1.4.0.
 *
 * @since 1.4.0
 */
@Experimental(since = "1.4.0")
public interface PortfolioSizingCapability extends ExtensionPoint, AutoCloseable {

    /**
     * What this policy is; its name is the policy's name in reports, e.g. {@code kelly_portfolio}.
     *
     * @return the descriptor, the same on every call
     */
    CapabilityDescriptor descriptor();

    /**
     * Sizes every member's position over its next bar.
     *
     * @param context the members, their covariance and the gross cap, point-in-time
     * @return one decision per member, in member order
     * @throws CapabilityException if the policy cannot decide
     */
    PortfolioSizingDecision size(PortfolioSizingContext context);

    /** Releases resources. Idempotent. */
    @Override
    default void close() {}
}
