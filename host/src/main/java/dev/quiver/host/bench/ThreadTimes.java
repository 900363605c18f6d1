package dev.quiver.host.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where the main job's threads spent its wall time, read from Linux's per-thread scheduler
 * statistics ({@code /proc/self/task/<tid>/schedstat}: nanoseconds on a CPU, nanoseconds runnable
 * but waiting for one, see the kernel's {@code Documentation/scheduler/sched-stats.rst}) and names
 * ({@code /proc/self/task/<tid>/comm}, at most 15 characters).
 *
 * <p>A sampler thread reads every thread's figures every {@link #PERIOD_MS} ms while the job runs,
 * so threads that end before the job does (the walk-forward's workers, the bootstrap's helpers) are
 * counted up to their last sample; the per-interval deltas make a timeline: which group of threads
 * was on a CPU, and how long the account pass waited for a core (the machine's load) or for
 * something else (a fold's forecasts, a join). Empty on a system without these files. The sampler's
 * own CPU (a few dozen small file reads per period) counts in the process's, as {@code other}.
 */
final class ThreadTimes implements AutoCloseable {

    /** Sampling period, milliseconds. */
    static final int PERIOD_MS = 250;

    /** Groups of threads, in print order. */
    static final List<String> GROUPS = List.of("account_pass", "workers", "jit", "gc", "other");

    /** The key of the account pass's run-queue wait in {@link #since}'s answer. */
    private static final String ACCOUNT_WAIT = "account_pass_wait";

    /** One sample of one thread: name, CPU and run-queue wait, nanoseconds since it started. */
    record Task(String name, long cpuNanos, long waitNanos) {}

    private final String accountTid;
    private final Map<String, Task> first;
    private final Map<String, Task> last = new HashMap<>();
    private final List<MainJobBench.Interval> timeline = new ArrayList<>();
    private final long started = System.nanoTime();
    private final Thread sampler;
    private volatile boolean stop;

    /**
     * Starts sampling; the calling thread is the account pass.
     *
     * @return the sampler, or {@code null} where {@code /proc/thread-self} is not readable
     */
    static ThreadTimes start() {
        String tid;
        try {
            tid = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return null;
        }
        return new ThreadTimes(tid);
    }

    private ThreadTimes(String accountTid) {
        this.accountTid = accountTid;
        this.first = snapshot();
        last.putAll(first);
        sampler = new Thread(this::sample, "quiver-bench-sampler");
        sampler.setDaemon(true);
        sampler.start();
    }

    private void sample() {
        Map<String, Task> previous = new HashMap<>(first);
        while (!stop) {
            try {
                Thread.sleep(PERIOD_MS);
            } catch (InterruptedException e) {
                return;
            }
            Map<String, Task> now = snapshot();
            Map<String, Double> cpu = since(now, previous);
            double wait = cpu.remove(ACCOUNT_WAIT);
            synchronized (this) {
                timeline.add(
                        new MainJobBench.Interval((System.nanoTime() - started) / 1e9, cpu, wait));
                last.putAll(now);
            }
            previous = now;
        }
    }

    /** Stops sampling (one last sample is taken by {@link #totals}). */
    @Override
    public void close() {
        stop = true;
        sampler.interrupt();
        try {
            sampler.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Totals since the start: per group, CPU seconds (threads that ended counted to their last
     * sample), and the account pass's CPU and run-queue wait.
     *
     * @return {@code group -> cpu seconds}, plus {@code account_pass_wait} (run-queue seconds)
     */
    synchronized Map<String, Double> totals() {
        last.putAll(snapshot());
        return since(last, first);
    }

    /**
     * CPU seconds per group of threads from {@code before} to {@code now} (a thread absent from
     * {@code before} counted from 0), and under {@value #ACCOUNT_WAIT} the account pass's run-queue
     * wait in seconds.
     */
    private Map<String, Double> since(Map<String, Task> now, Map<String, Task> before) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String g : GROUPS) {
            out.put(g, 0.0);
        }
        double wait = 0;
        for (Map.Entry<String, Task> e : now.entrySet()) {
            Task t = e.getValue();
            Task p = before.get(e.getKey());
            long dc = t.cpuNanos() - (p == null ? 0 : p.cpuNanos());
            out.merge(group(e.getKey(), t.name()), dc / 1e9, Double::sum);
            if (e.getKey().equals(accountTid)) {
                wait = (t.waitNanos() - (p == null ? 0 : p.waitNanos())) / 1e9;
            }
        }
        out.put(ACCOUNT_WAIT, wait);
        return out;
    }

    /** The intervals sampled so far. */
    synchronized List<MainJobBench.Interval> timeline() {
        return List.copyOf(timeline);
    }

    private String group(String tid, String name) {
        if (tid.equals(accountTid)) {
            return "account_pass";
        }
        if (name.startsWith("quiver-walk-for") || name.startsWith("quiver-bootstra")) {
            return "workers";
        }
        if (name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler")) {
            return "jit";
        }
        if (name.startsWith("GC Thread")
                || name.startsWith("G1 ")
                || name.startsWith("VM Thread")
                || name.startsWith("VM Periodic")) {
            return "gc";
        }
        return "other";
    }

    private static Map<String, Task> snapshot() {
        Map<String, Task> out = new HashMap<>();
        Path tasks = Path.of("/proc/self/task");
        try (var dirs = Files.list(tasks)) {
            for (Path d : (Iterable<Path>) dirs::iterator) {
                try {
                    String[] s = Files.readString(d.resolve("schedstat")).trim().split(" ");
                    String name = Files.readString(d.resolve("comm")).trim();
                    out.put(
                            d.getFileName().toString(),
                            new Task(name, Long.parseLong(s[0]), Long.parseLong(s[1])));
                } catch (IOException | RuntimeException e) {
                    // the thread ended between the listing and the read: its last sample stands
                }
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }
}
