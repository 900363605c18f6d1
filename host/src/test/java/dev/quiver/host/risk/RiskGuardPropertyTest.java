package dev.quiver.host.risk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.engine.risk.CircuitBreakers;
import dev.quiver.engine.risk.GuardedDecision;
import dev.quiver.engine.risk.RiskGuard;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/**
 * P11: whatever a sizing policy computes from whatever inputs (NaN, +-Inf, p outside (0, 1), b <=
 * 0, huge volatility) or does (throws, returns null), the decision through the risk guard and the
 * circuit breakers is finite, never above the cap, and every override carries a reason.
 */
class RiskGuardPropertyTest {

    private static final double[] SPECIAL = {
        Double.NaN,
        Double.POSITIVE_INFINITY,
        Double.NEGATIVE_INFINITY,
        -0.0,
        0.0,
        Double.MIN_VALUE,
        1e308,
        -1,
        -1e-300,
        1.5,
        2,
        Double.MAX_VALUE
    };

    @Provide
    Arbitrary<Double> anyDouble() {
        return Arbitraries.oneOf(
                Arbitraries.of(SPECIAL[0], SPECIAL[1], SPECIAL[2], SPECIAL[3], SPECIAL[4])
                        .map(d -> d),
                Arbitraries.of(SPECIAL[5], SPECIAL[6], SPECIAL[7], SPECIAL[8], SPECIAL[9])
                        .map(d -> d),
                Arbitraries.doubles().between(-3, 3).ofScale(6),
                Arbitraries.doubles().between(-1e12, 1e12),
                Arbitraries.doubles().between(0, 1).ofScale(6));
    }

    @Provide
    Arbitrary<Double> cap() {
        return Arbitraries.oneOf(
                Arbitraries.of(1.0, 0.25, Double.MIN_VALUE, 0.5),
                Arbitraries.doubles().between(1e-6, 1).ofScale(8));
    }

    /** How the rogue policy misbehaves. */
    enum Mode {
        KELLY, // computes f from the raw p, b, vol without checks (may be NaN, Inf, negative)
        RAW, // returns the raw number as the fraction
        AT_CAP,
        CAP_PLUS_ULP,
        THROWS,
        ERROR,
        NULL,
        NULL_REASON
    }

    @Property(tries = 100_000, seed = "20240101")
    void decisionIsFiniteWithinTheCapAndOverridesCarryAReason(
            @ForAll("anyDouble") double p,
            @ForAll("anyDouble") double b,
            @ForAll("anyDouble") double vol,
            @ForAll("anyDouble") double raw,
            @ForAll("cap") double cap,
            @ForAll Mode mode,
            @ForAll("anyDouble") double currentWeight,
            @ForAll("unit") double drawdown,
            @ForAll("equity") double equity,
            @ForAll boolean halted) {
        // RELIABILITY.md P11 lists the values a sizing output must survive: count each one seen
        // as the policy's returned fraction, so a generator change that stops producing one fails.
        Statistics.label("fraction returned").collect(listed(mode, raw));
        Statistics.label("fraction returned")
                .coverage(
                        checker -> {
                            for (String value : LISTED) {
                                checker.check(value).count(c -> c >= 100);
                            }
                        });
        SizingCapability policy =
                new SizingCapability() {
                    @Override
                    public CapabilityDescriptor descriptor() {
                        return CapabilityDescriptor.of("rogue", "0.0.1");
                    }

                    @Override
                    public SizingDecision size(SizingContext c) {
                        return switch (mode) {
                            case KELLY ->
                                    new SizingDecision(
                                            0.25 * (p - (1 - p) / b) / vol, "kelly", Map.of());
                            case RAW -> new SizingDecision(raw, "raw", Map.of("raw", raw));
                            case AT_CAP -> new SizingDecision(c.maxFraction(), "cap", Map.of());
                            case CAP_PLUS_ULP ->
                                    new SizingDecision(
                                            Math.nextUp(c.maxFraction()), "ulp", Map.of());
                            case THROWS -> throw new IllegalStateException("boom");
                            case ERROR -> throw new NoClassDefFoundError("missing/Clazz");
                            case NULL -> null;
                            case NULL_REASON -> new SizingDecision(0.1, null, Map.of());
                        };
                    }
                };
        FusedSignal s =
                new FusedSignal(Instant.parse("2024-01-01T00:00:00Z"), 0.6, 0.2, 1, List.of());
        SizingContext ctx =
                new SizingContext(
                        s,
                        equity,
                        drawdown,
                        cap,
                        Double.isFinite(vol) ? Math.abs(vol) : 0,
                        b > 0 && Double.isFinite(b) ? b : 1);
        GuardedDecision d = new RiskGuard().decide(policy, ctx);
        CircuitBreakers breakers = new CircuitBreakers(CircuitBreakers.Config.defaults(), "rogue");
        if (halted) {
            breakers.observeEquity(0, 100);
            breakers.observeEquity(1, 50);
        }
        GuardedDecision out = breakers.apply(d, currentWeight);

        assertThat(Double.isFinite(out.fraction())).isTrue();
        assertThat(out.fraction()).isBetween(0.0, cap);
        if (out.overridden()) {
            assertThat(out.reason()).isNotBlank();
            assertThat(out.reason()).containsAnyOf("risk guard", "circuit breaker");
        }
        if (halted) {
            double held = Double.isFinite(currentWeight) ? Math.max(0, currentWeight) : 0;
            assertThat(out.fraction()).isLessThanOrEqualTo(Math.max(held, 0));
        }
    }

    /**
     * Which listed value of P11 the policy returns, or "other": RAW returns {@code raw} itself;
     * AT_CAP, CAP_PLUS_ULP, NULL and THROWS/ERROR are the cap, cap + 1 ulp, null and an exception.
     */
    static String listed(Mode mode, double raw) {
        return switch (mode) {
            case AT_CAP -> "cap";
            case CAP_PLUS_ULP -> "cap+1ulp";
            case NULL -> "null";
            case THROWS, ERROR -> "exception";
            case RAW -> rawName(raw);
            default -> "other";
        };
    }

    private static String rawName(double raw) {
        if (Double.isNaN(raw)) {
            return "NaN";
        }
        if (raw == Double.POSITIVE_INFINITY) {
            return "+Inf";
        }
        if (raw == Double.NEGATIVE_INFINITY) {
            return "-Inf";
        }
        if (Double.doubleToRawLongBits(raw) == Double.doubleToRawLongBits(-0.0)) {
            return "-0.0";
        }
        if (raw == Double.MIN_VALUE) {
            return "MIN_VALUE";
        }
        if (raw == 1e308) {
            return "1e308";
        }
        if (raw == -1) {
            return "-1";
        }
        return "other";
    }

    /** P11's listed values, each to be returned by the policy at least 100 times in the run. */
    static final List<String> LISTED =
            List.of(
                    "NaN",
                    "+Inf",
                    "-Inf",
                    "-0.0",
                    "MIN_VALUE",
                    "1e308",
                    "-1",
                    "cap",
                    "cap+1ulp",
                    "null",
                    "exception");

    @Provide
    Arbitrary<Double> equity() {
        return Arbitraries.oneOf(
                Arbitraries.of(Double.MIN_VALUE, 1.0, 10_000.0, 1e15),
                Arbitraries.doubles().between(1, 1e9));
    }

    @Provide
    Arbitrary<Double> unit() {
        return Arbitraries.oneOf(
                Arbitraries.of(0.0, Math.nextDown(1.0)),
                Arbitraries.doubles().between(0, 0.999).ofScale(6));
    }
}
