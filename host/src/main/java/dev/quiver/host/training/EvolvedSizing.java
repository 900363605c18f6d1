package dev.quiver.host.training;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.api.sizing.SizingOutcome;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A sizing policy with the Kelly fraction and the confidence/ATR leverage rule of a {@link
 * TradeParams}, around the acting policy (a plugin): how {@code evolve-params} judges a parameter
 * set's sizing part.
 *
 * <p><b>Kelly fraction.</b> With a Kelly policy (one whose decisions carry the input {@code
 * full_kelly}, {@code p - (1 - p) / b}, as {@code sizing-kelly} does), the base fraction is {@code
 * kelly_fraction × max(0, full_kelly)} in place of the plugin's own multiple (0.25 by default);
 * with another policy (NaN {@code kelly_fraction}) it is the policy's fraction.
 *
 * <p><b>Leverage rule</b> (declared; a continuous form of the background's step rule "3x below
 * confidence 0.55 ... 12x above 0.70, times 0.8 above 2% ATR and 0.6 above 3%"): {@code leverage =
 * (1 + (leverage_max - 1) × confidence) × min(1, leverage_atr_pct / atr_pct)}, with {@code
 * confidence = |2p - 1|} of the fused signal and {@code atr_pct} the ATR over the close in percent
 * (the sizing context's volatility × 100). The fraction is {@code min(max_position, base ×
 * leverage)}: the engine is long only without borrowing (a position is at most the equity), so the
 * rule raises the exposure towards the cap with confidence and cuts it in volatile markets, rather
 * than above the equity.
 */
final class EvolvedSizing implements SizingCapability {

    private final SizingCapability inner;
    private final TradeParams params;

    EvolvedSizing(SizingCapability inner, TradeParams params) {
        this.inner = inner;
        this.params = params;
    }

    /**
     * Whether a policy is a Kelly policy: its descriptor names a {@code multiplier} (the fraction
     * of full Kelly), as {@code sizing-kelly}'s does.
     *
     * @param policy the policy
     * @return its multiplier, or NaN when it is not a Kelly policy
     */
    static double kellyMultiplier(SizingCapability policy) {
        String m = policy.descriptor().attributes().get("multiplier");
        if (m == null) {
            return Double.NaN;
        }
        try {
            return Double.parseDouble(m);
        } catch (NumberFormatException e) {
            throw new IllegalStateException(
                    "sizing '"
                            + policy.descriptor().name()
                            + "' names a multiplier that is not a number: "
                            + m,
                    e);
        }
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return inner.descriptor();
    }

    /**
     * The rule's leverage.
     *
     * @param confidence {@code |2p - 1|}, in [0, 1]
     * @param volatility ATR over the close, fraction per bar, {@code >= 0}
     * @return the multiple, {@code > 0}
     */
    double leverage(double confidence, double volatility) {
        double atrPct = volatility * 100;
        double cut = atrPct > params.leverageAtrPct() ? params.leverageAtrPct() / atrPct : 1;
        return (1 + (params.leverageMax() - 1) * confidence) * cut;
    }

    @Override
    public SizingDecision size(SizingContext context) {
        SizingDecision d = inner.size(context);
        double base;
        if (Double.isNaN(params.kellyFraction())) {
            base = d.fraction();
        } else {
            Double full = d.inputs().get("full_kelly");
            if (full == null) {
                throw new IllegalStateException(
                        "sizing '"
                                + inner.descriptor().name()
                                + "' gave no full_kelly input: a Kelly fraction needs a Kelly"
                                + " policy");
            }
            base = params.kellyFraction() * Math.max(0, full);
        }
        double lev = leverage(context.signal().confidence(), context.volatility());
        double f = Math.min(context.maxFraction(), base * lev);
        Map<String, Double> inputs = new LinkedHashMap<>(d.inputs());
        inputs.put("base_fraction", base);
        inputs.put("leverage", lev);
        return new SizingDecision(
                f,
                base == 0 ? d.reason() : d.reason() + ", evolved Kelly fraction and leverage rule",
                inputs);
    }

    @Override
    public void fit(List<SizingOutcome> history) {
        inner.fit(history);
    }
}
