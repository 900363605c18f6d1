package dev.quiver.testkit.fake;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import java.util.Map;

/**
 * Zipped into a plugin by {@code QuiverPluginTestKitTest}: looks ahead-free but forecasts a bar
 * other than the decision bar, and leaves a ThreadLocal on the caller's thread (pinning its class
 * loader).
 */
public final class LeakyForecaster implements PredictionCapability {
    private static final ThreadLocal<Object> PINNED = new ThreadLocal<>();

    @Override
    public CapabilityDescriptor descriptor() {
        return CapabilityDescriptor.of("leaky", "1.0.0");
    }

    @Override
    public Forecast forecast(FeatureFrame frame) {
        PINNED.set(this);
        return new Forecast("leaky", frame.history().get(0).start(), 1, 0.5, Map.of());
    }
}
