package dev.quiver.host.backtest;

import dev.quiver.engine.risk.BreakerEvent;
import dev.quiver.engine.trading.StopExits;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Everything a walk-forward run produced. Only out-of-sample test bars are evaluated.
 *
 * @param dataset data-set name, e.g. {@code btc-usd-4h}
 * @param bars bars in the series
 * @param config the configuration run
 * @param folds the walk-forward folds, in time order
 * @param testTimes start time (epoch ms) of every test bar, in order
 * @param policies one result per sizing policy, by policy name, in the order given
 * @param buyAndHold buy at the first test bar's next open (with costs), hold to the end
 * @param forecasts forecast quality on the test bars, per source and for the ensemble (under its
 *     {@code fused}, whatever the ensemble's own name)
 * @param forecastFailures per source, bars where it threw or returned nothing (left out of that
 *     bar's fusion)
 * @param training per source and for {@code fused}, how it was trained (per fold, once on a stated
 *     span, or not at all) and fit failures
 * @param noSignalBars test bars where no forecast was available or the ensemble failed (every
 *     policy went flat)
 * @param throughputBarsPerSecond test bars processed per second of wall time of the run
 * @param method one-line statement of how the evaluation was done
 * @param circuitBreakerEvents every breaker arming and re-arming, per policy, in time order
 * @param stopExits per policy, the positions the host's stops closed
 * @param intervals per policy and buy-and-hold, 95% stationary-bootstrap intervals of Sharpe, max
 *     drawdown and the Sharpe difference against {@code fixed}
 * @param gate how often the input gate abstained on the test bars, and the fused forecast's quality
 *     on the kept and the abstained bars
 * @param laterBars for each policy trained once on a stated span (descriptor attribute {@code
 *     trained_through}), the policy table on the test bars after that span only; empty when no
 *     policy declares one
 */
public record BacktestResult(
        String dataset,
        int bars,
        WalkForwardBacktest.Config config,
        List<Fold> folds,
        long[] testTimes,
        Map<String, PolicyResult> policies,
        PolicyResult buyAndHold,
        Map<String, ForecastMetrics> forecasts,
        Map<String, Integer> forecastFailures,
        Map<String, String> training,
        int noSignalBars,
        double throughputBarsPerSecond,
        String method,
        List<BreakerEvent> circuitBreakerEvents,
        Map<String, StopExits> stopExits,
        Map<String, Bootstrap.Intervals> intervals,
        GateSummary gate,
        List<LaterBars> laterBars) {

    /**
     * First test bar's start.
     *
     * @return the instant
     */
    public Instant testStart() {
        return Instant.ofEpochMilli(testTimes[0]);
    }

    /**
     * Last test bar's start.
     *
     * @return the instant
     */
    public Instant testEnd() {
        return Instant.ofEpochMilli(testTimes[testTimes.length - 1]);
    }
}
