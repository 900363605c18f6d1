package dev.quiver.host.plugin;

import java.time.Duration;
import java.util.Map;

/**
 * How plugin calls are isolated: the deadline of each call, when a plugin is quarantined, and how
 * many threads a plugin's pool may ever hold (Java cannot kill a thread: a call that misses its
 * deadline keeps its thread until it returns, so the pool is capped and abandoned on quarantine).
 *
 * <p>Configuration keys (host configuration, e.g. {@code config/quiver.properties} or {@code -D}):
 * {@code quiver.plugin.deadline-ms} (default 2000), {@code quiver.plugin.fit-deadline-ms} (default
 * 600000), {@code quiver.plugin.quarantine-after-failures} (consecutive failed calls, default 3),
 * {@code quiver.plugin.quarantine-after-deadline-misses} (missed deadlines in total, default 3),
 * {@code quiver.plugin.max-threads} (default 4).
 *
 * @param deadline longest a forecast, fuse, size or close call may take
 * @param fitDeadline longest a fit (training) call may take
 * @param quarantineAfterFailures consecutive failed calls that quarantine a plugin, {@code >= 1}
 * @param quarantineAfterDeadlineMisses missed deadlines that quarantine a plugin, {@code >= 1}
 * @param maxThreads threads a plugin's pool may hold, {@code >= 1}
 * @param sameThread run calls on the caller's thread ({@code quiver.plugin.isolation=same-thread}):
 *     exceptions, garbage and late results are isolated exactly as on the pool, at no hand-off
 *     cost, but a call that never returns blocks the caller; for batch jobs over trusted plugins.
 *     The default ({@code thread}) runs each call on the plugin's pool under a hard deadline.
 */
public record IsolationPolicy(
        Duration deadline,
        Duration fitDeadline,
        int quarantineAfterFailures,
        int quarantineAfterDeadlineMisses,
        int maxThreads,
        boolean sameThread) {

    /**
     * Thread isolation with the given limits.
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
                false);
    }

    /** Validates. */
    public IsolationPolicy {
        if (deadline.isNegative()
                || deadline.isZero()
                || fitDeadline.isNegative()
                || fitDeadline.isZero()
                || quarantineAfterFailures < 1
                || quarantineAfterDeadlineMisses < 1
                || maxThreads < 1) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_CONFIG] plugin isolation: deadlines must be > 0 ms and the"
                            + " quarantine thresholds and max-threads >= 1 (got "
                            + deadline.toMillis()
                            + " ms, "
                            + fitDeadline.toMillis()
                            + " ms, "
                            + quarantineAfterFailures
                            + ", "
                            + quarantineAfterDeadlineMisses
                            + ", "
                            + maxThreads
                            + ")");
        }
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
                sameThread(config.getOrDefault("quiver.plugin.isolation", "thread")));
    }

    private static boolean sameThread(String mode) {
        return switch (mode) {
            case "thread" -> false;
            case "same-thread" -> true;
            default ->
                    throw new IllegalArgumentException(
                            "[Quiver/BAD_CONFIG] quiver.plugin.isolation="
                                    + mode
                                    + " is not one of thread, same-thread");
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
