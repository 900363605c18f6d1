package dev.quiver.host.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;

/** The genetic search on objectives whose optimum is known, and its determinism for a seed. */
class ParamSearchTest {

    /** A smooth bowl with its top at (2.0, 5.25, 1.5), inside the job's ranges, on the grid. */
    private static final ToDoubleFunction<double[]> BOWL =
            v -> -(Math.pow(v[0] - 2.0, 2) + Math.pow(v[1] - 5.25, 2) + Math.pow(v[2] - 1.5, 2));

    @Test
    void findsTheKnownOptimumOfASyntheticObjective() {
        long t0 = System.nanoTime();
        ParamSearch.Result r =
                ParamSearch.maximize(EvolveParamsJob.RANGES, BOWL, 30, 40, 7, g -> {});
        System.out.printf(
                "ParamSearchTest: best %s (figure %.4f) after %d evaluations, %.2f s%n",
                java.util.Arrays.toString(r.best()),
                r.bestFitness(),
                r.evaluations(),
                (System.nanoTime() - t0) / 1e9);
        assertThat(r.best()[0]).isCloseTo(2.0, within(0.26));
        assertThat(r.best()[1]).isCloseTo(5.25, within(0.26));
        assertThat(r.best()[2]).isCloseTo(1.5, within(0.26));
        assertThat(r.generations()).hasSize(40);
        // The best figure never gets worse from one generation to the next.
        for (int i = 1; i < r.generations().size(); i++) {
            assertThat(r.generations().get(i).best())
                    .isGreaterThanOrEqualTo(r.generations().get(i - 1).best());
        }
    }

    @Test
    void theSameSeedGivesTheSameTrialsAndResultAnotherSeedOtherTrials() {
        List<List<Double>> a = new ArrayList<>();
        List<List<Double>> b = new ArrayList<>();
        List<List<Double>> c = new ArrayList<>();
        ParamSearch.Result ra =
                ParamSearch.maximize(EvolveParamsJob.RANGES, record(a), 8, 5, 42, g -> {});
        ParamSearch.Result rb =
                ParamSearch.maximize(EvolveParamsJob.RANGES, record(b), 8, 5, 42, g -> {});
        ParamSearch.maximize(EvolveParamsJob.RANGES, record(c), 8, 5, 43, g -> {});
        assertThat(b).isEqualTo(a);
        assertThat(rb.best()).containsExactly(ra.best());
        assertThat(rb.bestFitness()).isEqualTo(ra.bestFitness());
        assertThat(c).isNotEqualTo(a);
    }

    @Test
    void everyValueIsOnTheGridAndEachGridPointIsEvaluatedOnce() {
        List<List<Double>> asked = new ArrayList<>();
        ParamSearch.maximize(EvolveParamsJob.RANGES, record(asked), 10, 6, 1, g -> {});
        assertThat(asked).doesNotHaveDuplicates();
        for (List<Double> v : asked) {
            for (int i = 0; i < v.size(); i++) {
                ParamSearch.Range range = EvolveParamsJob.RANGES.get(i);
                double k = (v.get(i) - range.min()) / range.step();
                assertThat(k).isCloseTo(Math.rint(k), within(1e-9));
                assertThat(v.get(i)).isBetween(range.min(), range.max());
            }
        }
    }

    @Test
    void aNanFigureNeverWins() {
        ParamSearch.Result r =
                ParamSearch.maximize(
                        EvolveParamsJob.RANGES,
                        v -> v[0] > 3 ? Double.NaN : v[0],
                        12,
                        10,
                        3,
                        g -> {});
        assertThat(r.best()[0]).isLessThanOrEqualTo(3);
        assertThat(r.bestFitness()).isEqualTo(r.best()[0]);
    }

    private static ToDoubleFunction<double[]> record(List<List<Double>> into) {
        return v -> {
            into.add(java.util.Arrays.stream(v).boxed().toList());
            return BOWL.applyAsDouble(v);
        };
    }
}
