package dev.quiver.host.registry;

import dev.quiver.host.mlflow.MlflowException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * When to ask the registry again about one alias, and since when the answer may be behind it: the
 * policy every alias poller of the service shares (the model bindings' {@code live.AliasPoller} and
 * the strategy bundle's {@code session.AliasFollower}; RELIABILITY.md P8).
 *
 * <p>Contract: after an answered poll, the next one is {@code pollInterval} later. While the
 * registry is unavailable ({@link MlflowException#unavailable()}: unreachable, timeout, 5xx, 408,
 * 429) the wait grows exponentially from a quarter of {@code pollInterval} up to {@code maxBackoff}
 * ({@link #ceiling}), with equal jitter (a uniformly random wait between half and all of the
 * ceiling; M. Brooker, "Exponential Backoff and Jitter", AWS Architecture Blog, 2015), and is never
 * shorter than the server's {@code Retry-After}. A definite answer (401/403 {@code AUTH_FAILED}, or
 * another 4xx) is asked again one interval later, never in a tight loop. Every failed poll marks
 * the alias stale from the first failure on, until a poll is answered.
 *
 * <p>Thread safety: one poller thread calls {@link #failed}, {@link #answered} and {@link
 * #startedStale}; any thread may read the state.
 */
public final class AliasPollState {

    /**
     * The wait a failed poll chose.
     *
     * @param delay until the next poll
     * @param ceiling the backoff ceiling it was drawn under (the interval for a definite answer)
     * @param retryAfter the server's {@code Retry-After}, or zero when it sent none
     * @param state how the registry answered: {@code unavailable}, {@code auth_failed} or {@code
     *     error}
     */
    public record Wait(Duration delay, Duration ceiling, Duration retryAfter, String state) {

        /**
         * For the log and {@code last_poll_result}.
         *
         * @return e.g. {@code next poll in 181 ms (backoff ceiling 250 ms)}
         */
        public String describe() {
            if (!state.equals("unavailable")) {
                return "next poll in " + delay.toMillis() + " ms";
            }
            return "next poll in "
                    + delay.toMillis()
                    + " ms (backoff ceiling "
                    + ceiling.toMillis()
                    + " ms"
                    + (retryAfter.isZero() ? "" : ", Retry-After " + retryAfter.toMillis() + " ms")
                    + ")";
        }
    }

    /**
     * What a failed poll says, for the log and {@code last_poll_result}: how the registry answered,
     * the wait, what keeps serving and since when it may be behind.
     *
     * @param w the wait {@link #failed} chose
     * @param message the failure's message (never holds credentials: {@link MlflowException})
     * @param serving what keeps serving, e.g. {@code version 3}
     * @return e.g. {@code registry unavailable (...); next poll in 181 ms (backoff ceiling 250 ms);
     *     serving version 3, stale since 2026-12-07T10:00:00Z}
     */
    public String explain(Wait w, String message, String serving) {
        String answer =
                switch (w.state()) {
                    case "unavailable" -> "registry unavailable (" + message + ")";
                    case "auth_failed" -> "the registry refused the credentials: " + message;
                    default -> "the registry answered: " + message;
                };
        return answer
                + "; "
                + w.describe()
                + "; serving "
                + serving
                + ", stale since "
                + staleSince().map(Instant::toString).orElse("(not stale)");
    }

    private final Duration pollInterval;
    private final Duration maxBackoff;
    private int unavailableInARow;
    private volatile Instant staleSince;
    private volatile String registryState = "ok";

    /**
     * @param pollInterval the interval between answered polls, {@code > 0}
     * @param maxBackoff the largest wait while the registry is unavailable (unless a {@code
     *     Retry-After} asks for more), {@code > 0}
     * @throws IllegalArgumentException if either is not positive
     */
    public AliasPollState(Duration pollInterval, Duration maxBackoff) {
        if (pollInterval.isNegative() || pollInterval.isZero()) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] poll interval must be positive, was " + pollInterval);
        }
        if (maxBackoff.isNegative() || maxBackoff.isZero()) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] maximum backoff must be positive, was " + maxBackoff);
        }
        this.pollInterval = pollInterval;
        this.maxBackoff = maxBackoff;
    }

    /**
     * The default of {@code serve}: back off up to twice the poll interval, so a registry that is
     * back is asked again within two poll intervals however long it was gone.
     *
     * @param pollInterval the poll interval, {@code > 0}
     * @return the state
     */
    public static AliasPollState every(Duration pollInterval) {
        return new AliasPollState(pollInterval, pollInterval.multipliedBy(2));
    }

    /**
     * The interval between answered polls.
     *
     * @return the interval
     */
    public Duration pollInterval() {
        return pollInterval;
    }

    /**
     * Records a poll that got no usable answer and chooses the wait before the next one.
     *
     * @param e why the poll failed
     * @param at when the poll started (the stale time, if it is the first failure)
     * @return the wait and why
     */
    public synchronized Wait failed(MlflowException e, Instant at) {
        if (!e.unavailable()) {
            // A definite answer: asking again sooner cannot change it.
            unavailableInARow = 0;
            String state = e.authFailed() ? "auth_failed" : "error";
            stale(at, state);
            return new Wait(pollInterval, pollInterval, Duration.ZERO, state);
        }
        unavailableInARow++;
        Duration ceiling = ceiling(pollInterval, maxBackoff, unavailableInARow);
        long half = ceiling.toMillis() / 2;
        Duration wait = Duration.ofMillis(half + ThreadLocalRandom.current().nextLong(half + 1));
        Duration asked = e.retryAfter().orElse(Duration.ZERO);
        if (asked.compareTo(wait) > 0) {
            wait = asked;
        }
        stale(at, "unavailable");
        return new Wait(wait, ceiling, asked, "unavailable");
    }

    /**
     * Records a poll that failed for a reason that is not the registry's answer (a bug, a refused
     * version's check): stale in state {@code error}, asked again one interval later.
     *
     * @param at when the poll started
     * @return the wait
     */
    public synchronized Wait failedOtherwise(Instant at) {
        unavailableInARow = 0;
        stale(at, "error");
        return new Wait(pollInterval, pollInterval, Duration.ZERO, "error");
    }

    /**
     * The service started without an answer from the registry (it serves from the cache): stale
     * from {@code at}.
     *
     * @param at the start
     * @param state {@code unavailable} or {@code auth_failed}
     */
    public synchronized void startedStale(Instant at, String state) {
        stale(at, state);
    }

    /** A poll was answered: fresh, and the backoff starts over. */
    public synchronized void answered() {
        unavailableInARow = 0;
        staleSince = null;
        registryState = "ok";
    }

    private void stale(Instant at, String state) {
        if (staleSince == null) {
            staleSince = at;
        }
        registryState = state;
    }

    /**
     * Since when the alias could not be checked.
     *
     * @return the first failed poll after the last answer (or the start from the cache); empty
     *     while the registry answers
     */
    public Optional<Instant> staleSince() {
        return Optional.ofNullable(staleSince);
    }

    /**
     * How the registry answered the last poll.
     *
     * @return {@code ok}, {@code unavailable}, {@code auth_failed} or {@code error}
     */
    public String registryState() {
        return registryState;
    }

    /**
     * The state for a JSON answer.
     *
     * @return {@code registry} and {@code stale_since} (null while fresh)
     */
    public Map<String, Object> status() {
        Instant since = staleSince;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("registry", registryState);
        m.put("stale_since", since == null ? null : since.toString());
        return m;
    }

    /**
     * Exponential ceiling: a quarter of the poll interval after the first failure, doubling with
     * each failure in a row, capped at {@code maxBackoff}: {@code min(maxBackoff, max(1 ms,
     * interval / 4) * 2^(n-1))}.
     *
     * @param pollInterval the poll interval
     * @param maxBackoff the cap
     * @param failuresInARow unavailable polls in a row, {@code >= 1}
     * @return the ceiling, at least 1 ms
     */
    public static Duration ceiling(Duration pollInterval, Duration maxBackoff, int failuresInARow) {
        long cap = maxBackoff.toMillis();
        long ceiling = Math.max(1, pollInterval.toMillis() / 4);
        for (int i = 1; i < failuresInARow && ceiling < cap; i++) {
            ceiling *= 2;
        }
        return Duration.ofMillis(Math.min(cap, ceiling));
    }
}
