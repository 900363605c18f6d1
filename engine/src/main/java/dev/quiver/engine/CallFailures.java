package dev.quiver.engine;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The plugin calls of one bar that failed: sources that threw or returned no forecast, an ensemble
 * that threw or returned no signal, sizing policies that threw or returned no decision. A live
 * session stores them with the bar, and its replay hands them back ({@link
 * SymbolEngine#replayFailures}) so the replayed bar fails the same calls without calling them: a
 * failure that depended on the moment (a timeout, a resource) replays as it happened.
 *
 * @param sources per source that failed, why (in the strategy's order); empty when none
 * @param ensemble why there was no fused signal because of the ensemble, or {@code null}
 * @param policies per policy whose call failed, the guard's reason (the decision was flat); empty
 *     when none
 */
public record CallFailures(
        Map<String, String> sources, String ensemble, Map<String, String> policies) {

    /** No failure. */
    public static final CallFailures NONE = new CallFailures(Map.of(), null, Map.of());

    /** Copies the maps (keeping their order). */
    public CallFailures {
        sources = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(sources));
        policies = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(policies));
    }

    /**
     * Whether no call failed.
     *
     * @return true when there is nothing to record
     */
    public boolean isEmpty() {
        return sources.isEmpty() && ensemble == null && policies.isEmpty();
    }
}
