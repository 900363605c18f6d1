package dev.quiver.plugins.regime;

import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;

/**
 * The two inputs the regime model reads for one bar, from the host's point-in-time features of that
 * bar and the {@code windowBars - 1} bars before it (chained frames, {@link
 * FeatureFrame#previous}):
 *
 * <ol>
 *   <li>{@code trend_z}: the volatility-scaled return over the window, {@code z = sum(r) / (rms(r)
 *       * sqrt(N))} with {@code r} the window's {@code log_return_1} values and {@code N =
 *       windowBars}; in {@code [-sqrt(N), sqrt(N)]}, 0 when every return is 0 (no move, no trend).
 *       A t-statistic of the drift: large |z| is a persistent move, small |z| a range.
 *   <li>{@code log_atr_pct}: {@code ln(atr_pct_14)}, the bar's volatility level (the logarithm
 *       makes its right-skewed distribution closer to the Gaussian the mixture assumes).
 * </ol>
 *
 * <p>An interface so that tests can build a leaky variant and show the point-in-time check catches
 * it; the plugin uses {@link #POINT_IN_TIME} only.
 */
@FunctionalInterface
interface RegimeInputs {

    /** Names of the inputs, in vector order. */
    String[] NAMES = {"trend_z", "log_atr_pct"};

    /**
     * The inputs of the frame's bar.
     *
     * @param frame the decision bar's features, chained to earlier bars
     * @param windowBars bars in the trend window, {@code >= 2}
     * @return {@code {trend_z, log_atr_pct}}
     * @throws QuiverInputException {@code UNKNOWN_FEATURE} if the schema lacks {@code log_return_1}
     *     or {@code atr_pct_14}; {@code SHORT_HISTORY} if fewer than {@code windowBars} chained
     *     frames end at the bar; {@code BAD_FEATURE} if {@code atr_pct_14 <= 0} (no logarithm)
     */
    double[] of(FeatureFrame frame, int windowBars);

    /** The plugin's inputs: the decision bar and the bars before it, nothing else. */
    RegimeInputs POINT_IN_TIME =
            (frame, windowBars) -> {
                int ret = frame.schema().indexOf("log_return_1");
                int atr = frame.schema().indexOf("atr_pct_14");
                double atrPct = frame.get(atr);
                if (!(atrPct > 0)) {
                    throw new QuiverInputException(
                            "BAD_FEATURE",
                            "atr_pct_14",
                            "regime inputs at bar " + frame.bar().start(),
                            atrPct,
                            "must be > 0 (its logarithm is the volatility input)");
                }
                double sum = 0;
                double sumSq = 0;
                FeatureFrame f = frame;
                int rows = 0;
                for (; rows < windowBars && f != null; rows++, f = f.previous()) {
                    double r = f.get(ret);
                    sum += r;
                    sumSq += r * r;
                }
                if (rows < windowBars) {
                    throw new QuiverInputException(
                            "SHORT_HISTORY",
                            "window",
                            "regime inputs at bar " + frame.bar().start(),
                            rows,
                            "has fewer than " + windowBars + " chained feature rows");
                }
                double rms = Math.sqrt(sumSq / windowBars);
                double z = rms > 0 ? sum / (rms * Math.sqrt(windowBars)) : 0;
                return new double[] {z, Math.log(atrPct)};
            };
}
