package dev.quiver.host.web;

import dev.quiver.engine.EngineListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The service's own meters: {@code quiver_capability_call_seconds} (a histogram per capability,
 * stateless decisions and session steps alike), {@code quiver_decisions_total{kind}} and {@code
 * quiver_errors_total{kind}}. The counters are registered at start, so they read 0 before the first
 * decision; the histogram's buckets run from 1 µs to 10 s, because most capability calls take
 * microseconds (a 1 ms lowest bucket, Micrometer's default, holds them all).
 *
 * <p>As an {@link EngineListener} it times the session engines' capability calls into the same
 * histograms.
 */
final class ServiceMetrics implements EngineListener {

    /** The capability-call histogram's bucket bounds (Prometheus {@code le}), 1 µs to 10 s. */
    static final List<Duration> CALL_BUCKETS =
            List.of(
                    Duration.ofNanos(1_000),
                    Duration.ofNanos(2_500),
                    Duration.ofNanos(5_000),
                    Duration.ofNanos(10_000),
                    Duration.ofNanos(25_000),
                    Duration.ofNanos(50_000),
                    Duration.ofNanos(100_000),
                    Duration.ofNanos(250_000),
                    Duration.ofNanos(500_000),
                    Duration.ofMillis(1),
                    Duration.ofNanos(2_500_000),
                    Duration.ofMillis(5),
                    Duration.ofMillis(10),
                    Duration.ofMillis(25),
                    Duration.ofMillis(50),
                    Duration.ofMillis(100),
                    Duration.ofMillis(250),
                    Duration.ofMillis(500),
                    Duration.ofSeconds(1),
                    Duration.ofMillis(2_500),
                    Duration.ofSeconds(5),
                    Duration.ofSeconds(10));

    /** Decision kinds: a stateless window ({@code POST /v1/decisions}) or a session bar. */
    static final List<String> DECISION_KINDS = List.of("window", "session");

    /** Error kinds, one per answer class. */
    static final List<String> ERROR_KINDS =
            List.of("bad_request", "not_found", "conflict", "internal");

    private final MeterRegistry registry;
    // By kind, then name: found per call without building a key.
    private final Map<String, Map<String, Timer>> timers = new ConcurrentHashMap<>();
    private final Map<String, Counter> decisions = new ConcurrentHashMap<>();
    private final Map<String, Counter> errors = new ConcurrentHashMap<>();

    ServiceMetrics(MeterRegistry registry) {
        this.registry = registry;
        for (String k : DECISION_KINDS) {
            decisions.put(
                    k,
                    Counter.builder("quiver.decisions")
                            .description("Decisions answered")
                            .tag("kind", k)
                            .register(registry));
        }
        for (String k : ERROR_KINDS) {
            errors.put(k, errorCounter(k));
        }
    }

    private Counter errorCounter(String kind) {
        return Counter.builder("quiver.errors")
                .description("Requests answered with an error")
                .tag("kind", kind)
                .register(registry);
    }

    /**
     * The histogram of one capability's calls (registered on first use, kept).
     *
     * @param kind {@code prediction}, {@code ensemble} or {@code sizing}
     * @param name the capability's name
     * @return its timer
     */
    Timer timer(String kind, String name) {
        Map<String, Timer> named = timers.get(kind);
        if (named == null) {
            named = timers.computeIfAbsent(kind, k -> new ConcurrentHashMap<>());
        }
        Timer t = named.get(name);
        return t != null ? t : named.computeIfAbsent(name, n -> register(kind, n));
    }

    private Timer register(String kind, String name) {
        return Timer.builder("quiver.capability.call")
                .description("Latency of one call into a capability")
                .tag("capability", kind)
                .tag("name", name)
                .serviceLevelObjectives(CALL_BUCKETS.toArray(Duration[]::new))
                .minimumExpectedValue(CALL_BUCKETS.get(0))
                .maximumExpectedValue(CALL_BUCKETS.get(CALL_BUCKETS.size() - 1))
                .register(registry);
    }

    /** Times one call. */
    <T> T timed(String kind, String name, Supplier<T> call) {
        return timer(kind, name).record(call);
    }

    @Override
    public void called(String kind, String name, long nanos) {
        timer(kind, name).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Counts one decision of {@code kind} ({@link #DECISION_KINDS}). */
    void decided(String kind) {
        decisions.get(kind).increment();
    }

    /** Counts one error answer of {@code kind}. */
    void error(String kind) {
        errors.computeIfAbsent(kind, this::errorCounter).increment();
    }
}
