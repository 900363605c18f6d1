package dev.quiver.host.cli;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Where a start of {@code quiver serve} spent its time: the wall time of each step since the
 * previous mark, and since the JVM started (as the JVM reports it). Printed once the port is open,
 * so a slow start says which step held it (RELIABILITY.md P8: a restart from the cache within 10
 * s).
 */
final class StartTimeline {

    private final Optional<Instant> jvmStart =
            Optional.of(
                    Instant.ofEpochMilli(
                            java.lang.management.ManagementFactory.getRuntimeMXBean()
                                    .getStartTime()));
    private final long created = System.nanoTime();
    private long last = created;
    private final List<String> steps = new ArrayList<>();

    StartTimeline() {
        jvmStart.ifPresent(
                s ->
                        steps.add(
                                String.format(
                                        Locale.ROOT,
                                        "JVM and command line %.1f s",
                                        Duration.between(s, Instant.now()).toMillis() / 1e3)));
    }

    /**
     * Records a step that ended now.
     *
     * @param step what ran since the previous mark
     */
    synchronized void mark(String step) {
        long now = System.nanoTime();
        steps.add(String.format(Locale.ROOT, "%s %.1f s", step, (now - last) / 1e9));
        last = now;
    }

    /**
     * Records a step that ran beside the others (its own duration, not since the previous mark).
     *
     * @param step what ran
     * @param nanos how long it took, nanoseconds
     */
    synchronized void beside(String step, long nanos) {
        steps.add(String.format(Locale.ROOT, "%s %.1f s (beside)", step, nanos / 1e9));
    }

    /** One line: the whole start and its steps. */
    synchronized String summary() {
        double total =
                jvmStart.map(s -> Duration.between(s, Instant.now()).toMillis() / 1e3)
                        .orElse((System.nanoTime() - created) / 1e9);
        return String.format(
                Locale.ROOT,
                "started in %.1f s since the JVM started: %s",
                total,
                String.join(", ", steps));
    }
}
