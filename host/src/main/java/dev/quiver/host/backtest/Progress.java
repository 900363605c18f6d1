package dev.quiver.host.backtest;

import java.io.PrintStream;
import java.util.Locale;

/** Where a backtest reports how far it is. Called from the thread running the backtest. */
public interface Progress {

    /** Reports nothing. */
    Progress NONE = (dataset, fold, folds, barsDone, barsTotal) -> {};

    /**
     * Called after each fold.
     *
     * @param dataset data-set name, e.g. {@code btc-usd-4h}
     * @param fold folds finished, {@code 1..folds}
     * @param folds number of folds
     * @param barsDone bars of the series processed so far (index of the last test bar + 1)
     * @param barsTotal bars in the series
     */
    void update(String dataset, int fold, int folds, int barsDone, int barsTotal);

    /**
     * Called by the walk-forward run after each fold is finished: every source fitted and its test
     * bars forecast, and every policy's book stepped through them. (With several threads the
     * sources may already be further on; a fold counts once its account pass is done.) The default
     * reports {@link #update}.
     *
     * @param dataset data-set name
     * @param fold folds finished, {@code 1..folds}
     * @param folds number of folds
     * @param barsDone bars of the series processed so far (index of the last test bar + 1)
     * @param barsTotal bars in the series
     * @param testBarsDone test bars stepped so far, {@code >= 1}
     * @param nanos wall time since the run started stepping its first fold (its sources' first fits
     *     included), {@code >= 0}
     */
    default void fold(
            String dataset,
            int fold,
            int folds,
            int barsDone,
            int barsTotal,
            int testBarsDone,
            long nanos) {
        update(dataset, fold, folds, barsDone, barsTotal);
    }

    /**
     * Prints one line per fold, e.g. {@code backtest btc-usd-4h: fold 12/39, 6,510/20,695 bars
     * (31%), 1,234 test bars/s}: the rate is the test bars finished over the wall time so far.
     *
     * @param out where to print, usually {@code System.err}
     * @return the progress printer
     */
    static Progress printingTo(PrintStream out) {
        return new Progress() {
            @Override
            public void update(String dataset, int fold, int folds, int barsDone, int barsTotal) {
                out.println(line(dataset, fold, folds, barsDone, barsTotal));
            }

            @Override
            public void fold(
                    String dataset,
                    int fold,
                    int folds,
                    int barsDone,
                    int barsTotal,
                    int testBarsDone,
                    long nanos) {
                out.println(
                        line(dataset, fold, folds, barsDone, barsTotal)
                                + String.format(
                                        Locale.US,
                                        ", %,.0f test bars/s",
                                        testBarsDone / Math.max(1e-9, nanos / 1e9)));
            }
        };
    }

    private static String line(String dataset, int fold, int folds, int barsDone, int barsTotal) {
        return String.format(
                Locale.ROOT,
                "backtest %s: fold %d/%d, %s/%s bars (%d%%)",
                dataset,
                fold,
                folds,
                String.format(Locale.US, "%,d", barsDone),
                String.format(Locale.US, "%,d", barsTotal),
                barsTotal == 0 ? 100 : Math.round(100.0 * barsDone / barsTotal));
    }

    /**
     * {@link #printingTo} standard error.
     *
     * @return the progress printer
     */
    static Progress stderr() {
        return printingTo(System.err);
    }
}
