package dev.quiver.host.plugin.misbehaving;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import java.util.Map;

/** Packed into a test plugin zip by {@code IsolationIT}: bets 1e308 of equity. */
public final class OversizedSizer implements SizingCapability {
    @Override
    public CapabilityDescriptor descriptor() {
        return CapabilityDescriptor.of("oversized", "1.0.0");
    }

    @Override
    public SizingDecision size(SizingContext context) {
        return new SizingDecision(1e308, "all in, and then some", Map.of());
    }
}
