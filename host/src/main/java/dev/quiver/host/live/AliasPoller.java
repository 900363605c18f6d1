package dev.quiver.host.live;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowException;
import dev.quiver.host.registry.AliasHistory;
import dev.quiver.host.registry.ModelUri;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the aliases of {@link LiveModels}' bindings, on one poller thread, never on the decision
 * path: asks the registry where each alias points every {@code pollInterval}; while the registry is
 * unreachable it backs off exponentially from a quarter of the interval up to {@code maxBackoff},
 * with jitter (a uniformly random delay between half and all of the ceiling: "equal jitter", AWS
 * Architecture Blog, "Exponential Backoff and Jitter", 2015), and never sooner than a 429 or 503
 * answer's {@code Retry-After}. A 401/403 ({@code AUTH_FAILED}) or another definite answer is asked
 * again one interval later, never in a tight loop. Every failed poll marks the binding stale (since
 * the first failure) until a poll gets an answer. A move is recorded in the {@link AliasHistory}
 * (with the time it was first seen, retried at the next poll when the store fails), and the new
 * version goes through the {@link VersionAdmission} on the model loader thread, bounded by {@code
 * attemptTimeout} as a whole. A version refused once is not tried again until the alias moves
 * elsewhere and back.
 */
final class AliasPoller {

    private static final Logger LOG = LoggerFactory.getLogger(LiveModels.class);

    private final List<BoundModel> bound;
    private final Optional<MlflowClient> client;
    private final AliasHistory history;
    private final VersionAdmission admission;
    private final ExecutorService attempts;
    private final LiveModels.Settings settings;
    private final Clock clock;
    private final ModelMetrics metrics;
    private final BooleanSupplier closed;

    AliasPoller(
            List<BoundModel> bound,
            Optional<MlflowClient> client,
            AliasHistory history,
            VersionAdmission admission,
            ExecutorService attempts,
            LiveModels.Settings settings,
            Clock clock,
            ModelMetrics metrics,
            BooleanSupplier closed) {
        this.bound = bound;
        this.client = client;
        this.history = history;
        this.admission = admission;
        this.attempts = attempts;
        this.settings = settings;
        this.clock = clock;
        this.metrics = metrics;
        this.closed = closed;
    }

    String aliasTarget(ModelUri uri) {
        JsonNode v = client.orElseThrow().versionByAlias(uri.name(), uri.alias().orElseThrow());
        return v.path("version").asText();
    }

    void observe(BoundModel s, String version, Instant at) {
        ModelUri uri = s.binding.model();
        history.observe(uri.name(), uri.alias().orElseThrow(), version, at)
                .ifPresent(
                        m ->
                                LOG.info(
                                        "{}: alias moved {} -> {} (observed {})",
                                        uri,
                                        m.from().orElse("(first seen)"),
                                        m.to(),
                                        m.observedAt()));
    }

    void pollLoop() {
        while (!closed.getAsBoolean()) {
            Instant now = clock.instant();
            Instant next = now.plus(settings.pollInterval());
            for (BoundModel s : bound) {
                if (closed.getAsBoolean()) {
                    return;
                }
                if (s.binding.model().alias().isEmpty()) {
                    continue;
                }
                if (!now.isBefore(s.nextPoll)) {
                    poll(s);
                }
                if (s.nextPoll.isBefore(next)) {
                    next = s.nextPoll;
                }
            }
            long sleepMs = Math.max(10, Duration.between(clock.instant(), next).toMillis());
            try {
                Thread.sleep(sleepMs);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** One poll of one alias, on the poller thread. */
    private void poll(BoundModel s) {
        ModelUri uri = s.binding.model();
        Instant now = clock.instant();
        s.lastPoll = now;
        String target;
        try {
            target = aliasTarget(uri);
        } catch (MlflowException e) {
            if (closed.getAsBoolean()) {
                return;
            }
            if (e.unavailable()) {
                s.unreachableInARow++;
                Duration ceiling =
                        backoff(
                                settings.pollInterval(),
                                settings.maxBackoff(),
                                s.unreachableInARow);
                long half = ceiling.toMillis() / 2;
                Duration wait =
                        Duration.ofMillis(half + ThreadLocalRandom.current().nextLong(half + 1));
                // Never sooner than the server asked (429/503 Retry-After).
                Duration asked = e.retryAfter().orElse(Duration.ZERO);
                if (asked.compareTo(wait) > 0) {
                    wait = asked;
                }
                s.nextPoll = clock.instant().plus(wait);
                s.stale(now, "unavailable");
                s.lastPollResult =
                        "registry unavailable ("
                                + e.getMessage()
                                + "); next poll in "
                                + wait.toMillis()
                                + " ms (backoff ceiling "
                                + ceiling.toMillis()
                                + " ms"
                                + (asked.isZero()
                                        ? ""
                                        : ", Retry-After " + asked.toMillis() + " ms")
                                + "); serving version "
                                + s.model.version()
                                + ", stale since "
                                + s.staleSince;
                metrics.polls("unavailable").increment();
                LOG.warn("{}: {}", uri, s.lastPollResult);
            } else {
                // A definite answer (401/403: AUTH_FAILED; another 4xx): asking again sooner
                // cannot change it, so the next poll is one interval away, never a tight loop.
                s.unreachableInARow = 0;
                s.nextPoll = clock.instant().plus(settings.pollInterval());
                s.stale(now, e.authFailed() ? "auth_failed" : "error");
                s.lastPollResult =
                        (e.authFailed()
                                        ? "the registry refused the credentials: "
                                        : "the registry answered: ")
                                + e.getMessage()
                                + "; next poll in "
                                + settings.pollInterval().toMillis()
                                + " ms; serving version "
                                + s.model.version()
                                + ", stale since "
                                + s.staleSince;
                metrics.polls(e.authFailed() ? "auth_failed" : "error").increment();
                LOG.warn("{}: {}", uri, s.lastPollResult);
            }
            return;
        } catch (RuntimeException e) {
            s.nextPoll = clock.instant().plus(settings.pollInterval());
            s.stale(now, "error");
            s.lastPollResult = "poll failed: " + e;
            metrics.polls("error").increment();
            LOG.warn("{}: poll failed", uri, e);
            return;
        }
        s.fresh();
        s.unreachableInARow = 0;
        s.nextPoll = clock.instant().plus(settings.pollInterval());
        metrics.polls("ok").increment();
        if (!target.equals(s.seenVersion)) {
            s.seenVersion = target;
            s.seenAt = now;
            s.seenRecorded = false;
        }
        if (!s.seenRecorded) {
            // The history failing must not stop the swap; the move is recorded (with the time it
            // was first seen) at the next poll that reaches the store.
            try {
                observe(s, target, s.seenAt);
                s.seenRecorded = true;
            } catch (RuntimeException e) {
                metrics.polls("error").increment();
                LOG.error(
                        "{}: the alias moved to version {} at {}, but the move cannot be recorded"
                                + " in the alias history ({}); retried at the next poll",
                        uri,
                        target,
                        s.seenAt,
                        history.where(),
                        e);
            }
        }
        if (target.equals(s.model.version())) {
            s.lastPollResult = "alias at version " + target + ", serving it";
            return;
        }
        BoundModel.Refusal r = s.refusal(target);
        if (r != null) {
            s.lastPollResult =
                    "alias at version "
                            + target
                            + ", refused ("
                            + r.reason()
                            + "); serving version "
                            + s.model.version();
            return;
        }
        Instant seenAt = s.seenAt;
        Future<String> f = attempts.submit(() -> admission.attempt(s, target, seenAt, true));
        String outcome;
        try {
            outcome = f.get(settings.attemptTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            outcome =
                    admission.refuse(
                            s,
                            target,
                            "timeout",
                            "checks did not finish within "
                                    + settings.attemptTimeout().toSeconds()
                                    + " s");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof MlflowException m && m.unavailable()) {
                // The alias answered but the download did not: transient, try again next poll.
                s.lastPollResult =
                        "alias at version "
                                + target
                                + "; download failed ("
                                + m.getMessage()
                                + "); serving version "
                                + s.model.version();
                LOG.warn("{}: {}", uri, s.lastPollResult);
                return;
            }
            outcome = admission.refuse(s, target, "error", String.valueOf(c));
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            return;
        }
        s.lastPollResult =
                outcome == null
                        ? "alias moved to version " + target + "; swapped in"
                        : "alias at version "
                                + target
                                + ", refused ("
                                + outcome
                                + "); serving version "
                                + s.model.version();
    }

    /**
     * Exponential ceiling: a quarter of the poll interval after the first failure, doubling with
     * each failure in a row, capped at {@code maxBackoff}: {@code min(maxBackoff, interval / 4 *
     * 2^(n-1))}.
     */
    static Duration backoff(Duration pollInterval, Duration maxBackoff, int failuresInARow) {
        long cap = maxBackoff.toMillis();
        long ceiling = Math.max(1, pollInterval.toMillis() / 4);
        for (int i = 1; i < failuresInARow && ceiling < cap; i++) {
            ceiling *= 2;
        }
        return Duration.ofMillis(Math.min(cap, ceiling));
    }
}
