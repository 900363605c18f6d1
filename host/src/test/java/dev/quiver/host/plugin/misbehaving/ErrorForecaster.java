package dev.quiver.host.plugin.misbehaving;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;

/**
 * Packed into a test plugin zip by {@code AllSourcesFailServeIT}: throws a {@link
 * NoClassDefFoundError} (an {@code Error}, not an exception) on every call, naming the bar.
 */
public final class ErrorForecaster implements PredictionCapability {
    @Override
    public CapabilityDescriptor descriptor() {
        return CapabilityDescriptor.of("erroring", "1.0.0");
    }

    @Override
    public Forecast forecast(FeatureFrame frame) {
        throw new NoClassDefFoundError("erroring: a class gone missing at " + frame.bar().start());
    }
}
