package dev.quiver.api.sizing;

import dev.quiver.api.Experimental;

/**
 * A sizing capability that recalibrates the fused probability live, from the outcomes the engine
 * scores, and sizes from the recalibrated probability (e.g. temperature scaling on a rolling
 * window, with a minimum confidence below which it abstains).
 *
 * <p>The host's engine calls {@link #observe} on every {@link SizingCapability} that also
 * implements this interface, once per realised outcome, in bar order, on the thread that steps the
 * engine, before the next decision: the same in the walk-forward backtest and in a live session.
 * The backtest report scores {@link #calibrate} of each test bar's fused probability (log-loss,
 * Brier, ECE, hit rate) beside the fused signal's own scores, so the recalibration is judged on the
 * same bars, point-in-time.
 *
 * <p>Implemented by plugins, next to {@link SizingCapability}; a new type of api 1.4.0, so a plugin
 * that implements it requires {@code >=1.4.0}.
 *
 * @since 1.4.0
 */
@Experimental(since = "1.4.0")
public interface OnlineCalibration {

    /**
     * Forgets every outcome observed so far. The engine calls it when it starts stepping (a new
     * engine: a backtest run, a live session, its replay after a restart) and for the policies of a
     * strategy swapped in, so outcomes of another run or another series never carry over into this
     * one, however the host reuses instances.
     *
     * @throws dev.quiver.api.error.CapabilityException if it cannot; the engine then sizes flat
     *     with this policy for the engine's life and says why in every reason
     */
    void reset();

    /**
     * Takes one realised outcome into the calibration.
     *
     * @param outcome the fused probability of a past bar and its label; bar times increase from
     *     call to call
     * @throws dev.quiver.api.error.CapabilityException if the outcome cannot be used; the engine
     *     names the failure with the bar and goes on
     */
    void observe(ScoredOutcome outcome);

    /**
     * The probability this policy would size from for a fused probability, as calibrated now (from
     * the outcomes observed so far only). Deterministic; changes nothing.
     *
     * @param probabilityUp a fused probability of an up move, in {@code [0, 1]}
     * @return the recalibrated probability, in {@code [0, 1]}
     */
    double calibrate(double probabilityUp);
}
