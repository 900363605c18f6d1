package dev.quiver.api.sizing;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.Stable;
import dev.quiver.api.error.CapabilityException;
import org.pf4j.ExtensionPoint;

/**
 * Turns a fused signal into a target position, a fraction of equity. The host's risk guard enforces
 * the cap and finiteness whatever is returned.
 *
 * <p>Contract: a decision never above {@code context.maxFraction()}; zero when there is no positive
 * edge; deterministic for the same context.
 *
 * <p>Implemented by plugins: adding an abstract method is a major change.
 *
 * @since 1.0.0
 */
@Stable(since = "1.0.0")
public interface SizingCapability extends ExtensionPoint, AutoCloseable {

    /**
     * What this policy is; its name is the policy's name in reports, e.g. {@code kelly}.
     *
     * @return the descriptor, the same on every call
     */
    CapabilityDescriptor descriptor();

    /**
     * Sizes the position to hold over the next bar.
     *
     * @param context the signal, account state and market state at the decision bar
     * @return the decision, with a reason
     * @throws CapabilityException if the policy cannot decide
     */
    SizingDecision size(SizingContext context);

    /** Releases resources. Idempotent. */
    @Override
    default void close() {}
}
