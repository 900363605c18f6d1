package dev.quiver.host.plugin.misbehaving;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import java.util.Map;

/**
 * Packed into a test plugin zip by {@code IsolationIT}: answers its first 5 calls, then takes a
 * second and a half per call ignoring interrupts (a stall far past the test's 200 ms deadline that
 * ends, so that a caller it holds in watchdog isolation comes back).
 */
public final class StallingForecaster implements PredictionCapability {
    private int calls;

    @Override
    public CapabilityDescriptor descriptor() {
        return CapabilityDescriptor.of("stalling", "1.0.0");
    }

    @Override
    public Forecast forecast(FeatureFrame frame) {
        if (++calls > 5) {
            long end = System.nanoTime() + 1_500_000_000L;
            while (System.nanoTime() < end) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ignored) {
                    // a badly written plugin ignores interrupts
                }
            }
        }
        return new Forecast("stalling", frame.bar().start(), 1, 0.5, Map.of());
    }
}
