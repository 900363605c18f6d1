package dev.quiver.host.plugin.misbehaving;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import java.util.Map;

/**
 * Packed into test plugin zips by {@code PluginFaultsIT} beside a plugin class that fails: answers
 * 0.5 on every call, so a decision that holds its forecast proves the extension was called.
 */
public final class SteadyForecaster implements PredictionCapability {

    @Override
    public CapabilityDescriptor descriptor() {
        return CapabilityDescriptor.of("steady", "1.0.0");
    }

    @Override
    public Forecast forecast(FeatureFrame frame) {
        return new Forecast("steady", frame.bar().start(), 1, 0.5, Map.of());
    }
}
