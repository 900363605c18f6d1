package dev.quiver.host.training;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * One training job as stored (table {@code training_jobs}, schema 6).
 *
 * @param id the job's id, e.g. {@code job-20261207-1a2b3c}
 * @param kind its kind, e.g. {@code fit-strategy}
 * @param paramsJson its parameters, a JSON object as the kind validated them
 * @param trigger what started it: {@code manual}, {@code schedule:<name>}, {@code drift}, {@code
 *     bundle-age}
 * @param actor who asked (a user, or the scheduler)
 * @param reason why
 * @param state {@code queued}, {@code running}, {@code succeeded}, {@code failed} or {@code
 *     cancelled}
 * @param progress fraction done, in [0, 1]
 * @param progressNote what it is doing, e.g. {@code walk-forward fold 12/39}
 * @param resultJson its result (a JSON object) once succeeded
 * @param error why it failed or was cancelled
 * @param cancelAsked whether a cancel was asked while it ran
 * @param attempts how many times it was started (a job interrupted by a crash is failed, not
 *     restarted, so this stays 1 unless a declared retry policy says otherwise)
 * @param createdMs when it was asked, epoch milliseconds
 * @param startedMs when it last started
 * @param finishedMs when it finished
 */
public record TrainingJob(
        String id,
        String kind,
        String paramsJson,
        String trigger,
        String actor,
        String reason,
        State state,
        double progress,
        String progressNote,
        Optional<String> resultJson,
        Optional<String> error,
        boolean cancelAsked,
        int attempts,
        long createdMs,
        OptionalLong startedMs,
        OptionalLong finishedMs) {

    /** A job's state. */
    public enum State {
        QUEUED,
        RUNNING,
        SUCCEEDED,
        FAILED,
        CANCELLED;

        /** The stored and shown name, e.g. {@code queued}. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        /** Whether the job is over. */
        public boolean finished() {
            return this == SUCCEEDED || this == FAILED || this == CANCELLED;
        }

        static State of(String label) {
            return valueOf(label.toUpperCase(java.util.Locale.ROOT));
        }
    }
}
