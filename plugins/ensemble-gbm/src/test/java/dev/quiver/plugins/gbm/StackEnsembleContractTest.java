package dev.quiver.plugins.gbm;

import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.testkit.EnsembleCapabilityContract;
import java.util.Map;

/**
 * The plugin author's kit ensemble contract, for the stacking ensemble as configured by default.
 */
class StackEnsembleContractTest implements EnsembleCapabilityContract {

    @Override
    public EnsembleCapability newEnsemble() {
        return new StackEnsemble(RealRows.context(Map.of()));
    }
}
