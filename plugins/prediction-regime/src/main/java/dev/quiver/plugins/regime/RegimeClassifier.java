package dev.quiver.plugins.regime;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.PluginContext;
import dev.quiver.api.error.CapabilityException;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.LabeledFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.pf4j.Extension;

/**
 * Market regime classifier: labels each bar {@code trending-up}, {@code trending-down}, {@code
 * ranging} or {@code high-volatility} with a four-component Gaussian mixture ({@link RegimeModel})
 * over two point-in-time inputs ({@link RegimeInputs}), fitted on each walk-forward fold's training
 * window; forecasts the regime's smoothed up-rate in that window.
 *
 * <p>Other plugins read the label: the plugin also provides {@code quiver.regime; name=regime;
 * detail=regime; labels:List<String>="trending-up,trending-down,ranging,high-volatility"}, whose
 * promise is that this source's forecast of every bar carries the detail {@code regime}, the index
 * of the bar's regime in {@code labels} (an ensemble requiring {@code quiver.regime} finds it among
 * the forecasts it fuses). Other details: {@code p_trending_up}, {@code p_trending_down}, {@code
 * p_ranging}, {@code p_high_volatility} (posteriors, summing to 1), {@code trend_z}, {@code
 * log_atr_pct} (the inputs).
 *
 * <p>Configuration: {@code seed} (long, default 42: the k-means++ start), {@code window} (bars of
 * the trend input, integer in [5, 500], default 20), {@code regime.model} (a sidecar written by
 * {@link #exportModel}: that model is served and never refitted). Unfitted and unconfigured, it
 * declines to forecast ({@link CapabilityException}).
 */
@Extension
public final class RegimeClassifier implements PredictionCapability {

    /** Capability name. */
    public static final String NAME = "regime";

    /** Default k-means++ seed. */
    public static final long DEFAULT_SEED = 42;

    /** Default trend window, bars. */
    public static final int DEFAULT_WINDOW_BARS = 20;

    private final long seed;
    private final int windowBars;
    private final boolean pinned;
    private final RegimeInputs inputs;
    private final CapabilityDescriptor descriptor;
    private volatile RegimeModel model;
    private volatile RegimeModelFiles.Training training;
    private volatile boolean closed;

    /**
     * Reads {@code seed}, {@code window} and {@code regime.model} from the plugin configuration.
     *
     * @param context the host context
     * @throws QuiverInputException {@code BAD_CONFIG} if a value is malformed or out of range, or
     *     {@code BAD_MODEL} if the configured model cannot be read
     */
    @Inject
    public RegimeClassifier(PluginContext context) {
        this(
                context.config("regime.model").map(Path::of).orElse(null),
                parseSeed(context.config("seed").orElse(String.valueOf(DEFAULT_SEED))),
                parseWindow(context.config("window").orElse(String.valueOf(DEFAULT_WINDOW_BARS))));
    }

    /**
     * An unfitted classifier.
     *
     * @param seed the k-means++ seed
     * @param windowBars bars of the trend input, in [5, 500]
     * @throws QuiverInputException {@code BAD_CONFIG} if {@code windowBars} is out of range
     */
    public RegimeClassifier(long seed, int windowBars) {
        this(null, seed, windowBars);
    }

    private RegimeClassifier(Path sidecar, long seed, int windowBars) {
        this(sidecar, seed, windowBars, RegimeInputs.POINT_IN_TIME);
    }

    /** With other inputs: tests build a leaky variant this way. */
    RegimeClassifier(Path sidecar, long seed, int windowBars, RegimeInputs inputs) {
        if (windowBars < 5 || windowBars > 500) {
            throw new QuiverInputException(
                    "BAD_CONFIG", "window", "plugin regime", windowBars, "is not in [5, 500]");
        }
        this.inputs = inputs;
        if (sidecar != null) {
            RegimeModelFiles.Loaded loaded = RegimeModelFiles.read(sidecar);
            this.model = loaded.model();
            this.seed = loaded.seed();
            this.windowBars = loaded.windowBars();
            this.pinned = true;
        } else {
            this.seed = seed;
            this.windowBars = windowBars;
            this.pinned = false;
        }
        Map<String, String> attributes = new HashMap<>();
        attributes.put("horizon", "1");
        attributes.put("calibrated", "false");
        attributes.put("training", pinned ? "pinned" : "per-fold");
        attributes.put("labels", String.join(",", Regime.labels()));
        attributes.put("seed", Long.toString(this.seed));
        attributes.put("window_bars", Integer.toString(this.windowBars));
        this.descriptor = new CapabilityDescriptor(NAME, "1.0.0", attributes);
    }

    private static long parseSeed(String text) {
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new QuiverInputException(
                    "BAD_CONFIG", "seed", "plugin regime", text, "is not a long");
        }
    }

    private static int parseWindow(String text) {
        try {
            return Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new QuiverInputException(
                    "BAD_CONFIG", "window", "plugin regime", text, "is not an integer");
        }
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return descriptor;
    }

    /**
     * Fits the mixture on the window's rows that have a full trend window (earlier rows are
     * skipped); a classifier serving a configured model keeps it.
     *
     * @throws CapabilityException if fewer than {@value RegimeModel#MIN_ROWS} rows have inputs or
     *     the mixture cannot be fitted; the previous fit is kept
     */
    @Override
    public void fit(List<LabeledFrame> trainingWindow) {
        checkOpen();
        if (pinned) {
            return;
        }
        List<double[]> rows = new ArrayList<>(trainingWindow.size());
        boolean[] up = new boolean[trainingWindow.size()];
        FeatureFrame first = null;
        FeatureFrame last = null;
        for (LabeledFrame row : trainingWindow) {
            double[] x;
            try {
                x = inputs.of(row.frame(), windowBars);
            } catch (QuiverInputException e) {
                if ("SHORT_HISTORY".equals(e.code())) {
                    continue;
                }
                throw e;
            }
            up[rows.size()] = row.up();
            rows.add(x);
            if (first == null) {
                first = row.frame();
            }
            last = row.frame();
        }
        try {
            model = RegimeModel.fit(rows, up, seed);
        } catch (IllegalArgumentException e) {
            throw new CapabilityException(NAME, "fit failed: " + e.getMessage(), e);
        }
        training =
                new RegimeModelFiles.Training(
                        last.history().symbol(),
                        first.bar().start().toString(),
                        last.bar().start().toString(),
                        rows.size(),
                        last.schema().name(),
                        last.schema().version(),
                        last.schema().hash());
    }

    @Override
    public Forecast forecast(FeatureFrame frame) {
        checkOpen();
        RegimeModel m = model;
        if (m == null) {
            throw new CapabilityException(
                    NAME,
                    "not fitted: fit it on a training window or configure regime.model (bar "
                            + frame.bar().start()
                            + ")",
                    null);
        }
        double[] x = inputs.of(frame, windowBars);
        RegimeModel.Classification c = m.classify(x);
        Map<String, Double> details = new HashMap<>();
        details.put("regime", (double) c.regime().ordinal());
        for (Regime r : Regime.values()) {
            details.put(r.detail(), c.posterior()[r.ordinal()]);
        }
        details.put(RegimeInputs.NAMES[0], x[0]);
        details.put(RegimeInputs.NAMES[1], x[1]);
        return new Forecast(NAME, frame.bar().start(), 1, m.upRate[c.regime().ordinal()], details);
    }

    /**
     * Writes {@value RegimeModelFiles#MODEL_FILE} and its sidecar {@value
     * RegimeModelFiles#SIDECAR_FILE} (see {@link RegimeModelFiles}).
     *
     * @throws IllegalStateException if it has not been fitted (or serves a configured model: that
     *     one is already a file), or is closed
     */
    @Override
    public List<Path> exportModel(Path dir) {
        checkOpen();
        RegimeModel m = model;
        RegimeModelFiles.Training t = training;
        if (m == null || t == null) {
            throw new IllegalStateException(
                    "regime: not fitted in this instance, nothing to export");
        }
        return RegimeModelFiles.write(m, windowBars, seed, t, dir);
    }

    /** The fitted model, for tests. */
    RegimeModel model() {
        return model;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("regime classifier is closed");
        }
    }

    @Override
    public void close() {
        closed = true;
    }
}
