package dev.quiver.testkit.fake;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import java.util.Map;

/** Zipped into a plugin by {@code QuiverPluginTestKitTest}: always flat, no fitted state. */
public final class FlatSizer implements SizingCapability {

    @Override
    public CapabilityDescriptor descriptor() {
        return CapabilityDescriptor.of("flat", "1.0.0");
    }

    @Override
    public SizingDecision size(SizingContext context) {
        return new SizingDecision(0, "always flat", Map.of());
    }
}
