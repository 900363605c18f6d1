package dev.quiver.host.plugin.misbehaving;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import java.util.Map;

/**
 * Packed into a test plugin zip by {@code PluginDeadlinesIT}: answers at once, except every 20th
 * call, which takes 150 ms (ignoring interrupts) first: 1 miss in every window of 20 calls of a 50
 * ms deadline, under the declared quarantine rate of 3 in 20 (with room for a stray miss on a
 * loaded machine).
 */
public final class EveryTwentiethSlow implements PredictionCapability {

    private int calls;

    @Override
    public CapabilityDescriptor descriptor() {
        return CapabilityDescriptor.of("every-twentieth", "1.0.0");
    }

    @Override
    public Forecast forecast(FeatureFrame frame) {
        if (++calls % 20 == 0) {
            Sleeper.ignoringInterrupts(150);
        }
        return new Forecast("every-twentieth", frame.bar().start(), 1, 0.5, Map.of());
    }
}
