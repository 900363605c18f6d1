package dev.quiver.host.plugin;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.LabeledForecasts;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import java.util.List;

/** A plugin's ensemble behind its {@link PluginGuard}: a signal for another bar is garbage. */
final class GuardedEnsemble implements EnsembleCapability, Guarded {

    private final EnsembleCapability delegate;
    private final PluginGuard guard;
    private final CapabilityDescriptor descriptor;

    GuardedEnsemble(EnsembleCapability delegate, PluginGuard guard) {
        this.delegate = delegate;
        this.guard = guard;
        this.descriptor = delegate.descriptor();
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return descriptor;
    }

    @Override
    public void fit(List<LabeledForecasts> trainingWindow) {
        guard.fit(descriptor.name(), () -> delegate.fit(trainingWindow));
    }

    @Override
    public FusedSignal fuse(List<Forecast> forecasts, FeatureFrame frame) {
        return guard.call(
                descriptor.name(),
                "fuse",
                guard.policy().deadline(),
                () -> delegate.fuse(forecasts, frame),
                s ->
                        s.barTime().equals(frame.bar().start())
                                ? null
                                : "returned a signal for bar "
                                        + s.barTime()
                                        + ", not the decision bar "
                                        + frame.bar().start());
    }

    @Override
    public void close() {
        guard.closeExtension(descriptor.name(), delegate);
    }

    @Override
    public Object delegate() {
        return delegate;
    }

    @Override
    public String pluginId() {
        return guard.pluginId();
    }

    @Override
    public String toString() {
        return "ensemble '" + descriptor.name() + "' of plugin '" + guard.pluginId() + "'";
    }
}
