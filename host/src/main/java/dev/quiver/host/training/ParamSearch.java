package dev.quiver.host.training;

import io.jenetics.DoubleGene;
import io.jenetics.Optimize;
import io.jenetics.engine.Codec;
import io.jenetics.engine.Codecs;
import io.jenetics.engine.Engine;
import io.jenetics.util.DoubleRange;
import io.jenetics.util.RandomRegistry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.ToDoubleFunction;
import java.util.random.RandomGeneratorFactory;

/**
 * A seeded, deterministic genetic search for the maximum of an objective over a box of real
 * parameters, with Jenetics ({@code io.jenetics:jenetics}): a population of parameter vectors,
 * Jenetics' default alterers (single-point crossover, probability 0.2; mutation, probability 0.15)
 * and tournament selection (size 3), for a fixed number of generations.
 *
 * <p>Every value is snapped to its range's step before it is evaluated, so the objective is asked
 * about a grid point and each grid point is evaluated once (later asks reuse the figure). Every
 * evaluation runs on the calling thread, with the random numbers of a generator seeded by {@code
 * seed} ({@code L64X256MixRandom}): the same seed, objective and settings give the same trials and
 * the same result.
 */
public final class ParamSearch {

    private ParamSearch() {}

    /**
     * One parameter's range.
     *
     * @param name its name, e.g. {@code stop_loss_atr}
     * @param min smallest value, finite
     * @param max largest value, finite, {@code > min}
     * @param step grid step, {@code > 0}: values are {@code min + k * step}
     */
    public record Range(String name, double min, double max, double step) {

        /** Checks the values. */
        public Range {
            Objects.requireNonNull(name, "name");
            if (!Double.isFinite(min) || !Double.isFinite(max) || !(max > min)) {
                throw new IllegalArgumentException(
                        "range " + name + ": need finite min < max, was " + min + ", " + max);
            }
            if (!(step > 0) || !Double.isFinite(step)) {
                throw new IllegalArgumentException(
                        "range " + name + ": step must be finite and > 0, was " + step);
            }
        }

        double snap(double v) {
            double k = Math.round((v - min) / step);
            double x = Math.min(max, Math.max(min, min + k * step));
            return Math.round(x * 1e9) / 1e9; // 0.5 + 3 * 0.05 is 0.65, not 0.6500000000000001
        }
    }

    /**
     * One generation's summary.
     *
     * @param generation 1-based
     * @param best the best figure so far
     * @param bestValues the values that gave it, in the order of the ranges
     * @param mean the mean figure of this generation's population (NaN figures left out)
     * @param evaluations distinct parameter vectors evaluated so far
     */
    public record Generation(
            int generation, double best, double[] bestValues, double mean, int evaluations) {}

    /**
     * The search's result.
     *
     * @param best the best values, in the order of the ranges
     * @param bestFitness their figure
     * @param evaluations distinct parameter vectors evaluated
     * @param generations each generation's summary
     */
    public record Result(
            double[] best, double bestFitness, int evaluations, List<Generation> generations) {}

    /**
     * Searches for the maximum.
     *
     * @param ranges the parameters, at least one
     * @param objective the figure of a parameter vector (snapped to the grid); NaN ranks below
     *     every number (a parameter set with no figure, e.g. no trade, never wins)
     * @param population individuals per generation, {@code >= 2}
     * @param generations generations, {@code >= 1}
     * @param seed the random generator's seed
     * @param onGeneration told after each generation (may throw to stop the search)
     * @return the best values found
     * @throws IllegalArgumentException if a count is out of range or there is no range
     */
    public static Result maximize(
            List<Range> ranges,
            ToDoubleFunction<double[]> objective,
            int population,
            int generations,
            long seed,
            Consumer<Generation> onGeneration) {
        if (ranges.isEmpty()) {
            throw new IllegalArgumentException("no parameter to search");
        }
        if (population < 2) {
            throw new IllegalArgumentException("population must be >= 2, was " + population);
        }
        if (generations < 1) {
            throw new IllegalArgumentException("generations must be >= 1, was " + generations);
        }
        Map<List<Double>, Double> seen = new HashMap<>();
        ToDoubleFunction<double[]> memo =
                v -> {
                    double[] s = snap(ranges, v);
                    List<Double> key = Arrays.stream(s).boxed().toList();
                    Double f = seen.get(key);
                    if (f == null) {
                        double x = objective.applyAsDouble(s);
                        f = Double.isNaN(x) ? Double.NEGATIVE_INFINITY : x;
                        seen.put(key, f);
                    }
                    return f;
                };
        Codec<double[], DoubleGene> codec =
                Codecs.ofVector(
                        ranges.stream()
                                .map(r -> DoubleRange.of(r.min(), r.max() + r.step() / 2))
                                .toArray(DoubleRange[]::new));
        List<Generation> summaries = new ArrayList<>();
        return RandomRegistry.with(
                RandomGeneratorFactory.of("L64X256MixRandom").create(seed),
                random -> {
                    Engine<DoubleGene, Double> engine =
                            Engine.builder(memo::applyAsDouble, codec)
                                    .populationSize(population)
                                    .optimize(Optimize.MAXIMUM)
                                    .executor((Runnable r) -> r.run())
                                    .build();
                    engine.stream()
                            .limit(generations)
                            .peek(
                                    er -> {
                                        double[] b =
                                                snap(
                                                        ranges,
                                                        codec.decode(
                                                                er.bestPhenotype().genotype()));
                                        double mean =
                                                er.population().stream()
                                                        .mapToDouble(p -> p.fitness())
                                                        .filter(Double::isFinite)
                                                        .average()
                                                        .orElse(Double.NaN);
                                        // The best so far: a generation's population may
                                        // have lost the earlier best (no elitism).
                                        Generation prev =
                                                summaries.isEmpty()
                                                        ? null
                                                        : summaries.get(summaries.size() - 1);
                                        boolean kept =
                                                prev != null && !(er.bestFitness() > prev.best());
                                        Generation g =
                                                new Generation(
                                                        (int) er.generation(),
                                                        kept ? prev.best() : er.bestFitness(),
                                                        kept ? prev.bestValues() : b,
                                                        mean,
                                                        seen.size());
                                        summaries.add(g);
                                        onGeneration.accept(g);
                                    })
                            .forEach(er -> {});
                    // The best so far, as the last generation's summary says (the first found
                    // among equal figures).
                    Generation end = summaries.get(summaries.size() - 1);
                    return new Result(
                            end.bestValues(), end.best(), seen.size(), List.copyOf(summaries));
                });
    }

    private static double[] snap(List<Range> ranges, double[] v) {
        double[] s = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            s[i] = ranges.get(i).snap(v[i]);
        }
        return s;
    }
}
