package dev.quiver.host.plugin.misbehaving;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;

/** Packed into a test plugin zip by {@code IsolationIT}: throws on every call. */
public final class ThrowingForecaster implements PredictionCapability {
    @Override
    public CapabilityDescriptor descriptor() {
        return CapabilityDescriptor.of("throwing", "1.0.0");
    }

    @Override
    public Forecast forecast(FeatureFrame frame) {
        throw new IllegalStateException("deliberately broken at " + frame.bar().start());
    }
}
