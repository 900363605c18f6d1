package dev.quiver.host.training;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.kagkarlsson.scheduler.Clock;
import com.github.kagkarlsson.scheduler.ScheduledExecution;
import com.github.kagkarlsson.scheduler.Scheduler;
import com.github.kagkarlsson.scheduler.SchedulerName;
import com.github.kagkarlsson.scheduler.jdbc.DefaultJdbcCustomization;
import com.github.kagkarlsson.scheduler.jdbc.JdbcCustomization;
import com.github.kagkarlsson.scheduler.jdbc.PostgreSqlJdbcCustomization;
import com.github.kagkarlsson.scheduler.task.TaskInstanceId;
import com.github.kagkarlsson.scheduler.task.helper.OneTimeTask;
import com.github.kagkarlsson.scheduler.task.helper.RecurringTaskWithPersistentSchedule;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import com.github.kagkarlsson.scheduler.task.schedule.Schedules;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.host.store.StateStore;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Training jobs on a real scheduler: db-scheduler ({@code com.github.kagkarlsson:db-scheduler},
 * cluster-safe, one table) on the state store's database, SQLite by default or PostgreSQL by URL.
 *
 * <p>A job asked for ({@link #submit}) is stored in {@code training_jobs} as {@code queued} and
 * scheduled as one db-scheduler execution; a pool of {@link Settings#threads} threads (default 1,
 * at minimum priority, so decisions keep their cores) runs it: {@code running}, progress while it
 * runs, then {@code succeeded} with its result, {@code failed} with its error, or {@code
 * cancelled}. Everything is committed as it happens, so a restart finds every job in its state.
 *
 * <p><b>Crashes.</b> A job whose process died while it ran is found by db-scheduler's
 * dead-execution detection (no heartbeat for {@code missedHeartbeats × heartbeat}) and marked
 * {@code failed} ("interrupted"), never run a second time: a half-done fit may have registered a
 * version, so the declared policy is fail, not retry. A job still queued at the crash runs after
 * the restart.
 *
 * <p><b>Cancel.</b> A queued job is taken off the schedule; a running one is told at its next
 * progress report (each walk-forward fold) and its thread interrupted.
 */
public final class TrainingService implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TrainingService.class);

    /** db-scheduler's task name of a training job's execution (instance id = job id). */
    public static final String TASK = "quiver-training-job";

    /** db-scheduler's task name of a configured schedule (instance id = schedule name). */
    public static final String SCHEDULE_TASK = "quiver-training-schedule";

    /** db-scheduler's task name of the declared triggers' periodic check (instance {@code all}). */
    public static final String TRIGGERS_TASK = "quiver-training-triggers";

    private static final java.util.regex.Pattern SCHEDULE_NAME =
            java.util.regex.Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The scheduler's settings.
     *
     * @param threads jobs run at once, {@code >= 1} (default 1: training must not take the cores
     *     decisions need)
     * @param pollInterval how often the scheduler looks for due jobs (default 1 s; a new job is
     *     also started at once when a thread is free)
     * @param heartbeat how often a running job's execution is marked alive (default 5 s)
     * @param missedHeartbeats heartbeats missed before a running job counts as dead, {@code >= 4}
     *     (default 4, so a crash is noticed about 20 s after it)
     */
    public record Settings(
            int threads, Duration pollInterval, Duration heartbeat, int missedHeartbeats) {

        /** Checks the values. */
        public Settings {
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be >= 1, was " + threads);
            }
            if (missedHeartbeats < 4) {
                throw new IllegalArgumentException(
                        "missedHeartbeats must be >= 4 (db-scheduler's floor), was "
                                + missedHeartbeats);
            }
        }

        /**
         * The defaults, overridable by system properties {@code quiver.training.threads}, {@code
         * quiver.training.poll-ms}, {@code quiver.training.heartbeat-ms}, {@code
         * quiver.training.missed-heartbeats}.
         *
         * @return the settings
         */
        public static Settings fromSystemProperties() {
            return new Settings(
                    Integer.getInteger("quiver.training.threads", 1),
                    Duration.ofMillis(Long.getLong("quiver.training.poll-ms", 1_000)),
                    Duration.ofMillis(Long.getLong("quiver.training.heartbeat-ms", 5_000)),
                    Integer.getInteger("quiver.training.missed-heartbeats", 4));
        }
    }

    private final TrainingJobStore jobs;
    private final Map<String, JobKind> kinds;
    private final Clock clock;
    private final Scheduler scheduler;
    private final OneTimeTask<String> task;
    private final RecurringTaskWithPersistentSchedule<TrainingSchedule> scheduleTask;
    private final RecurringTaskWithPersistentSchedule<TriggerSchedule> triggersTask;
    private final Map<String, Running> running = new ConcurrentHashMap<>();
    private final Map<String, String> cancelReasons = new ConcurrentHashMap<>();
    private volatile boolean closing;

    private record Running(Thread thread, String id) {}

    private TrainingService(StateStore store, List<JobKind> kinds, Settings settings, Clock clock) {
        this.jobs = new TrainingJobStore(store.sideDataSource());
        Map<String, JobKind> byName = new LinkedHashMap<>();
        for (JobKind k : kinds) {
            if (byName.putIfAbsent(k.name(), k) != null) {
                throw new IllegalArgumentException("two job kinds are named " + k.name());
            }
        }
        this.kinds = Map.copyOf(byName);
        this.clock = clock;
        this.task =
                Tasks.oneTime(TASK, String.class)
                        .onDeadExecution(
                                (complete, operations) -> {
                                    String id = complete.getExecution().taskInstance.getId();
                                    interrupted(id);
                                    operations.remove();
                                })
                        .execute((instance, context) -> execute(instance.getData()));
        this.scheduleTask =
                Tasks.recurringWithPersistentSchedule(SCHEDULE_TASK, TrainingSchedule.class)
                        .execute((instance, context) -> fire(instance.getData()));
        this.triggersTask =
                Tasks.recurringWithPersistentSchedule(TRIGGERS_TASK, TriggerSchedule.class)
                        .execute(
                                (instance, context) -> {
                                    TrainingTriggers t = triggers;
                                    if (t != null) {
                                        t.checkQuietly();
                                    }
                                });
        JdbcCustomization dialect =
                store.isSqlite()
                        ? new SqliteDialect()
                        : new PostgreSqlJdbcCustomization(false, true);
        this.scheduler =
                Scheduler.create(store.sideDataSource(), task, scheduleTask, triggersTask)
                        .jdbcCustomization(dialect)
                        .alwaysPersistTimestampInUTC()
                        // The PostgreSQL pool hands out connections with auto-commit off (the
                        // store's transactions); db-scheduler must commit its own statements.
                        .commitWhenAutocommitDisabled(true)
                        .threads(settings.threads())
                        .pollingInterval(settings.pollInterval())
                        .heartbeatInterval(settings.heartbeat())
                        .missedHeartbeatsLimit(settings.missedHeartbeats())
                        .enableImmediateExecution()
                        .schedulerName(new SchedulerName.Hostname())
                        .clock(clock)
                        .executorService(
                                java.util.concurrent.Executors.newFixedThreadPool(
                                        settings.threads(),
                                        r -> {
                                            Thread t = new Thread(r, "quiver-training");
                                            t.setDaemon(true);
                                            t.setPriority(Thread.MIN_PRIORITY);
                                            return t;
                                        }))
                        .build();
    }

    /**
     * SQLite for db-scheduler (it ships no SQLite dialect in 16.x): timestamps as UTC, and {@code
     * LIMIT n} where its default writes {@code FETCH FIRST n ROWS ONLY}, which SQLite refuses.
     */
    static final class SqliteDialect extends DefaultJdbcCustomization {
        SqliteDialect() {
            super(true);
        }

        @Override
        public String getName() {
            return "SQLite";
        }

        @Override
        public boolean supportsExplicitQueryLimitPart() {
            return true;
        }

        @Override
        public String getQueryLimitPart(int limit) {
            return " LIMIT " + limit;
        }
    }

    /**
     * Starts the scheduler on the store's database (its table is created by the store's migration
     * 6).
     *
     * @param store the open state store; stays owned by the caller, closed after this service
     * @param kinds the job kinds this service runs
     * @param settings the scheduler's settings
     * @param clock the scheduler's clock (tests may move it)
     * @return the running service; close it to stop the scheduler
     */
    public static TrainingService start(
            StateStore store, List<JobKind> kinds, Settings settings, Clock clock) {
        TrainingService s = new TrainingService(store, kinds, settings, clock);
        s.scheduler.start();
        return s;
    }

    /**
     * The job kinds, by name.
     *
     * @return the names
     */
    public List<String> kinds() {
        return kinds.keySet().stream().sorted().toList();
    }

    /**
     * A job kind by name (the triggers check their declared jobs with it).
     *
     * @param name the kind's name
     * @return the kind, empty if this service has none of that name
     */
    Optional<JobKind> kind(String name) {
        return Optional.ofNullable(name == null ? null : kinds.get(name));
    }

    private volatile TrainingTriggers triggers;

    /** The declared triggers as stored in db-scheduler's table, if any were ever declared. */
    Optional<TriggerSchedule> storedTriggers() {
        for (ScheduledExecution<TriggerSchedule> e :
                scheduler.getScheduledExecutionsForTask(
                        TRIGGERS_TASK,
                        TriggerSchedule.class,
                        com.github.kagkarlsson.scheduler.ScheduledExecutionsFilter.all())) {
            return Optional.of(e.getData());
        }
        return Optional.empty();
    }

    /**
     * Stores the declared triggers (replacing the stored ones), checked every {@code t.every()}
     * from now by the scheduler's pool.
     */
    void storeTriggers(TriggerSchedule t) {
        TaskInstanceId id = TaskInstanceId.of(TRIGGERS_TASK, "all");
        for (int attempt = 1; ; attempt++) {
            try {
                if (storedTriggers().isPresent()) {
                    scheduler.cancel(id);
                }
                scheduler.schedule(triggersTask.schedulableInstance("all", t));
                return;
            } catch (RuntimeException e) {
                // Picked by the pool for a check right now: try again once it is done.
                if (attempt == 50) {
                    throw e;
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /**
     * Attaches the drift and bundle-age triggers of the service (closed with this service).
     *
     * @param t the triggers
     */
    public void attach(TrainingTriggers t) {
        this.triggers = t;
    }

    /**
     * The drift and bundle-age triggers, when the service has sessions to watch.
     *
     * @return the triggers, empty when none are attached
     */
    public Optional<TrainingTriggers> triggers() {
        return Optional.ofNullable(triggers);
    }

    /**
     * Asks for a job: its parameters are checked, it is stored {@code queued} and scheduled now.
     *
     * @param kind the job kind, e.g. {@code fit-strategy}
     * @param params its parameters (a JSON object)
     * @param trigger what asks: {@code manual}, {@code schedule:NAME}, {@code drift}, {@code
     *     bundle-age}
     * @param actor who asks
     * @param reason why
     * @return the stored job
     * @throws QuiverInputException {@code BAD_TRAINING_JOB} naming the field ({@code kind}, {@code
     *     actor}, {@code reason} or one of the kind's parameters)
     */
    public TrainingJob submit(
            String kind, JsonNode params, String trigger, String actor, String reason) {
        JobKind k = kind == null ? null : kinds.get(kind);
        if (k == null) {
            throw bad("kind", kind, "is not one of " + kinds());
        }
        require("actor", actor);
        require("reason", reason);
        if (params != null && !params.isNull() && !params.isObject()) {
            throw bad("params", params, "is not a JSON object");
        }
        ObjectNode checked =
                k.validate(
                        params == null || params.isNull()
                                ? JSON.createObjectNode()
                                : ((ObjectNode) params).deepCopy());
        Instant now = clock.now();
        String id = newId(now);
        TrainingJob job =
                new TrainingJob(
                        id,
                        kind,
                        checked.toString(),
                        trigger,
                        actor,
                        reason,
                        TrainingJob.State.QUEUED,
                        0,
                        "queued",
                        Optional.empty(),
                        Optional.empty(),
                        false,
                        0,
                        now.toEpochMilli(),
                        OptionalLong.empty(),
                        OptionalLong.empty());
        jobs.insert(job);
        scheduler.schedule(task.instance(id, id), now);
        LOG.info(
                "training job {} ({}) queued by {} ({}): {}; params {}",
                id,
                kind,
                actor,
                trigger,
                reason,
                checked);
        return job;
    }

    /**
     * A job.
     *
     * @param id its id
     * @return the job
     * @throws QuiverInputException {@code UNKNOWN_TRAINING_JOB} if there is none
     */
    public TrainingJob job(String id) {
        return jobs.get(id)
                .orElseThrow(
                        () ->
                                new QuiverInputException(
                                        "UNKNOWN_TRAINING_JOB",
                                        "id",
                                        "training jobs",
                                        id,
                                        "no such job"));
    }

    /**
     * The most recent jobs, newest first.
     *
     * @param limit at most this many, {@code >= 1}
     * @return the jobs
     */
    public List<TrainingJob> jobs(int limit) {
        if (limit < 1) {
            throw bad("limit", limit, "must be >= 1");
        }
        return jobs.recent(limit);
    }

    /**
     * Cancels a job: a queued one is taken off the schedule and marked {@code cancelled}; a running
     * one stops at its next progress report (within a fold of the walk-forward) and is marked
     * {@code cancelled} then.
     *
     * @param id the job
     * @param actor who cancels
     * @param reason why
     * @return the job as it is now
     * @throws QuiverInputException {@code UNKNOWN_TRAINING_JOB}; {@code JOB_FINISHED} (409) if it
     *     is already over; {@code BAD_TRAINING_JOB} without actor or reason
     */
    public TrainingJob cancel(String id, String actor, String reason) {
        require("actor", actor);
        require("reason", reason);
        TrainingJob j = job(id);
        if (!jobs.askCancel(id)) {
            throw new QuiverInputException(
                    "JOB_FINISHED",
                    "id",
                    "cancel training job",
                    id,
                    "is already " + job(id).state().label());
        }
        LOG.info("training job {}: cancel asked by {}: {}", id, actor, reason);
        String why = "cancelled by " + actor + ": " + reason;
        cancelReasons.put(id, why);
        if (j.state() == TrainingJob.State.QUEUED) {
            try {
                scheduler.cancel(TaskInstanceId.of(TASK, id));
            } catch (RuntimeException e) {
                // Picked meanwhile: it starts, sees the cancel at its first report and stops.
                LOG.info("training job {}: already picked to run ({})", id, e.toString());
            }
            jobs.finish(
                    id,
                    TrainingJob.State.QUEUED,
                    TrainingJob.State.CANCELLED,
                    Optional.empty(),
                    Optional.of(why),
                    clock.now().toEpochMilli());
        }
        Running r = running.get(id);
        if (r != null) {
            r.thread().interrupt();
        }
        return job(id);
    }

    /**
     * The configured schedules with their next run, by name.
     *
     * @return per schedule: {@code name}, {@code kind}, {@code params}, {@code cron} or {@code
     *     every}, {@code next_run}
     */
    public List<Map<String, Object>> schedules() {
        List<Map<String, Object>> out = new java.util.ArrayList<>();
        for (ScheduledExecution<TrainingSchedule> e :
                scheduler.getScheduledExecutionsForTask(
                        SCHEDULE_TASK,
                        TrainingSchedule.class,
                        com.github.kagkarlsson.scheduler.ScheduledExecutionsFilter.all())) {
            TrainingSchedule t = e.getData();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", t.name());
            m.put("kind", t.kind());
            m.put("params", tree(t.paramsJson()));
            t.cron().ifPresent(c -> m.put("cron", c));
            t.every().ifPresent(d -> m.put("every", d));
            m.put("next_run", e.getExecutionTime().toString());
            out.add(m);
        }
        out.sort(java.util.Comparator.comparing(m -> (String) m.get("name")));
        return out;
    }

    /**
     * Replaces the configured schedules: each is checked (name, kind, its parameters as the kind
     * checks a job's, exactly one of {@code cron} and {@code every}) before anything changes; an
     * unchanged schedule keeps its next run, a changed or new one is scheduled from now, one left
     * out is removed.
     *
     * @param specs the schedules, each {@code {"name", "kind", "params", "cron" | "every"}}
     * @param actor who configures
     * @param reason why
     * @return the schedules now, as {@link #schedules()}
     * @throws QuiverInputException {@code BAD_TRAINING_CONFIG} naming the field, e.g. {@code
     *     schedules[1].cron}
     */
    public List<Map<String, Object>> configure(JsonNode specs, String actor, String reason) {
        require("actor", actor);
        require("reason", reason);
        if (specs == null || !specs.isArray()) {
            throw badConfig("schedules", specs, "is not an array of schedules");
        }
        Map<String, TrainingSchedule> wanted = new LinkedHashMap<>();
        for (int i = 0; i < specs.size(); i++) {
            TrainingSchedule t = schedule(specs.get(i), "schedules[" + i + "]");
            if (wanted.putIfAbsent(t.name(), t) != null) {
                throw badConfig(
                        "schedules[" + i + "].name",
                        t.name(),
                        "is the name of an earlier schedule");
            }
        }
        Map<String, TrainingSchedule> current = new LinkedHashMap<>();
        for (ScheduledExecution<TrainingSchedule> e :
                scheduler.getScheduledExecutionsForTask(
                        SCHEDULE_TASK,
                        TrainingSchedule.class,
                        com.github.kagkarlsson.scheduler.ScheduledExecutionsFilter.all())) {
            current.put(e.getData().name(), e.getData());
        }
        for (TrainingSchedule old : current.values()) {
            if (!old.equals(wanted.get(old.name()))) {
                scheduler.cancel(TaskInstanceId.of(SCHEDULE_TASK, old.name()));
            }
        }
        for (TrainingSchedule t : wanted.values()) {
            if (!t.equals(current.get(t.name()))) {
                scheduler.schedule(scheduleTask.schedulableInstance(t.name(), t));
            }
        }
        LOG.info(
                "training schedules set by {} ({}): {}",
                actor,
                reason,
                wanted.values().stream().map(TrainingSchedule::toString).toList());
        return schedules();
    }

    private TrainingSchedule schedule(JsonNode s, String at) {
        if (s == null || !s.isObject()) {
            throw badConfig(at, s, "is not a schedule object");
        }
        for (var it = s.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!List.of("name", "kind", "params", "cron", "every").contains(f)) {
                throw badConfig(at + "." + f, s.get(f), "is not a field of a schedule");
            }
        }
        String name = s.path("name").asText("");
        if (!SCHEDULE_NAME.matcher(name).matches()) {
            throw badConfig(
                    at + ".name", s.get("name"), "is not a name of [a-z0-9-], 1 to 63 characters");
        }
        String kind = s.path("kind").asText("");
        JobKind k = kinds.get(kind);
        if (k == null) {
            throw badConfig(at + ".kind", s.get("kind"), "is not one of " + kinds());
        }
        JsonNode params = s.get("params");
        if (params != null && !params.isNull() && !params.isObject()) {
            throw badConfig(at + ".params", params, "is not a JSON object");
        }
        ObjectNode checked;
        try {
            checked =
                    k.validate(
                            params == null || params.isNull()
                                    ? JSON.createObjectNode()
                                    : ((ObjectNode) params).deepCopy());
        } catch (QuiverInputException e) {
            throw badConfig(
                    at + ".params." + e.field(), e.value(), "is refused: " + e.getMessage());
        }
        boolean cron = s.hasNonNull("cron");
        boolean every = s.hasNonNull("every");
        if (cron == every) {
            throw badConfig(
                    at + ".cron",
                    s.get("cron"),
                    "give exactly one of cron (e.g. \"0 0 2 * * *\", six fields, seconds first,"
                            + " UTC) and every (an ISO-8601 duration, e.g. PT6H)");
        }
        if (cron) {
            String c = s.get("cron").asText();
            try {
                Schedules.cron(c, java.time.ZoneOffset.UTC);
            } catch (RuntimeException e) {
                throw badConfig(at + ".cron", c, "does not parse: " + e.getMessage());
            }
            return new TrainingSchedule(name, kind, checked.toString(), c, null);
        }
        Duration d;
        try {
            d = Duration.parse(s.get("every").asText());
        } catch (java.time.format.DateTimeParseException e) {
            throw badConfig(at + ".every", s.get("every"), "is not an ISO-8601 duration (PT6H)");
        }
        if (d.compareTo(Duration.ofSeconds(1)) < 0) {
            throw badConfig(at + ".every", s.get("every"), "must be at least PT1S");
        }
        return new TrainingSchedule(name, kind, checked.toString(), null, d.toString());
    }

    /**
     * Runs a configured schedule's job now, by hand (its next scheduled run stays as it was).
     *
     * @param name the schedule
     * @param actor who asks
     * @param reason why
     * @return the queued job
     * @throws QuiverInputException {@code UNKNOWN_SCHEDULE} (404) if there is no such schedule
     */
    public TrainingJob trigger(String name, String actor, String reason) {
        for (ScheduledExecution<TrainingSchedule> e :
                scheduler.getScheduledExecutionsForTask(
                        SCHEDULE_TASK,
                        TrainingSchedule.class,
                        com.github.kagkarlsson.scheduler.ScheduledExecutionsFilter.all())) {
            TrainingSchedule t = e.getData();
            if (t.name().equals(name)) {
                return submit(
                        t.kind(),
                        tree(t.paramsJson()),
                        "schedule:" + name + " (by hand)",
                        actor,
                        reason);
            }
        }
        throw new QuiverInputException(
                "UNKNOWN_SCHEDULE", "schedule", "training trigger", name, "no such schedule");
    }

    /** A schedule fired: its job is asked for, or stored failed when its parameters fail now. */
    private void fire(TrainingSchedule t) {
        String reason = "schedule '" + t.name() + "' (" + t.describe() + ") fired";
        try {
            submit(t.kind(), tree(t.paramsJson()), "schedule:" + t.name(), "scheduler", reason);
        } catch (QuiverInputException e) {
            Instant now = clock.now();
            TrainingJob failed =
                    new TrainingJob(
                            newId(now),
                            t.kind(),
                            t.paramsJson(),
                            "schedule:" + t.name(),
                            "scheduler",
                            reason,
                            TrainingJob.State.FAILED,
                            0,
                            "refused",
                            Optional.empty(),
                            Optional.of(e.getMessage()),
                            false,
                            0,
                            now.toEpochMilli(),
                            OptionalLong.empty(),
                            OptionalLong.of(now.toEpochMilli()));
            jobs.insert(failed);
            LOG.warn("training schedule {}: its job was refused: {}", t.name(), e.getMessage());
        }
    }

    /** Asks the scheduler to look for due executions now (tests moving the clock). */
    void checkDue() {
        scheduler.triggerCheckForDueExecutions();
    }

    private void execute(String id) {
        Optional<TrainingJob> stored = jobs.get(id);
        if (stored.isEmpty()) {
            LOG.warn("training job {}: scheduled but not stored; nothing to run", id);
            return;
        }
        if (!jobs.start(id, clock.now().toEpochMilli())) {
            LOG.info(
                    "training job {} is {}, not queued: not started",
                    id,
                    jobs.get(id).map(j -> j.state().label()).orElse("gone"));
            return;
        }
        TrainingJob job = stored.get();
        JobKind kind = kinds.get(job.kind());
        running.put(id, new Running(Thread.currentThread(), id));
        long t0 = System.nanoTime();
        try {
            if (kind == null) {
                throw new IllegalStateException(
                        "job kind '" + job.kind() + "' is not known to this service");
            }
            ObjectNode params = (ObjectNode) JSON.readTree(job.paramsJson());
            LOG.info("training job {} ({}) started", id, job.kind());
            ObjectNode result = kind.run(params, new Context(id));
            result.put("seconds", (System.nanoTime() - t0) / 1e9);
            end(id, TrainingJob.State.SUCCEEDED, Optional.of(result.toString()), Optional.empty());
            LOG.info("training job {} succeeded: {}", id, result);
        } catch (Exception e) {
            if (closing && !jobs.cancelAsked(id)) {
                end(
                        id,
                        TrainingJob.State.FAILED,
                        Optional.empty(),
                        Optional.of(
                                "interrupted: the service shut down while the job ran ("
                                        + describe(e)
                                        + "); not restarted: ask for a new job"));
                LOG.warn("training job {} interrupted by the shutdown", id);
            } else if (e instanceof JobCancelledException
                    || ((e instanceof InterruptedException
                                    || e instanceof java.util.concurrent.CancellationException)
                            && jobs.cancelAsked(id))) {
                end(
                        id,
                        TrainingJob.State.CANCELLED,
                        Optional.empty(),
                        Optional.of(cancelReason(id)));
                LOG.info("training job {} cancelled", id);
            } else if (Thread.currentThread().isInterrupted() || jobs.cancelAsked(id)) {
                end(
                        id,
                        TrainingJob.State.CANCELLED,
                        Optional.empty(),
                        Optional.of(cancelReason(id) + " (stopped by " + e + ")"));
                LOG.info("training job {} cancelled ({})", id, e.toString());
            } else {
                end(id, TrainingJob.State.FAILED, Optional.empty(), Optional.of(describe(e)));
                LOG.warn("training job {} failed", id, e);
            }
        } catch (Error e) {
            end(id, TrainingJob.State.FAILED, Optional.empty(), Optional.of(describe(e)));
            LOG.error("training job {} failed", id, e);
            throw e;
        } finally {
            running.remove(id);
            cancelReasons.remove(id);
            Thread.interrupted(); // the pool thread goes on clean
        }
    }

    private static String newId(Instant now) {
        return "job-"
                + Long.toString(now.toEpochMilli(), 36)
                + "-"
                + UUID.randomUUID().toString().substring(0, 8);
    }

    private String cancelReason(String id) {
        return cancelReasons.getOrDefault(id, "cancelled (asked while it ran)");
    }

    private void end(
            String id, TrainingJob.State to, Optional<String> result, Optional<String> error) {
        jobs.finish(id, TrainingJob.State.RUNNING, to, result, error, clock.now().toEpochMilli());
    }

    /** A running job whose process died: failed, never restarted (see the class comment). */
    private void interrupted(String id) {
        Optional<TrainingJob> j = jobs.get(id);
        boolean marked =
                jobs.finish(
                        id,
                        TrainingJob.State.RUNNING,
                        TrainingJob.State.FAILED,
                        Optional.empty(),
                        Optional.of(
                                "interrupted: the service stopped while the job ran (attempt "
                                        + j.map(TrainingJob::attempts).orElse(0)
                                        + "); not restarted, by policy (a half-done job may have"
                                        + " registered a version): ask for a new job"),
                        clock.now().toEpochMilli());
        LOG.warn(
                "training job {}: its execution died with its process; {}",
                id,
                marked ? "marked failed" : "it had already ended");
    }

    private static String describe(Throwable e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    private final class Context implements JobContext {
        private final String id;

        Context(String id) {
            this.id = id;
        }

        @Override
        public String jobId() {
            return id;
        }

        @Override
        public void progress(double fraction, String note) {
            if (!(fraction >= 0 && fraction <= 1)) {
                throw new IllegalArgumentException("progress must be in [0, 1], was " + fraction);
            }
            if (Thread.currentThread().isInterrupted() || jobs.cancelAsked(id)) {
                throw new JobCancelledException(id);
            }
            jobs.progress(id, fraction, Objects.requireNonNull(note, "note"));
        }
    }

    private static void require(String field, String value) {
        if (dev.quiver.host.session.Text.blank(value)) {
            throw bad(field, value, "is required");
        }
    }

    private static QuiverInputException badConfig(String field, Object value, String problem) {
        return new QuiverInputException(
                "BAD_TRAINING_CONFIG", field, "training config", value, problem);
    }

    static QuiverInputException bad(String field, Object value, String problem) {
        return new QuiverInputException("BAD_TRAINING_JOB", field, "training job", value, problem);
    }

    /**
     * A job as the API shows it.
     *
     * @param j the job
     * @return its fields, JSON-ready
     */
    public static Map<String, Object> describe(TrainingJob j) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", j.id());
        m.put("kind", j.kind());
        m.put("state", j.state().label());
        m.put("progress", j.progress());
        m.put("progress_note", j.progressNote());
        m.put("trigger", j.trigger());
        m.put("actor", j.actor());
        m.put("reason", j.reason());
        m.put("params", tree(j.paramsJson()));
        j.resultJson().ifPresent(r -> m.put("result", tree(r)));
        j.error().ifPresent(e -> m.put("error", e));
        m.put("cancel_asked", j.cancelAsked());
        m.put("attempts", j.attempts());
        m.put("created_at", Instant.ofEpochMilli(j.createdMs()).toString());
        j.startedMs().ifPresent(t -> m.put("started_at", Instant.ofEpochMilli(t).toString()));
        j.finishedMs().ifPresent(t -> m.put("finished_at", Instant.ofEpochMilli(t).toString()));
        return m;
    }

    private static ObjectNode tree(String json) {
        try {
            return (ObjectNode) JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a stored job's JSON does not parse: " + json, e);
        }
    }

    /** Stops the scheduler: running jobs are interrupted and, if they do not stop, left dead. */
    @Override
    public void close() {
        closing = true;
        TrainingTriggers t = triggers;
        if (t != null) {
            t.close();
        }
        for (Running r : running.values()) {
            r.thread().interrupt();
        }
        scheduler.stop();
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "TrainingService%s", kinds());
    }
}
