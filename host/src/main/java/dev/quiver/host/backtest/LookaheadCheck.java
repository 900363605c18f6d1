package dev.quiver.host.backtest;

import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.web.SourceFitting;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;

/**
 * Look-ahead detector for prediction sources (RELIABILITY.md P14), after freqtrade's {@code
 * lookahead-analysis}: a source's signal for bar {@code c} must be the same whether the series ends
 * at {@code c} or goes on. For each walk-forward fold of the series (the layout {@link
 * WalkForwardBacktest#layout} gives a backtest) every source is fitted once on the fold's training
 * window, as the backtest fits it (labels known by the fold's first test bar minus the embargo);
 * the "full run" forecasts every test bar of the fold from features of the whole series, in time
 * order; then, at random cut points {@code c} inside the fold, the features are recomputed from the
 * series truncated after {@code c} and the source forecasts bar {@code c} again. Any difference
 * (probability, horizon or bar time, compared bit for bit) means the full-run signal used something
 * after {@code c}: a source reading past its point-in-time view, a feature computed with later
 * bars, or state carried from later calls.
 *
 * <p>Also checks the fold layout: for every fold, training window end + embargo &lt; first test
 * bar.
 */
public final class LookaheadCheck {

    private LookaheadCheck() {}

    /**
     * A cut point where the signals differ.
     *
     * @param bar index of the bar in the series
     * @param time its start time
     * @param full the full run's forecast (its probability, horizon and bar time), or the error
     * @param truncated the truncated run's forecast, or the error
     */
    public record Mismatch(int bar, Instant time, String full, String truncated) {}

    /**
     * What the check found for one source.
     *
     * @param source the source's name
     * @param cutsChecked cut points compared
     * @param mismatches cut points whose signals differ, in bar order
     */
    public record SourceResult(String source, int cutsChecked, List<Mismatch> mismatches) {
        public SourceResult {
            mismatches = List.copyOf(mismatches);
        }

        /** Whether the source looks ahead (a cut point differs). */
        public boolean looksAhead() {
            return !mismatches.isEmpty();
        }
    }

    /**
     * The whole check on one series.
     *
     * @param series the series' name
     * @param cuts the cut points, bar indices in increasing order
     * @param sources per source, in the order given
     * @param folds the folds checked
     * @param foldProblems folds whose training window end + embargo is not before the first test
     *     bar, one line each (empty when the layout is sound)
     */
    public record Result(
            String series,
            List<Integer> cuts,
            List<SourceResult> sources,
            List<Fold> folds,
            List<String> foldProblems) {
        public Result {
            cuts = List.copyOf(cuts);
            sources = List.copyOf(sources);
            folds = List.copyOf(folds);
            foldProblems = List.copyOf(foldProblems);
        }

        /** Whether every source passed and the fold layout is sound. */
        public boolean clean() {
            return foldProblems.isEmpty() && sources.stream().noneMatch(SourceResult::looksAhead);
        }
    }

    /**
     * Runs the check.
     *
     * @param bars the series
     * @param sources the prediction sources to check (fitted here, fold by fold)
     * @param config the walk-forward windows (train, embargo, test bars)
     * @param cuts how many distinct cut points to draw among the test bars, {@code >= 1}; all test
     *     bars if there are fewer
     * @param seed seed of the draw (the same cut points every run)
     * @return the findings
     * @throws IllegalArgumentException if {@code cuts < 1} or the series has no test bar
     */
    public static Result run(
            BarData bars,
            List<PredictionCapability> sources,
            WalkForwardBacktest.Config config,
            int cuts,
            long seed) {
        if (cuts < 1) {
            throw new IllegalArgumentException("cuts must be >= 1, was " + cuts);
        }
        FeatureMatrix full = FeaturePipeline.compute(bars);
        List<Fold> folds = WalkForwardBacktest.layout(bars, full.firstWarmIndex(), config);
        if (folds.isEmpty()) {
            throw new IllegalArgumentException(
                    "series "
                            + bars.symbol()
                            + " of "
                            + bars.size()
                            + " bars has no test bar with train "
                            + config.trainBars()
                            + " + embargo "
                            + config.embargoBars()
                            + " bars");
        }
        List<String> foldProblems = new ArrayList<>();
        for (Fold f : folds) {
            if (!(f.trainLast() + config.embargoBars() < f.testFirst())
                    || !f.trainEnd().isBefore(f.testStart())) {
                foldProblems.add(
                        "fold "
                                + f.index()
                                + ": training ends at bar "
                                + f.trainLast()
                                + " + embargo "
                                + config.embargoBars()
                                + " is not before the first test bar "
                                + f.testFirst());
            }
        }
        List<Integer> cutPoints =
                draw(folds.get(0).testFirst(), folds.get(folds.size() - 1).testLast(), cuts, seed);

        Map<String, List<Mismatch>> mismatches = new LinkedHashMap<>();
        Map<String, Integer> checked = new LinkedHashMap<>();
        List<String> names = new ArrayList<>();
        for (PredictionCapability s : sources) {
            String name = s.descriptor().name();
            names.add(name);
            mismatches.put(name, new ArrayList<>());
            checked.put(name, 0);
        }
        int next = 0;
        for (Fold f : folds) {
            List<Integer> inFold = new ArrayList<>();
            while (next < cutPoints.size() && cutPoints.get(next) <= f.testLast()) {
                inFold.add(cutPoints.get(next++));
            }
            if (inFold.isEmpty()) {
                continue;
            }
            // The fold's fit: labels of [trainFirst, trainLast], the last known at trainLast + 1.
            SourceFitting.fit(sources, bars.truncate(f.trainLast() + 2), config.trainBars());
            for (int k = 0; k < sources.size(); k++) {
                PredictionCapability s = sources.get(k);
                String name = names.get(k);
                Map<Integer, String> fullSignals = new LinkedHashMap<>();
                for (int i = f.testFirst(); i <= inFold.get(inFold.size() - 1); i++) {
                    String signal = signal(s, full, i);
                    if (inFold.contains(i)) {
                        fullSignals.put(i, signal);
                    }
                }
                for (int c : inFold) {
                    FeatureMatrix cut = FeaturePipeline.compute(bars.truncate(c + 1));
                    String truncated = signal(s, cut, c);
                    checked.merge(name, 1, Integer::sum);
                    if (!truncated.equals(fullSignals.get(c))) {
                        mismatches
                                .get(name)
                                .add(
                                        new Mismatch(
                                                c,
                                                Instant.ofEpochMilli(bars.startMillis[c]),
                                                fullSignals.get(c),
                                                truncated));
                    }
                }
            }
        }
        List<SourceResult> results = new ArrayList<>();
        for (String name : names) {
            results.add(new SourceResult(name, checked.get(name), mismatches.get(name)));
        }
        return new Result(bars.symbol(), cutPoints, results, folds, foldProblems);
    }

    /**
     * Distinct cut points drawn uniformly from {@code [first, last]}, sorted.
     *
     * @return {@code min(count, last - first + 1)} bar indices
     */
    static List<Integer> draw(int first, int last, int count, long seed) {
        int span = last - first + 1;
        var out = new TreeSet<Integer>();
        if (count >= span) {
            for (int i = first; i <= last; i++) {
                out.add(i);
            }
        } else {
            Random random = new Random(seed);
            while (out.size() < count) {
                out.add(first + random.nextInt(span));
            }
        }
        return List.copyOf(out);
    }

    /** A forecast as exact text (the probability's bits included), or the failure. */
    private static String signal(PredictionCapability source, FeatureMatrix features, int i) {
        try {
            Forecast f = source.forecast(features.frame(i));
            if (f == null) {
                return "null forecast";
            }
            return "p_up="
                    + f.probabilityUp()
                    + " (bits "
                    + Long.toHexString(Double.doubleToRawLongBits(f.probabilityUp()))
                    + ") horizon="
                    + f.horizonBars()
                    + " bar="
                    + f.barTime();
        } catch (RuntimeException e) {
            return "threw " + e;
        }
    }
}
