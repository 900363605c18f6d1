package dev.quiver.plugins.analogs;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.PluginContext;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.market.BarSeries;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/**
 * Historical analogs: the probability of an up move is the smoothed win rate of the {@code k} past
 * setups most similar to the decision bar's.
 *
 * <p>A setup is a bar's vector of {@link #FEATURES}; similarity is Euclidean distance after scaling
 * each feature by its standard deviation over the candidates. Candidates are the bars {@code j} of
 * the last {@code lookback} bars before the decision bar {@code t} whose outcome ({@code
 * close_{j+1} > close_j}) is known at {@code t}'s close, i.e. {@code j <= t - 1}: point-in-time by
 * construction. With {@code u} up outcomes among the {@code k} nearest, {@code p = (u + 1) / (k +
 * 2)} (Laplace's rule of succession), so few or lopsided analogs never give 0 or 1. Ties in
 * distance go to the more recent bar. Nearest-neighbour forecasting after E. N. Lorenz,
 * "Atmospheric predictability as revealed by naturally occurring analogues", J. Atmos. Sci. 26
 * (1969).
 *
 * <p>Forecast details: {@code win_rate} ({@code u / k}), {@code k}, {@code mean_distance}, {@code
 * candidates}.
 */
@Extension
public final class AnalogForecaster implements PredictionCapability {

    /** The features a setup is made of. */
    public static final List<String> FEATURES =
            List.of(
                    "log_return_1",
                    "rsi_14",
                    "macd_hist_pct",
                    "bb_percent_b_20_2",
                    "atr_pct_14",
                    "volume_ratio_20");

    /** Default number of analogs. */
    public static final int DEFAULT_K = 25;

    /** Default candidate window, bars. */
    public static final int DEFAULT_LOOKBACK_BARS = 500;

    private static final CapabilityDescriptor DESCRIPTOR =
            new CapabilityDescriptor(
                    "analogs", "1.0.0", Map.of("horizon", "1", "calibrated", "false"));

    private final int k;
    private final int lookbackBars;
    private volatile boolean closed;

    /**
     * Reads {@code k} (integer in [1, 500], default 25) and {@code lookback} (bars, integer in [k,
     * 5000], default 500) from the plugin configuration.
     *
     * @param context the host context
     * @throws QuiverInputException if a value is not an integer in its range
     */
    @Inject
    public AnalogForecaster(PluginContext context) {
        this(
                parse("k", context.config("k").orElse(String.valueOf(DEFAULT_K))),
                parse(
                        "lookback",
                        context.config("lookback").orElse(String.valueOf(DEFAULT_LOOKBACK_BARS))));
    }

    /**
     * @param k analogs used, in [1, 500]
     * @param lookbackBars candidate window in bars, in [k, 5000]
     * @throws QuiverInputException if either is out of range
     */
    public AnalogForecaster(int k, int lookbackBars) {
        if (k < 1 || k > 500) {
            throw new QuiverInputException(
                    "BAD_CONFIG", "k", "plugin analogs", k, "is not in [1, 500]");
        }
        if (lookbackBars < k || lookbackBars > 5000) {
            throw new QuiverInputException(
                    "BAD_CONFIG",
                    "lookback",
                    "plugin analogs",
                    lookbackBars,
                    "is not in [k, 5000] = [" + k + ", 5000]");
        }
        this.k = k;
        this.lookbackBars = lookbackBars;
    }

    private static int parse(String key, String text) {
        try {
            return Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new QuiverInputException(
                    "BAD_CONFIG", key, "plugin analogs", text, "is not an integer");
        }
    }

    /**
     * The smoothed win rate, pure.
     *
     * @param ups up outcomes among the analogs, in [0, k]
     * @param k analogs, {@code >= 1}
     * @return {@code (ups + 1) / (k + 2)}, in (0, 1)
     */
    public static double probabilityUp(int ups, int k) {
        return (ups + 1.0) / (k + 2.0);
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return DESCRIPTOR;
    }

    @Override
    public Forecast forecast(FeatureFrame frame) {
        if (closed) {
            throw new IllegalStateException("analogs forecaster is closed");
        }
        double[] target = setup(frame);
        BarSeries history = frame.history();
        int t = history.size() - 1;
        // Candidates j = t-1, t-2, ...: their outcome close_{j+1} > close_j is known at t.
        var rows = new ArrayList<double[]>();
        var ups = new ArrayList<Boolean>();
        FeatureFrame f = frame.previous();
        for (int j = t - 1; f != null && j >= 0 && rows.size() < lookbackBars; j--) {
            rows.add(setup(f));
            ups.add(history.get(j + 1).close() > history.get(j).close());
            f = f.previous();
        }
        if (rows.size() < k) {
            throw new QuiverInputException(
                    "SHORT_HISTORY",
                    "history",
                    "analogs at bar " + frame.bar().start(),
                    rows.size(),
                    "has fewer than k = " + k + " past setups with a known outcome");
        }
        double[] scale = new double[target.length];
        for (int c = 0; c < target.length; c++) {
            double mean = 0;
            for (double[] r : rows) {
                mean += r[c];
            }
            mean /= rows.size();
            double var = 0;
            for (double[] r : rows) {
                var += (r[c] - mean) * (r[c] - mean);
            }
            double sd = Math.sqrt(var / rows.size());
            scale[c] = sd > 0 ? 1 / sd : 0;
        }
        Integer[] order = new Integer[rows.size()];
        double[] distance = new double[rows.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
            double d = 0;
            for (int c = 0; c < target.length; c++) {
                double x = (rows.get(i)[c] - target[c]) * scale[c];
                d += x * x;
            }
            distance[i] = Math.sqrt(d);
        }
        // Stable sort on distance; index order is most recent first, so ties go to recent bars.
        Arrays.sort(order, (a, b) -> Double.compare(distance[a], distance[b]));
        int up = 0;
        double sum = 0;
        for (int i = 0; i < k; i++) {
            up += ups.get(order[i]) ? 1 : 0;
            sum += distance[order[i]];
        }
        return new Forecast(
                DESCRIPTOR.name(),
                frame.bar().start(),
                1,
                probabilityUp(up, k),
                Map.of(
                        "win_rate",
                        (double) up / k,
                        "k",
                        (double) k,
                        "mean_distance",
                        sum / k,
                        "candidates",
                        (double) rows.size()));
    }

    private static double[] setup(FeatureFrame frame) {
        double[] v = new double[FEATURES.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = frame.get(FEATURES.get(i));
        }
        return v;
    }

    @Override
    public void close() {
        closed = true;
    }
}
