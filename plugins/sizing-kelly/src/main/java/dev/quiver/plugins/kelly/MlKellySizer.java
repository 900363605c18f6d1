package dev.quiver.plugins.kelly;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.PluginContext;
import dev.quiver.api.ensemble.SourceContribution;
import dev.quiver.api.error.CapabilityException;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.api.sizing.SizingOutcome;
import dev.quiver.gbmtrees.ModelRefusedException;
import dev.quiver.gbmtrees.TreeEnsemble;
import dev.quiver.gbmtrees.XgbJson;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;
import org.pf4j.Extension;

/**
 * ML-enhanced quarter-Kelly ({@code kelly_ml}), long only: the win probability comes from a
 * gradient-boosted classifier (XGBoost) calibrated by isotonic regression, both fitted on past
 * outcomes only, then {@code f = 0.25 * (p - (1 - p) / b)}, zero without edge, scaled toward a
 * target volatility, reduced linearly in drawdown, adjusted for correlation and clipped.
 *
 * <p><b>Win probability.</b> Features of a {@link SizingContext}: fused {@code p}, confidence,
 * agreement, volatility (ATR fraction), drawdown, payoff ratio, the number of sources and the
 * spread of their probabilities. Label: the decision's one-bar holding return was positive ({@link
 * SizingOutcome#won()}). In {@link #fit}, the outcomes (time-ordered, from the host's walk-forward:
 * realised before the fold's test start minus the embargo) are split in time: the earlier 70% train
 * the classifier (depth 3, eta 0.05, 100 rounds, subsample 0.8, min child weight 20, seed 42, fixed
 * beforehand); the later 30% are out-of-fold for it and calibrate its scores by pool-adjacent
 * violators (Zadrozny &amp; Elkan 2002; Barlow et al. 1972). The reliability figure is the expected
 * calibration error (10 equal-width bins) on the second half of that calibration slice with the
 * isotonic step fitted on its first half only; the isotonic step used for sizing is then refitted
 * on the whole slice. Fewer than {@link #MIN_OUTCOMES} outcomes: not fitted, flat.
 *
 * <p><b>Serving.</b> The fitted classifier is read from its own XGBoost JSON into a {@link
 * TreeEnsemble} and evaluated in Java with XGBoost's float32 arithmetic ({@link
 * TreeEnsemble#xgboostProbability}): the probabilities xgboost4j's predict returns, to the bit
 * (tested on real contexts), for about 1 µs instead of xgboost4j's ~200 µs single-row call. XGBoost
 * only trains; no native booster is kept after a fit or a restore.
 *
 * <p><b>Payoff ratio.</b> Two candidates: the trailing realised mean win / mean loss the host puts
 * in the context, and the ATR bracket {@code takeProfitAtr / stopLossAtr} (the host's stop
 * distances). Each fit sizes the second half of the calibration slice with both (everything else
 * equal) and keeps the one with the higher realised mean {@code log(1 + f r)}, i.e. the choice is
 * made out-of-sample for the classifier, on past bars only; ties keep the trailing ratio. The
 * choice is in every decision's inputs ({@code b_atr_chosen}).
 *
 * <p><b>Sizing.</b> {@code f = multiplier * fullKelly(p, b)} (J. L. Kelly 1956; E. O. Thorp 2006
 * for fractional Kelly), times {@link KellyMath#volatilityScale} toward the median volatility of
 * the training outcomes (A. Moreira and T. Muir, "Volatility-Managed Portfolios", 2017; at most
 * 2x), times {@link KellyMath#drawdownScale} (0 at {@code drawdownZeroAt}), times {@link
 * KellyMath#correlationAdjustment} with {@code n = 1} (the host trades one symbol: the factor is 1,
 * kept so a multi-symbol host only has to pass {@code n} and the mean correlation), clipped to
 * {@code min(cap, context.maxFraction())}.
 *
 * <p><b>Fitted state</b> (api 1.3.0). {@link #exportState} writes {@code kelly_ml.state.json}
 * ({@value #STATE_FORMAT}: the configuration it was fitted under, {@code fitted}, {@code
 * trained_on}, the isotonic {@code calibration} ({@code block_starts}, {@code block_values}),
 * {@code ece}, {@code target_vol}, {@code use_atr_b}, and {@code model_file} with its {@code
 * model_sha256}) and, when fitted, the classifier as XGBoost JSON in {@code kelly_ml.xgb.json}
 * ({@code Booster.toByteArray("json")}). {@link #restoreState} reads both back (the JSON into the
 * same Java trees a fit serves from) and sizes bit for bit as the exporting instance did; the
 * unfitted state round-trips too.
 *
 * <p>Configuration ({@code sizing-kelly.ml.*}): {@code multiplier} 0.25, {@code cap} 1.0, {@code
 * drawdown_zero_at} 0.30, {@code stop_loss_atr} 2, {@code take_profit_atr} 3. Not thread-safe.
 */
@Extension
public final class MlKellySizer implements SizingCapability {

    /** Outcomes needed before the classifier is fitted. */
    public static final int MIN_OUTCOMES = 300;

    static final int FEATURES = 8;

    /** The classifier's input features, in the order of {@link #features}. */
    static final List<String> FEATURE_NAMES =
            List.of(
                    "p_fused",
                    "confidence",
                    "agreement",
                    "volatility",
                    "drawdown",
                    "payoff_ratio",
                    "sources",
                    "source_spread");

    private static final double MAX_VOL_SCALE = 2.0;
    private static final double P_FLOOR = 1e-3;

    /** The {@code format} of {@code kelly_ml.state.json}. */
    static final String STATE_FORMAT = "quiver-kelly-ml-state/1";

    static final String NAME = "kelly_ml";
    static final String MODEL_FILE = NAME + ".xgb.json";

    private final double multiplier;
    private final double cap;
    private final double drawdownZeroAt;
    private final double bAtr;
    private final CapabilityDescriptor descriptor;

    private TreeEnsemble trees; // the classifier, evaluated in Java
    private byte[] modelJson; // its XGBoost JSON, as exported
    private IsotonicRegression calibration;
    private double ece = Double.NaN;
    private double targetVol = Double.NaN;
    private boolean useAtrB;
    private int trainedOn;
    private boolean closed;

    /**
     * Reads the configuration.
     *
     * @param context the host context
     * @throws QuiverInputException if a configured value is not a number or out of range
     */
    @Inject
    public MlKellySizer(PluginContext context) {
        this(
                Settings.number(context.config("ml.multiplier").orElse("0.25"), "ml.multiplier"),
                Settings.number(context.config("ml.cap").orElse("1.0"), "ml.cap"),
                Settings.number(
                        context.config("ml.drawdown_zero_at").orElse("0.30"),
                        "ml.drawdown_zero_at"),
                Settings.number(context.config("ml.stop_loss_atr").orElse("2"), "ml.stop_loss_atr"),
                Settings.number(
                        context.config("ml.take_profit_atr").orElse("3"), "ml.take_profit_atr"));
    }

    /**
     * @param multiplier fraction of full Kelly, in (0, 1]
     * @param cap largest position, fraction of equity, in (0, 1]
     * @param drawdownZeroAt drawdown at which the position reaches 0, in (0, 1]
     * @param stopLossAtr the host's stop-loss distance, ATRs, {@code > 0}
     * @param takeProfitAtr the host's take-profit distance, ATRs, {@code > 0}
     * @throws QuiverInputException if a value is out of range
     */
    public MlKellySizer(
            double multiplier,
            double cap,
            double drawdownZeroAt,
            double stopLossAtr,
            double takeProfitAtr) {
        Settings.unit(multiplier, "ml.multiplier");
        Settings.unit(cap, "ml.cap");
        Settings.unit(drawdownZeroAt, "ml.drawdown_zero_at");
        Settings.positive(stopLossAtr, "ml.stop_loss_atr");
        Settings.positive(takeProfitAtr, "ml.take_profit_atr");
        this.multiplier = multiplier;
        this.cap = cap;
        this.drawdownZeroAt = drawdownZeroAt;
        this.bAtr = takeProfitAtr / stopLossAtr;
        this.descriptor =
                new CapabilityDescriptor(
                        NAME,
                        "1.0.0",
                        Map.of(
                                "multiplier",
                                Double.toString(multiplier),
                                "cap",
                                Double.toString(cap),
                                "classifier",
                                "xgboost4j 2.1.4",
                                "calibration",
                                "isotonic (PAV)"));
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return descriptor;
    }

    /** The features of a context, in a fixed order. */
    static float[] features(SizingContext c) {
        double lo = 1;
        double hi = 0;
        for (SourceContribution s : c.signal().contributions()) {
            lo = Math.min(lo, s.probabilityUp());
            hi = Math.max(hi, s.probabilityUp());
        }
        int sources = c.signal().contributions().size();
        return new float[] {
            (float) c.signal().probabilityUp(),
            (float) c.signal().confidence(),
            (float) c.signal().agreement(),
            (float) c.volatility(),
            (float) c.drawdown(),
            (float) c.payoffRatio(),
            sources,
            (float) (sources == 0 ? 0 : hi - lo)
        };
    }

    @Override
    public void fit(List<SizingOutcome> history) {
        trees = null;
        modelJson = null;
        calibration = null;
        trainedOn = history.size();
        if (history.size() < MIN_OUTCOMES) {
            return;
        }
        int n = history.size();
        int split = (int) Math.round(n * 0.7);
        try {
            byte[] json = train(history.subList(0, split));
            trees = XgbJson.parse(json, NAME + " classifier (in memory)", FEATURE_NAMES);
            modelJson = json;
            int m = n - split;
            double[] raw = scores(trees, history.subList(split, n));
            double[] won = new double[m];
            for (int i = 0; i < m; i++) {
                won[i] = history.get(split + i).won() ? 1 : 0;
            }
            int half = m / 2;
            IsotonicRegression early =
                    IsotonicRegression.fit(
                            java.util.Arrays.copyOfRange(raw, 0, half),
                            java.util.Arrays.copyOfRange(won, 0, half));
            double[] pLate = new double[m - half];
            double[] wonLate = java.util.Arrays.copyOfRange(won, half, m);
            for (int i = half; i < m; i++) {
                pLate[i - half] = early.predict(raw[i]);
            }
            ece = expectedCalibrationError(pLate, wonLate, 10);
            double[] vols = new double[split];
            for (int i = 0; i < split; i++) {
                vols[i] = history.get(i).context().volatility();
            }
            java.util.Arrays.sort(vols);
            targetVol = vols[split / 2];
            // payoff ratio: trailing vs ATR bracket, judged on the late half with the early
            // calibration
            double growTrailing = 0;
            double growAtr = 0;
            for (int i = half; i < m; i++) {
                SizingOutcome o = history.get(split + i);
                double p = pLate[i - half];
                growTrailing +=
                        Math.log1p(
                                fraction(o.context(), p, o.context().payoffRatio())
                                        * o.forwardReturn());
                growAtr += Math.log1p(fraction(o.context(), p, bAtr) * o.forwardReturn());
            }
            useAtrB = growAtr > growTrailing;
            calibration = IsotonicRegression.fit(raw, won);
        } catch (XGBoostError | ModelRefusedException e) {
            trees = null;
            modelJson = null;
            throw new CapabilityException(
                    "kelly_ml", "XGBoost fit failed on " + n + " outcomes: " + e.getMessage(), e);
        }
    }

    /** Trains the classifier; returns it as XGBoost JSON and frees the native booster. */
    private static byte[] train(List<SizingOutcome> rows) throws XGBoostError {
        int n = rows.size();
        float[] x = new float[n * FEATURES];
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(features(rows.get(i).context()), 0, x, i * FEATURES, FEATURES);
            y[i] = rows.get(i).won() ? 1 : 0;
        }
        DMatrix d = new DMatrix(x, n, FEATURES, Float.NaN);
        try {
            d.setLabel(y);
            Map<String, Object> params = new HashMap<>();
            params.put("objective", "binary:logistic");
            params.put("max_depth", 3);
            params.put("eta", 0.05);
            params.put("subsample", 0.8);
            params.put("min_child_weight", 20);
            params.put("seed", 42);
            params.put("nthread", 1);
            params.put("verbosity", 0);
            Booster booster = XGBoost.train(d, params, 100, Map.of(), null, null);
            try {
                return booster.toByteArray("json");
            } finally {
                booster.dispose();
            }
        } finally {
            d.dispose();
        }
    }

    /**
     * The classifier's probabilities of a win for many rows, each as XGBoost computes it ({@link
     * TreeEnsemble#xgboostProbability}, float32 widened to double).
     *
     * @param trees the classifier
     * @param rows outcomes whose contexts are scored, in order
     * @return one probability per row, in [0, 1]
     */
    static double[] scores(TreeEnsemble trees, List<SizingOutcome> rows) {
        int m = rows.size();
        double[] out = new double[m];
        for (int i = 0; i < m; i++) {
            out[i] = trees.xgboostProbability(features(rows.get(i).context()));
        }
        return out;
    }

    /** The fitted classifier as XGBoost JSON (what {@link #exportState} writes), or null. */
    byte[] modelJson() {
        return modelJson;
    }

    /**
     * Expected calibration error: the mean over equal-width probability bins of |mean p - hit
     * rate|, weighted by the bin's share.
     *
     * @param p predicted probabilities, in [0, 1]
     * @param won outcomes 0/1, same length
     * @param bins number of bins, {@code >= 1}
     * @return in [0, 1]; NaN when empty
     */
    static double expectedCalibrationError(double[] p, double[] won, int bins) {
        if (p.length == 0) {
            return Double.NaN;
        }
        double[] sp = new double[bins];
        double[] sy = new double[bins];
        int[] c = new int[bins];
        for (int i = 0; i < p.length; i++) {
            int b = Math.min(bins - 1, (int) (p[i] * bins));
            sp[b] += p[i];
            sy[b] += won[i];
            c[b]++;
        }
        double e = 0;
        for (int b = 0; b < bins; b++) {
            if (c[b] > 0) {
                e += Math.abs(sp[b] - sy[b]) / p.length;
            }
        }
        return e;
    }

    /** Quarter-Kelly with volatility, drawdown and correlation scaling, clipped; NaN-safe. */
    private double fraction(SizingContext c, double p, double b) {
        double full = KellyMath.fullKelly(p, b);
        if (!(full > 0)) {
            return 0;
        }
        double f =
                multiplier
                        * full
                        * KellyMath.volatilityScale(c.volatility(), targetVol, MAX_VOL_SCALE)
                        * KellyMath.drawdownScale(c.drawdown(), drawdownZeroAt)
                        * KellyMath.correlationAdjustment(1, 0);
        double limit = Math.min(cap, c.maxFraction());
        return f > limit ? limit : (f > 0 ? f : 0);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Inputs: {@code p_fused}, {@code p_raw} (classifier), {@code p} (calibrated), {@code
     * calibration_ece} (reliability, lower is better), {@code b}, {@code b_atr_chosen} (1 when the
     * ATR bracket ratio won the last fit's comparison), {@code full_kelly}, {@code vol_scale},
     * {@code drawdown_scale}, {@code fraction}, {@code trained_on}.
     */
    @Override
    public SizingDecision size(SizingContext context) {
        if (trees == null || calibration == null) {
            return new SizingDecision(
                    0,
                    "kelly_ml not fitted (fewer than " + MIN_OUTCOMES + " past outcomes) -> flat",
                    Map.of("trained_on", (double) trainedOn));
        }
        double raw = trees.xgboostProbability(features(context));
        double p = Math.min(1 - P_FLOOR, Math.max(P_FLOOR, calibration.predict(raw)));
        double b = useAtrB ? bAtr : context.payoffRatio();
        double full = KellyMath.fullKelly(p, b);
        Map<String, Double> in = new HashMap<>();
        in.put("p_fused", context.signal().probabilityUp());
        in.put("p_raw", raw);
        in.put("p", p);
        in.put("calibration_ece", Double.isFinite(ece) ? ece : -1);
        in.put("b", b);
        in.put("b_atr_chosen", useAtrB ? 1.0 : 0.0);
        in.put("full_kelly", full);
        in.put(
                "vol_scale",
                KellyMath.volatilityScale(context.volatility(), targetVol, MAX_VOL_SCALE));
        in.put("drawdown_scale", KellyMath.drawdownScale(context.drawdown(), drawdownZeroAt));
        in.put("trained_on", (double) trainedOn);
        if (!(full > 0)) {
            return new SizingDecision(0, "no edge: calibrated full Kelly <= 0", in);
        }
        double f = fraction(context, p, b);
        in.put("fraction", f);
        return new SizingDecision(
                f,
                useAtrB
                        ? "ML quarter-Kelly (calibrated p, b = ATR bracket, vol-targeted)"
                        : "ML quarter-Kelly (calibrated p, b = trailing realised, vol-targeted)",
                in);
    }

    @Override
    public boolean hasFittedState() {
        return true;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Writes {@code kelly_ml.state.json}, then, when fitted, {@code kelly_ml.xgb.json}.
     */
    @Override
    public List<Path> exportState(Path dir) {
        checkOpen("export its state");
        ObjectNode json = StateJson.header(STATE_FORMAT, NAME, descriptor.version());
        ObjectNode config = json.putObject("config");
        config.put("multiplier", multiplier);
        config.put("cap", cap);
        config.put("drawdown_zero_at", drawdownZeroAt);
        config.put("b_atr", bAtr);
        boolean fitted = trees != null && calibration != null;
        json.put("fitted", fitted);
        json.put("trained_on", trainedOn);
        putNumberOrNull(json, "ece", ece);
        putNumberOrNull(json, "target_vol", targetVol);
        json.put("use_atr_b", useAtrB);
        if (!fitted) {
            json.putNull("model_file");
            json.putNull("model_sha256");
            json.putNull("calibration");
            return List.of(StateJson.write(dir, NAME, json));
        }
        byte[] model = modelJson;
        json.put("model_file", MODEL_FILE);
        json.put("model_sha256", sha256(model));
        ObjectNode cal = json.putObject("calibration");
        ArrayNode starts = cal.putArray("block_starts");
        for (double v : calibration.blockStarts()) {
            starts.add(v);
        }
        ArrayNode values = cal.putArray("block_values");
        for (double v : calibration.blockValues()) {
            values.add(v);
        }
        Path modelFile = dir.resolve(MODEL_FILE);
        try {
            Files.write(modelFile, model);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot write " + NAME + "'s classifier to " + modelFile, e);
        }
        return List.of(StateJson.write(dir, NAME, json), modelFile);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Reads {@code kelly_ml.state.json} and, when it says fitted, {@code kelly_ml.xgb.json},
     * checked against its sha256 before it is parsed. A state fitted under another configuration
     * ({@code multiplier}, {@code cap}, {@code drawdown_zero_at}, the ATR bracket ratio) is
     * refused: this instance would size it differently.
     */
    @Override
    public void restoreState(Path dir) {
        checkOpen("restore its state");
        StateJson f = StateJson.read(dir, NAME, STATE_FORMAT);
        JsonNode root = f.root();
        ObjectNode config = f.object(root, "config");
        checkConfig(f, config, "config.multiplier", multiplier);
        checkConfig(f, config, "config.cap", cap);
        checkConfig(f, config, "config.drawdown_zero_at", drawdownZeroAt);
        checkConfig(f, config, "config.b_atr", bAtr);
        boolean fitted = f.bool(root, "fitted");
        int n = f.count(root, "trained_on");
        double e = f.numberOrNaN(root, "ece");
        double vol = f.numberOrNaN(root, "target_vol");
        boolean atr = f.bool(root, "use_atr_b");
        if (!fitted) {
            for (String field : List.of("model_file", "model_sha256", "calibration")) {
                if (!f.member(root, field).isNull()) {
                    throw f.bad(field, f.member(root, field), "is set but fitted is false");
                }
            }
            publish(null, null, null, n, e, vol, atr);
            return;
        }
        String file = f.text(root, "model_file");
        if (!file.equals(MODEL_FILE)) {
            throw f.bad("model_file", file, "is not " + MODEL_FILE);
        }
        String sha = f.text(root, "model_sha256");
        ObjectNode cal = f.object(root, "calibration");
        IsotonicRegression iso;
        try {
            iso =
                    IsotonicRegression.of(
                            f.numbers(cal, "calibration.block_starts"),
                            f.numbers(cal, "calibration.block_values"));
        } catch (IllegalArgumentException ex) {
            QuiverInputException bad = f.bad("calibration", "isotonic", ex.getMessage());
            bad.initCause(ex);
            throw bad;
        }
        if (!Double.isFinite(vol)) {
            throw f.bad("target_vol", null, "is not a finite number, and the state is fitted");
        }
        Path modelFile = dir.resolve(MODEL_FILE);
        byte[] model;
        try {
            model = Files.readAllBytes(modelFile);
        } catch (NoSuchFileException ex) {
            throw StateJson.bad(modelFile, "(file)", null, "is missing", ex);
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot read " + modelFile, ex);
        }
        String actual = sha256(model);
        if (!actual.equals(sha)) {
            throw StateJson.bad(
                    modelFile,
                    "(sha256)",
                    actual,
                    "differs from model_sha256 "
                            + sha
                            + " in "
                            + NAME
                            + ".state.json (truncated or replaced)",
                    null);
        }
        TreeEnsemble loaded;
        try {
            loaded = XgbJson.parse(model, modelFile.toString(), FEATURE_NAMES);
        } catch (ModelRefusedException ex) {
            throw StateJson.bad(
                    modelFile,
                    "(model)",
                    model.length + " bytes",
                    "is not a kelly_ml classifier (XGBoost JSON, binary:logistic, over "
                            + FEATURES
                            + " features): "
                            + ex.getMessage(),
                    ex);
        }
        publish(loaded, model, iso, n, e, vol, atr);
    }

    /** Replaces the whole state at once. */
    private void publish(
            TreeEnsemble t,
            byte[] json,
            IsotonicRegression iso,
            int n,
            double e,
            double vol,
            boolean atr) {
        trees = t;
        modelJson = json;
        calibration = iso;
        trainedOn = n;
        ece = e;
        targetVol = vol;
        useAtrB = atr;
    }

    private static void checkConfig(StateJson f, ObjectNode config, String path, double mine) {
        double theirs = f.number(config, path);
        if (Double.doubleToLongBits(theirs) != Double.doubleToLongBits(mine)) {
            throw f.bad(
                    path,
                    theirs,
                    "differs from this instance's "
                            + mine
                            + "; configure sizing-kelly.ml.* as the exporting instance was");
        }
    }

    private static void putNumberOrNull(ObjectNode json, String field, double v) {
        if (Double.isFinite(v)) {
            json.put(field, v);
        } else {
            json.putNull(field);
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    private void checkOpen(String what) {
        if (closed) {
            throw new IllegalStateException(
                    "[Quiver/CAPABILITY_CLOSED] sizing '"
                            + NAME
                            + "' was closed; create a new instance to "
                            + what);
        }
    }

    /** Frees the classifier; {@code exportState} and {@code restoreState} then fail. Idempotent. */
    @Override
    public void close() {
        closed = true;
        trees = null;
        modelJson = null;
    }
}
