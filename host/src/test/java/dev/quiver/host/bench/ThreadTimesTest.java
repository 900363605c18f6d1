package dev.quiver.host.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link ThreadTimes} on this machine: the CPU a thread burns while it samples is counted to the
 * account pass (the thread that started it), a worker thread's to {@code workers}, even after the
 * worker has ended, and the timeline has intervals. Runs on Linux (the build and CI machines); the
 * figures are checked for where they land, never for how long anything took.
 */
class ThreadTimesTest {

    /** Computes until the calling thread has used about {@code nanos} of CPU. */
    private static double burn(long nanos) {
        var bean = java.lang.management.ManagementFactory.getThreadMXBean();
        long until = bean.getCurrentThreadCpuTime() + nanos;
        double x = 0;
        while (bean.getCurrentThreadCpuTime() < until) {
            for (int i = 1; i < 10_000; i++) {
                x += Math.sqrt(i);
            }
        }
        return x;
    }

    @Test
    void countsTheCallingThreadAndAnEndedWorkerInTheirGroups() throws Exception {
        ThreadTimes times = ThreadTimes.start();
        assertThat(times).as("/proc/thread-self readable on this Linux machine").isNotNull();
        double[] sink = new double[1];
        try (times) {
            Thread worker =
                    new Thread(
                            () -> {
                                sink[0] = burn(300_000_000L);
                                // end only once the sampler has looked at this thread after its
                                // work: an ended thread counts up to the sampler's last look
                                int seen = times.timeline().size();
                                while (times.timeline().size() < seen + 2) {
                                    try {
                                        Thread.sleep(10);
                                    } catch (InterruptedException e) {
                                        Thread.currentThread().interrupt();
                                        return;
                                    }
                                }
                            },
                            "quiver-walk-forward-9");
            worker.start();
            worker.join();
            sink[0] += burn(300_000_000L);
            Map<String, Double> totals = times.totals();
            assertThat(totals).containsKeys("account_pass", "workers", "jit", "gc", "other");
            assertThat(totals.get("account_pass")).isGreaterThan(0.2);
            assertThat(totals.get("workers")).isGreaterThan(0.1);
            assertThat(totals.get("account_pass_wait")).isGreaterThanOrEqualTo(0);
            assertThat(times.timeline()).isNotEmpty();
            assertThat(times.timeline().get(0).cpuSeconds()).containsKeys("account_pass");
        }
        assertThat(sink[0]).isPositive();
    }
}
