package dev.quiver.host.plugin;

import dev.quiver.api.error.QuiverInputException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one plugin's calls, each under a deadline, where its {@link IsolationPolicy.Mode} says (on
 * the caller's thread watched by the {@link CallWatchdog}, on the plugin's own capped pool, or on
 * the caller's thread checked on return), and keeps its health: a call that throws, misses its
 * deadline or returns garbage fails with a {@link PluginCallException} naming the reason; {@code
 * quarantineAfterFailures} consecutive failures, or {@code quarantineAfterDeadlineMisses} missed
 * deadlines among its last {@code deadlineMissWindowCalls} calls (a rate, see {@link
 * IsolationPolicy}), quarantine the plugin: every later call fails at once, and its pool (if it has
 * one) is shut down and abandoned (threads stuck in a plugin cannot be killed; pool threads are
 * daemons, capped at {@code maxThreads}, and die when the call returns).
 *
 * <p>With the watchdog (per-bar calls only; see {@link #PER_BAR}), a miss is counted when the
 * deadline passes, not when the call returns: a plugin hung on the callers' threads is quarantined
 * after {@code quarantineAfterDeadlineMisses} deadlines, so no later call enters it, while the hung
 * callers wait for it to return (they are interrupted at the deadline; the late result is refused).
 *
 * <p>A {@link QuiverInputException} other than a garbage value ({@code BAD_FORECAST}, {@code
 * BAD_SIZING}, {@code BAD_SIGNAL}) is the plugin declining an input it cannot use (e.g. {@code
 * SHORT_HISTORY}): it is passed on as is and does not count towards quarantine.
 *
 * <p>Thread-safe.
 */
final class PluginGuard implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PluginGuard.class);
    private static final int RECENT = 10;
    private static final int QUEUED = 16;

    /**
     * The per-bar calls, which {@link IsolationPolicy.Mode#WATCHDOG} runs on the caller's thread.
     * The rest (fit, state export and restore, {@code hasFittedState}, model export) are rare and
     * long: they run on the plugin's own pool, where the per-thread caches that training libraries
     * leave (NativePluginReloadIT found ensemble-gbm's class loaders kept by its fit on the
     * caller's thread) end with the pool instead of pinning the plugin to the caller's thread.
     */
    private static final java.util.Set<String> PER_BAR =
            java.util.Set.of("forecast", "fuse", "size", "observe", "calibrate");

    private final String pluginId;
    private final IsolationPolicy policy;
    private final ThreadPoolExecutor pool;
    private final AtomicInteger liveThreads = new AtomicInteger();
    private final AtomicInteger callersInside = new AtomicInteger();
    private final AtomicLong calls = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong deadlineMisses = new AtomicLong();
    private final ArrayDeque<String> recent = new ArrayDeque<>();

    /**
     * Sequence numbers (1 = the plugin's first call) of the calls that missed their deadline within
     * the policy's window of latest calls; guarded by this guard's lock.
     */
    private final ArrayDeque<Long> recentMisses = new ArrayDeque<>();

    /** Written under this guard's lock; volatile so a success can skip the lock when it is 0. */
    private volatile int consecutiveFailures;

    private volatile String quarantineReason;

    PluginGuard(String pluginId, IsolationPolicy policy) {
        this.pluginId = pluginId;
        this.policy = policy;
        AtomicInteger n = new AtomicInteger();
        this.pool =
                new ThreadPoolExecutor(
                        policy.maxThreads(),
                        policy.maxThreads(),
                        30,
                        TimeUnit.SECONDS,
                        // Calls wait here while every thread is busy; their deadline includes
                        // the wait. Full only when the threads are stuck and calls pile up.
                        new ArrayBlockingQueue<>(QUEUED),
                        r -> {
                            Thread t =
                                    new Thread(
                                            () -> {
                                                liveThreads.incrementAndGet();
                                                try {
                                                    r.run();
                                                } finally {
                                                    liveThreads.decrementAndGet();
                                                }
                                            },
                                            "quiver-plugin-"
                                                    + pluginId
                                                    + "-"
                                                    + n.incrementAndGet());
                            t.setDaemon(true);
                            return t;
                        });
        pool.allowCoreThreadTimeOut(true);
    }

    String pluginId() {
        return pluginId;
    }

    IsolationPolicy policy() {
        return policy;
    }

    /**
     * Calls {@code body} where the policy's mode says and checks its result.
     *
     * @param capability the capability's name, for messages
     * @param operation e.g. {@code forecast}
     * @param deadline how long the caller waits
     * @param body the plugin call
     * @param garbage what is wrong with a result, or null if it is acceptable
     * @return the accepted result
     * @throws PluginCallException if the call failed or the plugin is quarantined
     * @throws QuiverInputException if the plugin declined the input (passed on as is)
     */
    <T> T call(
            String capability,
            String operation,
            Duration deadline,
            Callable<T> body,
            Function<T, String> garbage) {
        return call(
                capability, operation, deadline, body, Callable::call, (b, v) -> garbage.apply(v));
    }

    /**
     * A per-bar call of one argument: its body and check are built once per capability, so a call
     * allocates nothing of its own (the capturing lambdas of {@link #call(String, String, Duration,
     * Callable, Function)} were a noticeable share of a backtest's allocation).
     *
     * @param <A> the argument's type
     * @param <T> the result's type
     */
    @FunctionalInterface
    interface Body<A, T> {
        /**
         * The plugin call.
         *
         * @param arg its argument
         * @return its result
         * @throws Exception whatever the plugin throws
         */
        T call(A arg) throws Exception;
    }

    /**
     * What is wrong with a per-bar call's result.
     *
     * @param <A> the argument's type
     * @param <T> the result's type
     */
    @FunctionalInterface
    interface Check<A, T> {
        /**
         * Judges a result.
         *
         * @param arg the call's argument
         * @param value its non-null result
         * @return the problem, or null if the result is acceptable
         */
        String problem(A arg, T value);
    }

    /**
     * As {@link #call(String, String, Duration, Callable, Function)}, the body and the check taking
     * the call's argument.
     *
     * @param capability the capability's name, for messages
     * @param operation e.g. {@code forecast}
     * @param deadline how long the caller waits
     * @param arg the call's argument
     * @param body the plugin call
     * @param garbage what is wrong with a result, or null if it is acceptable
     * @return the accepted result
     * @throws PluginCallException if the call failed or the plugin is quarantined
     * @throws QuiverInputException if the plugin declined the input (passed on as is)
     */
    <A, T> T call(
            String capability,
            String operation,
            Duration deadline,
            A arg,
            Body<A, T> body,
            Check<A, T> garbage) {
        String quarantined = quarantineReason;
        if (quarantined != null) {
            throw new PluginCallException(
                    "PLUGIN_QUARANTINED",
                    pluginId,
                    capability,
                    "is quarantined until it is reloaded: " + quarantined,
                    null);
        }
        long sequence = calls.incrementAndGet();
        boolean here =
                switch (policy.mode()) {
                    case SAME_THREAD -> true;
                    case WATCHDOG -> PER_BAR.contains(operation);
                    case THREAD -> false;
                };
        if (here) {
            return callHere(capability, operation, deadline, arg, body, garbage, sequence);
        }
        Future<T> future;
        try {
            future = pool.submit(() -> body.call(arg));
        } catch (RejectedExecutionException e) {
            throw fail(
                    "PLUGIN_POOL_EXHAUSTED",
                    capability,
                    operation
                            + " could not start: all "
                            + policy.maxThreads()
                            + " threads of the plugin are stuck in calls that missed their deadline"
                            + " and "
                            + QUEUED
                            + " calls wait",
                    null);
        }
        T value;
        try {
            value = future.get(deadline.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw missed(
                    sequence,
                    capability,
                    operation
                            + " did not return within its deadline of "
                            + deadline.toMillis()
                            + " ms");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof QuiverInputException q && !isGarbage(q.code())) {
                throw q;
            }
            boolean garbageValue = cause instanceof QuiverInputException;
            throw fail(
                    garbageValue ? "PLUGIN_GARBAGE" : "PLUGIN_THREW",
                    capability,
                    operation + (garbageValue ? " built an invalid value: " : " threw ") + cause,
                    cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            future.cancel(true);
            throw new PluginCallException(
                    "PLUGIN_INTERRUPTED", pluginId, capability, operation + " was interrupted", e);
        }
        String problem = value == null ? "returned null" : garbage.problem(arg, value);
        if (problem != null) {
            throw fail("PLUGIN_GARBAGE", capability, operation + " " + problem, null);
        }
        resetConsecutiveFailures();
        return value;
    }

    /**
     * A successful call ends a run of failures. Takes the lock only when there is a run to end: a
     * call per bar in a backtest then pays no lock.
     */
    private void resetConsecutiveFailures() {
        if (consecutiveFailures != 0) {
            synchronized (this) {
                consecutiveFailures = 0;
            }
        }
    }

    /**
     * {@link #call} on the caller's thread: the same checks, a late result refused. With the
     * watchdog the miss is counted (and the plugin perhaps quarantined) when the deadline passes,
     * by {@link #overdue}; without it, when the call returns.
     */
    private <A, T> T callHere(
            String capability,
            String operation,
            Duration deadline,
            A arg,
            Body<A, T> body,
            Check<A, T> garbage,
            long sequence) {
        long started = System.nanoTime();
        CallWatchdog.Call watched =
                policy.mode() == IsolationPolicy.Mode.WATCHDOG
                        ? CallWatchdog.get().enter(this, capability, operation, deadline, sequence)
                        : null;
        callersInside.incrementAndGet();
        T value = null;
        Exception thrown = null;
        boolean reported;
        try {
            try {
                value = body.call(arg);
            } catch (Exception e) {
                thrown = e;
            } catch (LinkageError | StackOverflowError e) {
                thrown = new PluginErrorException(e);
            }
        } finally {
            callersInside.decrementAndGet();
            reported = watched != null && CallWatchdog.get().leave(watched);
        }
        if (reported) {
            // Counted by the watchdog at the deadline: whatever came back is not used.
            throw new PluginCallException(
                    "PLUGIN_DEADLINE",
                    pluginId,
                    capability,
                    operation
                            + " did not return within its deadline of "
                            + deadline.toMillis()
                            + " ms (it "
                            + (thrown == null ? "returned" : "threw " + cause(thrown))
                            + " after "
                            + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)
                            + " ms); the late result is not used",
                    thrown == null ? null : cause(thrown));
        }
        if (thrown instanceof QuiverInputException q) {
            if (!isGarbage(q.code())) {
                throw q;
            }
            throw fail(
                    "PLUGIN_GARBAGE", capability, operation + " built an invalid value: " + q, q);
        }
        if (thrown != null) {
            Throwable e = cause(thrown);
            throw fail("PLUGIN_THREW", capability, operation + " threw " + e, e);
        }
        if (System.nanoTime() - started > deadline.toNanos()) {
            throw missed(
                    sequence,
                    capability,
                    operation
                            + " returned after its deadline of "
                            + deadline.toMillis()
                            + " ms; the late result is not used");
        }
        String problem = value == null ? "returned null" : garbage.problem(arg, value);
        if (problem != null) {
            throw fail("PLUGIN_GARBAGE", capability, operation + " " + problem, null);
        }
        resetConsecutiveFailures();
        return value;
    }

    /** Carries an {@link Error} the plugin threw (linkage, stack overflow) out of the call. */
    private static final class PluginErrorException extends Exception {
        private static final long serialVersionUID = 1L;

        PluginErrorException(Error e) {
            super(e);
        }
    }

    private static Throwable cause(Exception thrown) {
        return thrown instanceof PluginErrorException ? thrown.getCause() : thrown;
    }

    /**
     * The watchdog found a call still inside the plugin past its deadline: counts the miss as a
     * failed call (quarantining by the policy's thresholds). The caller's thread fails the call
     * with {@code PLUGIN_DEADLINE} when the plugin returns, without counting it again.
     */
    void overdue(CallWatchdog.Call call) {
        missed(
                call.sequence,
                call.capability,
                call.operation
                        + " did not return within its deadline of "
                        + call.deadline.toMillis()
                        + " ms");
    }

    /**
     * Counts a missed deadline of call number {@code sequence}: a failed call, and one more miss in
     * the window of the latest calls (which may quarantine the plugin).
     */
    private PluginCallException missed(long sequence, String capability, String reason) {
        deadlineMisses.incrementAndGet();
        return fail("PLUGIN_DEADLINE", capability, reason, null, sequence);
    }

    /**
     * Runs a capability's {@code fit} under the fit deadline, with the same failure accounting as
     * any call.
     *
     * @param capability the capability's name, for messages
     * @param fit the plugin's fit call
     * @throws PluginCallException if the fit failed or the plugin is quarantined
     */
    void fit(String capability, Runnable fit) {
        call(
                capability,
                "fit",
                policy.fitDeadline(),
                () -> {
                    fit.run();
                    return Boolean.TRUE;
                },
                ok -> null);
    }

    /**
     * Closes one of the plugin's extensions, on the caller's thread, also when the plugin is
     * quarantined: a quarantined plugin's native handles must still be freed. A failure is logged,
     * never thrown (closing continues with the next extension).
     *
     * @param capability the capability's name, for the log
     * @param extension the plugin's extension (not the guard's decorator)
     */
    void closeExtension(String capability, AutoCloseable extension) {
        try {
            extension.close();
        } catch (Exception | LinkageError e) {
            log.warn(
                    "[Quiver/EXTENSION_CLOSE_FAILED] capability '{}' of plugin '{}': {}",
                    capability,
                    pluginId,
                    e.toString());
        }
    }

    private static boolean isGarbage(String code) {
        return code.equals("BAD_FORECAST")
                || code.equals("BAD_SIZING")
                || code.equals("BAD_SIGNAL");
    }

    private PluginCallException fail(
            String code, String capability, String reason, Throwable cause) {
        return fail(code, capability, reason, cause, 0);
    }

    /**
     * Counts a failed call and quarantines the plugin when a rule of the policy is met.
     *
     * @param missedSequence the call's sequence number if it missed its deadline, else 0
     */
    private PluginCallException fail(
            String code, String capability, String reason, Throwable cause, long missedSequence) {
        failures.incrementAndGet();
        String quarantine = null;
        synchronized (this) {
            consecutiveFailures++;
            recent.addLast(code + ": " + reason);
            while (recent.size() > RECENT) {
                recent.removeFirst();
            }
            if (missedSequence > 0) {
                recentMisses.addLast(missedSequence);
                // Misses more than a window's length of calls ago no longer count. Under
                // concurrent calls misses may arrive out of order, hence the whole scan.
                long latest = Math.max(missedSequence, calls.get());
                recentMisses.removeIf(s -> s <= latest - policy.deadlineMissWindowCalls());
            }
            if (quarantineReason == null) {
                if (consecutiveFailures >= policy.quarantineAfterFailures()) {
                    quarantine =
                            consecutiveFailures + " consecutive failed calls, the last: " + reason;
                } else if (missedSequence > 0
                        && recentMisses.size() >= policy.quarantineAfterDeadlineMisses()) {
                    quarantine =
                            recentMisses.size()
                                    + " missed deadlines in its last "
                                    + policy.deadlineMissWindowCalls()
                                    + " calls (calls "
                                    + recentMisses.stream()
                                            .sorted()
                                            .map(String::valueOf)
                                            .collect(java.util.stream.Collectors.joining(", "))
                                    + "), the last: "
                                    + reason;
                }
                if (quarantine != null) {
                    quarantineReason = quarantine;
                }
            }
        }
        if (quarantine != null) {
            log.warn(
                    "[Quiver/PLUGIN_QUARANTINED] plugin '{}' quarantined after {}",
                    pluginId,
                    quarantine);
            // Abandon the pool: interrupt what runs, accept nothing more. Stuck threads are
            // daemons and end when their call returns.
            pool.shutdownNow();
        }
        return new PluginCallException(code, pluginId, capability, reason, cause);
    }

    /** Its health now. */
    synchronized PluginHealth health() {
        String last = recent.isEmpty() ? "" : recent.getLast();
        return new PluginHealth(
                pluginId,
                quarantineReason == null ? "ACTIVE" : "QUARANTINED",
                calls.get(),
                failures.get(),
                deadlineMisses.get(),
                policy.callerThread() ? callersInside.get() + liveThreads.get() : liveThreads.get(),
                quarantineReason == null ? last : quarantineReason,
                List.copyOf(recent));
    }

    /** Stops taking calls; threads still inside the plugin end when their call returns. */
    @Override
    public void close() {
        pool.shutdownNow();
    }
}
