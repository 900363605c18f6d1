package dev.quiver.host.fusion;

import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.engine.fusion.WeightedFusion;
import dev.quiver.testkit.EnsembleCapabilityContract;

/** The host's built-in fusion meets the same contract as a plugin ensemble. */
class WeightedFusionContractTest implements EnsembleCapabilityContract {

    @Override
    public EnsembleCapability newEnsemble() {
        return new WeightedFusion();
    }
}
