package dev.quiver.engine.portfolio;

/** What the account-level breakers allow, most permissive first. */
public enum BreakerState {
    /** No breaker tripped: the caps alone limit the allocation. */
    ARMED,
    /** A breaker halts new risk: no position may grow above its current weight. */
    NO_NEW_RISK,
    /** A breaker flattens the account: every position is 0. */
    FLATTEN
}
