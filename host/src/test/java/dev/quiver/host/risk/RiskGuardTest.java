package dev.quiver.host.risk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.engine.risk.GuardedDecision;
import dev.quiver.engine.risk.RiskGuard;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class RiskGuardTest {

    private static final double CAP = 0.25;
    private final RiskGuard guard = new RiskGuard();

    private static SizingContext ctx() {
        FusedSignal s =
                new FusedSignal(Instant.parse("2024-01-01T00:00:00Z"), 0.6, 0.2, 1, List.of());
        return new SizingContext(s, 10_000, 0.1, CAP, 0.02, 1.1);
    }

    private static SizingCapability policy(Function<SizingContext, SizingDecision> f) {
        return new SizingCapability() {
            @Override
            public CapabilityDescriptor descriptor() {
                return CapabilityDescriptor.of("rogue", "6.6.6");
            }

            @Override
            public SizingDecision size(SizingContext context) {
                return f.apply(context);
            }
        };
    }

    @Test
    void exactlyTheCapPassesUntouched() {
        GuardedDecision d =
                guard.decide(policy(c -> new SizingDecision(CAP, "at cap", Map.of())), ctx());
        assertThat(d.fraction()).isEqualTo(CAP);
        assertThat(d.reason()).isEqualTo("at cap");
        assertThat(d.overridden()).isFalse();
    }

    @Test
    void oneUlpAboveTheCapIsClipped() {
        double above = Math.nextUp(CAP);
        GuardedDecision d =
                guard.decide(policy(c -> new SizingDecision(above, "greedy", Map.of())), ctx());
        assertThat(d.fraction()).isEqualTo(CAP);
        assertThat(d.overridden()).isTrue();
        assertThat(d.reason())
                .isEqualTo("greedy; risk guard: clipped from " + above + " to cap " + CAP);
    }

    @Test
    void belowTheCapAndZeroPass() {
        assertThat(
                        guard.decide(policy(c -> new SizingDecision(0.1, "some", Map.of())), ctx())
                                .fraction())
                .isEqualTo(0.1);
        GuardedDecision zero =
                guard.decide(policy(c -> new SizingDecision(0, "no edge", Map.of())), ctx());
        assertThat(zero.fraction()).isZero();
        assertThat(zero.overridden()).isFalse();
    }

    @Test
    void aThrowingPolicyGoesFlatWithTheFailureNamed() {
        GuardedDecision d =
                guard.decide(
                        policy(
                                c -> {
                                    throw new IllegalStateException("model not loaded");
                                }),
                        ctx());
        assertThat(d.fraction()).isZero();
        assertThat(d.overridden()).isTrue();
        assertThat(d.reason())
                .isEqualTo(
                        "risk guard: policy 'rogue' failed (IllegalStateException: model not loaded) -> flat");
    }

    @Test
    void anInvalidDecisionThrownByTheContractGoesFlat() {
        GuardedDecision d =
                guard.decide(policy(c -> new SizingDecision(Double.NaN, "nan", Map.of())), ctx());
        assertThat(d.fraction()).isZero();
        assertThat(d.reason()).contains("policy 'rogue' failed").contains("BAD_SIZING");
    }

    @Test
    void linkageAndStackOverflowErrorsGoFlat() {
        GuardedDecision linkage =
                guard.decide(
                        policy(
                                c -> {
                                    throw new NoClassDefFoundError("org/missing/Lib");
                                }),
                        ctx());
        assertThat(linkage.fraction()).isZero();
        assertThat(linkage.reason())
                .contains("'rogue'")
                .contains("NoClassDefFoundError: org/missing/Lib");
        GuardedDecision overflow =
                guard.decide(
                        policy(
                                c -> {
                                    throw new StackOverflowError("deep");
                                }),
                        ctx());
        assertThat(overflow.fraction()).isZero();
        assertThat(overflow.reason()).contains("StackOverflowError");
    }

    @Test
    void otherVirtualMachineErrorsPropagate() {
        assertThatThrownBy(
                        () ->
                                guard.decide(
                                        policy(
                                                c -> {
                                                    throw new OutOfMemoryError("heap");
                                                }),
                                        ctx()))
                .isInstanceOf(OutOfMemoryError.class);
    }

    @Test
    void aNullDecisionGoesFlat() {
        GuardedDecision d = guard.decide(policy(c -> null), ctx());
        assertThat(d.fraction()).isZero();
        assertThat(d.overridden()).isTrue();
        assertThat(d.reason())
                .isEqualTo("risk guard: policy 'rogue' returned no decision (null) -> flat");
    }
}
