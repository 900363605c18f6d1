package dev.quiver.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.testkit.FixtureSeries;
import dev.quiver.testkit.Fixtures;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The decorators and their guard, with in-process misbehaving fakes. */
class PluginGuardTest {

    static final FixtureSeries FX = FixtureSeries.btcUsd4h();
    static final IsolationPolicy FAST =
            new IsolationPolicy(Duration.ofMillis(100), Duration.ofSeconds(5), 3, 2, 2);

    static final IsolationPolicy UNHURRIED =
            new IsolationPolicy(Duration.ofSeconds(5), Duration.ofSeconds(5), 3, 2, 2);

    final CountDownLatch never = new CountDownLatch(1);
    PluginGuard guard = new PluginGuard("bad-plugin", FAST);

    @AfterEach
    void release() {
        never.countDown();
        guard.close();
    }

    static PredictionCapability fake(BiFunction<Integer, FeatureFrame, Forecast> body) {
        return new PredictionCapability() {
            int calls;

            @Override
            public CapabilityDescriptor descriptor() {
                return new CapabilityDescriptor("fake", "1.0.0", Map.of("horizon", "1"));
            }

            @Override
            public Forecast forecast(FeatureFrame frame) {
                return body.apply(++calls, frame);
            }
        };
    }

    static Forecast ok(FeatureFrame f) {
        return new Forecast("fake", f.bar().start(), 1, 0.5, Map.of());
    }

    PredictionCapability guarded(BiFunction<Integer, FeatureFrame, Forecast> body) {
        return new GuardedPrediction(fake(body), guard, 1L);
    }

    /** A source with a batch path whose batch result is {@code body} of the frames. */
    static PredictionCapability batchFake(
            java.util.function.Function<java.util.List<FeatureFrame>, java.util.List<Forecast>>
                    body) {
        return new PredictionCapability() {
            @Override
            public CapabilityDescriptor descriptor() {
                return new CapabilityDescriptor("fake", "1.0.0", Map.of("horizon", "1"));
            }

            @Override
            public Forecast forecast(FeatureFrame frame) {
                return ok(frame);
            }

            @Override
            public int forecastBatchSize() {
                return 8;
            }

            @Override
            public java.util.List<Forecast> forecastBatch(java.util.List<FeatureFrame> frames) {
                return body.apply(frames);
            }
        };
    }

    @Test
    void aBatchIsOneGuardedCallWhoseEveryForecastIsChecked() {
        var frames = java.util.List.of(FX.frame(100), FX.frame(101), FX.frame(102));
        var good =
                new GuardedPrediction(
                        batchFake(fs -> fs.stream().map(PluginGuardTest::ok).toList()), guard, 1L);
        assertThat(good.forecastBatchSize()).isEqualTo(8);
        assertThat(good.forecastBatch(frames))
                .containsExactly(ok(frames.get(0)), ok(frames.get(1)), ok(frames.get(2)));
        var declined =
                new GuardedPrediction(
                        batchFake(
                                fs -> {
                                    throw new QuiverInputException(
                                            "IN_TRAINING_SPAN", "bar", "fake", 1, "declined");
                                }),
                        guard,
                        1L);
        assertThatThrownBy(() -> declined.forecastBatch(frames))
                .isInstanceOf(QuiverInputException.class);
        assertThat(guard.health().failures()).as("a declined batch is no failure").isZero();
        var shortBatch =
                new GuardedPrediction(batchFake(fs -> java.util.List.of(ok(fs.get(0)))), guard, 1L);
        assertThatThrownBy(() -> shortBatch.forecastBatch(frames))
                .isInstanceOf(PluginCallException.class)
                .hasMessageContaining("returned 1 forecasts for 3 frames");
        var misdated =
                new GuardedPrediction(
                        batchFake(
                                fs ->
                                        java.util.List.of(
                                                ok(fs.get(0)), ok(fs.get(0)), ok(fs.get(2)))),
                        guard,
                        1L);
        assertThatThrownBy(() -> misdated.forecastBatch(frames))
                .isInstanceOf(PluginCallException.class)
                .hasMessageContaining("not the decision bar " + frames.get(1).bar().start());
        assertThat(guard.health().failures()).isEqualTo(2);
    }

    @Test
    void aGoodCallPassesThroughOnThePluginsOwnThread() {
        var seen = new String[1];
        var p =
                guarded(
                        (n, f) -> {
                            seen[0] = Thread.currentThread().getName();
                            return ok(f);
                        });
        assertThat(p.forecast(FX.frame(100))).isEqualTo(ok(FX.frame(100)));
        assertThat(seen[0]).startsWith("quiver-plugin-bad-plugin-");
        assertThat(guard.health().state()).isEqualTo("ACTIVE");
    }

    @Test
    void throwingIsAFailureAndThreeInARowQuarantine() {
        var p =
                guarded(
                        (n, f) -> {
                            if (n == 2) {
                                throw new StackOverflowError();
                            }
                            throw new IllegalStateException("boom " + n);
                        });
        assertThatThrownBy(() -> p.forecast(FX.frame(100)))
                .isInstanceOf(PluginCallException.class)
                .hasMessage(
                        "[Quiver/CAPABILITY_FAILED] capability 'fake': [PLUGIN_THREW] plugin"
                                + " 'bad-plugin': forecast threw java.lang.IllegalStateException:"
                                + " boom 1");
        assertThatThrownBy(() -> p.forecast(FX.frame(100)))
                .hasMessageContaining("threw java.lang.StackOverflowError");
        assertThat(guard.health().state()).isEqualTo("ACTIVE");
        assertThatThrownBy(() -> p.forecast(FX.frame(100))).hasMessageContaining("boom 3");
        PluginHealth h = guard.health();
        assertThat(h.state()).isEqualTo("QUARANTINED");
        assertThat(h.reason())
                .isEqualTo(
                        "3 consecutive failed calls, the last: forecast threw"
                                + " java.lang.IllegalStateException: boom 3");
        // Quarantined: fails at once, the plugin is not called again.
        assertThatThrownBy(() -> p.forecast(FX.frame(100)))
                .isInstanceOfSatisfying(
                        PluginCallException.class,
                        e -> assertThat(e.code()).isEqualTo("PLUGIN_QUARANTINED"))
                .hasMessageContaining("is quarantined until it is reloaded: 3 consecutive");
        assertThat(guard.health().calls()).isEqualTo(3);
    }

    @Test
    void aSuccessResetsTheConsecutiveCount() {
        var p = guarded((n, f) -> n % 2 == 0 ? ok(f) : fake((a, b) -> null).forecast(f));
        for (int i = 0; i < 20; i++) {
            try {
                p.forecast(FX.frame(100));
            } catch (PluginCallException e) {
                assertThat(e.code()).isEqualTo("PLUGIN_GARBAGE");
            }
        }
        assertThat(guard.health().state()).isEqualTo("ACTIVE");
        assertThat(guard.health().failures()).isEqualTo(10);
    }

    @Test
    void hangingIsCutOffAtTheDeadlineAndRepeatedMissesQuarantineWithThreadsCapped() {
        var p =
                guarded(
                        (n, f) -> {
                            while (true) { // ignores interrupts, as a badly written plugin would
                                try {
                                    never.await();
                                    return ok(f);
                                } catch (InterruptedException ignored) {
                                    // keep hanging
                                }
                            }
                        });
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> p.forecast(FX.frame(100)))
                .hasMessageEndingWith("forecast did not return within its deadline of 100 ms");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
        assertThatThrownBy(() -> p.forecast(FX.frame(100)))
                .isInstanceOfSatisfying(
                        PluginCallException.class,
                        e -> assertThat(e.code()).isEqualTo("PLUGIN_DEADLINE"));
        PluginHealth h = guard.health();
        assertThat(h.state()).isEqualTo("QUARANTINED");
        assertThat(h.deadlineMisses()).isEqualTo(2);
        assertThat(h.reason()).startsWith("2 missed deadlines");
        assertThat(h.liveThreads()).isLessThanOrEqualTo(FAST.maxThreads());
        for (int i = 0; i < 50; i++) {
            assertThatThrownBy(() -> p.forecast(FX.frame(100)))
                    .isInstanceOf(PluginCallException.class);
        }
        assertThat(guard.health().liveThreads()).isLessThanOrEqualTo(FAST.maxThreads());
    }

    static final IsolationPolicy WATCHED =
            new IsolationPolicy(
                    Duration.ofMillis(100),
                    Duration.ofSeconds(5),
                    3,
                    2,
                    2,
                    IsolationPolicy.Mode.WATCHDOG);

    @Test
    void withTheWatchdogAGoodCallRunsOnTheCallersThread() {
        guard = new PluginGuard("bad-plugin", WATCHED);
        var seen = new Thread[1];
        var p =
                guarded(
                        (n, f) -> {
                            seen[0] = Thread.currentThread();
                            return ok(f);
                        });
        for (int i = 0; i < 1_000; i++) {
            assertThat(p.forecast(FX.frame(100))).isEqualTo(ok(FX.frame(100)));
        }
        assertThat(seen[0]).isSameAs(Thread.currentThread());
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
        PluginHealth h = guard.health();
        assertThat(h.state()).isEqualTo("ACTIVE");
        assertThat(h.calls()).isEqualTo(1_000);
        assertThat(h.liveThreads()).isZero();
    }

    @Test
    void theWatchdogCutsOffACallThatHonoursInterruptsAtItsDeadline() {
        guard = new PluginGuard("bad-plugin", WATCHED);
        var p =
                guarded(
                        (n, f) -> {
                            try {
                                never.await();
                                return ok(f);
                            } catch (InterruptedException e) {
                                // a well written plugin gives up when interrupted
                                throw new IllegalStateException("interrupted", e);
                            }
                        });
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> p.forecast(FX.frame(100)))
                .isInstanceOfSatisfying(
                        PluginCallException.class,
                        e -> assertThat(e.code()).isEqualTo("PLUGIN_DEADLINE"))
                .hasMessageContaining("forecast did not return within its deadline of 100 ms (it")
                .hasMessageContaining("threw java.lang.IllegalStateException: interrupted after")
                .hasMessageEndingWith("ms); the late result is not used");
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(100));
        assertThat(took).isLessThan(Duration.ofSeconds(2));
        // The watchdog's interrupt was for the plugin: the caller's thread is not left interrupted.
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
        PluginHealth h = guard.health();
        assertThat(h.deadlineMisses()).isEqualTo(1);
        assertThat(h.failures()).isEqualTo(1);
        assertThat(h.state()).isEqualTo("ACTIVE");
        assertThat(h.reason())
                .isEqualTo(
                        "PLUGIN_DEADLINE: forecast did not return within its deadline of 100 ms");
    }

    @Test
    void theWatchdogQuarantinesAPluginHungOnItsCallersWhileTheyAreStillInside() throws Exception {
        guard = new PluginGuard("bad-plugin", WATCHED);
        var entered = new CountDownLatch(2);
        var p =
                guarded(
                        (n, f) -> {
                            entered.countDown();
                            while (true) { // ignores interrupts, as a badly written plugin would
                                try {
                                    never.await();
                                    return ok(f);
                                } catch (InterruptedException ignored) {
                                    // keep hanging
                                }
                            }
                        });
        var failures = new java.util.concurrent.ConcurrentLinkedQueue<Throwable>();
        var callers = new ArrayList<Thread>();
        for (int i = 0; i < 2; i++) {
            Thread t =
                    new Thread(
                            () -> {
                                try {
                                    p.forecast(FX.frame(100));
                                } catch (RuntimeException e) {
                                    failures.add(e);
                                }
                            },
                            "caller-" + i);
            t.start();
            callers.add(t);
        }
        assertThat(entered.await(5, TimeUnit.SECONDS)).isTrue();
        // Both callers are stuck inside the plugin; the watchdog quarantines it at their deadline,
        // without waiting for them to return.
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!guard.health().quarantined() && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        PluginHealth h = guard.health();
        assertThat(h.state()).isEqualTo("QUARANTINED");
        assertThat(h.deadlineMisses()).isEqualTo(2);
        assertThat(h.reason())
                .isEqualTo(
                        "2 missed deadlines in its last 20 calls (calls 1, 2), the last: forecast"
                                + " did not return within its deadline of 100 ms");
        assertThat(h.liveThreads()).isEqualTo(2);
        assertThat(callers).allSatisfy(t -> assertThat(t.isAlive()).isTrue());
        // A new call does not enter the plugin.
        assertThatThrownBy(() -> p.forecast(FX.frame(100)))
                .isInstanceOfSatisfying(
                        PluginCallException.class,
                        e -> assertThat(e.code()).isEqualTo("PLUGIN_QUARANTINED"));
        assertThat(guard.health().calls()).isEqualTo(2);
        // When the plugin finally returns, its late results are refused and not counted again.
        never.countDown();
        for (Thread t : callers) {
            t.join(5_000);
            assertThat(t.isAlive()).isFalse();
        }
        assertThat(failures)
                .hasSize(2)
                .allSatisfy(
                        e ->
                                assertThat(e)
                                        .isInstanceOfSatisfying(
                                                PluginCallException.class,
                                                x ->
                                                        assertThat(x.code())
                                                                .isEqualTo("PLUGIN_DEADLINE"))
                                        .hasMessageContaining("(it returned after")
                                        .hasMessageEndingWith("the late result is not used"));
        assertThat(guard.health().deadlineMisses()).isEqualTo(2);
        assertThat(guard.health().failures()).isEqualTo(2);
        assertThat(guard.health().liveThreads()).isZero();
    }

    @Test
    void sameThreadChecksTheDeadlineWhenTheCallReturns() {
        guard =
                new PluginGuard(
                        "bad-plugin",
                        new IsolationPolicy(
                                Duration.ofMillis(20),
                                Duration.ofSeconds(5),
                                3,
                                2,
                                2,
                                IsolationPolicy.Mode.SAME_THREAD));
        var p =
                guarded(
                        (n, f) -> {
                            try {
                                Thread.sleep(60);
                            } catch (InterruptedException e) {
                                throw new IllegalStateException(e);
                            }
                            return ok(f);
                        });
        assertThatThrownBy(() -> p.forecast(FX.frame(100)))
                .hasMessageEndingWith(
                        "forecast returned after its deadline of 20 ms; the late result is not used");
        assertThat(guard.health().deadlineMisses()).isEqualTo(1);
    }

    @Test
    void garbageForecastsAreRefusedWithTheirReason() {
        // Not about deadlines: a 5 s one, so a loaded machine's first call (thread start, class
        // loading) cannot turn a garbage answer into a missed deadline.
        guard = new PluginGuard("bad-plugin", UNHURRIED);
        FeatureFrame frame = FX.frame(100);
        assertThatThrownBy(() -> guarded((n, f) -> null).forecast(frame))
                .hasMessageEndingWith("forecast returned null");
        assertThatThrownBy(() -> guarded((n, f) -> ok(FX.frame(99))).forecast(frame))
                .hasMessageContaining("returned a forecast for bar " + FX.frame(99).bar().start())
                .hasMessageEndingWith("not the decision bar " + frame.bar().start());
        guard = new PluginGuard("bad-plugin", UNHURRIED);
        assertThatThrownBy(
                        () ->
                                guarded(
                                                (n, f) ->
                                                        new Forecast(
                                                                "fake",
                                                                f.bar().start(),
                                                                4,
                                                                0.5,
                                                                Map.of()))
                                        .forecast(frame))
                .hasMessageEndingWith("returned horizon 4 bars; its capability declares horizon=1");
        assertThatThrownBy(
                        () ->
                                guarded(
                                                (n, f) ->
                                                        new Forecast(
                                                                "fake",
                                                                f.bar().start(),
                                                                1,
                                                                Double.NaN,
                                                                Map.of()))
                                        .forecast(frame))
                .isInstanceOfSatisfying(
                        PluginCallException.class,
                        e -> assertThat(e.code()).isEqualTo("PLUGIN_GARBAGE"))
                .hasMessageContaining("forecast built an invalid value: ")
                .hasMessageContaining("field 'probabilityUp' is not in [0, 1] (value: NaN)");
        guard = new PluginGuard("bad-plugin", UNHURRIED);
        assertThatThrownBy(
                        () ->
                                guarded(
                                                (n, f) ->
                                                        new Forecast(
                                                                "other",
                                                                f.bar().start(),
                                                                1,
                                                                0.5,
                                                                Map.of()))
                                        .forecast(frame))
                .hasMessageEndingWith("returned source 'other', not its name 'fake'");
    }

    @Test
    void aDeclinedInputPassesOnAndNeverQuarantines() {
        var p =
                guarded(
                        (n, f) -> {
                            throw new QuiverInputException(
                                    "SHORT_HISTORY", "window", "fake", 3, "has fewer than 32 rows");
                        });
        for (int i = 0; i < 10; i++) {
            assertThatThrownBy(() -> p.forecast(FX.frame(100)))
                    .isInstanceOf(QuiverInputException.class)
                    .isNotInstanceOf(PluginCallException.class);
        }
        assertThat(guard.health().state()).isEqualTo("ACTIVE");
    }

    @Test
    void sizingAboveTheCapOrNullIsGarbage() {
        SizingCapability huge =
                new SizingCapability() {
                    @Override
                    public CapabilityDescriptor descriptor() {
                        return CapabilityDescriptor.of("huge", "1.0.0");
                    }

                    @Override
                    public SizingDecision size(SizingContext context) {
                        return context.signal().probabilityUp() > 0.5
                                ? new SizingDecision(1e308, "all in", Map.of())
                                : null;
                    }
                };
        var s = new GuardedSizing(huge, guard);
        assertThatThrownBy(() -> s.size(Fixtures.sizing(0.9, 1, 0.25)))
                .hasMessageEndingWith("size returned fraction 1.0E308, above the host cap 0.25");
        assertThatThrownBy(() -> s.size(Fixtures.sizing(0.1, 1, 0.25)))
                .hasMessageEndingWith("size returned null");
        // The host's risk guard turns the failure into a flat decision with the reason.
        var d = new dev.quiver.engine.risk.RiskGuard().decide(s, Fixtures.sizing(0.9, 1, 0.25));
        assertThat(d.fraction()).isZero();
        assertThat(guard.health().state()).isEqualTo("QUARANTINED");
    }

    @Test
    void policyComesFromConfigurationAndBadValuesAreNamed() {
        assertThat(IsolationPolicy.from(Map.of("quiver.plugin.deadline-ms", "50")).deadline())
                .isEqualTo(Duration.ofMillis(50));
        assertThatThrownBy(() -> IsolationPolicy.from(Map.of("quiver.plugin.max-threads", "0")))
                .hasMessage(
                        "[Quiver/BAD_CONFIG] quiver.plugin.max-threads must be a positive integer (value: 0)");
        assertThat(IsolationPolicy.defaults().mode()).isEqualTo(IsolationPolicy.Mode.WATCHDOG);
        assertThat(IsolationPolicy.from(Map.of("quiver.plugin.isolation", "thread")).mode())
                .isEqualTo(IsolationPolicy.Mode.THREAD);
        assertThat(IsolationPolicy.from(Map.of("quiver.plugin.isolation", "same-thread")).mode())
                .isEqualTo(IsolationPolicy.Mode.SAME_THREAD);
        assertThatThrownBy(() -> IsolationPolicy.from(Map.of("quiver.plugin.isolation", "fiber")))
                .hasMessage(
                        "[Quiver/BAD_CONFIG] quiver.plugin.isolation=fiber is not one of watchdog,"
                                + " thread, same-thread");
    }

    /** Slow (150 ms, past a 100 ms deadline) on every {@code every}-th call. */
    PredictionCapability slowEvery(int every) {
        return guarded(
                (n, f) -> {
                    if (n % every == 0) {
                        try {
                            Thread.sleep(150);
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                    }
                    return ok(f);
                });
    }

    static final IsolationPolicy RATE =
            IsolationPolicy.from(
                    Map.of(
                            "quiver.plugin.isolation", "same-thread",
                            "quiver.plugin.deadline-ms", "100",
                            "quiver.plugin.quarantine-after-deadline-misses", "3",
                            "quiver.plugin.deadline-miss-window-calls", "20"));

    @Test
    void missesBelowTheDeclaredRateNeverQuarantineAtOrAboveItTheyDo() {
        // 1 miss in 10 calls: at most 2 in any 20, below 3 in 20.
        guard = new PluginGuard("bad-plugin", RATE);
        var below = slowEvery(10);
        int misses = 0;
        for (int i = 0; i < 100; i++) {
            try {
                below.forecast(FX.frame(100));
            } catch (PluginCallException e) {
                assertThat(e.code()).isEqualTo("PLUGIN_DEADLINE");
                misses++;
            }
        }
        assertThat(misses).isGreaterThanOrEqualTo(10);
        assertThat(guard.health().state()).isEqualTo("ACTIVE");
        assertThat(guard.health().deadlineMisses()).isEqualTo(misses);
        guard.close();

        // 1 in 7: the 3rd miss (call 21) is within 20 calls of the 1st (call 7).
        guard = new PluginGuard("bad-plugin", RATE);
        var above = slowEvery(7);
        for (int i = 0; i < 21; i++) {
            try {
                above.forecast(FX.frame(100));
            } catch (PluginCallException e) {
                assertThat(e.code()).isEqualTo("PLUGIN_DEADLINE");
            }
        }
        PluginHealth h = guard.health();
        assertThat(h.state()).isEqualTo("QUARANTINED");
        assertThat(h.reason())
                .isEqualTo(
                        "3 missed deadlines in its last 20 calls (calls 7, 14, 21), the last:"
                                + " forecast returned after its deadline of 100 ms; the late"
                                + " result is not used");
        assertThatThrownBy(() -> above.forecast(FX.frame(100)))
                .isInstanceOfSatisfying(
                        PluginCallException.class,
                        e -> assertThat(e.code()).isEqualTo("PLUGIN_QUARANTINED"));
    }

    @Test
    void theMissWindowIsDeclaredAndCannotBeShorterThanItsThreshold() {
        assertThat(IsolationPolicy.defaults().deadlineMissWindowCalls()).isEqualTo(20);
        assertThat(IsolationPolicy.defaults().quarantineAfterDeadlineMisses()).isEqualTo(3);
        assertThatThrownBy(
                        () ->
                                IsolationPolicy.from(
                                        Map.of("quiver.plugin.deadline-miss-window-calls", "2")))
                .hasMessageContaining("quiver.plugin.deadline-miss-window-calls >=")
                .hasMessageContaining("window 2 calls");
    }
}
