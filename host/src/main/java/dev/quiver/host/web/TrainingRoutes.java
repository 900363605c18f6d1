package dev.quiver.host.web;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.host.training.TrainingJob;
import dev.quiver.host.training.TrainingService;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The training jobs' endpoints (issue 12, freqtrade's background-job shape): {@code POST
 * /v1/training/jobs} asks for a job ({@code {"kind": "fit-strategy", "params": {...}, "actor": WHO,
 * "reason": WHY}}, answered 202 with the queued job), {@code GET /v1/training/jobs} (newest first,
 * {@code ?limit=N}, default 50) and {@code GET /v1/training/jobs/{id}} show state, progress, result
 * or error, {@code POST /v1/training/jobs/{id}/cancel} ({@code actor}, {@code reason}) stops it.
 * Bad input is a 400 naming the field; an unknown job 404; cancelling a finished job 409.
 */
final class TrainingRoutes {

    private static final JsonBody BODY = new JsonBody("BAD_TRAINING_JOB", "training jobs");

    private final Optional<TrainingService> training;

    private TrainingRoutes(Optional<TrainingService> training) {
        this.training = training;
    }

    static void register(
            Javalin app, Optional<TrainingService> training, SessionRoutes.Answer json) {
        TrainingRoutes r = new TrainingRoutes(training);
        TrainingTriggerRoutes.register(app, training, json);
        app.post("/v1/training/jobs", ctx -> r.call(ctx, json, 202, () -> r.submit(ctx)));
        app.get("/v1/training/jobs", ctx -> r.call(ctx, json, 200, () -> r.list(ctx)));
        app.get(
                "/v1/training/jobs/{id}",
                ctx ->
                        r.call(
                                ctx,
                                json,
                                200,
                                () ->
                                        TrainingService.describe(
                                                r.service().job(ctx.pathParam("id")))));
        app.post(
                "/v1/training/jobs/{id}/cancel",
                ctx -> r.call(ctx, json, 200, () -> r.cancel(ctx)));
        app.get("/v1/training/config", ctx -> r.call(ctx, json, 200, r::config));
        app.put(
                "/v1/training/config",
                ctx ->
                        r.call(
                                ctx,
                                json,
                                200,
                                () -> {
                                    JsonNode b = BODY.object(ctx);
                                    r.service()
                                            .configure(
                                                    b.get("schedules"),
                                                    BODY.text(b, "actor"),
                                                    BODY.text(b, "reason"));
                                    return r.config();
                                }));
        app.post(
                "/v1/training/trigger",
                ctx ->
                        r.call(
                                ctx,
                                json,
                                202,
                                () -> {
                                    JsonNode b = BODY.object(ctx);
                                    return TrainingService.describe(
                                            r.service()
                                                    .trigger(
                                                            BODY.text(b, "schedule"),
                                                            BODY.text(b, "actor"),
                                                            BODY.text(b, "reason")));
                                }));
    }

    private Map<String, Object> config() {
        TrainingService t = service();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kinds", t.kinds());
        m.put("schedules", t.schedules());
        return m;
    }

    @FunctionalInterface
    private interface Work {
        Object run();
    }

    private void call(Context ctx, SessionRoutes.Answer json, int ok, Work work) {
        try {
            json.write(ctx, ok, work.run());
        } catch (QuiverInputException e) {
            int status =
                    switch (e.code()) {
                        case "UNKNOWN_TRAINING_JOB", "UNKNOWN_SCHEDULE" -> 404;
                        case "JOB_FINISHED", "NO_TRAINING" -> 409;
                        default -> 400;
                    };
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("error", e.code());
            body.put("field", e.field());
            body.put("message", e.getMessage());
            json.write(ctx, status, body);
        }
    }

    private TrainingService service() {
        return training.orElseThrow(
                () ->
                        new QuiverInputException(
                                "NO_TRAINING",
                                "training",
                                "training jobs",
                                null,
                                "this service runs no training scheduler"));
    }

    private Object submit(Context ctx) {
        TrainingService t = service();
        JsonNode b = BODY.object(ctx);
        TrainingJob j =
                t.submit(
                        BODY.text(b, "kind"),
                        b.get("params"),
                        "manual",
                        BODY.text(b, "actor"),
                        BODY.text(b, "reason"));
        return TrainingService.describe(j);
    }

    private Object list(Context ctx) {
        TrainingService t = service();
        String limit = ctx.queryParam("limit");
        int n;
        try {
            n = limit == null ? 50 : Integer.parseInt(limit);
        } catch (NumberFormatException e) {
            throw new QuiverInputException(
                    "BAD_TRAINING_JOB", "limit", "training jobs", limit, "is not an integer");
        }
        List<Map<String, Object>> jobs = t.jobs(n).stream().map(TrainingService::describe).toList();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kinds", t.kinds());
        m.put("jobs", jobs);
        return m;
    }

    private Object cancel(Context ctx) {
        JsonNode b = BODY.object(ctx);
        return TrainingService.describe(
                service()
                        .cancel(
                                ctx.pathParam("id"),
                                BODY.text(b, "actor"),
                                BODY.text(b, "reason")));
    }
}
