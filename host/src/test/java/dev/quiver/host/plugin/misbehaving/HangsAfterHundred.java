package dev.quiver.host.plugin.misbehaving;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import java.util.Map;

/**
 * Packed into a test plugin zip by {@code PluginDeadlinesIT} (RELIABILITY.md P2's plugin B):
 * answers its first 100 calls at once, then every call sleeps 60 s ignoring interrupts.
 */
public final class HangsAfterHundred implements PredictionCapability {

    private int calls;

    @Override
    public CapabilityDescriptor descriptor() {
        return CapabilityDescriptor.of("hangs-after-100", "1.0.0");
    }

    @Override
    public Forecast forecast(FeatureFrame frame) {
        if (++calls > 100) {
            Sleeper.ignoringInterrupts(60_000);
        }
        return new Forecast("hangs-after-100", frame.bar().start(), 1, 0.5, Map.of());
    }
}
