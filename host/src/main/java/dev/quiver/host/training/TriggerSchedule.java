package dev.quiver.host.training;

import com.github.kagkarlsson.scheduler.task.ExecutionComplete;
import com.github.kagkarlsson.scheduler.task.helper.ScheduleAndData;
import com.github.kagkarlsson.scheduler.task.schedule.Schedule;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * The declared training triggers ({@link TrainingTriggers}) as db-scheduler keeps them: the data of
 * one recurring execution with a persistent schedule (table {@code scheduled_tasks}, task {@value
 * TrainingService#TRIGGERS_TASK}), so they live in the state store's database and survive a
 * restart, and their periodic check fires once in a cluster. Only strings are stored (Java
 * serialization of this class).
 */
final class TriggerSchedule implements ScheduleAndData {

    private static final long serialVersionUID = 1L;

    private final String json;
    private final String every;

    /**
     * @param json the triggers' document ({@code {"triggers": [...], "set_by", ...}})
     * @param every how often they are checked (ISO-8601 duration)
     */
    TriggerSchedule(String json, Duration every) {
        this.json = Objects.requireNonNull(json, "json");
        this.every = every.toString();
    }

    /** The triggers' document. */
    String json() {
        return json;
    }

    /** How often they are checked. */
    Duration every() {
        return Duration.parse(every);
    }

    @Override
    public Schedule getSchedule() {
        Duration d = every();
        return new Schedule() {
            @Override
            public Instant getNextExecutionTime(ExecutionComplete complete) {
                return complete.getTimeDone().plus(d);
            }

            @Override
            public Instant getInitialExecutionTime(Instant now) {
                return now.plus(d);
            }

            @Override
            public boolean isDeterministic() {
                return false;
            }
        };
    }

    @Override
    public Object getData() {
        return json;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TriggerSchedule t && json.equals(t.json) && every.equals(t.every);
    }

    @Override
    public int hashCode() {
        return Objects.hash(json, every);
    }
}
