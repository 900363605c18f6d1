package dev.quiver.host.training;

import dev.quiver.host.backtest.Progress;
import java.util.Locale;

/** What a running job reports to: its progress, and whether it should stop. */
public interface JobContext {

    /**
     * The job's id.
     *
     * @return the id
     */
    String jobId();

    /**
     * Records progress (stored with the job, shown by {@code GET /v1/training/jobs/{id}}).
     *
     * @param fraction fraction done, in [0, 1]
     * @param note what the job is doing
     * @throws JobCancelledException if a cancel was asked (or the thread interrupted): the job
     *     stops there
     */
    void progress(double fraction, String note);

    /**
     * A walk-forward progress that reports each finished fold as progress between {@code from} and
     * {@code to}.
     *
     * @param from the fraction at the first fold's start, in [0, 1]
     * @param to the fraction at the last fold's end, in [from, 1]
     * @return the progress sink for {@code WalkForwardBacktest}
     */
    default Progress walkForward(double from, double to) {
        return (dataset, fold, folds, barsDone, barsTotal) ->
                progress(
                        from + (to - from) * fold / Math.max(1, folds),
                        String.format(
                                Locale.ROOT,
                                "walk-forward %s: fold %d/%d, %,d/%,d bars",
                                dataset,
                                fold,
                                folds,
                                barsDone,
                                barsTotal));
    }
}
