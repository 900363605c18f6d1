package dev.quiver.host.web;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.host.training.DriftMonitor;
import dev.quiver.host.training.TrainingService;
import dev.quiver.host.training.TrainingTriggers;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Drift and the training triggers (issue 12, items 1 and 3): {@code GET /v1/training/drift} ({@code
 * ?bars=N}, default 300; {@code ?symbol=S} for one session) answers per open session and feature
 * the population stability index and Kolmogorov-Smirnov statistic against the served bundle's
 * training window; {@code GET|PUT /v1/training/triggers} shows or replaces the declared drift and
 * bundle-age triggers ({@code {"triggers": [...], "actor", "reason"}}); {@code POST
 * /v1/training/triggers/check} ({@code actor}, {@code reason}) checks them now. Bad input is a 400
 * naming the field; an unknown session 404; a service without a training scheduler or without a
 * served bundle 409.
 */
final class TrainingTriggerRoutes {

    private static final JsonBody BODY = new JsonBody("BAD_TRAINING_TRIGGER", "training triggers");

    /** Live bars per session when {@code bars} is not given. */
    static final int DEFAULT_BARS = 300;

    /** The most live bars per session a drift request may ask for. */
    static final int MAX_BARS = 100_000;

    private final Optional<TrainingService> training;

    private TrainingTriggerRoutes(Optional<TrainingService> training) {
        this.training = training;
    }

    static void register(
            Javalin app, Optional<TrainingService> training, SessionRoutes.Answer json) {
        TrainingTriggerRoutes r = new TrainingTriggerRoutes(training);
        app.get("/v1/training/drift", ctx -> r.call(ctx, json, () -> r.drift(ctx)));
        app.get("/v1/training/triggers", ctx -> r.call(ctx, json, () -> r.triggers().describe()));
        app.put(
                "/v1/training/triggers",
                ctx ->
                        r.call(
                                ctx,
                                json,
                                () -> {
                                    JsonNode b = BODY.object(ctx);
                                    return r.triggers()
                                            .configure(
                                                    b.get("triggers"),
                                                    BODY.text(b, "actor"),
                                                    BODY.text(b, "reason"));
                                }));
        app.post(
                "/v1/training/triggers/check",
                ctx ->
                        r.call(
                                ctx,
                                json,
                                () -> {
                                    JsonNode b = BODY.object(ctx);
                                    for (String f : List.of("actor", "reason")) {
                                        if (dev.quiver.host.session.Text.blank(BODY.text(b, f))) {
                                            throw bad(f, b.get(f), "is required");
                                        }
                                    }
                                    Map<String, Object> m = new LinkedHashMap<>();
                                    m.put("checked", r.triggers().check());
                                    return m;
                                }));
    }

    private Object drift(Context ctx) {
        DriftMonitor d = triggers().drift();
        String raw = ctx.queryParam("bars");
        int bars;
        try {
            bars = raw == null ? DEFAULT_BARS : Integer.parseInt(raw);
        } catch (NumberFormatException e) {
            throw bad("bars", raw, "is not an integer");
        }
        if (bars < 2 || bars > MAX_BARS) {
            throw bad("bars", raw, "must be in [2, " + MAX_BARS + "]");
        }
        String symbol = ctx.queryParam("symbol");
        List<DriftMonitor.SessionDrift> all =
                symbol == null ? d.measure(bars) : List.of(d.measure(symbol, bars));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("bars", bars);
        m.put("sessions", all.stream().map(DriftMonitor.SessionDrift::describe).toList());
        return m;
    }

    private TrainingTriggers triggers() {
        TrainingService t =
                training.orElseThrow(
                        () ->
                                new QuiverInputException(
                                        "NO_TRAINING",
                                        "training",
                                        "training triggers",
                                        null,
                                        "this service runs no training scheduler"));
        return t.triggers()
                .orElseThrow(
                        () ->
                                new QuiverInputException(
                                        "NO_TRIGGERS",
                                        "training",
                                        "training triggers",
                                        null,
                                        "this service serves no strategy bundle: no sessions"
                                                + " and no bundle to watch"));
    }

    @FunctionalInterface
    private interface Work {
        Object run();
    }

    private void call(Context ctx, SessionRoutes.Answer json, Work work) {
        try {
            json.write(ctx, 200, work.run());
        } catch (QuiverInputException e) {
            int status =
                    switch (e.code()) {
                        case "UNKNOWN_SESSION" -> 404;
                        case "NO_TRAINING", "NO_TRIGGERS" -> 409;
                        default -> 400;
                    };
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("error", e.code());
            body.put("field", e.field());
            body.put("message", e.getMessage());
            json.write(ctx, status, body);
        }
    }

    private static QuiverInputException bad(String field, Object value, String problem) {
        return new QuiverInputException(
                "BAD_TRAINING_TRIGGER", field, "training triggers", value, problem);
    }
}
