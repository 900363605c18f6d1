package dev.quiver.host.plugin.misbehaving;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * Packed into a test plugin zip by {@code LiveLifecycleIT}: forecasts fine, but starts a thread of
 * its own that outlives {@link #close()}, the kind of leak the host cannot undo, only name.
 */
public final class ThreadLeakingForecaster implements PredictionCapability {

    private static final CountDownLatch NEVER = new CountDownLatch(1);

    public ThreadLeakingForecaster() {
        Thread t =
                new Thread(
                        () -> {
                            try {
                                NEVER.await();
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        },
                        "leaky-cache-refresher");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return CapabilityDescriptor.of("leaking", "1.0.0");
    }

    @Override
    public Forecast forecast(FeatureFrame frame) {
        return new Forecast("leaking", frame.bar().start(), 1, 0.5, Map.of());
    }
}
