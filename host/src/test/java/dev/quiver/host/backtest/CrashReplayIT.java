package dev.quiver.host.backtest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.market.Bar;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.fusion.WeightedFusion;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.risk.BreakerEvent;
import dev.quiver.engine.risk.CircuitBreakers;
import dev.quiver.engine.risk.RiskGuard;
import dev.quiver.engine.trading.Stops;
import dev.quiver.engine.trading.Trade;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.plugin.PluginRuntime;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RELIABILITY.md P12, the breakers part: "replay a synthetic 20% crash: 0 new entries after the
 * breach bar, reductions still allowed". Real BTC-USD 4h bars (the bundled series) replayed bar by
 * bar through the walk-forward backtest, the driver that feeds the same engine ({@code
 * SymbolEngine}) a session steps; at a bar where the {@code fixed} policy is long, the next bar is
 * replaced by a crash of 20% (open at the previous close, close 20% lower) and every later real bar
 * is scaled by the same 0.8, so the series goes on from the crashed price. The real plugins ({@code
 * prediction-traditional}, {@code sizing-fixed}) decide; the breakers have their default limits:
 * maximum drawdown 15% (manual re-arm), daily loss 5% (re-armed by the next UTC day).
 *
 * <ul>
 *   <li>Held at up to 50% of equity, the crash costs up to 10% in one bar: the daily-loss breaker
 *       (5%) arms at the crash bar; from that bar until its re-arm on the next UTC day every target
 *       is 0 (no new entry), and the position is closed (a reduction) at the next open.
 *   <li>Held at 100%, the crash costs 20%: the drawdown breaker (15%) arms at the crash bar; with
 *       the manual re-arm no entry follows to the end of the series; the position is closed at the
 *       next open.
 * </ul>
 */
class CrashReplayIT {

    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));

    /** The crash: 20% in one bar (RELIABILITY.md P12). */
    static final double CRASH = 0.20;

    @TempDir Path work;

    @Test
    void aTwentyPercentCrashArmsTheBreakersAndNoEntryFollowsWhileReductionsPass()
            throws IOException {
        long t0 = System.nanoTime();
        BarData real = BundledData.BTC_USD_4H.load().truncate(2_100);
        WalkForwardBacktest.Config config =
                WalkForwardBacktest.Config.defaults()
                        .withRisk(Stops.NONE, CircuitBreakers.Config.defaults());
        assertThat(config.breakers().maxDrawdown()).isEqualTo(0.15);
        assertThat(config.breakers().dailyLoss()).isEqualTo(0.05);

        try (PluginRuntime at50 = plugins("0.5");
                PluginRuntime at100 = plugins("1.0")) {
            // Where to crash: the first test bar (after 20) where the fixed policy is long and no
            // breaker halts it, at both sizes, on the real bars (the crashed runs are the same
            // up to that bar: point in time).
            PolicyResult fixed50 = run(config, real, at50).policies().get("fixed");
            BacktestResult baseline = run(config, real, at100);
            PolicyResult fixed100 = baseline.policies().get("fixed");
            int firstTest = baseline.folds().get(0).testFirst();
            int crashAt = -1;
            for (int i = firstTest + 20; i < real.size() - 300; i++) {
                int j = i - firstTest;
                if (fixed50.targetFraction()[j] > 0
                        && fixed100.targetFraction()[j] > 0
                        && !fixed50.reasons()[j].contains("circuit")
                        && !fixed100.reasons()[j].contains("circuit")) {
                    crashAt = i + 1;
                    break;
                }
            }
            assertThat(crashAt).as("a long bar to crash after").isPositive();
            BarData crashed = crash(real, crashAt);

            // 50%: the daily-loss breaker.
            check(run(config, crashed, at50), crashAt, 0.5, CircuitBreakers.Breaker.DAILY_LOSS);
            // 100%: the drawdown breaker (and the daily loss with it).
            check(run(config, crashed, at100), crashAt, 1.0, CircuitBreakers.Breaker.MAX_DRAWDOWN);
        }
        System.out.printf("CrashReplayIT: test time %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    /**
     * Checks one run: the breaker armed at the crash bar, every target 0 from that bar until it
     * re-armed (or the end), the position closed at the next open.
     */
    private static void check(
            BacktestResult r, int crashAt, double held, CircuitBreakers.Breaker breaker) {
        PolicyResult p = r.policies().get("fixed");
        int firstTest = r.folds().get(0).testFirst();
        int j = crashAt - firstTest;
        long crashMillis = r.testTimes()[j];
        // The sizing's fraction, or less (the risk guard scales it down in drawdown).
        double into = p.targetFraction()[j - 1];
        assertThat(into).as("held into the crash (sizing %.0f%%)", 100 * held).isPositive();
        assertThat(into).isLessThanOrEqualTo(held + 1e-9);
        List<BreakerEvent> events =
                r.circuitBreakerEvents().stream()
                        .filter(e -> e.policy().equals("fixed"))
                        .filter(e -> !e.time().isBefore(Instant.ofEpochMilli(crashMillis)))
                        .toList();
        BreakerEvent armed =
                events.stream()
                        .filter(e -> e.breaker() == breaker)
                        .filter(e -> e.event() == BreakerEvent.Kind.ARMED)
                        .findFirst()
                        .orElseThrow(
                                () ->
                                        new AssertionError(
                                                breaker
                                                        + " did not arm after the crash: "
                                                        + events));
        assertThat(armed.time())
                .as("%s armed at the crash bar", breaker)
                .isEqualTo(Instant.ofEpochMilli(crashMillis));
        // Until the re-arm (daily loss: the next UTC day; drawdown: never, manual), no new risk.
        long until =
                events.stream()
                        .filter(e -> e.breaker() == breaker)
                        .filter(e -> e.event() == BreakerEvent.Kind.REARMED)
                        .filter(e -> e.time().isAfter(armed.time()))
                        .map(e -> e.time().toEpochMilli())
                        .findFirst()
                        .orElse(Long.MAX_VALUE);
        int halted = 0;
        int named = 0;
        for (int k = j; k < r.testTimes().length && r.testTimes()[k] < until; k++) {
            assertThat(p.targetFraction()[k])
                    .as("target at test bar %d (%s), %s armed", k, p.reasons()[k], breaker)
                    .isZero();
            halted++;
            // A bar where the policy itself wanted to be flat keeps its own reason.
            named += p.reasons()[k].contains(breaker.label()) ? 1 : 0;
        }
        assertThat(halted).isPositive();
        // Where the policy wanted risk, the breaker took it away and says so.
        assertThat(named).as("halted decisions naming %s", breaker).isPositive();
        // The reduction: the trade that was open at the crash closes at the next open.
        Instant nextOpen = Instant.ofEpochMilli(r.testTimes()[j + 1]);
        List<Trade> exits =
                p.trades().stream()
                        .filter(t -> !t.entry().isAfter(Instant.ofEpochMilli(crashMillis)))
                        .filter(t -> t.exit().equals(nextOpen))
                        .toList();
        assertThat(exits).as("the position closed at the next open").hasSize(1);
        assertThat(exits.get(0).grossPnl()).isNegative();
        // And no trade enters from the crash bar until the re-arm.
        assertThat(p.trades())
                .as("entries after the breach bar while %s is armed", breaker)
                .noneMatch(
                        t ->
                                t.entry().isAfter(Instant.ofEpochMilli(crashMillis))
                                        && t.entry().toEpochMilli() < until);
        System.out.printf(
                "CrashReplayIT: sizing %.0f%%, held %.1f%%, crash of %.0f%% at %s: %s armed (value"
                        + " %.4f), %d bars with target 0 until %s (%d of them wanted risk and name"
                        + " the breaker), exit at %s (gross P&L %.2f)%n",
                100 * held,
                100 * into,
                100 * CRASH,
                armed.time(),
                breaker.label(),
                armed.value(),
                halted,
                until == Long.MAX_VALUE ? "the end (manual re-arm)" : Instant.ofEpochMilli(until),
                named,
                nextOpen,
                exits.get(0).grossPnl());
    }

    /** Bar {@code at} falls 20% from the previous close; every later bar is scaled by 0.8. */
    static BarData crash(BarData real, int at) {
        List<Bar> bars = new ArrayList<>();
        for (int i = 0; i < at; i++) {
            bars.add(real.bar(i));
        }
        Bar before = real.bar(at - 1);
        Bar base = real.bar(at);
        double from = before.close();
        double to = from * (1 - CRASH);
        bars.add(new Bar(base.start(), from, from, to, to, base.volume()));
        double scale = to / real.bar(at + 1).open();
        for (int i = at + 1; i < real.size(); i++) {
            Bar b = real.bar(i);
            bars.add(
                    new Bar(
                            b.start(),
                            b.open() * scale,
                            b.high() * scale,
                            b.low() * scale,
                            b.close() * scale,
                            b.volume()));
        }
        return new BarData(real.symbol(), real.period(), bars);
    }

    private static BacktestResult run(
            WalkForwardBacktest.Config config, BarData bars, PluginRuntime plugins) {
        // Without the input gate: it would abstain on the crash bar (a move beyond 20 ATRs) before
        // the breakers this test is about are asked (InputGateTest covers the gate).
        return new WalkForwardBacktest(config)
                .withoutGate()
                .run(
                        FeaturePipeline.compute(bars),
                        plugins.predictions(),
                        new WeightedFusion(),
                        plugins.sizings(),
                        new RiskGuard(),
                        Progress.NONE);
    }

    /** The distribution's traditional source and fixed sizing, holding {@code fraction}. */
    private PluginRuntime plugins(String fraction) throws IOException {
        Path dir = work.resolve("plugins-" + fraction);
        Files.createDirectories(dir);
        for (String id : List.of("prediction-traditional", "sizing-fixed")) {
            try (var zips =
                    Files.newDirectoryStream(DISTRIBUTION.resolve("plugins"), id + "-*.zip")) {
                for (Path zip : zips) {
                    Files.copy(zip, dir.resolve(zip.getFileName()));
                }
            }
        }
        Properties props = new Properties();
        try (Reader r =
                Files.newBufferedReader(
                        DISTRIBUTION.resolve("config/quiver.properties"), StandardCharsets.UTF_8)) {
            props.load(r);
        }
        Map<String, String> config = new HashMap<>();
        props.forEach((k, v) -> config.put(k.toString(), v.toString().trim()));
        config.put("sizing-fixed.fraction", fraction);
        PluginRuntime runtime = PluginRuntime.start(dir, config);
        assertThat(runtime.refusals()).isEmpty();
        return runtime;
    }
}
