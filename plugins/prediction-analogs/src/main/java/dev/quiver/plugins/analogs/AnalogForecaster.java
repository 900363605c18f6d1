package dev.quiver.plugins.analogs;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.PluginContext;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.api.market.BarSeries;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import jakarta.inject.Inject;
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
    private volatile Columns columns;
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
        int[] columns = columns(frame.schema());
        int dims = columns.length;
        double[] target = new double[dims];
        setup(frame, columns, target, 0);
        BarSeries history = frame.history();
        int t = history.size() - 1;
        // Candidates j = t-1, t-2, ...: their outcome close_{j+1} > close_j is known at t. Row i
        // of the flat arrays is candidate j = t - 1 - i (most recent first).
        int capacity = Math.max(0, Math.min(lookbackBars, t));
        double[] rows = new double[capacity * dims];
        boolean[] ups = new boolean[capacity];
        int n = 0;
        FeatureFrame f = frame.previous();
        double closeAfter = t >= 0 ? history.get(t).close() : Double.NaN;
        for (int j = t - 1; f != null && j >= 0 && n < lookbackBars; j--) {
            setup(f, columns, rows, n * dims);
            double close = history.get(j).close();
            ups[n] = closeAfter > close;
            closeAfter = close;
            n++;
            f = f.previous();
        }
        if (n < k) {
            throw new QuiverInputException(
                    "SHORT_HISTORY",
                    "history",
                    "analogs at bar " + frame.bar().start(),
                    n,
                    "has fewer than k = " + k + " past setups with a known outcome");
        }
        double[] scale = new double[dims];
        for (int c = 0; c < dims; c++) {
            double mean = 0;
            for (int i = 0; i < n; i++) {
                mean += rows[i * dims + c];
            }
            mean /= n;
            double var = 0;
            for (int i = 0; i < n; i++) {
                double x = rows[i * dims + c];
                var += (x - mean) * (x - mean);
            }
            double sd = Math.sqrt(var / n);
            scale[c] = sd > 0 ? 1 / sd : 0;
        }
        double[] distance = new double[n];
        for (int i = 0; i < n; i++) {
            double d = 0;
            for (int c = 0; c < dims; c++) {
                double x = (rows[i * dims + c] - target[c]) * scale[c];
                d += x * x;
            }
            distance[i] = Math.sqrt(d);
        }
        // The k nearest, nearest first; ties go to the lower index, i.e. the more recent bar.
        int[] nearest = NearestK.select(distance, k);
        int up = 0;
        double sum = 0;
        for (int i = 0; i < k; i++) {
            up += ups[nearest[i]] ? 1 : 0;
            sum += distance[nearest[i]];
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
                        (double) n));
    }

    /** Positions of {@link #FEATURES} in a schema, looked up once per schema. */
    private int[] columns(FeatureSchema schema) {
        Columns c = columns;
        if (c == null || c.schema != schema) {
            int[] index = new int[FEATURES.size()];
            for (int i = 0; i < index.length; i++) {
                index[i] = schema.indexOf(FEATURES.get(i));
            }
            c = new Columns(schema, index);
            columns = c;
        }
        return c.index;
    }

    /** A schema and where {@link #FEATURES} sit in it (immutable, so safe to share). */
    private record Columns(FeatureSchema schema, int[] index) {}

    private static void setup(FeatureFrame frame, int[] columns, double[] into, int offset) {
        for (int i = 0; i < columns.length; i++) {
            into[offset + i] = frame.get(columns[i]);
        }
    }

    @Override
    public void close() {
        closed = true;
    }
}
