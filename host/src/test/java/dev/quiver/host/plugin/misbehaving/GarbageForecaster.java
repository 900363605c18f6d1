package dev.quiver.host.plugin.misbehaving;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import java.util.Map;

/**
 * Packed into a test plugin zip by {@code IsolationIT}: forecasts the bar before the decision bar
 * (a look-ahead-shaped bug), then null, then a probability of 1.7.
 */
public final class GarbageForecaster implements PredictionCapability {
    private int calls;

    @Override
    public CapabilityDescriptor descriptor() {
        return CapabilityDescriptor.of("garbage", "1.0.0");
    }

    @Override
    public Forecast forecast(FeatureFrame frame) {
        return switch (++calls % 3) {
            case 1 -> new Forecast("garbage", frame.previous().bar().start(), 1, 0.5, Map.of());
            case 2 -> null;
            default -> new Forecast("garbage", frame.bar().start(), 1, 1.7, Map.of());
        };
    }
}
