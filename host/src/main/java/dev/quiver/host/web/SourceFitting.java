package dev.quiver.host.web;

import dev.quiver.api.feature.LabeledFrame;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.market.BarData;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fits the trainable prediction sources (those trained per walk-forward fold in a backtest, e.g.
 * XGBoost and LightGBM) once before a service starts, on the last bars of a real series whose
 * labels are known: the service's equivalent of a fold's training window. Sources with nothing to
 * fit ignore it (their {@code fit} is a no-op).
 */
public final class SourceFitting {

    private SourceFitting() {}

    /**
     * Fits every source on the last {@code bars} labelled bars of {@code history}.
     *
     * @param sources the prediction capabilities to fit
     * @param history a real series; its last bar has no label and is left out
     * @param bars training window length, {@code >= 1}
     * @return per source name, what happened ({@code fit on ...} or {@code fit failed: ...})
     * @throws IllegalArgumentException if the series has no warm, labelled bar
     */
    public static Map<String, String> fit(
            List<PredictionCapability> sources, BarData history, int bars) {
        FeatureMatrix features = FeaturePipeline.compute(history);
        int last = history.size() - 2; // its label needs the next close
        int first = Math.max(features.firstWarmIndex(), last - bars + 1);
        if (first > last) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] --fit-on "
                            + history.symbol()
                            + " has no warm, labelled bar to fit on");
        }
        List<LabeledFrame> window = new ArrayList<>(last - first + 1);
        for (int i = first; i <= last; i++) {
            window.add(
                    new LabeledFrame(
                            features.frame(i),
                            1,
                            Math.log(history.close[i + 1] / history.close[i])));
        }
        String span =
                history.symbol()
                        + " "
                        + Instant.ofEpochMilli(history.startMillis[first])
                        + ".."
                        + Instant.ofEpochMilli(history.startMillis[last])
                        + " ("
                        + window.size()
                        + " bars)";
        Map<String, String> outcome = new LinkedHashMap<>();
        for (PredictionCapability source : sources) {
            String name = source.descriptor().name();
            try {
                source.fit(window);
                outcome.put(name, "fit on " + span + " (a no-op for sources that are not trained)");
            } catch (RuntimeException e) {
                outcome.put(name, "fit failed: " + e.getMessage());
            }
        }
        return outcome;
    }
}
