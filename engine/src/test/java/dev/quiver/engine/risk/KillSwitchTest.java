package dev.quiver.engine.risk;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import org.junit.jupiter.api.Test;

class KillSwitchTest {

    private static final String HALT = "kill switch: halted by ops at 2026-12-07T09:00:00Z: test";

    @Test
    void anIncreaseIsHeldAtTheCurrentWeightAndTheReasonNamesTheHalt() {
        GuardedDecision d =
                KillSwitch.limit(new GuardedDecision(0.8, "kelly says 0.8", false), 0.25, HALT);
        assertThat(d.fraction()).isEqualTo(0.25);
        assertThat(d.overridden()).isTrue();
        assertThat(d.reason())
                .startsWith("kelly says 0.8; " + HALT)
                .contains("held at 0.25")
                .contains("target 0.8 refused");
    }

    @Test
    void fromFlatNothingIsBought() {
        GuardedDecision d = KillSwitch.limit(new GuardedDecision(0.5, "long", false), 0.0, HALT);
        assertThat(d.fraction()).isEqualTo(0.0);
        assertThat(d.reason()).contains(HALT);
    }

    @Test
    void aReductionOrAHoldPassesUnchangedWithTheHaltInItsReason() {
        GuardedDecision cut = KillSwitch.limit(new GuardedDecision(0.1, "cut", false), 0.4, HALT);
        assertThat(cut.fraction()).isEqualTo(0.1);
        assertThat(cut.overridden()).isFalse();
        assertThat(cut.reason()).isEqualTo("cut; " + HALT + " (reductions only)");
        GuardedDecision hold = KillSwitch.limit(new GuardedDecision(0.4, "hold", true), 0.4, HALT);
        assertThat(hold.fraction()).isEqualTo(0.4);
        assertThat(hold.overridden()).isTrue();
        GuardedDecision flat = KillSwitch.limit(new GuardedDecision(0.0, "flat", false), 0.4, HALT);
        assertThat(flat.fraction()).isEqualTo(0.0);
    }

    @Property(tries = 10_000)
    void neverAboveTheCurrentWeightAndNeverBelowTheAskedReduction(
            @ForAll @DoubleRange(min = 0, max = 2) double target,
            @ForAll @DoubleRange(min = 0, max = 2) double weight) {
        GuardedDecision d = KillSwitch.limit(new GuardedDecision(target, "p", false), weight, HALT);
        assertThat(d.fraction()).isLessThanOrEqualTo(weight);
        assertThat(d.fraction()).isEqualTo(Math.min(target, weight));
    }

    @Test
    void anOrderAddsUnitsOnlyWhenItsTargetIsWorthMoreThanTheHolding() {
        // 10 units at 100 in a book worth 2,000: weight 0.5
        assertThat(KillSwitch.adds(0.5, 10, 2000, 100)).isFalse();
        assertThat(KillSwitch.adds(0.6, 10, 2000, 100)).isTrue();
        assertThat(KillSwitch.adds(0.4, 10, 2000, 100)).isFalse();
        assertThat(KillSwitch.adds(0.0, 10, 2000, 100)).isFalse();
        // the price fell to 50 overnight: the same 0.5 target now buys
        assertThat(KillSwitch.adds(0.5, 10, 1500, 50)).isTrue();
        assertThat(KillSwitch.adds(0.1, 0, 1000, 50)).isTrue();
    }
}
