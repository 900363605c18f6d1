package dev.quiver.host.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.kagkarlsson.scheduler.Clock;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.host.store.StateStore;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training jobs on db-scheduler and the state store, run against each database: {@code
 * TrainingJobsSqliteTest} (a file) and {@code TrainingJobsPostgresIT} (the real PostgreSQL server
 * the build starts). The job kinds here are test kinds that count, wait for a latch or throw: the
 * thing under test is the scheduling, the stored states and the crash and cancel rules, all real.
 */
abstract class TrainingJobsContract {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path home;

    private String url;
    private final List<AutoCloseable> opened = new ArrayList<>();

    /** Runs of each test job, by job id: a job must never run twice. */
    private final ConcurrentHashMap<String, AtomicInteger> runs = new ConcurrentHashMap<>();

    private final CountDownLatch release = new CountDownLatch(1);
    private final CountDownLatch started = new CountDownLatch(1);

    abstract String freshDatabaseUrl() throws Exception;

    void dropDatabase(String url) throws Exception {}

    @BeforeEach
    void freshDatabase() throws Exception {
        url = freshDatabaseUrl();
    }

    @AfterEach
    void closeAll() throws Exception {
        release.countDown();
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
        dropDatabase(url);
    }

    private StateStore store() {
        StateStore s = StateStore.open(Optional.of(url), home);
        opened.add(s);
        return s;
    }

    private static final TrainingService.Settings FAST =
            new TrainingService.Settings(1, Duration.ofMillis(100), Duration.ofMillis(200), 4);

    private TrainingService service(StateStore store) {
        TrainingService t = TrainingService.start(store, kinds(), FAST, Instant::now);
        opened.add(t);
        return t;
    }

    /** {@code count}: reports progress n times and answers n; {@code wait}: waits for release. */
    private List<JobKind> kinds() {
        return List.of(
                kind(
                        "count",
                        (params, ctx) -> {
                            runs.computeIfAbsent(ctx.jobId(), k -> new AtomicInteger())
                                    .incrementAndGet();
                            int n = params.get("n").asInt();
                            for (int i = 1; i <= n; i++) {
                                ctx.progress((double) i / n, "step " + i + "/" + n);
                            }
                            ObjectNode r = JSON.createObjectNode();
                            r.put("counted", n);
                            return r;
                        }),
                kind(
                        "wait",
                        (params, ctx) -> {
                            runs.computeIfAbsent(ctx.jobId(), k -> new AtomicInteger())
                                    .incrementAndGet();
                            started.countDown();
                            // Reports every 20 ms until released, like folds of a fit.
                            while (!release.await(20, TimeUnit.MILLISECONDS)) {
                                ctx.progress(0.5, "waiting");
                            }
                            return JSON.createObjectNode();
                        }),
                kind(
                        "stuck",
                        (params, ctx) -> {
                            runs.computeIfAbsent(ctx.jobId(), k -> new AtomicInteger())
                                    .incrementAndGet();
                            started.countDown();
                            // Ignores cancels and interrupts: only the release ends it.
                            while (true) {
                                try {
                                    if (release.await(20, TimeUnit.MILLISECONDS)) {
                                        break;
                                    }
                                } catch (InterruptedException e) {
                                    // ignored on purpose
                                }
                            }
                            return JSON.createObjectNode();
                        }),
                kind(
                        "fail",
                        (params, ctx) -> {
                            throw new IllegalStateException("no bars for 'XYZ' in the span");
                        }));
    }

    @FunctionalInterface
    interface Body {
        ObjectNode run(ObjectNode params, JobContext ctx) throws Exception;
    }

    private static JobKind kind(String name, Body body) {
        return new JobKind() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public ObjectNode validate(ObjectNode params) {
                if (name.equals("count")) {
                    if (!params.path("n").canConvertToInt() || params.get("n").asInt() < 1) {
                        throw TrainingService.bad("n", params.get("n"), "must be an integer >= 1");
                    }
                }
                return params;
            }

            @Override
            public ObjectNode run(ObjectNode params, JobContext context) throws Exception {
                return body.run(params, context);
            }
        };
    }

    private static ObjectNode params(String json) throws Exception {
        return (ObjectNode) JSON.readTree(json);
    }

    private static TrainingJob await(
            TrainingService t, String id, Predicate<TrainingJob> done, Duration within)
            throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        TrainingJob j = t.job(id);
        while (!done.test(j)) {
            assertThat(System.nanoTime())
                    .as("job %s still %s after %s", id, j.state(), within)
                    .isLessThan(deadline);
            Thread.sleep(20);
            j = t.job(id);
        }
        return j;
    }

    @Test
    void aJobRunsOnceAndItsResultProgressAndAuditAreStoredAndSurviveAReopen() throws Exception {
        String id;
        try (StateStore store = StateStore.open(Optional.of(url), home)) {
            TrainingService t = TrainingService.start(store, kinds(), FAST, Instant::now);
            try {
                TrainingJob queued =
                        t.submit("count", params("{\"n\":5}"), "manual", "ana", "nightly check");
                id = queued.id();
                assertThat(queued.state()).isEqualTo(TrainingJob.State.QUEUED);
                TrainingJob done = await(t, id, j -> j.state().finished(), Duration.ofSeconds(30));
                assertThat(done.state()).isEqualTo(TrainingJob.State.SUCCEEDED);
                assertThat(done.progress()).isEqualTo(1.0);
                assertThat(done.progressNote()).isEqualTo("step 5/5");
                assertThat(JSON.readTree(done.resultJson().orElseThrow()).get("counted").asInt())
                        .isEqualTo(5);
                assertThat(done.attempts()).isEqualTo(1);
                assertThat(done.startedMs()).isPresent();
                assertThat(done.finishedMs().getAsLong())
                        .isGreaterThanOrEqualTo(done.startedMs().getAsLong());
            } finally {
                t.close();
            }
        }
        TrainingService again = service(store());
        TrainingJob j = again.job(id);
        assertThat(j.state()).isEqualTo(TrainingJob.State.SUCCEEDED);
        assertThat(j.actor()).isEqualTo("ana");
        assertThat(j.reason()).isEqualTo("nightly check");
        assertThat(j.trigger()).isEqualTo("manual");
        assertThat(JSON.readTree(j.paramsJson()).get("n").asInt()).isEqualTo(5);
        Thread.sleep(500); // a second scheduler polls a few times: nothing runs again
        assertThat(runs.get(id).get()).isEqualTo(1);
        assertThat(again.jobs(10)).extracting(TrainingJob::id).containsExactly(id);
    }

    @Test
    void badRequestsNameTheField() {
        TrainingService t = service(store());
        assertThatThrownBy(() -> t.submit("evolve", JSON.createObjectNode(), "manual", "a", "b"))
                .isInstanceOfSatisfying(
                        QuiverInputException.class, e -> assertThat(e.field()).isEqualTo("kind"))
                .hasMessageContaining("is not one of [count, fail, stuck, wait]");
        assertThatThrownBy(() -> t.submit("count", params("{\"n\":-3}"), "manual", "a", "b"))
                .isInstanceOfSatisfying(
                        QuiverInputException.class, e -> assertThat(e.field()).isEqualTo("n"));
        assertThatThrownBy(() -> t.submit("count", params("{\"n\":3}"), "manual", "a", " "))
                .isInstanceOfSatisfying(
                        QuiverInputException.class, e -> assertThat(e.field()).isEqualTo("reason"));
        assertThatThrownBy(() -> t.submit("count", JSON.readTree("[1]"), "manual", "a", "b"))
                .isInstanceOfSatisfying(
                        QuiverInputException.class, e -> assertThat(e.field()).isEqualTo("params"));
        assertThatThrownBy(() -> t.job("job-nope"))
                .isInstanceOfSatisfying(
                        QuiverInputException.class,
                        e -> assertThat(e.code()).isEqualTo("UNKNOWN_TRAINING_JOB"));
        assertThat(t.jobs(10)).isEmpty();
    }

    @Test
    void aFailingJobIsFailedWithItsError() throws Exception {
        TrainingService t = service(store());
        String id = t.submit("fail", null, "manual", "a", "b").id();
        TrainingJob j = await(t, id, x -> x.state().finished(), Duration.ofSeconds(30));
        assertThat(j.state()).isEqualTo(TrainingJob.State.FAILED);
        assertThat(j.error().orElseThrow())
                .isEqualTo("IllegalStateException: no bars for 'XYZ' in the span");
    }

    @Test
    void cancelStopsARunningJobWithinASecondAndAQueuedOneNeverRuns() throws Exception {
        TrainingService t = service(store());
        String running = t.submit("wait", null, "manual", "a", "b").id();
        assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
        // One thread: this one waits in the queue behind it.
        String queued = t.submit("count", params("{\"n\":2}"), "manual", "a", "b").id();
        TrainingJob q = t.cancel(queued, "ana", "not needed");
        assertThat(q.state()).isEqualTo(TrainingJob.State.CANCELLED);
        assertThat(q.error()).contains("cancelled by ana: not needed");

        long t0 = System.nanoTime();
        t.cancel(running, "ana", "wrong span");
        TrainingJob r = await(t, running, x -> x.state().finished(), Duration.ofSeconds(1));
        System.out.printf("cancel took %.0f ms%n", (System.nanoTime() - t0) / 1e6);
        assertThat(r.state()).isEqualTo(TrainingJob.State.CANCELLED);
        assertThat(r.error()).contains("cancelled by ana: wrong span");
        assertThatThrownBy(() -> t.cancel(running, "ana", "again"))
                .isInstanceOfSatisfying(
                        QuiverInputException.class,
                        e -> assertThat(e.code()).isEqualTo("JOB_FINISHED"));
        Thread.sleep(500);
        assertThat(runs).containsOnlyKeys(running);
        assertThat(t.job(queued).state()).isEqualTo(TrainingJob.State.CANCELLED);
    }

    @Test
    void aJobWhoseSchedulerDiedIsFailedByTheNextOneAndNeverRunsTwice() throws Exception {
        // Scheduler A runs on a clock an hour slow, so every heartbeat it writes is an hour old
        // to scheduler B on the real clock: to B, A is a process that died with the job picked
        // (the SIGKILL of a real service is ServeTrainingIT's). B must mark the job failed and
        // never run it; A's late success must not overwrite that.
        Clock slow = () -> Instant.now().minus(Duration.ofHours(1));
        TrainingService a = TrainingService.start(store(), kinds(), FAST, slow);
        opened.add(a);
        String id = a.submit("stuck", null, "manual", "a", "b").id();
        assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();

        TrainingService b = service(store());
        TrainingJob j = await(b, id, x -> x.state().finished(), Duration.ofSeconds(30));
        assertThat(j.state()).isEqualTo(TrainingJob.State.FAILED);
        assertThat(j.error().orElseThrow())
                .startsWith("interrupted: the service stopped while the job ran (attempt 1)");
        release.countDown(); // A's job ends now: its success must not overwrite the failure
        Thread.sleep(500);
        assertThat(b.job(id).state()).isEqualTo(TrainingJob.State.FAILED);
        assertThat(runs.get(id).get()).isEqualTo(1);
        assertThat(b.job(id).attempts()).isEqualTo(1);
    }

    @Test
    void aCronScheduleFiresOnTimeUnderAControllableClockNotBeforeAndSurvivesARestart()
            throws Exception {
        java.util.concurrent.atomic.AtomicReference<Instant> now =
                new java.util.concurrent.atomic.AtomicReference<>(
                        Instant.parse("2026-01-05T01:00:00Z"));
        Clock clock = now::get;
        TrainingService t = TrainingService.start(store(), kinds(), FAST, clock);
        opened.add(t);
        List<java.util.Map<String, Object>> set =
                t.configure(
                        JSON.readTree(
                                "[{\"name\":\"nightly\",\"kind\":\"count\","
                                        + "\"params\":{\"n\":2},\"cron\":\"0 0 2 * * *\"}]"),
                        "ana",
                        "nightly refit");
        assertThat(set).hasSize(1);
        assertThat(set.get(0).get("next_run")).isEqualTo("2026-01-05T02:00:00Z");

        now.set(Instant.parse("2026-01-05T01:59:59Z"));
        t.checkDue();
        Thread.sleep(700);
        assertThat(t.jobs(10)).as("nothing fires before 02:00").isEmpty();

        now.set(Instant.parse("2026-01-05T02:00:01Z"));
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (t.jobs(10).isEmpty()) {
            assertThat(System.nanoTime()).as("the schedule fired").isLessThan(deadline);
            t.checkDue();
            Thread.sleep(50);
        }
        String id = t.jobs(10).get(0).id();
        TrainingJob j = await(t, id, x -> x.state().finished(), Duration.ofSeconds(30));
        assertThat(j.state()).isEqualTo(TrainingJob.State.SUCCEEDED);
        assertThat(j.trigger()).isEqualTo("schedule:nightly");
        assertThat(j.actor()).isEqualTo("scheduler");
        assertThat(j.reason()).isEqualTo("schedule 'nightly' (cron 0 0 2 * * *) fired");
        assertThat(j.createdMs()).isEqualTo(Instant.parse("2026-01-05T02:00:01Z").toEpochMilli());
        assertThat(t.schedules().get(0).get("next_run")).isEqualTo("2026-01-06T02:00:00Z");
        assertThat(t.jobs(10)).hasSize(1);
        t.close();

        // A restart keeps the schedule and its next run; a trigger by hand runs its job now.
        TrainingService again = TrainingService.start(store(), kinds(), FAST, clock);
        opened.add(again);
        assertThat(again.schedules())
                .extracting(m -> m.get("name") + " " + m.get("next_run") + " " + m.get("cron"))
                .containsExactly("nightly 2026-01-06T02:00:00Z 0 0 2 * * *");
        TrainingJob byHand = again.trigger("nightly", "ana", "after the data fix");
        assertThat(byHand.trigger()).isEqualTo("schedule:nightly (by hand)");
        assertThat(
                        await(again, byHand.id(), x -> x.state().finished(), Duration.ofSeconds(30))
                                .state())
                .isEqualTo(TrainingJob.State.SUCCEEDED);
        assertThat(again.schedules().get(0).get("next_run")).isEqualTo("2026-01-06T02:00:00Z");
        assertThatThrownBy(() -> again.trigger("weekly", "ana", "x"))
                .isInstanceOfSatisfying(
                        QuiverInputException.class,
                        e -> assertThat(e.code()).isEqualTo("UNKNOWN_SCHEDULE"));
        assertThat(again.configure(JSON.readTree("[]"), "ana", "pause training")).isEmpty();
        assertThat(again.schedules()).isEmpty();
    }

    @Test
    void aBadScheduleNamesItsFieldAndChangesNothing() throws Exception {
        TrainingService t = service(store());
        t.configure(
                JSON.readTree(
                        "[{\"name\":\"keep\",\"kind\":\"count\",\"params\":{\"n\":1},"
                                + "\"every\":\"PT6H\"}]"),
                "a",
                "b");
        String[][] cases = {
            {
                "[{\"name\":\"x\",\"kind\":\"count\",\"params\":{\"n\":1},\"cron\":\"not a cron\"}]",
                "schedules[0].cron"
            },
            {"[{\"name\":\"x\",\"kind\":\"count\",\"params\":{\"n\":1}}]", "schedules[0].cron"},
            {
                "[{\"name\":\"x\",\"kind\":\"count\",\"params\":{\"n\":1},\"every\":\"PT6H\",\"cron\":\"0 0 2 * * *\"}]",
                "schedules[0].cron"
            },
            {
                "[{\"name\":\"x\",\"kind\":\"count\",\"params\":{\"n\":1},\"every\":\"PT0S\"}]",
                "schedules[0].every"
            },
            {
                "[{\"name\":\"x\",\"kind\":\"count\",\"params\":{\"n\":1},\"every\":\"6 hours\"}]",
                "schedules[0].every"
            },
            {"[{\"name\":\"x\",\"kind\":\"evolve\",\"every\":\"PT6H\"}]", "schedules[0].kind"},
            {
                "[{\"name\":\"x\",\"kind\":\"count\",\"params\":{\"n\":-1},\"every\":\"PT6H\"}]",
                "schedules[0].params.n"
            },
            {
                "[{\"name\":\"Nightly Run\",\"kind\":\"count\",\"params\":{\"n\":1},\"every\":\"PT6H\"}]",
                "schedules[0].name"
            },
            {
                "[{\"name\":\"x\",\"kind\":\"count\",\"params\":{\"n\":1},\"every\":\"PT6H\"},"
                        + "{\"name\":\"x\",\"kind\":\"count\",\"params\":{\"n\":1},\"every\":\"PT1H\"}]",
                "schedules[1].name"
            },
            {"{\"name\":\"x\"}", "schedules"},
        };
        for (String[] c : cases) {
            assertThatThrownBy(() -> t.configure(JSON.readTree(c[0]), "a", "b"))
                    .as(c[0])
                    .isInstanceOfSatisfying(
                            QuiverInputException.class,
                            e -> {
                                assertThat(e.code()).isEqualTo("BAD_TRAINING_CONFIG");
                                assertThat(e.field()).isEqualTo(c[1]);
                            });
        }
        assertThat(t.schedules()).extracting(m -> m.get("name")).containsExactly("keep");
    }
}
