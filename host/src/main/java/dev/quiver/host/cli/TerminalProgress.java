package dev.quiver.host.cli;

import dev.quiver.host.backtest.Progress;
import java.io.PrintStream;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.jline.terminal.spi.SystemStream;
import org.jline.terminal.spi.TerminalProvider;

/**
 * How a walk-forward job shows how far it is on standard error: a progress bar redrawn in place
 * (me.tongfei:progressbar) when standard error is a terminal, else one line per fold, so a CI log
 * gets a few dozen plain lines and never a stream of carriage returns.
 *
 * <p>The bar counts the series' bars (train windows included, as the folds walk forward) and says
 * the fold and the test-bar rate beside it; a new bar starts for each data set. Close it when the
 * job is done (or {@link #finish} it before printing) so the last state is printed and the line
 * ended.
 */
final class TerminalProgress implements Progress, AutoCloseable {

    /** What {@code --progress} accepts. */
    enum Mode {
        /**
         * A bar when standard error is a terminal (and {@code TERM} is not {@code dumb}), else
         * lines.
         */
        AUTO,
        /** Always the redrawn bar. */
        BAR,
        /** One line per fold ({@link Progress#printingTo}). */
        LINES,
        /** Nothing. */
        NONE;

        static Mode parse(String text) {
            for (Mode m : values()) {
                if (m.name().equalsIgnoreCase(text.trim())) {
                    return m;
                }
            }
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] --progress "
                            + text
                            + ": expected auto, bar, lines or none");
        }
    }

    /** Columns the bar uses when the terminal's width is unknown. */
    static final int DEFAULT_WIDTH = 100;

    private final PrintStream out;
    private final Mode mode;
    private final Progress lines;
    private final int width;
    private ProgressBar bar;
    private EndingConsumer consumer;
    private String dataset;

    /**
     * The library's console consumer, remembering whether the library ended the bar's line.
     * progressbar 0.10.1 ends it only if its refresh task ran once before {@link
     * ProgressBar#close()}; a bar closed sooner (folds faster than the first refresh) would leave
     * the line open, and the next output would run on after it.
     */
    private static final class EndingConsumer extends ConsoleProgressBarConsumer {
        private volatile boolean ended;

        EndingConsumer(PrintStream out, int width) {
            super(out, width);
        }

        @Override
        public void close() {
            ended = true;
            super.close();
        }
    }

    private TerminalProgress(PrintStream out, Mode mode, int width) {
        this.out = out;
        this.mode = mode;
        this.lines = Progress.printingTo(out);
        this.width = width;
    }

    /**
     * The progress display for {@code mode} on {@code out}.
     *
     * @param mode the {@code --progress} choice
     * @param out standard error, usually
     * @return the display; {@link #mode()} says what {@link Mode#AUTO} chose
     */
    static TerminalProgress open(Mode mode, PrintStream out) {
        if (mode == Mode.AUTO) {
            boolean dumb = "dumb".equals(System.getenv("TERM"));
            int width = dumb ? -1 : stderrTerminalWidth();
            return width < 0
                    ? new TerminalProgress(out, Mode.LINES, DEFAULT_WIDTH)
                    : new TerminalProgress(out, Mode.BAR, width == 0 ? DEFAULT_WIDTH : width);
        }
        return new TerminalProgress(out, mode, DEFAULT_WIDTH);
    }

    /**
     * The width of standard error's terminal: {@code -1} when it is not a terminal (a file, a pipe,
     * a CI log), {@code 0} when it is one of unknown width. Asked through JLine's {@code exec}
     * provider ({@code test -t 2}, {@code stty}), which needs no native library.
     */
    private static int stderrTerminalWidth() {
        try {
            TerminalProvider provider = TerminalProvider.load("exec");
            if (!provider.isSystemStream(SystemStream.Error)) {
                return -1;
            }
            return Math.max(0, provider.systemStreamWidth(SystemStream.Error));
        } catch (java.io.IOException | RuntimeException | LinkageError e) {
            // Not knowing is not an error: plain lines are always safe.
            return -1;
        }
    }

    /** {@link Mode#BAR}, {@link Mode#LINES} or {@link Mode#NONE}: what this display does. */
    Mode mode() {
        return mode;
    }

    @Override
    public void update(String dataset, int fold, int folds, int barsDone, int barsTotal) {
        switch (mode) {
            case LINES -> lines.update(dataset, fold, folds, barsDone, barsTotal);
            case BAR -> step(dataset, barsDone, barsTotal, "");
            default -> {}
        }
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
        switch (mode) {
            case LINES ->
                    lines.fold(dataset, fold, folds, barsDone, barsTotal, testBarsDone, nanos);
            case BAR ->
                    step(
                            dataset,
                            barsDone,
                            barsTotal,
                            String.format(
                                    Locale.US,
                                    "fold %d/%d, %,.0f test bars/s",
                                    fold,
                                    folds,
                                    testBarsDone / Math.max(1e-9, nanos / 1e9)));
            default -> {}
        }
    }

    private void step(String name, int barsDone, int barsTotal, String message) {
        if (bar != null && !name.equals(dataset)) {
            closeBar();
        }
        if (bar == null) {
            dataset = name;
            consumer = new EndingConsumer(out, width);
            bar =
                    new ProgressBarBuilder()
                            .setTaskName("backtest " + name)
                            .setInitialMax(barsTotal)
                            .setUnit(" bars", 1)
                            .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
                            .setConsumer(consumer)
                            .setUpdateIntervalMillis(500)
                            .build();
        }
        bar.setExtraMessage(message);
        bar.stepTo(barsDone);
    }

    /**
     * Prints the bar's last state and ends its line (before a report goes to the terminal); a later
     * update starts a new bar.
     */
    void finish() {
        if (bar != null) {
            closeBar();
        }
        out.flush();
    }

    /** Closes the bar (its last state drawn) and makes sure its line is ended. */
    private void closeBar() {
        bar.close();
        if (!consumer.ended) {
            consumer.close();
        }
        bar = null;
        consumer = null;
    }

    /** {@link #finish()}. */
    @Override
    public void close() {
        finish();
    }
}
