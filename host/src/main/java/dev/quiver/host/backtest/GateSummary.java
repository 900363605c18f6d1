package dev.quiver.host.backtest;

import java.util.Locale;

/**
 * How the input gate ({@link dev.quiver.engine.gate.InputGate}) judged a run's test bars, and what
 * the fused forecast was worth on the bars it kept and on those it abstained on (scored as if it
 * had acted: the point of the gate is that the abstained bars' forecasts are worse).
 *
 * @param testBars decided test bars (the bars the gate judged)
 * @param abstained bars the gate abstained on
 * @param gap of which failed the gap check
 * @param move of which failed the move check
 * @param distribution of which failed the distribution check
 * @param kept the fused forecast's quality on the kept bars (with a next bar)
 * @param abstainedForecasts the fused forecast's quality on the abstained bars
 * @param method one line: the gate's settings and where its distribution came from
 */
public record GateSummary(
        int testBars,
        int abstained,
        int gap,
        int move,
        int distribution,
        ForecastMetrics kept,
        ForecastMetrics abstainedForecasts,
        String method) {

    /**
     * The share of test bars abstained on.
     *
     * @return in {@code [0, 1]}, NaN without test bars
     */
    public double abstainRate() {
        return testBars == 0 ? Double.NaN : (double) abstained / testBars;
    }

    private static String logLoss(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "-";
    }

    /**
     * One line for the text report.
     *
     * @return e.g. {@code input gate: abstained on 41 of 17,000 test bars (0.24%: gap 0, move 2,
     *     distribution 39); fused log-loss kept 0.6921 (n 16,958) vs abstained 0.7102 (n 41)}
     */
    public String line() {
        return String.format(
                Locale.ROOT,
                "input gate: abstained on %d of %d test bars (%.2f%%: gap %d, move %d,"
                        + " distribution %d); fused log-loss kept %s (n %d) vs abstained %s (n %d)",
                abstained,
                testBars,
                100 * abstainRate(),
                gap,
                move,
                distribution,
                logLoss(kept.logLoss()),
                kept.n(),
                logLoss(abstainedForecasts.logLoss()),
                abstainedForecasts.n());
    }
}
