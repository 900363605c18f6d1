package dev.quiver.api.sizing;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.Stable;
import dev.quiver.api.error.CapabilityException;
import java.util.List;
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

    /**
     * Fits the policy on what past decisions would have earned. Walk-forward calls it before each
     * test fold with outcomes fully realised before the fold's first bar minus the embargo; the
     * contexts carry the out-of-sample fused signals of their bars. The default keeps the policy as
     * it is.
     *
     * @param history outcomes in time order, possibly empty
     * @throws CapabilityException if fitting fails; the host then sizes the fold flat for this
     *     policy and says so
     * @since 1.1.0
     */
    default void fit(List<SizingOutcome> history) {}

    /** Releases resources. Idempotent. */
    @Override
    default void close() {}
}
