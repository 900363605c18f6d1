package dev.quiver.host.plugin;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.LabeledForecasts;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import java.nio.file.Path;
import java.util.List;

/** A plugin's ensemble behind its {@link PluginGuard}: a signal for another bar is garbage. */
final class GuardedEnsemble implements EnsembleCapability, Guarded {

    private final EnsembleCapability delegate;
    private final PluginGuard guard;
    private final Runnable afterClose;
    private final java.util.concurrent.atomic.AtomicBoolean closed =
            new java.util.concurrent.atomic.AtomicBoolean();
    private final CapabilityDescriptor descriptor;

    GuardedEnsemble(EnsembleCapability delegate, PluginGuard guard) {
        this(delegate, guard, () -> {});
    }

    /** An instance of its own whose {@code afterClose} runs once, after the extension closed. */
    GuardedEnsemble(EnsembleCapability delegate, PluginGuard guard, Runnable afterClose) {
        this.afterClose = afterClose;
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

    /**
     * The plugin's answer, asked on its thread under the guard. A plugin built against an api
     * before 1.3.0 gets the api's default: whether it overrides {@code fit}.
     */
    @Override
    public boolean hasFittedState() {
        return guard.call(
                descriptor.name(),
                "hasFittedState",
                guard.policy().deadline(),
                delegate::hasFittedState,
                ok -> null);
    }

    /**
     * The plugin's export, under the guard with the fit deadline; the result must start with {@code
     * <name>.state.json} and name only files that exist directly in {@code dir}. Without fitted
     * state, or when the plugin does not implement {@code exportState}, it is answered without
     * calling the plugin (not a failure of the plugin).
     */
    @Override
    public List<Path> exportState(Path dir) {
        checkImplemented("exportState");
        return guard.call(
                descriptor.name(),
                "exportState",
                guard.policy().fitDeadline(),
                () -> delegate.exportState(dir),
                files -> StateCalls.exportProblem(files, dir, descriptor.name()));
    }

    /**
     * The plugin's restore, under the guard with the fit deadline. A {@code BAD_STATE} refusal is
     * passed on as is and does not count towards quarantine (the files were bad, not the plugin).
     */
    @Override
    public void restoreState(Path dir) {
        checkImplemented("restoreState");
        guard.call(
                descriptor.name(),
                "restoreState",
                guard.policy().fitDeadline(),
                () -> {
                    delegate.restoreState(dir);
                    return Boolean.TRUE;
                },
                ok -> null);
    }

    private void checkImplemented(String method) {
        if (!hasFittedState()) {
            throw new UnsupportedOperationException(
                    "ensemble '"
                            + descriptor.name()
                            + "' has no fitted state to "
                            + method.replace("State", ""));
        }
        if (!StateCalls.implemented(delegate, EnsembleCapability.class, method)) {
            throw new UnsupportedOperationException(
                    "ensemble '"
                            + descriptor.name()
                            + "' of plugin '"
                            + guard.pluginId()
                            + "' learns in fit but does not implement "
                            + method
                            + " (plugins-api 1.3.0): its fitted state cannot be "
                            + (method.equals("exportState") ? "exported" : "restored"));
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            guard.closeExtension(descriptor.name(), delegate);
            afterClose.run();
        }
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
