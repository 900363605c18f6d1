package dev.quiver.plugins.gbm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.PluginContext;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.LabeledForecasts;
import dev.quiver.api.ensemble.SourceContribution;
import dev.quiver.api.error.CapabilityException;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.gbmtrees.TreeEnsemble;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
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
 * <p>Fitted state (api 1.3.0): {@link #exportState} writes {@value #STATE_FORMAT} to {@code
 * stack.state.json}: the configured calibration, the sources in input order, the meta-learner's
 * intercept and coefficients, the calibrator (Platt {@code a}, {@code b}; or isotonic {@code
 * thresholds} and {@code values}), the training rows and the note; the prior is a state too ({@code
 * meta} and {@code calibrator} null). {@link #restoreState} reads it back and fuses bit for bit as
 * the exporting instance did.
 *
 * <p>{@code fit} and {@code restoreState} are not thread-safe; {@code fuse} reads a state published
 * by them in one write, so it never sees half of one.
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

    /** The {@code format} of {@code stack.state.json}. */
    static final String STATE_FORMAT = "quiver-stack-state/1";

    private final String calibration;
    private final CapabilityDescriptor descriptor;
    private volatile State state = State.prior(0);
    private volatile boolean closed;

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
    public boolean hasFittedState() {
        return true;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Writes {@code stack.state.json} ({@value #STATE_FORMAT}).
     */
    @Override
    public List<Path> exportState(Path dir) {
        checkOpen("export its state");
        State s = state;
        ObjectNode json = StateJson.header(STATE_FORMAT, NAME, descriptor.version());
        json.putObject("config").put("calibration", calibration);
        json.put("rows", s.rows());
        json.put("note", s.note());
        ArrayNode sources = json.putArray("sources");
        s.sources().forEach(sources::add);
        if (s.meta() == null) {
            json.putNull("meta");
        } else {
            double[] beta = s.meta().beta();
            ObjectNode meta = json.putObject("meta");
            meta.put("intercept", beta[0]);
            ArrayNode b = meta.putArray("coefficients");
            for (int j = 1; j < beta.length; j++) {
                b.add(beta[j]);
            }
        }
        if (s.calibration() == null) {
            json.putNull("calibrator");
        } else if (s.calibration() instanceof PlattCalibration platt) {
            ObjectNode c = json.putObject("calibrator");
            c.put("kind", "platt");
            c.put("a", platt.slope());
            c.put("b", platt.intercept());
        } else if (s.calibration() instanceof IsotonicCalibration iso) {
            ObjectNode c = json.putObject("calibrator");
            c.put("kind", "isotonic");
            ArrayNode x = c.putArray("thresholds");
            for (double v : iso.thresholds()) {
                x.add(v);
            }
            ArrayNode y = c.putArray("values");
            for (double v : iso.values()) {
                y.add(v);
            }
        } else {
            throw new IllegalStateException(
                    "stack: calibrator " + s.calibration().getClass() + " has no state format");
        }
        return List.of(StateJson.write(dir, NAME, json));
    }

    /**
     * {@inheritDoc}
     *
     * <p>Reads {@code stack.state.json}; refuses one written under another {@code
     * stack.calibration}, since the next {@code fit} would then change the calibrator's kind.
     */
    @Override
    public void restoreState(Path dir) {
        checkOpen("restore its state");
        StateJson f = StateJson.read(dir, NAME, STATE_FORMAT);
        JsonNode root = f.root();
        String configured = f.text(f.object(root, "config"), "config.calibration");
        if (!configured.equals(calibration)) {
            throw f.bad(
                    "config.calibration",
                    configured,
                    "differs from this instance's "
                            + NAME
                            + ".calibration="
                            + calibration
                            + "; configure it as the exporting instance was");
        }
        int rows = f.count(root, "rows");
        String note = f.text(root, "note");
        List<String> sources = f.texts(root, "sources");
        if (new HashSet<>(sources).size() != sources.size()) {
            throw f.bad("sources", sources, "names a source twice");
        }
        JsonNode metaNode = f.member(root, "meta");
        JsonNode calNode = f.member(root, "calibrator");
        LogisticRegression meta = null;
        if (!metaNode.isNull()) {
            double intercept = f.number(f.object(root, "meta"), "meta.intercept");
            double[] b = f.numbers(metaNode, "meta.coefficients");
            if (b.length != sources.size()) {
                throw f.bad(
                        "meta.coefficients",
                        b.length + " coefficients",
                        "must be one per source (" + sources.size() + ")");
            }
            double[] beta = new double[b.length + 1];
            beta[0] = intercept;
            System.arraycopy(b, 0, beta, 1, b.length);
            meta = LogisticRegression.of(beta);
        } else if (!sources.isEmpty() || !calNode.isNull()) {
            throw f.bad(
                    "meta",
                    null,
                    "is null (the prior) but sources or calibrator are set: not a state this"
                            + " stack writes");
        }
        Calibrator cal = null;
        if (!calNode.isNull()) {
            ObjectNode c = f.object(root, "calibrator");
            String kind = f.text(c, "calibrator.kind");
            if (kind.equals("platt")) {
                cal = PlattCalibration.of(f.number(c, "calibrator.a"), f.number(c, "calibrator.b"));
            } else if (kind.equals("isotonic")) {
                double[] x = f.numbers(c, "calibrator.thresholds");
                double[] y = f.numbers(c, "calibrator.values");
                try {
                    cal = IsotonicCalibration.of(x, y);
                } catch (IllegalArgumentException e) {
                    QuiverInputException bad = f.bad("calibrator", "isotonic", e.getMessage());
                    bad.initCause(e);
                    throw bad;
                }
            } else {
                throw f.bad("calibrator.kind", kind, "is not platt or isotonic");
            }
        }
        String expected = meta == null || calibration.equals("none") ? null : calibration;
        String actual = cal == null ? null : cal instanceof PlattCalibration ? "platt" : "isotonic";
        if (!java.util.Objects.equals(expected, actual)) {
            throw f.bad(
                    "calibrator",
                    actual,
                    "does not match calibration="
                            + calibration
                            + (meta == null ? " of the prior (none)" : "")
                            + ": not a state this stack writes");
        }
        // Everything read and checked: publish in one write.
        state = new State(sources, meta, cal, rows, note);
    }

    private void checkOpen(String what) {
        if (closed) {
            throw new IllegalStateException(
                    "[Quiver/CAPABILITY_CLOSED] ensemble '"
                            + NAME
                            + "' was closed; create a new instance to "
                            + what);
        }
    }

    /** Marks it closed: {@code exportState} and {@code restoreState} then fail. Idempotent. */
    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return "StackEnsemble[" + state.note() + "]";
    }
}
