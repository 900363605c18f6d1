package dev.quiver.host.plugin.misbehaving;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import java.util.Map;

/**
 * Packed into a test plugin zip by {@code PluginDeadlinesIT} (RELIABILITY.md P2's plugin A):
 * answers at once, except every 3rd call, which sleeps 60 s ignoring interrupts first.
 */
public final class EveryThirdSleeper implements PredictionCapability {

    private int calls;

    @Override
    public CapabilityDescriptor descriptor() {
        return CapabilityDescriptor.of("every-third", "1.0.0");
    }

    @Override
    public Forecast forecast(FeatureFrame frame) {
        if (++calls % 3 == 0) {
            Sleeper.ignoringInterrupts(60_000);
        }
        return new Forecast("every-third", frame.bar().start(), 1, 0.5, Map.of());
    }
}
