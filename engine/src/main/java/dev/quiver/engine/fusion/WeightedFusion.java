package dev.quiver.engine.fusion;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.LabeledForecasts;
import dev.quiver.api.ensemble.SourceContribution;
import dev.quiver.api.error.CapabilityException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
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
 * <p>Not thread-safe for {@code fit}; {@code fuse} reads a state published by {@code fit}.
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

    private volatile State state = new State(Map.of(), Map.of(), 0, "not fitted");

    /** Creates an unfitted fusion: identity calibration, equal weights. */
    public WeightedFusion() {}

    private record State(
            Map<String, PlattScaling> calibration,
            Map<String, Double> weights,
            int trainingRows,
            String note) {}

    @Override
    public CapabilityDescriptor descriptor() {
        return DESCRIPTOR;
    }

    @Override
    public void fit(List<LabeledForecasts> trainingWindow) {
        int rows = trainingWindow.size();
        if (rows < MIN_TRAINING_ROWS) {
            state =
                    new State(
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
                new State(
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
        double meanWeight =
                s.weights().isEmpty()
                        ? 1.0
                        : s.weights().values().stream()
                                .mapToDouble(Double::doubleValue)
                                .average()
                                .orElse(1.0);
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
