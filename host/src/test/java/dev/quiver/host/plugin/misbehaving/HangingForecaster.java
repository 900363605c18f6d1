package dev.quiver.host.plugin.misbehaving;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import java.util.Map;

/**
 * Packed into a test plugin zip by {@code IsolationIT}: answers its first 5 calls, then sleeps for
 * a minute ignoring interrupts.
 */
public final class HangingForecaster implements PredictionCapability {
    private int calls;

    @Override
    public CapabilityDescriptor descriptor() {
        return CapabilityDescriptor.of("hanging", "1.0.0");
    }

    @Override
    public Forecast forecast(FeatureFrame frame) {
        if (++calls > 5) {
            long end = System.nanoTime() + 60_000_000_000L;
            while (System.nanoTime() < end) {
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException ignored) {
                    // a badly written plugin ignores interrupts
                }
            }
        }
        return new Forecast("hanging", frame.bar().start(), 1, 0.5, Map.of());
    }
}
