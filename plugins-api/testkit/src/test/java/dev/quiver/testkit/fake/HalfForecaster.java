package dev.quiver.testkit.fake;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import java.util.Map;

/** Zipped into a plugin by {@code QuiverPluginTestKitTest}: always 0.5, honours close(). */
public final class HalfForecaster implements PredictionCapability {
    private boolean closed;

    @Override
    public CapabilityDescriptor descriptor() {
        return new CapabilityDescriptor("half", "1.0.0", Map.of("horizon", "1"));
    }

    @Override
    public Forecast forecast(FeatureFrame frame) {
        if (closed) {
            throw new IllegalStateException("half forecaster is closed");
        }
        return new Forecast("half", frame.bar().start(), 1, 0.5, Map.of());
    }

    @Override
    public void close() {
        closed = true;
    }
}
