package dev.quiver.plugins.traditional;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.NamedValues;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.pf4j.Extension;

/**
 * The traditional technical-analysis source: RSI, MACD, Bollinger %B and ATR turned into a
 * probability that the next bar closes above the decision bar's close (horizon 1 bar).
 *
 * <p>Reads four features of the host's {@code quiver-core} schema, by name only: {@code rsi_14}
 * (Wilder RSI(14), in [0, 100]), {@code macd_hist_pct} (MACD(12, 26, 9) histogram / close, a
 * fraction), {@code bb_percent_b_20_2} (Bollinger(20, 2) %B: 0 at the lower band, 1 at the upper)
 * and {@code atr_pct_14} (Wilder ATR(14) / close, a fraction). The probability is {@link
 * #probabilityUp}; the four inputs and the score are returned in {@link Forecast#details()}.
 *
 * <p>Descriptor: {@code traditional} {@code 1.0.0}, {@code horizon=1}, {@code calibrated=false}:
 * the output is a monotone, bounded score mapped to (0, 1), not a measured frequency.
 *
 * <p>Stateless apart from the closed flag and a cache of the four features' positions in the last
 * schema seen: point-in-time and deterministic (the forecast depends only on the frame),
 * thread-safe. {@link #close()} is idempotent; {@link #forecast} after it throws {@link
 * IllegalStateException}.
 *
 * @since 1.0.0
 */
@Extension
public final class TraditionalForecaster implements PredictionCapability {

    /** Feature names read from the frame. */
    static final String RSI = "rsi_14";

    static final String MACD_HIST_PCT = "macd_hist_pct";
    static final String PERCENT_B = "bb_percent_b_20_2";
    static final String ATR_PCT = "atr_pct_14";

    /** Weight of the MACD momentum term. */
    static final double MOMENTUM_WEIGHT = 1.0;

    /** Weight of the RSI mean-reversion term. */
    static final double RSI_WEIGHT = 1.0;

    /** Weight of the Bollinger %B mean-reversion term. */
    static final double PERCENT_B_WEIGHT = 1.0;

    /** Bound on the momentum term, in ATRs. */
    static final double MOMENTUM_CAP = 3.0;

    private static final CapabilityDescriptor DESCRIPTOR =
            new CapabilityDescriptor(
                    "traditional", "1.0.0", Map.of("horizon", "1", "calibrated", "false"));

    /**
     * Names of the details, fixed once: each forecast's details are one array of values, not a map
     * of boxed values built per bar.
     */
    private static final NamedValues.Names DETAILS =
            NamedValues.names(RSI, MACD_HIST_PCT, PERCENT_B, ATR_PCT, "score");

    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * Positions of the four features in the last schema seen (by identity: the host hands every
     * frame of a series the same schema instance), so that a frame is read by index instead of by a
     * name search per feature. Immutable; a racy replacement only recomputes it.
     */
    private Positions positions;

    private record Positions(
            FeatureSchema schema, int rsi, int macdHistPct, int percentB, int atr) {

        /** Looks the four names up; throws {@code UNKNOWN_FEATURE} naming a missing one. */
        static Positions of(FeatureSchema schema) {
            return new Positions(
                    schema,
                    schema.indexOf(RSI),
                    schema.indexOf(MACD_HIST_PCT),
                    schema.indexOf(PERCENT_B),
                    schema.indexOf(ATR_PCT));
        }
    }

    /** Creates the forecaster; it needs no configuration and no model. */
    public TraditionalForecaster() {}

    @Override
    public CapabilityDescriptor descriptor() {
        return DESCRIPTOR;
    }

    /**
     * Forecasts the decision bar of {@code frame}.
     *
     * @param frame features of the decision bar; must contain {@code rsi_14}, {@code
     *     macd_hist_pct}, {@code bb_percent_b_20_2} and {@code atr_pct_14}
     * @return {@code probabilityUp} in (0, 1), horizon 1, details {@code rsi_14}, {@code
     *     macd_hist_pct}, {@code bb_percent_b_20_2}, {@code atr_pct_14} and {@code score}
     * @throws QuiverInputException with code {@code UNKNOWN_FEATURE} naming the feature if the
     *     frame's schema lacks one of the four
     * @throws IllegalStateException after {@link #close()}
     */
    @Override
    public Forecast forecast(FeatureFrame frame) {
        if (closed.get()) {
            throw new IllegalStateException(
                    "[Quiver/CAPABILITY_CLOSED] capability 'traditional' was closed; create a new"
                            + " instance to forecast bar "
                            + frame.bar().start());
        }
        Positions at = positions;
        if (at == null || at.schema() != frame.schema()) {
            at = Positions.of(frame.schema());
            positions = at;
        }
        double rsi = frame.get(at.rsi());
        double macdHistPct = frame.get(at.macdHistPct());
        double percentB = frame.get(at.percentB());
        double atrPct = frame.get(at.atr());
        double score = score(rsi, macdHistPct, percentB, atrPct);
        return new Forecast(
                DESCRIPTOR.name(),
                frame.bar().start(),
                1,
                logistic(score),
                DETAILS.of(rsi, macdHistPct, percentB, atrPct, score));
    }

    /** Marks the forecaster closed. Idempotent; it holds no native resources. */
    @Override
    public void close() {
        closed.set(true);
    }

    /**
     * The traditional rule: probability of an up move over 1 bar. Pure and static so that a
     * benchmark can re-implement it on another indicator library and produce identical trades (the
     * host's {@code dev.quiver.host.bench.Ta4jReference.probabilityUp} is such a copy and must stay
     * identical).
     *
     * <p>{@code p = 1 / (1 + exp(-s))} with {@code s = 1.0 * m + 1.0 * r + 1.0 * b}:
     *
     * <ul>
     *   <li>momentum (G. Appel's MACD, measured in J. W. Wilder's ATR): {@code m =
     *       clamp(macdHistPct / atrPct, -3, 3)}, i.e. the MACD histogram in ATRs, 0 when {@code
     *       atrPct <= 0}. A rising histogram means an accelerating up-move: bullish.
     *   <li>RSI mean reversion (Wilder 1978): {@code r = clamp((50 - rsi) / 50, -1, 1)}: +0.4 at
     *       the oversold level 30, -0.4 at the overbought level 70.
     *   <li>%B mean reversion (J. Bollinger, "Bollinger on Bollinger Bands", 2001): {@code b =
     *       clamp(0.5 - percentB, -1, 1)}: +0.5 at the lower band, -0.5 at the upper.
     * </ul>
     *
     * <p>Since {@code |s| <= 5}, {@code p} lies in {@code [0.0067, 0.9933]} for any finite input.
     * Example: {@code probabilityUp(50, 0, 0.5, 0.01) = 0.5}; {@code probabilityUp(0, 0, 0.5, 0.01)
     * = 1 / (1 + e^-1) = 0.7311}.
     *
     * @param rsi RSI(14), in [0, 100]
     * @param macdHistPct MACD(12, 26, 9) histogram divided by the close, a fraction
     * @param percentB Bollinger(20, 2) %B (0 lower band, 1 upper band, may lie outside [0, 1])
     * @param atrPct ATR(14) divided by the close, a fraction {@code >= 0}
     * @return probability of an up move, in {@code (0, 1)}; NaN if an input is NaN
     */
    public static double probabilityUp(
            double rsi, double macdHistPct, double percentB, double atrPct) {
        return logistic(score(rsi, macdHistPct, percentB, atrPct));
    }

    private static double score(double rsi, double macdHistPct, double percentB, double atrPct) {
        double momentum =
                atrPct > 0.0 ? clamp(macdHistPct / atrPct, -MOMENTUM_CAP, MOMENTUM_CAP) : 0.0;
        double rsiReversion = clamp((50.0 - rsi) / 50.0, -1.0, 1.0);
        double bandReversion = clamp(0.5 - percentB, -1.0, 1.0);
        return MOMENTUM_WEIGHT * momentum
                + RSI_WEIGHT * rsiReversion
                + PERCENT_B_WEIGHT * bandReversion;
    }

    private static double logistic(double score) {
        return 1.0 / (1.0 + Math.exp(-score));
    }

    private static double clamp(double x, double low, double high) {
        return Math.max(low, Math.min(high, x));
    }
}
