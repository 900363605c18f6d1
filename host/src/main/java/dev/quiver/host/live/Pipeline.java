package dev.quiver.host.live;

import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.host.plugin.LoadedPlugin;
import dev.quiver.host.plugin.PluginRuntime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Placeholder of main's live core (same API), replaced when main is merged. */
public final class Pipeline {
    private final long generation;
    private final List<PredictionCapability> predictions;
    private final List<EnsembleCapability> ensembles;
    private final List<SizingCapability> sizings;
    private final Map<String, String> pluginVersions;
    private final Map<String, ServedModel> models;

    private Pipeline(
            long generation,
            List<PredictionCapability> predictions,
            List<EnsembleCapability> ensembles,
            List<SizingCapability> sizings,
            Map<String, String> pluginVersions,
            Map<String, ServedModel> models) {
        this.generation = generation;
        this.predictions = List.copyOf(predictions);
        this.ensembles = List.copyOf(ensembles);
        this.sizings = List.copyOf(sizings);
        this.pluginVersions = Map.copyOf(pluginVersions);
        this.models = Map.copyOf(models);
    }

    public static Pipeline of(PluginRuntime runtime) {
        Map<String, String> versions = new LinkedHashMap<>();
        for (LoadedPlugin p : runtime.plugins()) {
            versions.put(p.id(), p.version());
        }
        return new Pipeline(
                0,
                runtime.predictions(),
                runtime.ensembles(),
                runtime.sizings(),
                versions,
                Map.of());
    }

    public long generation() {
        return generation;
    }

    public List<PredictionCapability> predictions() {
        return predictions;
    }

    public List<EnsembleCapability> ensembles() {
        return ensembles;
    }

    public List<SizingCapability> sizings() {
        return sizings;
    }

    public Map<String, String> pluginVersions() {
        return pluginVersions;
    }

    public Map<String, ServedModel> models() {
        return models;
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Copy-and-change. */
    public static final class Builder {
        private final Pipeline from;
        private final List<PredictionCapability> predictions;
        private final Map<String, ServedModel> models;

        Builder(Pipeline from) {
            this.from = from;
            this.predictions = new ArrayList<>(from.predictions);
            this.models = new LinkedHashMap<>(from.models);
        }

        public Builder replacePrediction(String name, PredictionCapability p, ServedModel model) {
            boolean found = false;
            for (int i = 0; i < predictions.size(); i++) {
                if (predictions.get(i).descriptor().name().equals(name)) {
                    predictions.set(i, p);
                    found = true;
                }
            }
            if (!found) {
                predictions.add(p);
            }
            if (model == null) {
                models.remove(name);
            } else {
                models.put(name, model);
            }
            return this;
        }

        public Pipeline build() {
            return new Pipeline(
                    from.generation + 1,
                    predictions,
                    from.ensembles,
                    from.sizings,
                    from.pluginVersions,
                    models);
        }
    }
}
