package dev.quiver.plugins.gbm;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.error.CapabilityException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.LabeledFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A gradient-boosted-trees direction classifier trained in Java by {@link #fit} on a walk-forward
 * training window and served by evaluating its trees in Java ({@link TreeEnsemble}).
 *
 * <p>Training: the window's rows in time order; the first {@value #FIT_SHARE_PERCENT}% fit the
 * trees, the last part picks the number of rounds (early stopping on its log-loss, patience {@value
 * #PATIENCE} rounds, at most {@value #MAX_ROUNDS}); fixed seed, one thread, so the same window
 * gives the same model. Serving is stateless per bar (the decision bar's features only), so
 * point-in-time by construction.
 *
 * <p>Thread-safe: {@code fit}, {@code forecast} and {@code close} are serialised.
 */
abstract class GbmSource implements PredictionCapability {

    static final int MIN_TRAINING_ROWS = 300;
    static final int FIT_SHARE_PERCENT = 80;
    static final int MAX_ROUNDS = 300;
    static final int PATIENCE = 30;
    static final int SEED = 42;

    private final String name;
    private final GbmFeatures features = new GbmFeatures();
    private final double[] row = new double[GbmFeatures.NAMES.size()];
    private TreeEnsemble trees;
    private CapabilityDescriptor descriptor;
    private boolean closed;
    int fixedRounds; // > 0: no early stopping (parity tests want many trees)

    GbmSource(String name) {
        this.name = name;
        this.descriptor = describe(Map.of("fitted", "false"));
    }

    /** The trained model, its dump parsed; {@code rounds} is the number of trees kept. */
    record Trained(TreeEnsemble trees, int rounds, double validLogLoss) {}

    /**
     * Trains on {@code fit} rows with early stopping on {@code valid} rows.
     *
     * @throws RuntimeException if the library fails
     */
    abstract Trained train(GbmFeatures.Matrix m, int fitRows);

    /** Library version for the descriptor. */
    abstract String library();

    @Override
    public synchronized CapabilityDescriptor descriptor() {
        return descriptor;
    }

    private CapabilityDescriptor describe(Map<String, String> extra) {
        Map<String, String> a = new TreeMap<>(extra);
        a.put("horizon", "1");
        a.put("calibrated", "false");
        a.put("library", library());
        a.put("training", "per-fold");
        a.put("features", String.join(",", GbmFeatures.NAMES));
        return new CapabilityDescriptor(name, "1.0.0", a);
    }

    @Override
    public synchronized void fit(List<LabeledFrame> trainingWindow) {
        checkOpen("fit");
        if (trainingWindow.size() < MIN_TRAINING_ROWS) {
            throw new CapabilityException(
                    name,
                    "training window has "
                            + trainingWindow.size()
                            + " labelled rows, fewer than the "
                            + MIN_TRAINING_ROWS
                            + " it needs",
                    null);
        }
        GbmFeatures.Matrix m = features.matrix(trainingWindow);
        int fitRows = m.rows() * FIT_SHARE_PERCENT / 100;
        Trained t;
        try {
            t = train(m, fitRows);
        } catch (CapabilityException | ModelRefusedException e) {
            throw e;
        } catch (RuntimeException | LinkageError e) {
            throw new CapabilityException(name, "training failed: " + e, e);
        }
        Instant first = trainingWindow.get(0).frame().bar().start();
        Instant last = trainingWindow.get(trainingWindow.size() - 1).frame().bar().start();
        trees = t.trees();
        descriptor =
                describe(
                        Map.of(
                                "fitted",
                                "true",
                                "trained_from",
                                first.toString(),
                                "trained_through",
                                last.toString(),
                                "rounds",
                                Integer.toString(t.rounds())));
        onFitted();
    }

    /** Called under the lock after a successful fit. */
    void onFitted() {}

    @Override
    public synchronized Forecast forecast(FeatureFrame frame) {
        checkOpen("forecast bar " + frame.bar().start());
        if (trees == null) {
            throw new CapabilityException(
                    name,
                    "not fitted: it is trained per walk-forward fold; call fit(trainingWindow)"
                            + " before forecasting bar "
                            + frame.bar().start(),
                    null);
        }
        features.row(frame, row);
        double margin = margin(trees, row);
        return new Forecast(
                name,
                frame.bar().start(),
                1,
                TreeEnsemble.sigmoid(margin),
                Map.of("margin", margin));
    }

    /** The serving margin; the Java trees unless a subclass serves otherwise. */
    double margin(TreeEnsemble t, double[] x) {
        return t.margin(x);
    }

    /** The served trees, or null before the first fit (tests). */
    synchronized TreeEnsemble trees() {
        return trees;
    }

    private void checkOpen(String what) {
        if (closed) {
            throw new IllegalStateException(
                    "[Quiver/CAPABILITY_CLOSED] capability '"
                            + name
                            + "' was closed; create a new instance to "
                            + what);
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            trees = null;
            release();
        }
    }

    /** Frees native resources. */
    void release() {}

    /** Mean log-loss of probabilities {@code p} against 0/1 labels. */
    static double logLoss(double[] p, float[] y) {
        double s = 0;
        for (int i = 0; i < p.length; i++) {
            double q = Math.min(1 - 1e-15, Math.max(1e-15, p[i]));
            s -= y[i] > 0.5f ? Math.log(q) : Math.log(1 - q);
        }
        return s / p.length;
    }
}
