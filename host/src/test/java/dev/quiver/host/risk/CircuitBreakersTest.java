package dev.quiver.host.risk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.engine.risk.BreakerEvent;
import dev.quiver.engine.risk.CircuitBreakers;
import dev.quiver.engine.risk.CircuitBreakers.Breaker;
import dev.quiver.engine.risk.GuardedDecision;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Boundary tests in LEAN's style: exactly at the limit nothing happens, one step past halts. */
class CircuitBreakersTest {

    private static final long T0 = Instant.parse("2024-01-01T00:00:00Z").toEpochMilli();
    private static final long HOUR = 3_600_000L;
    private static final long DAY = 24 * HOUR;

    private static CircuitBreakers breakers() {
        return new CircuitBreakers(CircuitBreakers.Config.defaults(), "p");
    }

    private static GuardedDecision want(double f) {
        return new GuardedDecision(f, "policy wants " + f, false);
    }

    // --- max drawdown (15%) --------------------------------------------------------------------

    @Test
    void drawdownExactlyAtTheLimitDoesNotHalt() {
        CircuitBreakers b = breakers();
        b.observeEquity(T0, 100);
        b.observeEquity(T0 + 48 * HOUR, 85); // 1 - 85/100 = 0.15, the limit
        assertThat(b.halted()).isFalse();
        assertThat(b.events()).isEmpty();
        assertThat(b.apply(want(0.8), 0.2).fraction()).isEqualTo(0.8);
    }

    @Test
    void drawdownOneBasisPointPastTheLimitFlattens() {
        CircuitBreakers b = breakers();
        b.observeEquity(T0, 100);
        b.observeEquity(T0 + 48 * HOUR, 84.99); // 15.01%
        assertThat(b.tripped(Breaker.MAX_DRAWDOWN)).isTrue();
        assertThat(b.flattening()).isTrue();
        GuardedDecision more = b.apply(want(0.8), 0.2);
        assertThat(more.fraction()).isZero();
        assertThat(more.overridden()).isTrue();
        assertThat(more.reason())
                .contains("circuit breaker max_drawdown armed: drawdown 0.1501 > limit 0.1500")
                .endsWith("-> flat");
        assertThat(b.apply(want(0.1), 0.2).fraction()).isZero();
        GuardedDecision flat = b.apply(want(0), 0.2);
        assertThat(flat.overridden()).isFalse();
        assertThat(b.events())
                .singleElement()
                .satisfies(
                        e -> {
                            assertThat(e.breaker()).isEqualTo(Breaker.MAX_DRAWDOWN);
                            assertThat(e.event()).isEqualTo(BreakerEvent.Kind.ARMED);
                            assertThat(e.value()).isCloseTo(0.1501, within());
                            assertThat(e.time()).isEqualTo(Instant.ofEpochMilli(T0 + 48 * HOUR));
                            assertThat(e.policy()).isEqualTo("p");
                        });
    }

    @Test
    void drawdownStaysTrippedUnderManualRearmWhateverTheEquityDoes() {
        CircuitBreakers b = breakers();
        b.observeEquity(T0, 100);
        b.observeEquity(T0 + DAY, 80);
        b.observeEquity(T0 + 2 * DAY, 99); // recovered almost fully
        b.observeEquity(T0 + 400 * DAY, 99); // and more than a year later
        assertThat(b.tripped(Breaker.MAX_DRAWDOWN)).isTrue();
        assertThat(b.events()).hasSize(1);
    }

    @Test
    void anOperatorRearmRestartsThePeakAtTheLastEquityAndIsRecordedWithItsReason() {
        CircuitBreakers b = breakers();
        b.observeEquity(T0, 100);
        b.observeEquity(T0 + DAY, 80);
        assertThat(b.rearm(Breaker.HIT_RATE, T0 + DAY, "not tripped")).isFalse();
        assertThat(b.rearm(Breaker.MAX_DRAWDOWN, T0 + 2 * DAY, "reviewed by ops")).isTrue();
        assertThat(b.halted()).isFalse();
        b.observeEquity(T0 + 3 * DAY, 68); // 1 - 68/80 = 0.15: at the limit from the new peak
        assertThat(b.halted()).isFalse();
        b.observeEquity(T0 + 4 * DAY, 67.99);
        assertThat(b.halted()).isTrue();
        assertThat(b.events())
                .extracting(BreakerEvent::event, BreakerEvent::reason)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(
                                BreakerEvent.Kind.ARMED, "limit exceeded"),
                        org.assertj.core.groups.Tuple.tuple(
                                BreakerEvent.Kind.REARMED, "reviewed by ops"),
                        org.assertj.core.groups.Tuple.tuple(
                                BreakerEvent.Kind.ARMED, "limit exceeded"));
        assertThatThrownBy(() -> b.rearm(Breaker.MAX_DRAWDOWN, T0, " "))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("reason");
    }

    @Test
    void drawdownReArmsAfterTheCooldownWithAFreshPeakOnlyWhenThatRuleIsDeclared() {
        CircuitBreakers b =
                new CircuitBreakers(
                        CircuitBreakers.Config.defaults()
                                .withDrawdownRearm(CircuitBreakers.DrawdownRearm.COOLDOWN),
                        "p");
        b.observeEquity(T0, 100);
        b.observeEquity(T0 + DAY, 80);
        b.observeEquity(T0 + 30 * DAY, 80); // 29 days halted
        assertThat(b.halted()).isTrue();
        b.observeEquity(T0 + 31 * DAY, 80); // 30 days: re-armed, peak restarts at 80
        assertThat(b.halted()).isFalse();
        b.observeEquity(T0 + 32 * DAY, 68); // 1 - 68/80 = 0.15: at the limit
        assertThat(b.halted()).isFalse();
        b.observeEquity(T0 + 33 * DAY, 67.99);
        assertThat(b.halted()).isTrue();
        assertThat(b.events())
                .extracting(BreakerEvent::event)
                .containsExactly(
                        BreakerEvent.Kind.ARMED,
                        BreakerEvent.Kind.REARMED,
                        BreakerEvent.Kind.ARMED);
    }

    // --- daily loss (5%) -----------------------------------------------------------------------

    @Test
    void dailyLossExactlyAtTheLimitDoesNotHalt() {
        CircuitBreakers b = breakers();
        b.observeEquity(T0 + HOUR, 100); // the day's first observation
        b.observeEquity(T0 + 20 * HOUR, 95); // 5%
        assertThat(b.halted()).isFalse();
    }

    @Test
    void dailyLossOneStepPastHaltsAndReArmsOnTheNextUtcDay() {
        CircuitBreakers b = breakers();
        b.observeEquity(T0 + HOUR, 100);
        b.observeEquity(T0 + 20 * HOUR, 94.99);
        assertThat(b.tripped(Breaker.DAILY_LOSS)).isTrue();
        assertThat(b.apply(want(0.5), 0.1).reason())
                .contains("circuit breaker daily_loss armed: daily loss 0.0501 > limit 0.0500");
        b.observeEquity(T0 + 23 * HOUR, 99); // same day, recovered: stays halted
        assertThat(b.halted()).isTrue();
        b.observeEquity(T0 + DAY, 99); // next UTC day
        assertThat(b.halted()).isFalse();
        assertThat(b.events())
                .extracting(BreakerEvent::breaker, BreakerEvent::event)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(
                                Breaker.DAILY_LOSS, BreakerEvent.Kind.ARMED),
                        org.assertj.core.groups.Tuple.tuple(
                                Breaker.DAILY_LOSS, BreakerEvent.Kind.REARMED));
    }

    @Test
    void dailyLossIsMeasuredFromTheDaysFirstObservationNotThePeak() {
        CircuitBreakers b = breakers();
        b.observeEquity(T0, 100);
        b.observeEquity(T0 + DAY, 96); // new day starts at 96
        b.observeEquity(T0 + DAY + HOUR, 91.2); // 1 - 91.2/96 = 5%
        assertThat(b.tripped(Breaker.DAILY_LOSS)).isFalse();
        b.observeEquity(T0 + DAY + 2 * HOUR, 91.19);
        assertThat(b.tripped(Breaker.DAILY_LOSS)).isTrue();
    }

    // --- rolling hit rate (40% over 50) --------------------------------------------------------

    private static void decisions(CircuitBreakers b, int wins, int losses) {
        for (int i = 0; i < losses; i++) {
            b.observeDecision(T0 + i * HOUR, false);
        }
        for (int i = 0; i < wins; i++) {
            b.observeDecision(T0 + (losses + i) * HOUR, true);
        }
    }

    @Test
    void haltReasonFollowsTheFiguresItShowsWhenAskedAgain() {
        // haltReason() keeps its last text while the figures stay; a changed figure, a second
        // breaker tripping or a re-arm must change the text.
        CircuitBreakers b = breakers();
        decisions(b, 19, 31); // 38%
        String first = b.haltReason();
        assertThat(first)
                .isEqualTo("circuit breaker hit_rate armed: hit rate 0.3800 < limit 0.4000");
        assertThat(b.haltReason()).isEqualTo(first);
        b.observeDecision(T0 + 100 * HOUR, true); // a loss leaves the window, a win enters: 40%
        assertThat(b.halted()).isTrue();
        assertThat(b.haltReason())
                .isEqualTo("circuit breaker hit_rate armed: hit rate 0.4000 < limit 0.4000");
        b.observeEquity(T0 + 101 * HOUR, 100);
        b.observeEquity(T0 + 150 * HOUR, 80);
        assertThat(b.haltReason())
                .isEqualTo(
                        "circuit breaker max_drawdown armed: drawdown 0.2000 > limit 0.1500;"
                                + " circuit breaker hit_rate armed: hit rate 0.4000 < limit"
                                + " 0.4000");
        assertThat(b.apply(want(1), 0).reason())
                .isEqualTo("policy wants 1.0; " + b.haltReason() + " -> flat");
    }

    @Test
    void haltReasonShowsEveryFigureAsItIsNowWhenOnlySomeOfThemMove() {
        // Each part of the text is kept by the figure it shows: a moving hit rate beside a tripped
        // drawdown must not leave a stale figure in either part, and a part that comes back with
        // an earlier figure shows that figure.
        CircuitBreakers b = breakers();
        b.observeEquity(T0, 100);
        b.observeEquity(T0 + 30 * HOUR, 80); // next UTC day: drawdown 20%, no daily loss
        decisions(b, 19, 31); // 38%
        assertThat(b.haltReason())
                .isEqualTo(
                        "circuit breaker max_drawdown armed: drawdown 0.2000 > limit 0.1500;"
                                + " circuit breaker hit_rate armed: hit rate 0.3800 < limit"
                                + " 0.4000");
        b.observeDecision(T0 + 100 * HOUR, true); // 40%
        assertThat(b.haltReason())
                .isEqualTo(
                        "circuit breaker max_drawdown armed: drawdown 0.2000 > limit 0.1500;"
                                + " circuit breaker hit_rate armed: hit rate 0.4000 < limit"
                                + " 0.4000");
        b.observeEquity(T0 + 97 * HOUR, 76); // a new UTC day: drawdown 24%, daily loss 0
        assertThat(b.haltReason())
                .isEqualTo(
                        "circuit breaker max_drawdown armed: drawdown 0.2400 > limit 0.1500;"
                                + " circuit breaker hit_rate armed: hit rate 0.4000 < limit"
                                + " 0.4000");
        b.observeEquity(T0 + 98 * HOUR, 70); // same day: daily loss 1 - 70/76, drawdown 30%
        assertThat(b.haltReason())
                .isEqualTo(
                        "circuit breaker max_drawdown armed: drawdown 0.3000 > limit 0.1500;"
                                + " circuit breaker daily_loss armed: daily loss 0.0789 > limit"
                                + " 0.0500; circuit breaker hit_rate armed: hit rate 0.4000 <"
                                + " limit 0.4000");
        b.observeDecision(T0 + 101 * HOUR, true); // 42%, the other parts unchanged
        assertThat(b.haltReason())
                .isEqualTo(
                        "circuit breaker max_drawdown armed: drawdown 0.3000 > limit 0.1500;"
                                + " circuit breaker daily_loss armed: daily loss 0.0789 > limit"
                                + " 0.0500; circuit breaker hit_rate armed: hit rate 0.4200 <"
                                + " limit 0.4000");
        b.observeEquity(T0 + 99 * HOUR, 76); // drawdown back to 24%: its part shows it again
        assertThat(b.haltReason())
                .startsWith("circuit breaker max_drawdown armed: drawdown 0.2400 > limit 0.1500;")
                .contains("daily loss 0.0000 > limit 0.0500");
    }

    @Test
    void hitRateExactlyAtTheFloorDoesNotHalt() {
        CircuitBreakers b = breakers();
        decisions(b, 20, 30); // 20 / 50 = 40%
        assertThat(b.hitRate()).isEqualTo(0.4);
        assertThat(b.halted()).isFalse();
    }

    @Test
    void hitRateOneDecisionBelowTheFloorHaltsNewRiskAndReArmsAfterAFreshWindowAtTheFloor() {
        CircuitBreakers b = breakers();
        decisions(b, 19, 31); // 38%
        assertThat(b.tripped(Breaker.HIT_RATE)).isTrue();
        assertThat(b.flattening()).isFalse();
        assertThat(b.apply(want(1), 0).reason())
                .contains("circuit breaker hit_rate armed: hit rate 0.3800 < limit 0.4000");
        assertThat(b.apply(want(1), 0.3).fraction()).isEqualTo(0.3); // no new risk, position kept
        // back at the floor after one more win, but the window still holds pre-trip decisions
        b.observeDecision(T0 + 100 * HOUR, true);
        assertThat(b.hitRate()).isEqualTo(0.4);
        assertThat(b.halted()).isTrue();
        // 49 more: a window of 50 decisions closed after the trip, 20 of them wins (40%)
        for (int i = 0; i < 49; i++) {
            b.observeDecision(T0 + (101 + i) * HOUR, i < 19);
        }
        assertThat(b.hitRate()).isEqualTo(0.4);
        assertThat(b.halted()).isFalse();
        assertThat(b.events()).hasSize(2);
        assertThat(b.events().get(0).value()).isEqualTo(0.38);
        assertThat(b.events().get(1).event()).isEqualTo(BreakerEvent.Kind.REARMED);
    }

    @Test
    void hitRateNeedsAFullWindow() {
        CircuitBreakers b = breakers();
        decisions(b, 0, 49);
        assertThat(b.halted()).isFalse();
        b.observeDecision(T0 + 99 * HOUR, false);
        assertThat(b.halted()).isTrue();
    }

    // --- config --------------------------------------------------------------------------------

    @ParameterizedTest
    @CsvSource({
        "-0.15, 0.05, 0.4, 50, 30, maxDrawdown",
        "NaN, 0.05, 0.4, 50, 30, maxDrawdown",
        "0.15, -0.05, 0.4, 50, 30, dailyLoss",
        "0.15, NaN, 0.4, 50, 30, dailyLoss",
        "0.15, 0.05, NaN, 50, 30, minHitRate",
        "0.15, 0.05, 1.5, 50, 30, minHitRate",
        "0.15, 0.05, 0.4, 0, 30, hitRateWindow",
        "0.15, 0.05, 0.4, 50, NaN, drawdownCooldownDays",
        "0.15, 0.05, 0.4, 50, -1, drawdownCooldownDays",
    })
    void badConfigIsRefusedWithTheFieldNamed(
            double dd, double daily, double hit, int window, double cooldown, String field) {
        assertThatThrownBy(() -> new CircuitBreakers.Config(dd, daily, hit, window, cooldown))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("field '" + field + "'");
    }

    private static org.assertj.core.data.Offset<Double> within() {
        return org.assertj.core.data.Offset.offset(1e-9);
    }
}
