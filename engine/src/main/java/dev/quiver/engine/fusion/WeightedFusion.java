package dev.quiver.engine.fusion;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.LabeledForecasts;
import dev.quiver.api.ensemble.SourceContribution;
import dev.quiver.api.error.CapabilityException;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The host's built-in ensemble ({@code fused} 1.0.0): each source's probability is Platt-calibrated
 * and the calibrated probabilities are averaged with weights proportional to each source's skill on
 * the training window.
 *
 * <p>Fit, on the labelled forecasts of the training window only:
 *
 * <ul>
 *   <li>calibration per source: {@link PlattScaling} ({@code sigmoid(a * logit(p) + b)}, Platt
 *       1999), fitted when the source has at least {@value #MIN_TRAINING_ROWS} labelled rows,
 *       identity otherwise;
 *   <li>weight per source: {@code 1 / logLoss} of its calibrated forecasts on the window (natural
 *       log), normalised to sum to 1; a source never seen in training gets the mean weight.
 * </ul>
 *
 * With fewer than {@value #MIN_TRAINING_ROWS} training rows in total (and before any fit) every
 * source keeps the identity calibration and all weights are equal; {@link #toString()} says which
 * state the fusion is in.
 *
 * <p>Fuse: {@code p = sum(w_i * p_i') / sum(w_i)} over the sources present for the bar (weights
 * renormalised over them), {@code confidence = |2p - 1|}, {@code agreement} = weighted share of
 * sources on the fused side of 0.5 (a source at exactly 0.5 counts on the up side, as does a fused
 * 0.5).
 *
 * <p>Fitted state (api 1.3.0): {@link #exportState} writes {@code fused.state.json} ({@value
 * #STATE_FORMAT}: per source the Platt {@code a}, {@code b} and the weight, the training rows and
 * the note); {@link #restoreState} reads it back and fuses bit for bit as the exporting instance
 * did. The mean weight given to a source never seen in training is summed in source-name order, so
 * it is the same in every JVM.
 *
 * <p>Not thread-safe for {@code fit} and {@code restoreState}; {@code fuse} reads a state published
 * by them in one write.
 */
public final class WeightedFusion implements EnsembleCapability {

    /** Minimum number of labelled rows to fit calibration and skill weights. */
    public static final int MIN_TRAINING_ROWS = 200;

    private static final CapabilityDescriptor DESCRIPTOR =
            new CapabilityDescriptor(
                    "fused",
                    "1.0.0",
                    Map.of(
                            "calibration",
                            "platt",
                            "weights",
                            "inverse-log-loss",
                            "min_training_rows",
                            Integer.toString(MIN_TRAINING_ROWS)));

    /** The {@code format} of {@code fused.state.json}. */
    static final String STATE_FORMAT = "quiver-fused-state/1";

    private static final ObjectMapper JSON =
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private volatile State state = State.of(Map.of(), Map.of(), 0, "not fitted");
    private volatile boolean closed;

    /** Creates an unfitted fusion: identity calibration, equal weights. */
    public WeightedFusion() {}

    /**
     * @param meanWeight the weight of a source not seen in training: the mean of {@code weights},
     *     summed in source-name order (1 when there are none)
     */
    private record State(
            Map<String, PlattScaling> calibration,
            Map<String, Double> weights,
            int trainingRows,
            String note,
            double meanWeight) {

        static State of(
                Map<String, PlattScaling> calibration,
                Map<String, Double> weights,
                int trainingRows,
                String note) {
            double mean =
                    weights.isEmpty()
                            ? 1.0
                            : new TreeMap<>(weights)
                                    .values().stream()
                                            .mapToDouble(Double::doubleValue)
                                            .average()
                                            .orElse(1.0);
            return new State(calibration, weights, trainingRows, note, mean);
        }
    }

    @Override
    public CapabilityDescriptor descriptor() {
        return DESCRIPTOR;
    }

    @Override
    public void fit(List<LabeledForecasts> trainingWindow) {
        int rows = trainingWindow.size();
        if (rows < MIN_TRAINING_ROWS) {
            state =
                    State.of(
                            Map.of(),
                            Map.of(),
                            rows,
                            "identity calibration and equal weights: "
                                    + rows
                                    + " training rows < "
                                    + MIN_TRAINING_ROWS);
            return;
        }
        Map<String, List<double[]>> bySource = new TreeMap<>();
        for (LabeledForecasts row : trainingWindow) {
            for (Forecast f : row.forecasts()) {
                bySource.computeIfAbsent(f.source(), k -> new ArrayList<>())
                        .add(new double[] {f.probabilityUp(), row.up() ? 1 : 0});
            }
        }
        Map<String, PlattScaling> calibration = new HashMap<>();
        Map<String, Double> skill = new LinkedHashMap<>();
        for (var e : bySource.entrySet()) {
            List<double[]> data = e.getValue();
            double[] p = new double[data.size()];
            boolean[] up = new boolean[data.size()];
            for (int i = 0; i < p.length; i++) {
                p[i] = data.get(i)[0];
                up[i] = data.get(i)[1] > 0.5;
            }
            PlattScaling scaling =
                    p.length >= MIN_TRAINING_ROWS
                            ? PlattScaling.fit(p, up, PlattScaling.DEFAULT_RIDGE)
                            : PlattScaling.IDENTITY;
            calibration.put(e.getKey(), scaling);
            double logLoss = 0;
            for (int i = 0; i < p.length; i++) {
                double q = Math.min(1 - 1e-15, Math.max(1e-15, scaling.apply(p[i])));
                logLoss -= up[i] ? Math.log(q) : Math.log(1 - q);
            }
            logLoss /= p.length;
            skill.put(e.getKey(), 1.0 / Math.max(logLoss, 1e-12));
        }
        double total = skill.values().stream().mapToDouble(Double::doubleValue).sum();
        Map<String, Double> weights = new HashMap<>();
        skill.forEach((k, v) -> weights.put(k, v / total));
        state =
                State.of(
                        Map.copyOf(calibration),
                        Map.copyOf(weights),
                        rows,
                        "platt calibration and inverse-log-loss weights fitted on "
                                + rows
                                + " training rows");
    }

    @Override
    public FusedSignal fuse(List<Forecast> forecasts, FeatureFrame frame) {
        if (forecasts == null || forecasts.isEmpty()) {
            throw new CapabilityException(
                    DESCRIPTOR.name(), "no forecasts to fuse at bar " + frame.bar().start(), null);
        }
        State s = state;
        double meanWeight = s.meanWeight();
        int n = forecasts.size();
        double[] p = new double[n];
        double[] w = new double[n];
        double wSum = 0;
        for (int i = 0; i < n; i++) {
            Forecast f = forecasts.get(i);
            p[i] =
                    s.calibration()
                            .getOrDefault(f.source(), PlattScaling.IDENTITY)
                            .apply(f.probabilityUp());
            w[i] = s.weights().getOrDefault(f.source(), meanWeight);
            wSum += w[i];
        }
        double fused = 0;
        for (int i = 0; i < n; i++) {
            w[i] = wSum > 0 ? w[i] / wSum : 1.0 / n;
            fused += w[i] * p[i];
        }
        fused = Math.min(1.0, Math.max(0.0, fused));
        boolean fusedUp = fused >= 0.5;
        double agreement = 0;
        List<SourceContribution> contributions = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            if ((p[i] >= 0.5) == fusedUp) {
                agreement += w[i];
            }
            contributions.add(new SourceContribution(forecasts.get(i).source(), p[i], w[i]));
        }
        return new FusedSignal(
                frame.bar().start(),
                fused,
                Math.abs(2 * fused - 1),
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
     * <p>Writes {@code fused.state.json} ({@value #STATE_FORMAT}).
     */
    @Override
    public List<Path> exportState(Path dir) {
        checkOpen("export its state");
        State s = state;
        ObjectNode json = JSON.createObjectNode();
        json.put("format", STATE_FORMAT);
        ObjectNode cap = json.putObject("capability");
        cap.put("name", DESCRIPTOR.name());
        cap.put("version", DESCRIPTOR.version());
        json.put("training_rows", s.trainingRows());
        json.put("note", s.note());
        ObjectNode sources = json.putObject("sources");
        for (String name : new TreeMap<>(s.weights()).keySet()) {
            ObjectNode src = sources.putObject(name);
            PlattScaling c = s.calibration().get(name);
            src.put("a", c.a());
            src.put("b", c.b());
            src.put("weight", s.weights().get(name));
        }
        Path file = dir.resolve(DESCRIPTOR.name() + ".state.json");
        try {
            JSON.writeValue(file.toFile(), json);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the state of 'fused' to " + file, e);
        }
        return List.of(file);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Reads {@code fused.state.json}: every source with finite {@code a}, {@code b} and a weight
     * {@code > 0}.
     */
    @Override
    public void restoreState(Path dir) {
        checkOpen("restore its state");
        Path file = dir.resolve(DESCRIPTOR.name() + ".state.json");
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw bad(file, "(file)", null, "is missing", e);
        } catch (JsonProcessingException e) {
            throw bad(
                    file,
                    "(json)",
                    null,
                    "is not complete JSON (truncated or damaged?): " + e.getOriginalMessage(),
                    e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the state file " + file, e);
        }
        if (root == null || !root.isObject()) {
            throw bad(file, "(json)", root, "is not a JSON object", null);
        }
        if (!STATE_FORMAT.equals(root.path("format").asText(null))) {
            throw bad(
                    file,
                    "format",
                    root.get("format"),
                    "is not a format this fusion reads (" + STATE_FORMAT + ")",
                    null);
        }
        if (!DESCRIPTOR.name().equals(root.path("capability").path("name").asText(null))) {
            throw bad(
                    file,
                    "capability.name",
                    root.path("capability").get("name"),
                    "is not 'fused'",
                    null);
        }
        JsonNode rowsNode = root.get("training_rows");
        if (rowsNode == null || !rowsNode.canConvertToInt() || rowsNode.asInt() < 0) {
            throw bad(file, "training_rows", rowsNode, "is not a non-negative int", null);
        }
        JsonNode note = root.get("note");
        if (note == null || !note.isTextual()) {
            throw bad(file, "note", note, "is not a string", null);
        }
        JsonNode sources = root.get("sources");
        if (sources == null || !sources.isObject()) {
            throw bad(file, "sources", sources, "is not a JSON object", null);
        }
        // Inserted in name order, as fit inserts them, so the maps are built alike.
        var names = new TreeMap<String, JsonNode>();
        sources.properties().forEach(e -> names.put(e.getKey(), e.getValue()));
        Map<String, PlattScaling> calibration = new HashMap<>();
        Map<String, Double> weights = new HashMap<>();
        for (var e : names.entrySet()) {
            String at = "sources." + e.getKey();
            double a = finite(file, e.getValue(), at + ".a");
            double b = finite(file, e.getValue(), at + ".b");
            double w = finite(file, e.getValue(), at + ".weight");
            if (!(w > 0)) {
                throw bad(file, at + ".weight", w, "is not > 0", null);
            }
            calibration.put(e.getKey(), new PlattScaling(a, b));
            weights.put(e.getKey(), w);
        }
        state =
                State.of(
                        Map.copyOf(calibration),
                        Map.copyOf(weights),
                        rowsNode.asInt(),
                        note.asText());
    }

    private static double finite(Path file, JsonNode source, String path) {
        JsonNode v = source.get(path.substring(path.lastIndexOf('.') + 1));
        if (v == null || !v.isNumber() || !Double.isFinite(v.doubleValue())) {
            throw bad(file, path, v, "is not a finite number", null);
        }
        return v.doubleValue();
    }

    private static QuiverInputException bad(
            Path file, String field, Object value, String problem, Throwable cause) {
        var e = new QuiverInputException("BAD_STATE", field, "state file " + file, value, problem);
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }

    private void checkOpen(String what) {
        if (closed) {
            throw new IllegalStateException(
                    "[Quiver/CAPABILITY_CLOSED] ensemble 'fused' was closed; create a new instance"
                            + " to "
                            + what);
        }
    }

    /** Marks it closed: {@code exportState} and {@code restoreState} then fail. Idempotent. */
    @Override
    public void close() {
        closed = true;
    }

    /** Calibration of one source, identity when unfitted or unknown. */
    PlattScaling calibration(String source) {
        return state.calibration().getOrDefault(source, PlattScaling.IDENTITY);
    }

    /** Normalised training weights by source; empty when weights are equal (unfitted). */
    Map<String, Double> weights() {
        return state.weights();
    }

    /** Whether the last fit had enough rows to calibrate and weight. */
    boolean fitted() {
        return !state.weights().isEmpty();
    }

    @Override
    public String toString() {
        return "WeightedFusion["
                + state.note()
                + ", weights "
                + new TreeMap<>(state.weights())
                + "]";
    }
}
