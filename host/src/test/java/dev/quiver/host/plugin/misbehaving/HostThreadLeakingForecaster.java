package dev.quiver.host.plugin.misbehaving;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import java.util.Map;

/**
 * Packed into a test plugin zip by {@code ReloadLeakIT} (RELIABILITY.md P3, bad input 4): forecasts
 * fine, but leaves two things behind that pin its class loader after unload: a non-daemon thread
 * {@code leaky-poller} that only ends when interrupted, and a ThreadLocal holding this instance on
 * every thread that called {@link #forecast} (in watchdog isolation, the host's calling thread).
 */
public final class HostThreadLeakingForecaster implements PredictionCapability {

    /** Set on the caller's thread by every forecast and never removed. */
    private static final ThreadLocal<HostThreadLeakingForecaster> LAST_CALLER = new ThreadLocal<>();

    public HostThreadLeakingForecaster() {
        Thread t =
                new Thread(
                        () -> {
                            try {
                                Thread.sleep(Long.MAX_VALUE);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        },
                        "leaky-poller");
        t.setDaemon(false);
        t.start();
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return CapabilityDescriptor.of("host-thread-leaking", "1.0.0");
    }

    @Override
    public Forecast forecast(FeatureFrame frame) {
        LAST_CALLER.set(this);
        return new Forecast("host-thread-leaking", frame.bar().start(), 1, 0.5, Map.of());
    }
}
