package dev.quiver.host.plugin.misbehaving;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import java.util.Map;

/**
 * Packed into a test plugin zip by {@code StuckPluginIT}: its constructor never returns in time.
 */
public final class HangingConstructorForecaster implements PredictionCapability {

    /** Sleeps a minute, ignoring interrupts. */
    public HangingConstructorForecaster() {
        Sleeper.ignoringInterrupts(60_000);
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return CapabilityDescriptor.of("slow-to-build", "1.0.0");
    }

    @Override
    public Forecast forecast(FeatureFrame frame) {
        return new Forecast("slow-to-build", frame.bar().start(), 1, 0.5, Map.of());
    }
}
