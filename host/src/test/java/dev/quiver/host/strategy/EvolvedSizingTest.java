package dev.quiver.host.strategy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The evolved sizing rule on a policy that answers as {@code sizing-kelly} does (its decision
 * carries {@code full_kelly}): the declared formula, the cap, the pass-through of a flat fallback,
 * the refusals, and the wrapped policy's fitted state seen through the wrapper.
 */
class EvolvedSizingTest {

    /** Quarter Kelly with the plugin's inputs and descriptor attribute {@code multiplier}. */
    static class Kelly implements SizingCapability {
        @Override
        public CapabilityDescriptor descriptor() {
            return new CapabilityDescriptor("kelly", "1.0.0", Map.of("multiplier", "0.25"));
        }

        @Override
        public SizingDecision size(SizingContext c) {
            double p = c.signal().probabilityUp();
            double full = p - (1 - p) / c.payoffRatio();
            return new SizingDecision(
                    Math.max(0, 0.25 * full), "fractional Kelly", Map.of("full_kelly", full));
        }
    }

    private static SizingContext context(double p, double volatility, double cap) {
        return new SizingContext(
                new FusedSignal(Instant.EPOCH, p, Math.abs(2 * p - 1), 1, List.of()),
                10_000,
                0,
                cap,
                volatility,
                1.2);
    }

    @Test
    void theFractionIsTheRulesUnderTheCap() {
        EvolvedSizing s =
                EvolvedSizing.wrap(new Kelly(), new EvolvedSizing.Rule("kelly", 0.6, 3, 2));
        // p 0.6, b 1.2: full Kelly 0.6 - 0.4 / 1.2 = 0.2667; confidence 0.2; ATR 4% > 2%: cut 0.5.
        SizingDecision d = s.size(context(0.6, 0.04, 1));
        double full = 0.6 - 0.4 / 1.2;
        double lev = (1 + 2 * 0.2) * 0.5;
        assertThat(d.fraction())
                .isCloseTo(0.6 * full * lev, org.assertj.core.data.Offset.offset(1e-15));
        assertThat(d.inputs()).containsEntry("leverage", lev).containsKey("base_fraction");
        assertThat(d.reason()).endsWith(", evolved Kelly fraction and leverage rule");
        // The same bar under a cap of 0.1 is at the cap; the plugin alone would say 0.0667.
        assertThat(s.size(context(0.6, 0.04, 0.1)).fraction()).isEqualTo(0.1);
        assertThat(new Kelly().size(context(0.6, 0.04, 0.1)).fraction())
                .isCloseTo(0.25 * full, org.assertj.core.data.Offset.offset(1e-15));
    }

    @Test
    void aFlatFallbackPassesAndAKellyFractionNeedsAKellyPolicy() {
        SizingCapability fallback =
                new Kelly() {
                    @Override
                    public SizingDecision size(SizingContext c) {
                        return new SizingDecision(0, "plugin failed -> flat", Map.of());
                    }
                };
        EvolvedSizing.Rule rule = new EvolvedSizing.Rule("kelly", 0.5, 1, Double.POSITIVE_INFINITY);
        assertThat(EvolvedSizing.wrap(fallback, rule).size(context(0.7, 0.01, 1)).reason())
                .isEqualTo("plugin failed -> flat");
        SizingCapability noInputs =
                new Kelly() {
                    @Override
                    public SizingDecision size(SizingContext c) {
                        return new SizingDecision(0.3, "something", Map.of());
                    }
                };
        assertThatThrownBy(() -> EvolvedSizing.wrap(noInputs, rule).size(context(0.7, 0.01, 1)))
                .hasMessageContaining("sizing 'kelly' gave no full_kelly input");
        SizingCapability fixed =
                new SizingCapability() {
                    @Override
                    public CapabilityDescriptor descriptor() {
                        return CapabilityDescriptor.of("kelly", "1.0.0");
                    }

                    @Override
                    public SizingDecision size(SizingContext c) {
                        return new SizingDecision(0.5, "fixed", Map.of());
                    }
                };
        assertThatThrownBy(() -> EvolvedSizing.wrap(fixed, rule))
                .hasMessageContaining("is not a Kelly policy");
        assertThatThrownBy(
                        () ->
                                EvolvedSizing.wrap(
                                        new Kelly(), new EvolvedSizing.Rule("fixed", 0.5, 1, 2)))
                .hasMessageContaining("the rule is for sizing 'fixed', not 'kelly'");
        assertThatThrownBy(() -> new EvolvedSizing.Rule("kelly", 1.5, 1, 2))
                .hasMessageContaining("kelly_fraction must be in (0, 1]");
        // Without a Kelly fraction any policy keeps its own fraction, times the leverage.
        assertThat(
                        EvolvedSizing.wrap(fixed, new EvolvedSizing.Rule("kelly", Double.NaN, 1, 2))
                                .size(context(0.7, 0.01, 1))
                                .fraction())
                .isEqualTo(0.5);
    }

    @Test
    void theWrappedPolicysFittedStateIsWhatTheWrapperHas() {
        EvolvedSizing.Rule rule = new EvolvedSizing.Rule("kelly", 0.5, 2, 3);
        assertThat(new Kelly().hasFittedState()).isFalse();
        assertThat(EvolvedSizing.wrap(new Kelly(), rule).hasFittedState()).isFalse();
        assertThat(rule.toJson().toString())
                .isEqualTo(
                        "{\"policy\":\"kelly\",\"kelly_fraction\":0.5,\"leverage_max\":2.0,"
                                + "\"leverage_atr_pct\":3.0}");
        assertThat(
                        new EvolvedSizing.Rule("kelly", Double.NaN, 1, Double.POSITIVE_INFINITY)
                                .toJson()
                                .toString())
                .isEqualTo(
                        "{\"policy\":\"kelly\",\"kelly_fraction\":null,\"leverage_max\":1.0,"
                                + "\"leverage_atr_pct\":null}");
    }
}
