package dev.quiver.engine;

import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import java.util.List;
import java.util.Map;

/**
 * Where the engine gets the sources' forecasts of a decision bar. {@link SymbolEngine#sourcesOf}
 * asks every source (live); the walk-forward backtest adds a per-bar store (out-of-fold forecasts
 * for the ensemble's next fit) around the same calls.
 */
@FunctionalInterface
public interface Forecasts {

    /**
     * The forecasts of the decision bar.
     *
     * @param frame the decision bar's features
     * @param failures receives, per source that failed, why (a source that fails is left out)
     * @return the available forecasts, possibly empty
     */
    List<Forecast> at(FeatureFrame frame, Map<String, String> failures);
}
