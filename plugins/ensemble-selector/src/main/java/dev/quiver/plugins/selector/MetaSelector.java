package dev.quiver.plugins.selector;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
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
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.pf4j.Extension;

/**
 * Meta-strategy selector: weights the sources by their recent out-of-sample performance within the
 * decision bar's market regime.
 *
 * <p><b>Regimes</b> come from the {@code quiver.regime} capability this plugin requires: the
 * forecast of the source named {@code regime-source} (default {@code regime}) carries the bar's
 * regime as the detail {@code regime}, an index into the capability's labels {@link #LABELS}.
 *
 * <p><b>Fit</b> (before each walk-forward fold, on out-of-fold forecasts with their outcomes, all
 * known before the fold): for each regime, the last {@code window} (default 250) scored rows whose
 * regime it was, and for all regimes together the last {@code window} rows; for each source, its
 * cumulative log-loss {@code L_s = sum -ln p_s(outcome)} over those rows, {@code p} clipped to
 * [{@value #P_CLIP}, 1 - {@value #P_CLIP}]; a source absent from a row scores that row as a coin
 * flip, {@code ln 2}.
 *
 * <p><b>Fuse</b>: the bar's regime's losses when it has at least {@code min-rows} (default 50)
 * rows, else (also when the regime source gave no forecast for the bar) all regimes' losses; the
 * weights are exponential in the loss, {@code w_s = exp(-eta (L_s - min L)) / sum}, over the
 * sources present at the bar, with {@code eta = 1}: for log-loss that is the Bayes mixture of the
 * sources (Vovk's aggregating algorithm; N. Cesa-Bianchi and G. Lugosi, "Prediction, Learning, and
 * Games", 2006, section 3.3), so a source that was clearly better in this regime lately takes
 * almost all the weight, and near-equal ones share it. A source never seen in fit scores every row
 * as a coin flip. {@code p = sum w_s p_s} (rounding kept inside [0, 1]); unfitted, the weights are
 * equal. No calibration is fitted on top: the mixture is as calibrated as its sources.
 *
 * <p>Deterministic: no randomness; the same rows give the same state. Fitted state ({@link
 * #exportState}): {@value #STATE_FORMAT} in {@code selector.state.json}.
 */
@Extension
public final class MetaSelector implements EnsembleCapability {

    /** Capability name. */
    public static final String NAME = "selector";

    /** The regime labels of {@code quiver.regime} 1.x, in index order. */
    public static final List<String> LABELS =
            List.of("trending-up", "trending-down", "ranging", "high-volatility");

    /** The {@code format} of {@code selector.state.json}. */
    static final String STATE_FORMAT = "quiver-selector-state/1";

    static final double P_CLIP = 1e-6;
    static final double ETA = 1.0;
    static final String ALL = "all";
    private static final int POOLED = LABELS.size();
    private static final double LN2 = Math.log(2);

    private static final ObjectMapper JSON =
            new ObjectMapper()
                    .enable(SerializationFeature.INDENT_OUTPUT)
                    .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final int window;
    private final int minRows;
    private final String regimeSource;
    private final CapabilityDescriptor descriptor;
    private volatile State state = State.unfitted();
    private volatile boolean closed;

    /**
     * The fitted state.
     *
     * @param sources source names, sorted
     * @param loss per regime (index of {@link #LABELS}, then all regimes) and source, the
     *     cumulative log-loss
     * @param rows per regime (and all), the rows the losses sum over
     * @param trainingRows rows the fit saw
     */
    record State(List<String> sources, double[][] loss, int[] rows, int trainingRows) {
        static State unfitted() {
            return new State(List.of(), new double[POOLED + 1][0], new int[POOLED + 1], 0);
        }
    }

    /**
     * Reads {@code window} (integer in [10, 5000], default 250), {@code min-rows} (integer in [1,
     * window], default 50) and {@code regime-source} (default {@code regime}).
     *
     * @param context the host context
     * @throws QuiverInputException {@code BAD_CONFIG} if a value is malformed or out of range
     */
    @Inject
    public MetaSelector(PluginContext context) {
        this(
                parse("window", context.config("window").orElse("250")),
                parse("min-rows", context.config("min-rows").orElse("50")),
                context.config("regime-source").orElse("regime"));
    }

    /**
     * @param window scored rows per regime, in [10, 5000]
     * @param minRows fewest rows a regime needs for its own weights, in [1, window]
     * @param regimeSource the source whose forecasts carry the detail {@code regime}
     * @throws QuiverInputException {@code BAD_CONFIG} if a value is out of range
     */
    public MetaSelector(int window, int minRows, String regimeSource) {
        if (window < 10 || window > 5000) {
            throw new QuiverInputException(
                    "BAD_CONFIG", "window", "plugin selector", window, "is not in [10, 5000]");
        }
        if (minRows < 1 || minRows > window) {
            throw new QuiverInputException(
                    "BAD_CONFIG",
                    "min-rows",
                    "plugin selector",
                    minRows,
                    "is not in [1, window] = [1, " + window + "]");
        }
        if (regimeSource == null || regimeSource.isBlank()) {
            throw new QuiverInputException(
                    "BAD_CONFIG", "regime-source", "plugin selector", regimeSource, "is blank");
        }
        this.window = window;
        this.minRows = minRows;
        this.regimeSource = regimeSource;
        this.descriptor =
                new CapabilityDescriptor(
                        NAME,
                        "1.0.0",
                        Map.of(
                                "calibrated",
                                "false",
                                "window",
                                Integer.toString(window),
                                "min_rows",
                                Integer.toString(minRows),
                                "regime_source",
                                regimeSource));
    }

    private static int parse(String key, String text) {
        try {
            return Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new QuiverInputException(
                    "BAD_CONFIG", key, "plugin selector", text, "is not an integer");
        }
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return descriptor;
    }

    /**
     * The regime index a bar's forecasts carry, or -1 when the regime source gave none (or a value
     * that is not an index of {@link #LABELS}).
     *
     * @param forecasts the bar's forecasts
     * @return in [0, 4) or -1
     */
    int regimeOf(List<Forecast> forecasts) {
        for (Forecast f : forecasts) {
            if (f.source().equals(regimeSource)) {
                Double r = f.details().get("regime");
                if (r != null && r == Math.rint(r) && r >= 0 && r < LABELS.size()) {
                    return r.intValue();
                }
                return -1;
            }
        }
        return -1;
    }

    @Override
    public void fit(List<LabeledForecasts> trainingWindow) {
        checkOpen("fit");
        TreeSet<String> names = new TreeSet<>();
        for (LabeledForecasts row : trainingWindow) {
            for (Forecast f : row.forecasts()) {
                names.add(f.source());
            }
        }
        List<String> sources = List.copyOf(names);
        Map<String, Integer> index = new HashMap<>();
        for (int s = 0; s < sources.size(); s++) {
            index.put(sources.get(s), s);
        }
        double[][] loss = new double[POOLED + 1][sources.size()];
        int[] rows = new int[POOLED + 1];
        // Newest first: each regime (and all) takes its last `window` rows.
        for (int i = trainingWindow.size() - 1; i >= 0; i--) {
            LabeledForecasts row = trainingWindow.get(i);
            int r = regimeOf(row.forecasts());
            boolean toRegime = r >= 0 && rows[r] < window;
            boolean toAll = rows[POOLED] < window;
            if (!toRegime && !toAll) {
                continue;
            }
            double[] l = new double[sources.size()];
            java.util.Arrays.fill(l, LN2);
            for (Forecast f : row.forecasts()) {
                l[index.get(f.source())] = logLoss(f.probabilityUp(), row.up());
            }
            if (toRegime) {
                add(loss[r], l);
                rows[r]++;
            }
            if (toAll) {
                add(loss[POOLED], l);
                rows[POOLED]++;
            }
        }
        state = new State(sources, loss, rows, trainingWindow.size());
    }

    private static void add(double[] into, double[] l) {
        for (int s = 0; s < l.length; s++) {
            into[s] += l[s];
        }
    }

    /** {@code -ln p(outcome)}, {@code p} clipped to [{@value #P_CLIP}, 1 - {@value #P_CLIP}]. */
    static double logLoss(double p, boolean up) {
        double q = Math.min(1 - P_CLIP, Math.max(P_CLIP, p));
        return -Math.log(up ? q : 1 - q);
    }

    @Override
    public FusedSignal fuse(List<Forecast> forecasts, FeatureFrame frame) {
        checkOpen("fuse");
        if (forecasts.isEmpty()) {
            throw new CapabilityException(
                    NAME, "no forecasts to fuse at bar " + frame.bar().start(), null);
        }
        State s = state;
        int r = regimeOf(forecasts);
        int use = r >= 0 && s.rows()[r] >= minRows ? r : POOLED;
        int n = forecasts.size();
        double[] l = new double[n];
        double min = Double.POSITIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            int k = s.sources().indexOf(forecasts.get(i).source());
            l[i] = k >= 0 ? s.loss()[use][k] : s.rows()[use] * LN2;
            min = Math.min(min, l[i]);
        }
        double[] w = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            w[i] = Math.exp(-ETA * (l[i] - min));
            sum += w[i];
        }
        double p = 0;
        for (int i = 0; i < n; i++) {
            w[i] /= sum;
            p += w[i] * forecasts.get(i).probabilityUp();
        }
        p = Math.min(1, Math.max(0, p));
        double agreement = 0;
        List<SourceContribution> contributions = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Forecast f = forecasts.get(i);
            if (Math.signum(f.probabilityUp() - 0.5) == Math.signum(p - 0.5)) {
                agreement += w[i];
            }
            contributions.add(new SourceContribution(f.source(), f.probabilityUp(), w[i]));
        }
        return new FusedSignal(
                frame.bar().start(), p, Math.abs(2 * p - 1), Math.min(1, agreement), contributions);
    }

    @Override
    public boolean hasFittedState() {
        return true;
    }

    @Override
    public List<Path> exportState(Path dir) {
        checkOpen("export its state");
        State s = state;
        ObjectNode json = JSON.createObjectNode();
        json.put("format", STATE_FORMAT);
        ObjectNode cap = json.putObject("capability");
        cap.put("name", NAME);
        cap.put("version", descriptor.version());
        ObjectNode config = json.putObject("config");
        config.put("window", window);
        config.put("min_rows", minRows);
        config.put("regime_source", regimeSource);
        config.put("eta", ETA);
        json.put("training_rows", s.trainingRows());
        ArrayNode sources = json.putArray("sources");
        s.sources().forEach(sources::add);
        ObjectNode regimes = json.putObject("regimes");
        for (int r = 0; r <= POOLED; r++) {
            ObjectNode o = regimes.putObject(r == POOLED ? ALL : LABELS.get(r));
            o.put("rows", s.rows()[r]);
            ArrayNode l = o.putArray("loss");
            for (double v : s.loss()[r]) {
                l.add(v);
            }
        }
        Path file = dir.resolve(NAME + ".state.json");
        try {
            JSON.writeValue(file.toFile(), json);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the state of 'selector' to " + file, e);
        }
        return List.of(file);
    }

    @Override
    public void restoreState(Path dir) {
        checkOpen("restore its state");
        Path file = dir.resolve(NAME + ".state.json");
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw bad(file, "(file)", null, "is missing: nothing to restore 'selector' from");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the state file " + file, e);
        }
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw bad(
                    file,
                    "(json)",
                    bytes.length + " bytes",
                    "is not complete JSON (truncated or damaged?): "
                            + e.getOriginalMessage().lines().findFirst().orElse(""));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the state file " + file, e);
        }
        if (root == null || !root.isObject()) {
            throw bad(file, "(json)", null, "is not a JSON object");
        }
        String format = text(file, root, "format");
        if (!format.equals(STATE_FORMAT)) {
            throw bad(
                    file,
                    "format",
                    format,
                    "is not a format this plugin reads (" + STATE_FORMAT + ")");
        }
        String name = text(file, member(file, root, "capability"), "name");
        if (!name.equals(NAME)) {
            throw bad(file, "capability.name", name, "is not '" + NAME + "'");
        }
        JsonNode config = member(file, root, "config");
        if (count(file, config, "window") != window
                || count(file, config, "min_rows") != minRows
                || !text(file, config, "regime_source").equals(regimeSource)) {
            throw bad(
                    file,
                    "config",
                    config,
                    "differs from this instance's window="
                            + window
                            + ", min-rows="
                            + minRows
                            + ", regime-source="
                            + regimeSource
                            + "; configure it as the exporting instance was");
        }
        int trainingRows = count(file, root, "training_rows");
        JsonNode sourcesNode = member(file, root, "sources");
        if (!sourcesNode.isArray()) {
            throw bad(file, "sources", sourcesNode, "is not an array of strings");
        }
        List<String> sources = new ArrayList<>();
        for (JsonNode n : sourcesNode) {
            if (!n.isTextual()) {
                throw bad(file, "sources", n, "is not a string");
            }
            sources.add(n.asText());
        }
        if (new HashSet<>(sources).size() != sources.size()) {
            throw bad(file, "sources", sources, "names a source twice");
        }
        JsonNode regimes = member(file, root, "regimes");
        double[][] loss = new double[POOLED + 1][];
        int[] rows = new int[POOLED + 1];
        for (int r = 0; r <= POOLED; r++) {
            String key = r == POOLED ? ALL : LABELS.get(r);
            JsonNode o = member(file, regimes, key);
            rows[r] = count(file, o, "rows");
            JsonNode l = member(file, o, "loss");
            if (!l.isArray() || l.size() != sources.size()) {
                throw bad(file, "regimes." + key + ".loss", l, "is not one number per source");
            }
            loss[r] = new double[sources.size()];
            for (int s = 0; s < sources.size(); s++) {
                JsonNode v = l.get(s);
                if (!v.isNumber() || !(v.asDouble() >= 0) || Double.isInfinite(v.asDouble())) {
                    throw bad(
                            file,
                            "regimes." + key + ".loss[" + s + "]",
                            v,
                            "is not a finite number >= 0");
                }
                loss[r][s] = v.asDouble();
            }
        }
        state = new State(List.copyOf(sources), loss, rows, trainingRows);
    }

    private static JsonNode member(Path file, JsonNode node, String key) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            throw bad(file, key, null, "is missing");
        }
        return v;
    }

    private static String text(Path file, JsonNode node, String key) {
        JsonNode v = member(file, node, key);
        if (!v.isTextual()) {
            throw bad(file, key, v, "is not a string");
        }
        return v.asText();
    }

    private static int count(Path file, JsonNode node, String key) {
        JsonNode v = member(file, node, key);
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 0) {
            throw bad(file, key, v, "is not a non-negative int");
        }
        return v.asInt();
    }

    private static QuiverInputException bad(Path file, String field, Object value, String problem) {
        return new QuiverInputException("BAD_STATE", field, "state file " + file, value, problem);
    }

    private void checkOpen(String what) {
        if (closed) {
            throw new IllegalStateException("ensemble '" + NAME + "' is closed: cannot " + what);
        }
    }

    /**
     * Idempotent; {@code fit}, {@code fuse}, {@code exportState} and {@code restoreState} then
     * fail.
     */
    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String toString() {
        State s = state;
        return "MetaSelector["
                + s.sources()
                + ", rows "
                + java.util.Arrays.toString(s.rows())
                + "]";
    }
}
