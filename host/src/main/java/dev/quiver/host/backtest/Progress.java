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
     * Prints one line per fold, e.g. {@code backtest btc-usd-4h: fold 12/39, 6,510/20,695 bars
     * (31%)}.
     *
     * @param out where to print, usually {@code System.err}
     * @return the progress printer
     */
    static Progress printingTo(PrintStream out) {
        return (dataset, fold, folds, barsDone, barsTotal) ->
                out.println(
                        String.format(
                                Locale.ROOT,
                                "backtest %s: fold %d/%d, %s/%s bars (%d%%)",
                                dataset,
                                fold,
                                folds,
                                String.format(Locale.US, "%,d", barsDone),
                                String.format(Locale.US, "%,d", barsTotal),
                                barsTotal == 0 ? 100 : Math.round(100.0 * barsDone / barsTotal)));
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
