package dev.quiver.engine;

import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import java.util.List;

/**
 * The components one engine decides with: forecast sources, the ensemble that fuses them, and the
 * sizing policies (each trading its own book).
 *
 * @param sources forecast sources, at least one, distinct names
 * @param ensemble fuses the sources' forecasts
 * @param policies sizing policies, at least one, distinct names
 */
public record Strategy(
        List<PredictionCapability> sources,
        EnsembleCapability ensemble,
        List<SizingCapability> policies) {

    /**
     * Validates and copies.
     *
     * @throws IllegalArgumentException if a list is empty, the ensemble is missing or policy names
     *     repeat
     */
    public Strategy {
        sources = List.copyOf(sources);
        policies = List.copyOf(policies);
        if (sources.isEmpty() || policies.isEmpty() || ensemble == null) {
            throw new IllegalArgumentException(
                    "a strategy needs at least one source, an ensemble and at least one policy");
        }
        long distinct = policies.stream().map(p -> p.descriptor().name()).distinct().count();
        if (distinct != policies.size()) {
            throw new IllegalArgumentException(
                    "policy names must be distinct: "
                            + policies.stream().map(p -> p.descriptor().name()).toList());
        }
    }

    /**
     * The policies' names, in order.
     *
     * @return e.g. {@code [fixed, kelly, kelly_ml]}
     */
    public List<String> policyNames() {
        return policies.stream().map(p -> p.descriptor().name()).toList();
    }
}
