package dev.quiver.host.strategy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.sizing.OnlineCalibration;
import dev.quiver.api.sizing.ScoredOutcome;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.api.sizing.SizingOutcome;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A sizing policy with an evolved Kelly fraction and confidence/ATR leverage rule ({@link Rule})
 * around it: how {@code evolve-params} judges a parameter set's sizing part, and how a bundle that
 * carries the rule ({@code settings.evolved_sizing} of its manifest) serves it. The walk-forward
 * that judges a set, the fit that writes the bundle, its smoke cases, {@code backtest --strategy}
 * and a live session all size through this one class, so what serves is what was judged.
 *
 * <p><b>Kelly fraction.</b> With a Kelly policy (one whose decisions carry the input {@code
 * full_kelly}, {@code p - (1 - p) / b}, as {@code sizing-kelly} does), the base fraction is {@code
 * kelly_fraction × max(0, full_kelly)} in place of the plugin's own multiple (0.25 by default) and
 * its own cap; with another policy (no {@code kelly_fraction}) it is the policy's fraction.
 *
 * <p><b>Leverage rule</b> (declared; a continuous form of the background's step rule "3x below
 * confidence 0.55 ... 12x above 0.70, times 0.8 above 2% ATR and 0.6 above 3%"): {@code leverage =
 * (1 + (leverage_max - 1) × confidence) × min(1, leverage_atr_pct / atr_pct)}, with {@code
 * confidence} the fused signal's ({@code |2p - 1|}) and {@code atr_pct} the ATR over the close in
 * percent (the sizing context's volatility × 100). The fraction is {@code min(max_position, base ×
 * leverage)}, {@code max_position} being the engine's cap ({@code settings.max_fraction}): the
 * engine is long only without borrowing (a position is at most the equity), so the rule raises the
 * exposure towards the cap with confidence and cuts it in volatile markets, never above the equity.
 *
 * <p>Fitting, state export and restore, online calibration and close are the wrapped policy's.
 */
public class EvolvedSizing implements SizingCapability {

    /** The manifest's field, under {@code settings}. */
    public static final String FIELD = "evolved_sizing";

    /**
     * The sizing part of an evolved parameter set, for one policy.
     *
     * @param policy the sizing policy it wraps (its descriptor's name, e.g. {@code kelly})
     * @param kellyFraction the multiple of full Kelly, in {@code (0, 1]}, or NaN for none (the
     *     policy's own fraction)
     * @param leverageMax the leverage at full confidence, finite, {@code >= 1}
     * @param leverageAtrPct the ATR, percent of the close, above which the exposure is cut in
     *     proportion, {@code > 0}; {@code +Infinity} for no cut
     */
    public record Rule(
            String policy, double kellyFraction, double leverageMax, double leverageAtrPct) {

        /**
         * Checks the values.
         *
         * @throws IllegalArgumentException naming the value out of range
         */
        public Rule {
            if (policy == null || policy.isBlank()) {
                throw new IllegalArgumentException("policy must be a sizing policy's name");
            }
            if (!Double.isNaN(kellyFraction) && !(kellyFraction > 0 && kellyFraction <= 1)) {
                throw new IllegalArgumentException(
                        "kelly_fraction must be in (0, 1] or none, was " + kellyFraction);
            }
            if (!(leverageMax >= 1) || Double.isInfinite(leverageMax)) {
                throw new IllegalArgumentException(
                        "leverage_max must be finite and >= 1, was " + leverageMax);
            }
            if (!(leverageAtrPct > 0)) {
                throw new IllegalArgumentException(
                        "leverage_atr_pct must be > 0 (+Infinity for no cut), was "
                                + leverageAtrPct);
            }
        }

        /**
         * The rule as the manifest records it: {@code {"policy", "kelly_fraction", "leverage_max",
         * "leverage_atr_pct"}}, {@code null} for no Kelly fraction and for no ATR cut.
         *
         * @return a new object
         */
        public ObjectNode toJson() {
            ObjectNode o = StrategyBundle.newObject();
            o.put("policy", policy);
            if (Double.isNaN(kellyFraction)) {
                o.putNull("kelly_fraction");
            } else {
                o.put("kelly_fraction", kellyFraction);
            }
            o.put("leverage_max", leverageMax);
            if (Double.isInfinite(leverageAtrPct)) {
                o.putNull("leverage_atr_pct");
            } else {
                o.put("leverage_atr_pct", leverageAtrPct);
            }
            return o;
        }

        /**
         * The rule a bundle carries.
         *
         * @param bundle the bundle
         * @return its {@code settings.evolved_sizing}, or empty when it has none
         * @throws QuiverInputException {@code BAD_BUNDLE} naming the field when it is malformed
         */
        public static Optional<Rule> of(StrategyBundle bundle) {
            JsonNode o = bundle.settings().get(FIELD);
            if (o == null || o.isNull()) {
                return Optional.empty();
            }
            String field = "settings." + FIELD;
            if (!o.isObject()) {
                throw bad(bundle, field, o, "is not an object");
            }
            for (var it = o.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!List.of("policy", "kelly_fraction", "leverage_max", "leverage_atr_pct")
                        .contains(f)) {
                    throw bad(bundle, field + "." + f, o.get(f), "is not a field of the rule");
                }
            }
            JsonNode policy = o.get("policy");
            if (policy == null || !policy.isTextual()) {
                throw bad(bundle, field + ".policy", policy, "is not a policy name");
            }
            // read each number first: its own refusal names its own field
            double kelly = number(bundle, o, "kelly_fraction", Double.NaN);
            double leverage = number(bundle, o, "leverage_max", Double.NaN);
            double atrPct = number(bundle, o, "leverage_atr_pct", Double.POSITIVE_INFINITY);
            try {
                return Optional.of(new Rule(policy.asText(), kelly, leverage, atrPct));
            } catch (IllegalArgumentException e) {
                throw bad(bundle, field, o, e.getMessage());
            }
        }

        private static double number(StrategyBundle b, JsonNode o, String name, double none) {
            JsonNode x = o.get(name);
            boolean nullable = !Double.isNaN(none) || name.equals("kelly_fraction");
            if (x != null && x.isNumber()) {
                return x.asDouble();
            }
            if (nullable && (x == null || x.isNull())) {
                return none;
            }
            throw bad(
                    b,
                    "settings." + FIELD + "." + name,
                    x,
                    nullable ? "is not a number or null" : "is required, a number");
        }
    }

    private final SizingCapability inner;
    private final Rule rule;

    private EvolvedSizing(SizingCapability inner, Rule rule) {
        this.inner = inner;
        this.rule = rule;
    }

    /**
     * Wraps a policy in a rule: an {@link OnlineCalibration} policy stays one.
     *
     * @param inner the policy the rule names
     * @param rule the rule
     * @return the wrapped policy, with the inner policy's descriptor
     * @throws IllegalArgumentException if the rule names another policy, or has a Kelly fraction
     *     and the policy is not a Kelly policy ({@link #kellyMultiplier} NaN)
     */
    public static EvolvedSizing wrap(SizingCapability inner, Rule rule) {
        String name = inner.descriptor().name();
        if (!name.equals(rule.policy())) {
            throw new IllegalArgumentException(
                    "the rule is for sizing '" + rule.policy() + "', not '" + name + "'");
        }
        if (!Double.isNaN(rule.kellyFraction()) && Double.isNaN(kellyMultiplier(inner))) {
            throw new IllegalArgumentException(
                    "sizing '"
                            + name
                            + "' is not a Kelly policy (its descriptor names no multiplier), so"
                            + " a Kelly fraction cannot apply to it");
        }
        return inner instanceof OnlineCalibration
                ? new Calibrating(inner, rule)
                : new EvolvedSizing(inner, rule);
    }

    /**
     * Whether a policy is a Kelly policy: its descriptor names a {@code multiplier} (the fraction
     * of full Kelly), as {@code sizing-kelly}'s does.
     *
     * @param policy the policy
     * @return its multiplier, or NaN when it is not a Kelly policy
     * @throws IllegalStateException if the multiplier is not a number
     */
    public static double kellyMultiplier(SizingCapability policy) {
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

    /**
     * The wrapped policy.
     *
     * @return the policy the rule applies to
     */
    public SizingCapability inner() {
        return inner;
    }

    /**
     * The rule.
     *
     * @return the rule applied
     */
    public Rule rule() {
        return rule;
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
    public double leverage(double confidence, double volatility) {
        double atrPct = volatility * 100;
        double cut = atrPct > rule.leverageAtrPct() ? rule.leverageAtrPct() / atrPct : 1;
        return (1 + (rule.leverageMax() - 1) * confidence) * cut;
    }

    /**
     * {@inheritDoc}
     *
     * <p>The inner decision's inputs plus {@code base_fraction} and {@code leverage}. A flat inner
     * decision without {@code full_kelly} (a guard's fallback, e.g. the plugin failed) passes
     * through as it is.
     *
     * @throws IllegalStateException if the rule has a Kelly fraction and a non-flat inner decision
     *     carries no {@code full_kelly} (the risk guard makes it flat, naming this)
     */
    @Override
    public SizingDecision size(SizingContext context) {
        SizingDecision d = inner.size(context);
        if (d == null) {
            return null;
        }
        double base;
        if (Double.isNaN(rule.kellyFraction())) {
            base = d.fraction();
        } else {
            Double full = d.inputs().get("full_kelly");
            if (full == null) {
                if (d.fraction() == 0) {
                    return d;
                }
                throw new IllegalStateException(
                        "sizing '"
                                + inner.descriptor().name()
                                + "' gave no full_kelly input: a Kelly fraction needs a Kelly"
                                + " policy");
            }
            base = rule.kellyFraction() * Math.max(0, full);
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

    @Override
    public boolean hasFittedState() {
        return inner.hasFittedState();
    }

    @Override
    public List<Path> exportState(Path dir) {
        return inner.exportState(dir);
    }

    @Override
    public void restoreState(Path dir) {
        inner.restoreState(dir);
    }

    @Override
    public void close() {
        inner.close();
    }

    /** A wrapped policy that recalibrates online: the calibration is the inner policy's. */
    private static final class Calibrating extends EvolvedSizing implements OnlineCalibration {

        private final OnlineCalibration calibration;

        Calibrating(SizingCapability inner, Rule rule) {
            super(inner, rule);
            this.calibration = (OnlineCalibration) inner;
        }

        @Override
        public void reset() {
            calibration.reset();
        }

        @Override
        public void observe(ScoredOutcome outcome) {
            calibration.observe(outcome);
        }

        @Override
        public double calibrate(double probabilityUp) {
            return calibration.calibrate(probabilityUp);
        }
    }

    private static QuiverInputException bad(
            StrategyBundle bundle, String field, Object value, String problem) {
        return new QuiverInputException(
                "BAD_BUNDLE", field, "strategy bundle " + bundle.id(), value, problem);
    }
}
