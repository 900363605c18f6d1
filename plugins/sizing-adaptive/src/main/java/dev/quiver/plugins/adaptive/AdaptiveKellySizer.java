package dev.quiver.plugins.adaptive;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.PluginContext;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.sizing.OnlineCalibration;
import dev.quiver.api.sizing.ScoredOutcome;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import jakarta.inject.Inject;
import java.util.Map;
import org.pf4j.Extension;

/**
 * {@code kelly_ts}: the fused probability recalibrated live by temperature scaling on the last
 * {@code window} (default {@value #DEFAULT_WINDOW}) outcomes the engine scored ({@link
 * AdaptiveCalibrator}), abstaining below the adaptive minimum confidence, then fractional Kelly on
 * the recalibrated probability, long only.
 *
 * <p>One decision, in order:
 *
 * <ol>
 *   <li>fewer than {@code window} outcomes observed: flat, "calibrating";
 *   <li>{@code p' = sigmoid(logit(p) / T)}, {@code c = |2p' - 1|}; {@code c < minConfidence}
 *       ({@code 2 * ECE} of the window): flat, "abstain";
 *   <li>{@code f = multiplier * (p' - (1 - p') / b)}; not positive: flat, "no edge"; else {@code
 *       min(f, cap, context.maxFraction())}.
 * </ol>
 *
 * <p>State: what it learnt comes from {@link #observe} (the engine, live and in the backtest), not
 * from {@code fit}; a new engine (a backtest run, a session, a replay) {@linkplain #reset resets}
 * it, so it starts with an empty window and abstains until it has seen {@code window} outcomes. So
 * it has no fitted state to ship.
 *
 * <p>Configuration ({@code sizing-adaptive.KEY}): {@code window} (10..10000, default {@value
 * #DEFAULT_WINDOW}), {@code multiplier} (0, 1], default 0.25, {@code cap} (0, 1], default 1.
 *
 * <p>Thread-safe: calls are serialised.
 */
@Extension
public final class AdaptiveKellySizer implements SizingCapability, OnlineCalibration {

    /** Outcomes in the rolling window, as the issue asks (the last 100 scored outcomes). */
    public static final int DEFAULT_WINDOW = 100;

    private final AdaptiveCalibrator calibrator;
    private final double multiplier;
    private final double cap;
    private final CapabilityDescriptor descriptor;

    /**
     * Reads the configuration.
     *
     * @param context the host context
     * @throws QuiverInputException with code {@code BAD_CONFIG} naming the key if a value is not a
     *     number in its range
     */
    @Inject
    public AdaptiveKellySizer(PluginContext context) {
        this(
                whole(number(context, "window", Integer.toString(DEFAULT_WINDOW))),
                number(context, "multiplier", "0.25"),
                number(context, "cap", "1.0"));
    }

    /**
     * @param window outcomes in the rolling window, in [10, 10000]
     * @param multiplier fraction of full Kelly, in (0, 1]
     * @param cap largest position, fraction of equity, in (0, 1]
     * @throws QuiverInputException with code {@code BAD_CONFIG} if a value is out of range
     */
    public AdaptiveKellySizer(int window, double multiplier, double cap) {
        if (window < 10 || window > 10_000) {
            throw bad("window", window, "is not in [10, 10000]");
        }
        if (!(multiplier > 0 && multiplier <= 1)) {
            throw bad("multiplier", multiplier, "is not in (0, 1]");
        }
        if (!(cap > 0 && cap <= 1)) {
            throw bad("cap", cap, "is not in (0, 1]");
        }
        this.calibrator = new AdaptiveCalibrator(window);
        this.multiplier = multiplier;
        this.cap = cap;
        this.descriptor =
                new CapabilityDescriptor(
                        "kelly_ts",
                        "1.0.0",
                        Map.of(
                                "calibration",
                                "temperature scaling (Guo et al. 2017), refitted after every"
                                        + " scored outcome",
                                "window",
                                Integer.toString(window),
                                "min_confidence",
                                "2 * ECE of the window (10 bins); flat until the window is full",
                                "multiplier",
                                Double.toString(multiplier),
                                "cap",
                                Double.toString(cap),
                                "training",
                                "online: the last "
                                        + window
                                        + " outcomes the engine scored, never fitted per fold"));
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return descriptor;
    }

    /** Forgets the window (the engine calls it when it starts stepping). */
    @Override
    public synchronized void reset() {
        calibrator.reset();
    }

    @Override
    public synchronized void observe(ScoredOutcome outcome) {
        calibrator.observe(outcome);
    }

    @Override
    public synchronized double calibrate(double probabilityUp) {
        return calibrator.calibrate(probabilityUp);
    }

    /** The fitted temperature (1 until the window is full). */
    public synchronized double temperature() {
        return calibrator.temperature();
    }

    /** The adaptive minimum confidence (1 until the window is full). */
    public synchronized double minConfidence() {
        return calibrator.minConfidence();
    }

    /**
     * {@inheritDoc}
     *
     * <p>The reason is one of five fixed phrases; the numbers ({@code p}, {@code p_calibrated},
     * {@code temperature}, {@code confidence}, {@code min_confidence}, {@code b}, {@code
     * full_kelly}) are in the inputs.
     */
    @Override
    public synchronized SizingDecision size(SizingContext context) {
        double p = context.signal().probabilityUp();
        if (!calibrator.ready()) {
            return new SizingDecision(
                    0,
                    "calibrating: fewer scored outcomes than the window -> flat",
                    Map.of("p", p, "outcomes", (double) calibrator.size()));
        }
        double q = calibrator.calibrate(p);
        double confidence = Math.abs(2 * q - 1);
        double min = calibrator.minConfidence();
        double t = calibrator.temperature();
        if (confidence < min) {
            return new SizingDecision(
                    0,
                    "abstain: calibrated confidence below the adaptive minimum",
                    Map.of(
                            "p", p,
                            "p_calibrated", q,
                            "temperature", t,
                            "confidence", confidence,
                            "min_confidence", min));
        }
        double b = context.payoffRatio();
        double full = q - (1 - q) / b;
        Map<String, Double> inputs =
                Map.of(
                        "p", p,
                        "p_calibrated", q,
                        "temperature", t,
                        "confidence", confidence,
                        "min_confidence", min,
                        "b", b,
                        "full_kelly", full);
        if (!(full > 0)) {
            return new SizingDecision(0, "no edge: full Kelly p' - (1 - p') / b <= 0", inputs);
        }
        double f = multiplier * full;
        double limit = Math.min(cap, context.maxFraction());
        return f > limit
                ? new SizingDecision(limit, "fractional Kelly on p' capped", inputs)
                : new SizingDecision(f, "fractional Kelly on p'", inputs);
    }

    private static double number(PluginContext context, String key, String dflt) {
        String text = context.config(key).orElse(dflt);
        try {
            return Double.parseDouble(text);
        } catch (NumberFormatException e) {
            throw bad(key, text, "is not a number");
        }
    }

    private static int whole(double window) {
        if (window != Math.rint(window) || Math.abs(window) > 1e9) {
            throw bad("window", window, "is not a whole number");
        }
        return (int) window;
    }

    private static QuiverInputException bad(String key, Object value, String problem) {
        return new QuiverInputException(
                "BAD_CONFIG", "sizing-adaptive." + key, "plugin sizing-adaptive", value, problem);
    }
}
