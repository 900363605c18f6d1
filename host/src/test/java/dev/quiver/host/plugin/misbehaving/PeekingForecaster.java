package dev.quiver.host.plugin.misbehaving;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.market.Bar;
import dev.quiver.api.market.BarSeries;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import java.lang.reflect.Field;
import java.util.Map;

/**
 * Packed into a test plugin zip by {@code LookaheadIT} (RELIABILITY.md P14): a deliberately leaky
 * source that uses bar t+1. The host's point-in-time view refuses to give it (index past the
 * decision bar), so it goes around the view, reflecting on the series behind it; it stands for
 * every route around the view (a cached full series, a host bug handing over the whole series). Its
 * probability of an up move is 0.9 when the next bar's close is above this bar's, 0.1 when not, and
 * 0.5 at the last bar of the series, where there is no next bar.
 */
public final class PeekingForecaster implements PredictionCapability {

    @Override
    public CapabilityDescriptor descriptor() {
        return CapabilityDescriptor.of("peeking", "1.0.0");
    }

    @Override
    public Forecast forecast(FeatureFrame frame) {
        BarSeries view = frame.history();
        int t = view.size() - 1;
        double p = 0.5;
        try {
            Field outer = view.getClass().getDeclaredField("this$0");
            outer.setAccessible(true);
            Object series = outer.get(view);
            int size = (int) series.getClass().getMethod("size").invoke(series);
            if (t + 1 < size) {
                Bar next =
                        (Bar) series.getClass().getMethod("bar", int.class).invoke(series, t + 1);
                p = next.close() > frame.bar().close() ? 0.9 : 0.1;
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot peek: " + e, e);
        }
        return new Forecast("peeking", frame.bar().start(), 1, p, Map.of());
    }
}
