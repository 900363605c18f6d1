package dev.quiver.plugins.fixed;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.NamedValues;
import dev.quiver.api.PluginContext;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import jakarta.inject.Inject;
import java.util.Map;
import org.pf4j.Extension;

/**
 * Fixed-fraction sizing: hold {@code fraction} of equity whenever the fused probability of an up
 * move is above 0.5, else stay flat. The baseline every other policy must beat.
 *
 * <p>Configuration: {@code sizing-fixed.fraction}, a fraction of equity in (0, 1], default {@value
 * #DEFAULT_FRACTION}. The decision never exceeds {@code context.maxFraction()}.
 */
@Extension
public final class FixedFractionSizer implements SizingCapability {

    /** Default fraction of equity held when long. */
    public static final double DEFAULT_FRACTION = 0.5;

    private static final CapabilityDescriptor DESCRIPTOR =
            new CapabilityDescriptor("fixed", "1.0.0", Map.of("long-only", "true"));

    /** Names of a decision's inputs: one array of values per decision, no boxed map. */
    private static final NamedValues.Names FLAT = NamedValues.names("p");

    private static final NamedValues.Names LONG = NamedValues.names("p", "fraction");

    private final double fraction;

    /**
     * Reads the configured fraction.
     *
     * @param context the host context
     * @throws QuiverInputException if {@code sizing-fixed.fraction} is not a number in (0, 1]
     */
    @Inject
    public FixedFractionSizer(PluginContext context) {
        this(parse(context.config("fraction").orElse(String.valueOf(DEFAULT_FRACTION))));
    }

    /**
     * @param fraction fraction of equity held when long, in (0, 1]
     * @throws QuiverInputException if {@code fraction} is not in (0, 1]
     */
    public FixedFractionSizer(double fraction) {
        if (!(fraction > 0 && fraction <= 1)) {
            throw new QuiverInputException(
                    "BAD_CONFIG",
                    "sizing-fixed.fraction",
                    "plugin sizing-fixed",
                    fraction,
                    "is not in (0, 1]");
        }
        this.fraction = fraction;
    }

    private static double parse(String text) {
        try {
            return Double.parseDouble(text);
        } catch (NumberFormatException e) {
            throw new QuiverInputException(
                    "BAD_CONFIG",
                    "sizing-fixed.fraction",
                    "plugin sizing-fixed",
                    text,
                    "is not a number");
        }
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return DESCRIPTOR;
    }

    @Override
    public SizingDecision size(SizingContext context) {
        double p = context.signal().probabilityUp();
        if (p <= 0.5) {
            return new SizingDecision(0, "flat: p <= 0.5", FLAT.of(p));
        }
        double f = Math.min(fraction, context.maxFraction());
        return new SizingDecision(
                f,
                f < fraction
                        ? "fixed fraction, capped by the host: p > 0.5"
                        : "fixed fraction: p > 0.5",
                LONG.of(p, fraction));
    }
}
