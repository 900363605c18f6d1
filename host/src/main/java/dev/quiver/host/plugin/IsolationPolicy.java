package dev.quiver.host.plugin;

import java.time.Duration;
import java.util.Map;

/**
 * How plugin calls are isolated: where they run ({@link Mode}), the deadline of each call, when a
 * plugin is quarantined, and how many threads a plugin's pool may ever hold in {@link Mode#THREAD}
 * (Java cannot kill a thread: a call that misses its deadline keeps its thread until it returns, so
 * the pool is capped and abandoned on quarantine).
 *
 * <p>Configuration keys (host configuration, e.g. {@code config/quiver.properties} or {@code -D}):
 * {@code quiver.plugin.deadline-ms} (default 2000), {@code quiver.plugin.fit-deadline-ms} (default
 * 600000), {@code quiver.plugin.quarantine-after-failures} (consecutive failed calls, default 3),
 * {@code quiver.plugin.quarantine-after-deadline-misses} (missed deadlines within the window,
 * default 3), {@code quiver.plugin.deadline-miss-window-calls} (that window, in calls, default 20),
 * {@code quiver.plugin.max-threads} (default 4), {@code quiver.plugin.isolation} ({@code watchdog},
 * the default; {@code thread}; {@code same-thread}).
 *
 * <p>The two quarantine rules (RELIABILITY.md P2): a plugin is quarantined at its {@code
 * quarantineAfterFailures}-th consecutive failed call (a call that throws, returns garbage or
 * misses its deadline; a success resets the run), so a plugin that hangs on every call goes after 3
 * misses in a row; and once {@code quarantineAfterDeadlineMisses} of its last {@code
 * deadlineMissWindowCalls} calls missed their deadline, so a plugin that stalls on every 3rd call
 * (never 3 failures in a row) goes at its 3rd miss, 9 calls in, while one that misses 1 call in 10
 * (2 in any 20) keeps serving. With the defaults: quarantined at 3 consecutive failures, or at a
 * miss rate of 3 in 20 calls (15 %).
 *
 * @param deadline longest a forecast, fuse, size or close call may take
 * @param fitDeadline longest a fit (training) call may take
 * @param quarantineAfterFailures consecutive failed calls that quarantine a plugin, {@code >= 1}
 * @param quarantineAfterDeadlineMisses missed deadlines within the last {@code
 *     deadlineMissWindowCalls} calls that quarantine a plugin, {@code >= 1}
 * @param maxThreads threads a plugin's pool may hold, {@code >= 1}
 * @param mode where calls run ({@code quiver.plugin.isolation}): {@link Mode#WATCHDOG} (the
 *     default) on the caller's thread under the JVM's one call watchdog; {@link Mode#THREAD} on the
 *     plugin's own capped pool, a hard deadline the caller never waits past; {@link
 *     Mode#SAME_THREAD} on the caller's thread with the deadline checked when the call returns
 *     (batch jobs)
 * @param deadlineMissWindowCalls how many of the plugin's latest calls the missed deadlines are
 *     counted over, {@code >= quarantineAfterDeadlineMisses}
 */
public record IsolationPolicy(
        Duration deadline,
        Duration fitDeadline,
        int quarantineAfterFailures,
        int quarantineAfterDeadlineMisses,
        int maxThreads,
        Mode mode,
        int deadlineMissWindowCalls) {

    /** Default of {@code quiver.plugin.deadline-miss-window-calls}: 20 calls. */
    public static final int DEFAULT_DEADLINE_MISS_WINDOW_CALLS = 20;

    /**
     * Where a plugin's calls run and how their deadline is kept. In every mode a call that throws,
     * returns garbage or misses its deadline fails with a {@code PluginCallException}, counts
     * towards quarantine, and a late result is never used; the modes differ in what a call that
     * does not return costs its caller.
     */
    public enum Mode {
        /**
         * {@code thread}: each call is handed to a thread of the plugin's own capped pool and the
         * caller waits at most the deadline; a hung call keeps a pool thread, never the caller.
         * Costs a thread hand-off per call (two context switches; ~10 us idle, far more under load:
         * 10 per session decision made a third of the service's CPU context switches).
         */
        THREAD,
        /**
         * {@code watchdog}: the call runs on the caller's thread, registered with the JVM's one
         * {@link CallWatchdog}; at its deadline the watchdog counts the miss (quarantining the
         * plugin by the same thresholds, so no later call enters it), records the reason and
         * interrupts the caller. A plugin that honours interrupts returns at once and the call
         * fails with {@code PLUGIN_DEADLINE}; one that ignores them keeps its caller (e.g. that
         * HTTP request) until it returns, and its late result is refused. The service's default: no
         * hand-off per call.
         */
        WATCHDOG,
        /**
         * {@code same-thread}: the call runs on the caller's thread and its deadline is checked
         * when it returns (a late result is refused and counted); nothing watches a call that never
         * returns. For batch jobs over trusted plugins.
         */
        SAME_THREAD
    }

    /**
     * Isolation with the given limits, missed deadlines counted over the default window ({@value
     * #DEFAULT_DEADLINE_MISS_WINDOW_CALLS} calls).
     *
     * @param deadline per-call deadline
     * @param fitDeadline deadline of a fit call
     * @param quarantineAfterFailures consecutive failures that quarantine a plugin
     * @param quarantineAfterDeadlineMisses missed deadlines within the window that quarantine it
     * @param maxThreads threads a plugin's pool may hold
     * @param mode where calls run
     */
    public IsolationPolicy(
            Duration deadline,
            Duration fitDeadline,
            int quarantineAfterFailures,
            int quarantineAfterDeadlineMisses,
            int maxThreads,
            Mode mode) {
        this(
                deadline,
                fitDeadline,
                quarantineAfterFailures,
                quarantineAfterDeadlineMisses,
                maxThreads,
                mode,
                Math.max(DEFAULT_DEADLINE_MISS_WINDOW_CALLS, quarantineAfterDeadlineMisses));
    }

    /**
     * {@link Mode#THREAD} isolation with the given limits.
     *
     * @param deadline per-call deadline
     * @param fitDeadline deadline of a fit call
     * @param quarantineAfterFailures consecutive failures that quarantine a plugin
     * @param quarantineAfterDeadlineMisses missed deadlines that quarantine a plugin
     * @param maxThreads threads a plugin's pool may hold
     */
    public IsolationPolicy(
            Duration deadline,
            Duration fitDeadline,
            int quarantineAfterFailures,
            int quarantineAfterDeadlineMisses,
            int maxThreads) {
        this(
                deadline,
                fitDeadline,
                quarantineAfterFailures,
                quarantineAfterDeadlineMisses,
                maxThreads,
                Mode.THREAD);
    }

    /** Validates. */
    public IsolationPolicy {
        if (deadline.isNegative()
                || deadline.isZero()
                || fitDeadline.isNegative()
                || fitDeadline.isZero()
                || quarantineAfterFailures < 1
                || quarantineAfterDeadlineMisses < 1
                || maxThreads < 1
                || mode == null
                || deadlineMissWindowCalls < quarantineAfterDeadlineMisses) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_CONFIG] plugin isolation: deadlines must be > 0 ms, the"
                            + " quarantine thresholds and max-threads >= 1 and"
                            + " quiver.plugin.deadline-miss-window-calls >="
                            + " quiver.plugin.quarantine-after-deadline-misses (got "
                            + deadline.toMillis()
                            + " ms, "
                            + fitDeadline.toMillis()
                            + " ms, "
                            + quarantineAfterFailures
                            + ", "
                            + quarantineAfterDeadlineMisses
                            + ", "
                            + maxThreads
                            + ", "
                            + mode
                            + ", window "
                            + deadlineMissWindowCalls
                            + " calls)");
        }
    }

    /**
     * Whether calls run on the caller's thread ({@link Mode#WATCHDOG} or {@link Mode#SAME_THREAD}).
     */
    public boolean callerThread() {
        return mode != Mode.THREAD;
    }

    /** The defaults. */
    public static IsolationPolicy defaults() {
        return from(Map.of());
    }

    /**
     * Reads the policy from host configuration.
     *
     * @param config host configuration
     * @return the policy
     * @throws IllegalArgumentException naming the key if a value is not a positive integer
     */
    public static IsolationPolicy from(Map<String, String> config) {
        return new IsolationPolicy(
                Duration.ofMillis(read(config, "quiver.plugin.deadline-ms", 2000)),
                Duration.ofMillis(read(config, "quiver.plugin.fit-deadline-ms", 600_000)),
                (int) read(config, "quiver.plugin.quarantine-after-failures", 3),
                (int) read(config, "quiver.plugin.quarantine-after-deadline-misses", 3),
                (int) read(config, "quiver.plugin.max-threads", 4),
                mode(config.getOrDefault("quiver.plugin.isolation", "watchdog")),
                (int)
                        read(
                                config,
                                "quiver.plugin.deadline-miss-window-calls",
                                DEFAULT_DEADLINE_MISS_WINDOW_CALLS));
    }

    private static Mode mode(String mode) {
        return switch (mode) {
            case "thread" -> Mode.THREAD;
            case "watchdog" -> Mode.WATCHDOG;
            case "same-thread" -> Mode.SAME_THREAD;
            default ->
                    throw new IllegalArgumentException(
                            "[Quiver/BAD_CONFIG] quiver.plugin.isolation="
                                    + mode
                                    + " is not one of watchdog, thread, same-thread");
        };
    }

    /**
     * A positive integer setting, e.g. a deadline in ms.
     *
     * @throws IllegalArgumentException naming the key and value if it is not one
     */
    static long read(Map<String, String> config, String key, long fallback) {
        String v = config.get(key);
        if (v == null) {
            return fallback;
        }
        try {
            long n = Long.parseLong(v.trim());
            if (n < 1 || n > Integer.MAX_VALUE) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_CONFIG] "
                            + key
                            + " must be a positive integer (value: "
                            + v
                            + ")");
        }
    }
}
