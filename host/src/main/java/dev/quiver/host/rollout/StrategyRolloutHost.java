package dev.quiver.host.rollout;

import java.util.Map;

/**
 * What runs a {@link RolloutSpec.Kind#STRATEGY} rollout in a service: the live sessions' side (per
 * session a shadow engine for the bundle that does not act, routing by the spec's key, the swap of
 * a routed session's bundle). {@link LiveRollouts} asks it to admit a spec before anything is
 * recorded, and tells it when a rollout started or was restored.
 */
public interface StrategyRolloutHost {

    /**
     * Checks that the spec's challenger bundle can serve beside the served one: found, verified
     * (files, sha256), its plugin and capability versions and feature schema those loaded, not
     * expired, the same policies as the served bundle, and not the served bundle itself.
     *
     * @param spec a strategy rollout's spec
     * @throws RolloutSpecException naming {@code challenger.strategy} and the reason if it is
     *     refused
     */
    void admit(RolloutSpec spec);

    /**
     * The two bundles of a rollout as this service knows them, for status pages.
     *
     * @param spec a strategy rollout's spec
     * @return role id to description
     */
    Map<String, String> describe(RolloutSpec spec);
}
