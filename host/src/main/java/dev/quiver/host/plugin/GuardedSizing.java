package dev.quiver.host.plugin;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.api.sizing.SizingOutcome;
import java.util.List;

/**
 * A plugin's sizing policy behind its {@link PluginGuard}: a fraction above the host's cap is
 * garbage (NaN, infinite and negative fractions cannot even be built).
 */
final class GuardedSizing implements SizingCapability, Guarded {

    private final SizingCapability delegate;
    private final PluginGuard guard;
    private final CapabilityDescriptor descriptor;

    GuardedSizing(SizingCapability delegate, PluginGuard guard) {
        this.delegate = delegate;
        this.guard = guard;
        this.descriptor = delegate.descriptor();
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return descriptor;
    }

    @Override
    public SizingDecision size(SizingContext context) {
        return guard.call(
                descriptor.name(),
                "size",
                guard.policy().deadline(),
                () -> delegate.size(context),
                d ->
                        d.fraction() > context.maxFraction()
                                ? "returned fraction "
                                        + d.fraction()
                                        + ", above the host cap "
                                        + context.maxFraction()
                                : null);
    }

    @Override
    public void fit(List<SizingOutcome> history) {
        guard.fit(descriptor.name(), () -> delegate.fit(history));
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
        return "sizing '" + descriptor.name() + "' of plugin '" + guard.pluginId() + "'";
    }
}
