package dev.quiver.host.plugin.misbehaving;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import java.util.Map;

/**
 * Packed into a test plugin zip by {@code PluginFaultsIT}: answers 0.5, except every 10th call,
 * which throws in turn a {@link IllegalStateException}, a {@link NoClassDefFoundError} and a {@link
 * StackOverflowError}, each message naming the call number.
 */
public final class IntermittentForecaster implements PredictionCapability {

    private int calls;

    @Override
    public CapabilityDescriptor descriptor() {
        return CapabilityDescriptor.of("intermittent", "1.0.0");
    }

    @Override
    public Forecast forecast(FeatureFrame frame) {
        calls++;
        if (calls % 10 == 0) {
            String what = "intermittent failure at call " + calls;
            switch ((calls / 10) % 3) {
                case 1 -> throw new IllegalStateException(what);
                case 2 -> throw new NoClassDefFoundError(what);
                default -> throw new StackOverflowError(what);
            }
        }
        return new Forecast("intermittent", frame.bar().start(), 1, 0.5, Map.of());
    }
}
