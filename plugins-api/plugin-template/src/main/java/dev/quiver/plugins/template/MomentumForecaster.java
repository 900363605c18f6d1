package dev.quiver.plugins.template;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.PluginContext;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.market.BarSeries;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import jakarta.inject.Inject;
import java.util.Map;
import org.pf4j.Extension;

/**
 * Time-series momentum: the probability of an up move rises with the volatility-scaled return over
 * the last {@code lookback} bars.
 *
 * <p>{@code z = ln(close_t / close_{t-N}) / (atr_pct_14 * sqrt(N))}, {@code p = 1 / (1 + e^{-k z})}
 * with {@code k = 0.1}: a mild tilt, since one-bar direction is close to a coin flip. Momentum
 * after T. J. Moskowitz, Y. H. Ooi and L. H. Pedersen, "Time Series Momentum", Journal of Financial
 * Economics 104 (2012).
 *
 * <p>This class is the plugin template: copy the module, rename the package, keep the shape (one
 * public {@code @Extension} class, an {@code @Inject} constructor taking {@link PluginContext},
 * validated configuration, a static pure formula, point-in-time reads only).
 */
@Extension
public final class MomentumForecaster implements PredictionCapability {

    /** Default lookback, bars. */
    public static final int DEFAULT_LOOKBACK_BARS = 20;

    /** Logistic slope applied to the volatility-scaled return. */
    public static final double SLOPE = 0.1;

    private static final CapabilityDescriptor DESCRIPTOR =
            new CapabilityDescriptor(
                    "momentum", "1.0.0", Map.of("horizon", "1", "calibrated", "false"));

    private final int lookbackBars;
    private volatile boolean closed;

    /**
     * Reads {@code lookback} (bars, integer in [2, 1000], default 20) from the plugin
     * configuration.
     *
     * @param context the host context
     * @throws QuiverInputException if the configured lookback is not an integer in [2, 1000]
     */
    @Inject
    public MomentumForecaster(PluginContext context) {
        this(parse(context.config("lookback").orElse(String.valueOf(DEFAULT_LOOKBACK_BARS))));
    }

    /**
     * @param lookbackBars bars of history the momentum is measured over, in [2, 1000]
     * @throws QuiverInputException if {@code lookbackBars} is outside [2, 1000]
     */
    public MomentumForecaster(int lookbackBars) {
        if (lookbackBars < 2 || lookbackBars > 1000) {
            throw new QuiverInputException(
                    "BAD_CONFIG",
                    "lookback",
                    "plugin momentum",
                    lookbackBars,
                    "is not in [2, 1000]");
        }
        this.lookbackBars = lookbackBars;
    }

    private static int parse(String text) {
        try {
            return Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new QuiverInputException(
                    "BAD_CONFIG", "lookback", "plugin momentum", text, "is not an integer");
        }
    }

    /**
     * The formula, pure.
     *
     * @param logReturn {@code ln(close_t / close_{t-N})}
     * @param atrPct average true range over close, a fraction per bar, {@code > 0}
     * @param lookbackBars N
     * @return probability of an up move, in (0, 1)
     */
    public static double probabilityUp(double logReturn, double atrPct, int lookbackBars) {
        double z = logReturn / (atrPct * Math.sqrt(lookbackBars));
        return 1 / (1 + Math.exp(-SLOPE * z));
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return DESCRIPTOR;
    }

    @Override
    public Forecast forecast(FeatureFrame frame) {
        if (closed) {
            throw new IllegalStateException("momentum forecaster is closed");
        }
        double atrPct = frame.get("atr_pct_14");
        BarSeries history = frame.history();
        if (history.size() <= lookbackBars) {
            throw new QuiverInputException(
                    "SHORT_HISTORY",
                    "history",
                    "momentum at bar " + frame.bar().start(),
                    history.size(),
                    "has fewer than lookback + 1 = " + (lookbackBars + 1) + " bars");
        }
        if (!(atrPct > 0)) {
            throw new QuiverInputException(
                    "BAD_FEATURE",
                    "atr_pct_14",
                    "momentum at bar " + frame.bar().start(),
                    atrPct,
                    "must be > 0 to scale the return");
        }
        double r =
                Math.log(
                        history.last().close()
                                / history.get(history.size() - 1 - lookbackBars).close());
        double p = probabilityUp(r, atrPct, lookbackBars);
        return new Forecast(
                DESCRIPTOR.name(),
                frame.bar().start(),
                1,
                p,
                Map.of(
                        "log_return_n",
                        r,
                        "atr_pct_14",
                        atrPct,
                        "lookback_bars",
                        (double) lookbackBars));
    }

    @Override
    public void close() {
        closed = true;
    }
}
