package dev.quiver.host.live;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowException;
import dev.quiver.host.registry.AliasHistory;
import dev.quiver.host.registry.AliasPollState;
import dev.quiver.host.registry.ModelUri;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the aliases of {@link LiveModels}' bindings, on one poller thread, never on the decision
 * path: asks the registry where each alias points every {@code pollInterval}; when to ask again
 * after a failed poll (exponential backoff with equal jitter, {@code Retry-After}, one interval
 * after a definite answer such as 401/403) and the staleness are {@link AliasPollState}'s, the
 * policy the strategy bundle's alias follower shares. A move is recorded in the {@link
 * AliasHistory} (with the time it was first seen, retried at the next poll when the store fails),
 * and the new version goes through the {@link VersionAdmission} on the model loader thread, bounded
 * by {@code attemptTimeout} as a whole. A version refused once is not tried again until the alias
 * moves elsewhere and back.
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
            AliasPollState.Wait w = s.poll.failed(e, now);
            s.nextPoll = clock.instant().plus(w.delay());
            s.lastPollResult = s.poll.explain(w, e.getMessage(), "version " + s.model.version());
            metrics.polls(w.state()).increment();
            LOG.warn("{}: {}", uri, s.lastPollResult);
            return;
        } catch (RuntimeException e) {
            AliasPollState.Wait w = s.poll.failedOtherwise(now);
            s.nextPoll = clock.instant().plus(w.delay());
            s.lastPollResult = "poll failed: " + e;
            metrics.polls("error").increment();
            LOG.warn("{}: poll failed", uri, e);
            return;
        }
        s.poll.answered();
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
}
