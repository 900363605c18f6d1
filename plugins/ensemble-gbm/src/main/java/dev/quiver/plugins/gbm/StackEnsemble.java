package dev.quiver.plugins.gbm;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.PluginContext;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.LabeledForecasts;
import dev.quiver.api.ensemble.SourceContribution;
import dev.quiver.api.error.CapabilityException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.pf4j.Extension;

/**
 * The {@code stack} ensemble: a logistic-regression meta-learner over the sources' log-odds
 * (stacked generalisation, Wolpert 1992), then a calibration fitted out-of-fold: Platt scaling by
 * default (two parameters; see {@link PlattCalibration} for why not isotonic regression with
 * windows of this size), or isotonic regression (Zadrozny and Elkan 2002).
 *
 * <p>Fit, on the labelled forecasts the host passes (out-of-fold forecasts of earlier test bars, so
 * never a source's forecast of a bar it was trained on):
 *
 * <ol>
 *   <li>inputs {@code logit(p_s)} per source seen in the window, {@code p} clipped to {@code [1e-4,
 *       1 - 1e-4]}; a source absent for a bar contributes {@code logit(0.5) = 0};
 *   <li>the rows are cut into {@value #BLOCKS} contiguous blocks; for each block a meta-learner
 *       fitted on the other blocks predicts it, giving out-of-fold meta-probabilities;
 *   <li>the calibration is fitted on those out-of-fold meta-probabilities only;
 *   <li>the served meta-learner is refitted on all rows (L2 ridge {@value #RIDGE}).
 * </ol>
 *
 * With fewer than {@value #MIN_TRAINING_ROWS} rows (the first fold has none) it keeps its prior:
 * the equal-weight mean of the sources' log-odds, no calibration; {@link #toString()} and {@link
 * #state()} say which state it is in.
 *
 * <p>Fuse: {@code p = cal(sigmoid(b0 + sum b_s logit(p_s)))}; contributions: each source's
 * probability with weight {@code |b_s| / sum |b|}; agreement: that weighted share of sources on the
 * fused side of 0.5. Configuration {@code ensemble-gbm.stack.calibration}: {@code platt} (default),
 * {@code isotonic} or {@code none}.
 *
 * <p>{@code fit} is not thread-safe; {@code fuse} reads a state published by {@code fit}.
 *
 * @since 1.0.0
 */
@Extension
public final class StackEnsemble implements EnsembleCapability {

    static final String NAME = "stack";
    static final int MIN_TRAINING_ROWS = 200;
    static final int BLOCKS = 5;
    static final double RIDGE = 1.0;
    static final double P_CLIP = 1e-4;

    private final String calibration;
    private final CapabilityDescriptor descriptor;
    private volatile State state = State.prior(0);

    /** The fitted state; {@code meta == null} for the prior. */
    record State(
            List<String> sources,
            LogisticRegression meta,
            Calibrator calibration,
            int rows,
            String note) {
        static State prior(int rows) {
            return new State(
                    List.of(),
                    null,
                    null,
                    rows,
                    "prior (equal-weight mean of the sources' log-odds, uncalibrated): "
                            + rows
                            + " out-of-fold training rows < "
                            + MIN_TRAINING_ROWS);
        }
    }

    /**
     * Creates the ensemble in its prior state.
     *
     * @param context reads {@code stack.calibration}
     */
    @Inject
    public StackEnsemble(PluginContext context) {
        String c = context.config("stack.calibration").orElse("platt");
        if (!c.equals("platt") && !c.equals("isotonic") && !c.equals("none")) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_CONFIG] "
                            + context.pluginId()
                            + ".stack.calibration="
                            + c
                            + " is not one of platt, isotonic, none");
        }
        this.calibration = c;
        this.descriptor =
                new CapabilityDescriptor(
                        NAME,
                        "1.0.0",
                        Map.of(
                                "meta_learner",
                                "logistic-regression over logit(p), L2 " + RIDGE,
                                "calibration",
                                c.equals("none")
                                        ? "none"
                                        : c
                                                + ", fitted on out-of-fold meta-probabilities ("
                                                + BLOCKS
                                                + " contiguous blocks)",
                                "min_training_rows",
                                Integer.toString(MIN_TRAINING_ROWS)));
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return descriptor;
    }

    /** The current state (tests, reports). */
    State state() {
        return state;
    }

    @Override
    public void fit(List<LabeledForecasts> trainingWindow) {
        int n = trainingWindow.size();
        if (n < MIN_TRAINING_ROWS) {
            state = State.prior(n);
            return;
        }
        TreeSet<String> names = new TreeSet<>();
        for (LabeledForecasts r : trainingWindow) {
            for (Forecast f : r.forecasts()) {
                names.add(f.source());
            }
        }
        List<String> sources = List.copyOf(names);
        double[][] x = new double[n][];
        boolean[] y = new boolean[n];
        for (int i = 0; i < n; i++) {
            x[i] = inputs(sources, trainingWindow.get(i).forecasts());
            y[i] = trainingWindow.get(i).up();
        }
        Calibrator calibrator = null;
        if (!calibration.equals("none")) {
            double[] oof = new double[n];
            for (int b = 0; b < BLOCKS; b++) {
                int from = b * n / BLOCKS;
                int to = (b + 1) * n / BLOCKS;
                double[][] tx = new double[n - (to - from)][];
                boolean[] ty = new boolean[tx.length];
                for (int i = 0, j = 0; i < n; i++) {
                    if (i < from || i >= to) {
                        tx[j] = x[i];
                        ty[j++] = y[i];
                    }
                }
                LogisticRegression lr = LogisticRegression.fit(tx, ty, RIDGE);
                for (int i = from; i < to; i++) {
                    oof[i] = TreeEnsemble.sigmoid(lr.margin(x[i]));
                }
            }
            calibrator =
                    calibration.equals("platt")
                            ? PlattCalibration.fit(oof, y, RIDGE)
                            : IsotonicCalibration.fit(oof, y);
        }
        LogisticRegression meta = LogisticRegression.fit(x, y, RIDGE);
        state =
                new State(
                        sources,
                        meta,
                        calibrator,
                        n,
                        "logistic regression on "
                                + n
                                + " out-of-fold rows over "
                                + sources
                                + (calibrator == null
                                        ? ", uncalibrated"
                                        : ", " + calibrator.describe() + " fitted out-of-fold"));
    }

    private static double[] inputs(List<String> sources, List<Forecast> forecasts) {
        double[] x = new double[sources.size()];
        for (Forecast f : forecasts) {
            int j = sources.indexOf(f.source());
            if (j >= 0) {
                x[j] = logit(f.probabilityUp());
            }
        }
        return x;
    }

    static double logit(double p) {
        double q = Math.min(1 - P_CLIP, Math.max(P_CLIP, p));
        return Math.log(q / (1 - q));
    }

    @Override
    public FusedSignal fuse(List<Forecast> forecasts, FeatureFrame frame) {
        if (forecasts == null || forecasts.isEmpty()) {
            throw new CapabilityException(
                    NAME, "no forecasts to fuse at bar " + frame.bar().start(), null);
        }
        State s = state;
        int n = forecasts.size();
        double[] w = new double[n];
        double p;
        if (s.meta() == null) {
            double z = 0;
            for (int i = 0; i < n; i++) {
                z += logit(forecasts.get(i).probabilityUp());
                w[i] = 1.0 / n;
            }
            p = TreeEnsemble.sigmoid(z / n);
        } else {
            double z = s.meta().intercept();
            double wSum = 0;
            for (int i = 0; i < n; i++) {
                Forecast f = forecasts.get(i);
                int j = s.sources().indexOf(f.source());
                if (j >= 0) {
                    double b = s.meta().coefficient(j);
                    z += b * logit(f.probabilityUp());
                    w[i] = Math.abs(b);
                    wSum += w[i];
                }
            }
            for (int i = 0; i < n; i++) {
                w[i] = wSum > 0 ? w[i] / wSum : 1.0 / n;
            }
            p = TreeEnsemble.sigmoid(z);
            if (s.calibration() != null) {
                p = s.calibration().apply(p);
            }
        }
        p = Math.min(1.0, Math.max(0.0, p));
        boolean up = p >= 0.5;
        double agreement = 0;
        List<SourceContribution> contributions = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            double pi = forecasts.get(i).probabilityUp();
            if ((pi >= 0.5) == up) {
                agreement += w[i];
            }
            contributions.add(new SourceContribution(forecasts.get(i).source(), pi, w[i]));
        }
        return new FusedSignal(
                frame.bar().start(),
                p,
                Math.abs(2 * p - 1),
                Math.min(1.0, Math.max(0.0, agreement)),
                contributions);
    }

    @Override
    public String toString() {
        return "StackEnsemble[" + state.note() + "]";
    }
}
