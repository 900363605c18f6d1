package dev.quiver.host.live;

import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.host.plugin.LoadedPlugin;
import dev.quiver.host.plugin.PluginRuntime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Everything one decision is computed with: the capability instances in the order they are
 * consulted, the plugin versions they come from and the model version each model-backed capability
 * serves. Immutable; a change is a new pipeline with a higher {@link #generation()}, built with
 * {@link #toBuilder()} and installed by {@link PipelineHolder#swap}.
 *
 * <p>A capability instance may be shared by several generations (a model swap replaces one
 * prediction and keeps the rest), so whoever replaces an instance closes it, once the old
 * generation has drained, and never an instance the new generation still holds.
 */
public final class Pipeline {

    /** A capability instance and the plugin it belongs to. */
    private record Wired<T>(String pluginId, String name, T capability) {}

    private final long generation;
    private final List<Wired<PredictionCapability>> predictions;
    private final List<Wired<EnsembleCapability>> ensembles;
    private final List<Wired<SizingCapability>> sizings;
    private final Map<String, String> pluginVersions;
    private final Map<String, ServedModel> models;
    // The bare capability lists, built once: every decision reads them.
    private final List<PredictionCapability> predictionList;
    private final List<EnsembleCapability> ensembleList;
    private final List<SizingCapability> sizingList;

    private Pipeline(Builder b, long generation) {
        this.generation = generation;
        this.predictions = List.copyOf(b.predictions);
        this.ensembles = List.copyOf(b.ensembles);
        this.sizings = List.copyOf(b.sizings);
        this.predictionList = predictions.stream().map(Wired::capability).toList();
        this.ensembleList = ensembles.stream().map(Wired::capability).toList();
        this.sizingList = sizings.stream().map(Wired::capability).toList();
        this.pluginVersions = Collections.unmodifiableMap(new TreeMap<>(b.pluginVersions));
        this.models = Collections.unmodifiableMap(new TreeMap<>(b.models));
    }

    /**
     * The pipeline of a freshly started runtime: every wired capability, generation 0, no models
     * bound.
     *
     * @param runtime started plugins (stays owned by the caller)
     * @return generation 0
     */
    public static Pipeline of(PluginRuntime runtime) {
        Builder b = new Builder();
        for (LoadedPlugin p : runtime.plugins()) {
            b.plugin(p.id(), p.version());
        }
        for (PredictionCapability p : runtime.predictions()) {
            b.addPrediction(pluginOf(p), p);
        }
        for (EnsembleCapability e : runtime.ensembles()) {
            b.addEnsemble(pluginOf(e), e);
        }
        for (SizingCapability s : runtime.sizings()) {
            b.addSizing(pluginOf(s), s);
        }
        return new Pipeline(b, 0);
    }

    /** An empty pipeline builder (generation 0 when built), for hosts that wire by hand. */
    public static Builder builder() {
        return new Builder();
    }

    private static String pluginOf(Object capability) {
        return PluginRuntime.pluginIdOf(capability).orElse("host");
    }

    /** Increases by one with every swap; 0 for the pipeline the service started with. */
    public long generation() {
        return generation;
    }

    /** Prediction sources in the order they are consulted. */
    public List<PredictionCapability> predictions() {
        return predictionList;
    }

    /** Ensembles, first preferred unless the service picks one by name. */
    public List<EnsembleCapability> ensembles() {
        return ensembleList;
    }

    /** Sizing policies. */
    public List<SizingCapability> sizings() {
        return sizingList;
    }

    /** Plugin id to version, sorted by id. */
    public Map<String, String> pluginVersions() {
        return pluginVersions;
    }

    /** Capability name to the model version it serves, sorted by capability. */
    public Map<String, ServedModel> models() {
        return models;
    }

    /** The prediction source called {@code name}, if there is one. */
    public Optional<PredictionCapability> prediction(String name) {
        return predictions.stream()
                .filter(w -> w.name().equals(name))
                .map(Wired::capability)
                .findFirst();
    }

    /**
     * Every capability instance of a plugin in this pipeline (predictions, ensembles, sizings).
     *
     * @param pluginId plugin id
     * @return its instances, empty if it contributes none
     */
    public List<Object> capabilitiesOf(String pluginId) {
        List<Object> out = new ArrayList<>();
        for (List<? extends Wired<?>> list : List.of(predictions, ensembles, sizings)) {
            for (Wired<?> w : list) {
                if (w.pluginId().equals(pluginId)) {
                    out.add(w.capability());
                }
            }
        }
        return out;
    }

    /**
     * A builder holding a copy of this pipeline; {@link Builder#build()} is the next generation.
     */
    public Builder toBuilder() {
        Builder b = new Builder(generation + 1);
        b.predictions.addAll(predictions);
        b.ensembles.addAll(ensembles);
        b.sizings.addAll(sizings);
        b.pluginVersions.putAll(pluginVersions);
        b.models.putAll(models);
        return b;
    }

    @Override
    public String toString() {
        return "Pipeline{generation="
                + generation
                + ", predictions="
                + predictions.stream().map(Wired::name).toList()
                + ", ensembles="
                + ensembles.stream().map(Wired::name).toList()
                + ", sizings="
                + sizings.stream().map(Wired::name).toList()
                + ", plugins="
                + pluginVersions
                + ", models="
                + models.keySet()
                + "}";
    }

    /** A mutable copy of a pipeline; not thread-safe. */
    public static final class Builder {
        private final long generation;
        private final List<Wired<PredictionCapability>> predictions = new ArrayList<>();
        private final List<Wired<EnsembleCapability>> ensembles = new ArrayList<>();
        private final List<Wired<SizingCapability>> sizings = new ArrayList<>();
        private final Map<String, String> pluginVersions = new LinkedHashMap<>();
        private final Map<String, ServedModel> models = new LinkedHashMap<>();

        private Builder() {
            this(0);
        }

        private Builder(long generation) {
            this.generation = generation;
        }

        /** Records a plugin's version (provenance). */
        public Builder plugin(String pluginId, String version) {
            pluginVersions.put(Objects.requireNonNull(pluginId), Objects.requireNonNull(version));
            return this;
        }

        /**
         * Appends a prediction source.
         *
         * @throws IllegalArgumentException if a source with the same name is already wired
         */
        public Builder addPrediction(String pluginId, PredictionCapability p) {
            String name = p.descriptor().name();
            if (predictions.stream().anyMatch(w -> w.name().equals(name))) {
                throw new IllegalArgumentException(
                        "[Quiver/DUPLICATE_CAPABILITY] a prediction named '"
                                + name
                                + "' is already wired; remove it first");
            }
            predictions.add(new Wired<>(pluginId, name, p));
            return this;
        }

        /** Appends an ensemble. */
        public Builder addEnsemble(String pluginId, EnsembleCapability e) {
            ensembles.add(new Wired<>(pluginId, e.descriptor().name(), e));
            return this;
        }

        /** Appends a sizing policy. */
        public Builder addSizing(String pluginId, SizingCapability s) {
            sizings.add(new Wired<>(pluginId, s.descriptor().name(), s));
            return this;
        }

        /**
         * Replaces the prediction source called {@code name} in place (same position, same plugin)
         * and records the model it now serves.
         *
         * @param name the capability name, e.g. {@code lstm}
         * @param replacement the new instance; its descriptor must carry the same name
         * @param model the model version it serves, or null for none
         * @return the instance it replaced (the caller closes it once the old pipeline drained)
         * @throws IllegalArgumentException if no source is called {@code name}, or the replacement
         *     is called something else
         */
        public PredictionCapability replacePrediction(
                String name, PredictionCapability replacement, ServedModel model) {
            if (!replacement.descriptor().name().equals(name)) {
                throw new IllegalArgumentException(
                        "[Quiver/CAPABILITY_MISMATCH] replacement for prediction '"
                                + name
                                + "' is called '"
                                + replacement.descriptor().name()
                                + "'");
            }
            for (int i = 0; i < predictions.size(); i++) {
                Wired<PredictionCapability> w = predictions.get(i);
                if (w.name().equals(name)) {
                    predictions.set(i, new Wired<>(w.pluginId(), name, replacement));
                    if (model == null) {
                        models.remove(name);
                    } else {
                        models.put(name, model);
                    }
                    return w.capability();
                }
            }
            throw new IllegalArgumentException(
                    "[Quiver/NO_SUCH_CAPABILITY] no prediction called '"
                            + name
                            + "' is wired (wired: "
                            + predictions.stream().map(Wired::name).toList()
                            + ")");
        }

        /**
         * Removes every capability of a plugin, its version and the models its capabilities served.
         *
         * @return the removed instances (the caller closes them once the old pipeline drained)
         */
        public List<Object> removePlugin(String pluginId) {
            List<Object> removed = new ArrayList<>();
            for (List<? extends Wired<?>> list : List.of(predictions, ensembles, sizings)) {
                for (Wired<?> w : list) {
                    if (w.pluginId().equals(pluginId)) {
                        removed.add(w.capability());
                        models.remove(w.name());
                    }
                }
            }
            predictions.removeIf(w -> w.pluginId().equals(pluginId));
            ensembles.removeIf(w -> w.pluginId().equals(pluginId));
            sizings.removeIf(w -> w.pluginId().equals(pluginId));
            pluginVersions.remove(pluginId);
            return removed;
        }

        /** Records (or with null, forgets) the model a capability serves. */
        public Builder model(String capability, ServedModel model) {
            if (model == null) {
                models.remove(capability);
            } else {
                models.put(capability, model);
            }
            return this;
        }

        /** The pipeline: one generation after the one this builder copied. */
        public Pipeline build() {
            return new Pipeline(this, generation);
        }
    }
}
