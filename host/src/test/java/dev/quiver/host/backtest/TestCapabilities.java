package dev.quiver.host.backtest;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.market.BarSeries;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/** Test implementations of the plugin contract: simple, deterministic, point-in-time. */
final class TestCapabilities {

    private TestCapabilities() {}

    /** p = sigmoid(k * ln(close_t / close_(t-lookback))), from the frame's history only. */
    static PredictionCapability momentum(int lookback, double k) {
        return new PredictionCapability() {
            @Override
            public CapabilityDescriptor descriptor() {
                return CapabilityDescriptor.of("momentum", "1.0.0");
            }

            @Override
            public Forecast forecast(FeatureFrame frame) {
                BarSeries h = frame.history();
                int last = h.size() - 1;
                double r =
                        Math.log(h.get(last).close() / h.get(Math.max(0, last - lookback)).close());
                double p = 1 / (1 + Math.exp(-k * r));
                return new Forecast("momentum", frame.bar().start(), 1, p, Map.of("r", r));
            }
        };
    }

    /** Mean reversion on rsi_14: p = 0.5 + (50 - rsi) / 200, in [0.25, 0.75]. */
    static PredictionCapability rsiReversion() {
        return new PredictionCapability() {
            @Override
            public CapabilityDescriptor descriptor() {
                return CapabilityDescriptor.of("rsi", "1.0.0");
            }

            @Override
            public Forecast forecast(FeatureFrame frame) {
                double rsi = Math.max(0, Math.min(100, frame.get("rsi_14")));
                return new Forecast(
                        "rsi", frame.bar().start(), 1, 0.5 + (50 - rsi) / 200, Map.of());
            }
        };
    }

    /** Constant p; throws for decision bars whose view size matches {@code failOn}. */
    static PredictionCapability constant(String name, double p, Predicate<Integer> failOn) {
        return new PredictionCapability() {
            @Override
            public CapabilityDescriptor descriptor() {
                return CapabilityDescriptor.of(name, "1.0.0");
            }

            @Override
            public Forecast forecast(FeatureFrame frame) {
                if (failOn.test(frame.history().size())) {
                    throw new IllegalStateException(
                            "flaky source fails at size " + frame.history().size());
                }
                return new Forecast(name, frame.bar().start(), 1, p, Map.of());
            }
        };
    }

    /** Long {@code fraction} when p > 0.5, flat otherwise. */
    static SizingCapability fixed(double fraction) {
        return new SizingCapability() {
            @Override
            public CapabilityDescriptor descriptor() {
                return CapabilityDescriptor.of("fixed", "1.0.0");
            }

            @Override
            public SizingDecision size(SizingContext ctx) {
                double p = ctx.signal().probabilityUp();
                double f = p > 0.5 ? fraction : 0;
                return new SizingDecision(
                        f,
                        String.format(Locale.ROOT, "fixed p=%.4f -> %.2f", p, f),
                        Map.of("p", p));
            }
        };
    }

    /**
     * Plain quarter-Kelly f = 0.25 (p - (1 - p) / b), floored at 0, not capped (the guard caps).
     */
    static SizingCapability quarterKelly() {
        return new SizingCapability() {
            @Override
            public CapabilityDescriptor descriptor() {
                return CapabilityDescriptor.of("kelly", "1.0.0");
            }

            @Override
            public SizingDecision size(SizingContext ctx) {
                double p = ctx.signal().probabilityUp();
                double b = ctx.payoffRatio();
                double f = Math.max(0, 0.25 * (p - (1 - p) / b));
                return new SizingDecision(
                        f,
                        String.format(Locale.ROOT, "quarter-Kelly p=%.4f b=%.4f -> %.4f", p, b, f),
                        Map.of("p", p, "b", b));
            }
        };
    }

    /** {@code fraction} while the decision bar starts in [from, to), flat otherwise. */
    static SizingCapability scheduled(String name, double fraction, Instant from, Instant to) {
        return new SizingCapability() {
            @Override
            public CapabilityDescriptor descriptor() {
                return CapabilityDescriptor.of(name, "1.0.0");
            }

            @Override
            public SizingDecision size(SizingContext ctx) {
                Instant t = ctx.signal().barTime();
                boolean on = !t.isBefore(from) && t.isBefore(to);
                return new SizingDecision(
                        on ? fraction : 0, on ? "scheduled long" : "scheduled flat", Map.of());
            }
        };
    }
}
