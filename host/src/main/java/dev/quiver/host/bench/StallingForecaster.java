package dev.quiver.host.bench;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.PluginContext;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import jakarta.inject.Inject;
import java.util.Map;

/**
 * The prediction of the plugin {@code bench-stalling} that {@link StallBench} packs into a plugin
 * archive of its own at run time (never shipped in a plugins folder): it answers 0.5 at once,
 * except on every {@code stall-every}-th call, where it hangs for {@code stall-ms} (a blocking wait
 * that honours interrupts, as a plugin blocked on I/O or a lock does) before answering.
 *
 * <p>Configuration ({@code bench-stalling.<key>}): {@code stall-every} (calls, default 20), {@code
 * stall-ms} (default 60000).
 *
 * <p>Not thread-safe beyond its call counter (the service serialises stateless decisions).
 */
public final class StallingForecaster implements PredictionCapability {

    /** The capability name the bench looks for in each decision's failed sources. */
    public static final String NAME = "stalling";

    private final int stallEvery;
    private final long stallMillis;
    private int calls;

    /**
     * @param context the plugin's configuration
     * @throws IllegalArgumentException if {@code stall-every} or {@code stall-ms} is not a positive
     *     integer
     */
    @Inject
    public StallingForecaster(PluginContext context) {
        this.stallEvery = positive(context, "stall-every", 20);
        this.stallMillis = positive(context, "stall-ms", 60_000);
    }

    private static int positive(PluginContext context, String key, int fallback) {
        String v = context.config(key).orElse(null);
        if (v == null) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(
                "[Quiver/BAD_CONFIG] "
                        + context.pluginId()
                        + "."
                        + key
                        + " must be a positive integer (value: "
                        + v
                        + ")");
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return CapabilityDescriptor.of(NAME, "1.0.0");
    }

    @Override
    public Forecast forecast(FeatureFrame frame) {
        if (++calls % stallEvery == 0) {
            try {
                Thread.sleep(stallMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("stall interrupted by the host", e);
            }
        }
        return new Forecast(NAME, frame.bar().start(), 1, 0.5, Map.of());
    }
}
