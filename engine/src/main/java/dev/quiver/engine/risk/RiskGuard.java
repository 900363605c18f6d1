package dev.quiver.engine.risk;

import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;

/**
 * The host's last word on a position: whatever a sizing policy does, the decision that leaves here
 * is finite and in {@code [0, ctx.maxFraction()]}.
 *
 * <ul>
 *   <li>the policy throws a {@link RuntimeException}, a {@link LinkageError} (e.g. a plugin built
 *       against a missing class) or a {@link StackOverflowError}: flat (0), the reason names the
 *       policy and the failure. Other {@link VirtualMachineError}s (out of memory, internal error)
 *       are not survivable and propagate;
 *   <li>the policy returns {@code null}: flat, with a reason saying so;
 *   <li>the fraction is above the cap: clipped to the cap, the reason says {@code clipped from X to
 *       cap Y}. Exactly the cap passes untouched.
 * </ul>
 *
 * <p>Stateless and thread-safe.
 */
public final class RiskGuard {

    /** Creates a guard. */
    public RiskGuard() {}

    /**
     * Asks {@code policy} for a decision and enforces the limits on it.
     *
     * @param policy the sizing policy, possibly a misbehaving plugin
     * @param ctx the point-in-time sizing context; {@code ctx.maxFraction()} is the cap
     * @return a decision in {@code [0, ctx.maxFraction()]}, never {@code null}
     */
    public GuardedDecision decide(SizingCapability policy, SizingContext ctx) {
        SizingDecision decision;
        try {
            decision = policy.size(ctx);
        } catch (RuntimeException | LinkageError | StackOverflowError e) {
            return new GuardedDecision(
                    0.0,
                    "risk guard: policy '"
                            + nameOf(policy)
                            + "' failed ("
                            + e.getClass().getSimpleName()
                            + ": "
                            + e.getMessage()
                            + ") -> flat",
                    true);
        }
        if (decision == null) {
            return new GuardedDecision(
                    0.0,
                    "risk guard: policy '"
                            + nameOf(policy)
                            + "' returned no decision (null) -> flat",
                    true);
        }
        double fraction = decision.fraction();
        double cap = ctx.maxFraction();
        if (!(fraction >= 0) || Double.isInfinite(fraction)) {
            // SizingDecision already rejects these; kept so the guard never depends on it.
            return new GuardedDecision(
                    0.0,
                    "risk guard: policy '"
                            + nameOf(policy)
                            + "' returned fraction "
                            + fraction
                            + " -> flat",
                    true);
        }
        if (fraction > cap) {
            return new GuardedDecision(
                    cap,
                    decision.reason() + "; risk guard: clipped from " + fraction + " to cap " + cap,
                    true);
        }
        // + 0.0 turns a -0.0 (which passes ">= 0") into 0.0, so nothing downstream sees a signed
        // zero
        return new GuardedDecision(fraction + 0.0, decision.reason(), false);
    }

    private static String nameOf(SizingCapability policy) {
        try {
            return policy.descriptor().name();
        } catch (RuntimeException | LinkageError e) {
            return policy.getClass().getName();
        }
    }
}
