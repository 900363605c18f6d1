package dev.quiver.testkit.fake;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import java.util.Map;

/**
 * Zipped into a plugin by {@code QuiverPluginTestKitTest}: looks ahead-free but forecasts a bar
 * other than the decision bar, and leaves a thread of its own running that is never stopped
 * (pinning its class loader: the kit runs plugins on a thread of their own, so a ThreadLocal would
 * no longer do).
 */
public final class LeakyForecaster implements PredictionCapability {
    private static Thread pinned;

    @Override
    public CapabilityDescriptor descriptor() {
        return CapabilityDescriptor.of("leaky", "1.0.0");
    }

    @Override
    public Forecast forecast(FeatureFrame frame) {
        synchronized (LeakyForecaster.class) {
            if (pinned == null) {
                Object self = this;
                pinned =
                        new Thread(
                                () -> {
                                    while (self != null) {
                                        try {
                                            Thread.sleep(Long.MAX_VALUE);
                                        } catch (InterruptedException e) {
                                            return;
                                        }
                                    }
                                },
                                "leaky-forecaster");
                pinned.setDaemon(true);
                pinned.start();
            }
        }
        return new Forecast("leaky", frame.history().get(0).start(), 1, 0.5, Map.of());
    }
}
