package dev.quiver.host.rollout;

import java.util.Map;

/**
 * One change of a rollout's stage: what the audit log records, one JSON line each.
 *
 * @param time when it happened, ISO-8601 (wall clock in the service; the outcome bar's time in a
 *     backtest replay)
 * @param rollout the rollout id
 * @param from the stage before
 * @param to the stage after
 * @param actor {@code rule} (the declared rules decided) or {@code operator} (a manual command)
 * @param reason why, in words
 * @param metric the rules' metric
 * @param figures per role ({@code champion}, {@code challenger}): the figures of the stage that
 *     ended
 * @param test the test that decided (rule transitions; for operator transitions the test on the
 *     stage's data when there was enough), else null
 * @param stageSamples samples the look used (0 for operator transitions)
 */
public record Transition(
        String time,
        String rollout,
        String from,
        String to,
        String actor,
        String reason,
        String metric,
        Map<String, VariantFigures> figures,
        TestFigures test,
        long stageSamples) {

    /**
     * The test behind a transition.
     *
     * @param test {@code paired} or {@code welch}
     * @param n samples per side
     * @param meanDifference mean loss challenger minus champion (negative: challenger better)
     * @param statistic t statistic (JSON null when infinite: zero standard error)
     * @param degreesOfFreedom degrees of freedom
     * @param pValue the one-sided p-value of the verdict's direction
     * @param alpha the level of this look, {@code rules.alpha / 2^look}
     * @param look the look number, from 1
     */
    public record TestFigures(
            String test,
            long n,
            double meanDifference,
            Double statistic,
            double degreesOfFreedom,
            double pValue,
            double alpha,
            int look) {}
}
