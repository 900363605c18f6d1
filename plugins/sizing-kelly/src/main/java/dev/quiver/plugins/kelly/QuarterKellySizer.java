package dev.quiver.plugins.kelly;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.PluginContext;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import jakarta.inject.Inject;
import java.util.Map;
import org.pf4j.Extension;

/**
 * Quarter-Kelly sizing, long only: {@code f = 0.25 * (p - (1 - p) / b)}, zero when the edge is not
 * positive, clipped to the cap.
 *
 * <p>{@code p} is the fused probability of an up move; {@code b} the trailing realised payoff ratio
 * (mean gain over mean loss of one-bar returns) the host puts in the context. Full Kelly is the
 * growth-optimal fraction for a binary bet paying {@code b} to 1 (J. L. Kelly, "A New
 * Interpretation of Information Rate", Bell System Technical Journal 35, 1956); a quarter of it
 * keeps most of the growth with far less variance and is robust to an over-estimated {@code p} (E.
 * O. Thorp, "The Kelly Criterion in Blackjack, Sports Betting and the Stock Market", 2006).
 *
 * <p>Configuration: {@code sizing-kelly.multiplier} (default 0.25) and {@code sizing-kelly.cap}
 * (fraction of equity, default 1.0); the decision never exceeds {@code min(cap,
 * context.maxFraction())}.
 */
@Extension
public final class QuarterKellySizer implements SizingCapability {

    /** Fraction of full Kelly, after Thorp. */
    public static final double DEFAULT_MULTIPLIER = 0.25;

    private final double multiplier;
    private final double cap;
    private final CapabilityDescriptor descriptor;

    /**
     * Reads multiplier and cap from the plugin configuration.
     *
     * @param context the host context
     * @throws QuiverInputException if a configured value is not a number in (0, 1]
     */
    @Inject
    public QuarterKellySizer(PluginContext context) {
        this(KellySettings.of(context));
    }

    /**
     * @param multiplier fraction of full Kelly, in (0, 1]
     * @param cap largest position, fraction of equity, in (0, 1]
     * @throws QuiverInputException if a value is outside (0, 1]
     */
    public QuarterKellySizer(double multiplier, double cap) {
        this(new KellySettings(multiplier, cap));
    }

    private QuarterKellySizer(KellySettings settings) {
        this.multiplier = settings.multiplier();
        this.cap = settings.cap();
        this.descriptor = settings.descriptor("kelly");
    }

    /**
     * Full Kelly fraction for a bet won with probability {@code p} paying {@code b} to 1.
     *
     * @param p win probability, in [0, 1]
     * @param b payoff ratio (mean win over mean loss), {@code > 0}
     * @return {@code p - (1 - p) / b}; negative when the bet has no edge
     */
    public static double fullKelly(double p, double b) {
        return p - (1 - p) / b;
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return descriptor;
    }

    /**
     * {@inheritDoc}
     *
     * <p>The reason is one of three fixed phrases (no formatting on the per-bar path); the numbers
     * behind it ({@code p}, {@code b}, {@code full_kelly}, {@code fraction}) are in the decision's
     * inputs.
     */
    @Override
    public SizingDecision size(SizingContext context) {
        double p = context.signal().probabilityUp();
        double b = context.payoffRatio();
        double full = fullKelly(p, b);
        if (!(full > 0)) {
            return new SizingDecision(
                    0,
                    "no edge: full Kelly p - (1 - p) / b <= 0",
                    Map.of("p", p, "b", b, "full_kelly", full));
        }
        double f = multiplier * full;
        double limit = Math.min(cap, context.maxFraction());
        if (f > limit) {
            return new SizingDecision(
                    limit,
                    "fractional Kelly capped",
                    Map.of("p", p, "b", b, "full_kelly", full, "fraction", f));
        }
        return new SizingDecision(
                f, "fractional Kelly", Map.of("p", p, "b", b, "full_kelly", full, "fraction", f));
    }
}
