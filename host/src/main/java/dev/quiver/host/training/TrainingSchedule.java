package dev.quiver.host.training;

import com.github.kagkarlsson.scheduler.task.helper.ScheduleAndData;
import com.github.kagkarlsson.scheduler.task.schedule.Schedule;
import com.github.kagkarlsson.scheduler.task.schedule.Schedules;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.Optional;

/**
 * A configured schedule: a job kind and its parameters, asked for on a cron expression or at a
 * fixed interval. Kept by db-scheduler as the data of a recurring execution with a persistent
 * schedule (table {@code scheduled_tasks}), so it survives a restart and fires once in a cluster.
 * Only strings are stored (Java serialization of this class), so the stored form does not depend on
 * db-scheduler's schedule classes.
 *
 * <p>Cron expressions are db-scheduler's (Spring's six fields, seconds first: {@code 0 0 2 * * *}
 * is 02:00:00 every day), evaluated in UTC.
 */
public final class TrainingSchedule implements ScheduleAndData {

    private static final long serialVersionUID = 1L;

    private final String name;
    private final String kind;
    private final String paramsJson;
    private final String cron;
    private final String every;

    TrainingSchedule(String name, String kind, String paramsJson, String cron, String every) {
        if ((cron == null) == (every == null)) {
            throw new IllegalArgumentException("exactly one of cron and every");
        }
        this.name = Objects.requireNonNull(name, "name");
        this.kind = Objects.requireNonNull(kind, "kind");
        this.paramsJson = Objects.requireNonNull(paramsJson, "paramsJson");
        this.cron = cron;
        this.every = every;
    }

    /** The schedule's name (its execution's instance id). */
    public String name() {
        return name;
    }

    /** The job kind it asks for. */
    public String kind() {
        return kind;
    }

    /** The job's parameters, a JSON object. */
    public String paramsJson() {
        return paramsJson;
    }

    /** The cron expression, if it is one. */
    public Optional<String> cron() {
        return Optional.ofNullable(cron);
    }

    /** The interval (ISO-8601 duration), if it is one. */
    public Optional<String> every() {
        return Optional.ofNullable(every);
    }

    /** How it reads, e.g. {@code cron 0 0 2 * * *} or {@code every PT6H}. */
    public String describe() {
        return cron != null ? "cron " + cron : "every " + every;
    }

    @Override
    public Schedule getSchedule() {
        return cron != null
                ? Schedules.cron(cron, ZoneOffset.UTC)
                : new Every(Duration.parse(every));
    }

    /**
     * Every {@code d}, counted from the end of the last run, the first {@code d} after the schedule
     * is set (db-scheduler's fixed delay would fire at once: a "every 6 hours" set at noon should
     * not start a fit at noon).
     */
    private record Every(Duration d) implements Schedule {
        @Override
        public java.time.Instant getNextExecutionTime(
                com.github.kagkarlsson.scheduler.task.ExecutionComplete complete) {
            return complete.getTimeDone().plus(d);
        }

        @Override
        public java.time.Instant getInitialExecutionTime(java.time.Instant now) {
            return now.plus(d);
        }

        @Override
        public boolean isDeterministic() {
            return false;
        }
    }

    @Override
    public Object getData() {
        return name;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrainingSchedule t
                && name.equals(t.name)
                && kind.equals(t.kind)
                && paramsJson.equals(t.paramsJson)
                && Objects.equals(cron, t.cron)
                && Objects.equals(every, t.every);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, kind, paramsJson, cron, every);
    }

    @Override
    public String toString() {
        return name + " (" + kind + ", " + describe() + ")";
    }
}
