package dev.quiver.testkit;

import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.SourceContribution;
import dev.quiver.api.sizing.SizingContext;
import java.time.Instant;
import java.util.List;

/** Small, hand-checkable inputs for contract tests. */
public final class Fixtures {

    /** Bar time used by the fixtures: 2020-03-12T00:00:00Z, the COVID crash day. */
    public static final Instant BAR_TIME = Instant.parse("2020-03-12T00:00:00Z");

    private Fixtures() {}

    /**
     * A fused signal from one source.
     *
     * @param probabilityUp in [0, 1]
     * @return the signal
     */
    public static FusedSignal signal(double probabilityUp) {
        return new FusedSignal(
                BAR_TIME,
                probabilityUp,
                Math.abs(2 * probabilityUp - 1),
                1.0,
                List.of(new SourceContribution("fixture", probabilityUp, 1.0)));
    }

    /**
     * A sizing context with equity 10,000, no drawdown and 1% volatility.
     *
     * @param probabilityUp fused probability, in [0, 1]
     * @param payoffRatio b, {@code > 0}
     * @param maxFraction the host cap, {@code > 0}
     * @return the context
     */
    public static SizingContext sizing(
            double probabilityUp, double payoffRatio, double maxFraction) {
        return new SizingContext(signal(probabilityUp), 10_000, 0, maxFraction, 0.01, payoffRatio);
    }
}
