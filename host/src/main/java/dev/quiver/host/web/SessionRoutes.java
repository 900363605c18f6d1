package dev.quiver.host.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.market.Bar;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BadBarPolicy;
import dev.quiver.host.data.BarCsvReader;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.session.PortfolioSettings;
import dev.quiver.host.session.ServedStrategy;
import dev.quiver.host.session.SessionManager;
import dev.quiver.host.session.Text;
import dev.quiver.host.store.AccountMode;
import dev.quiver.host.store.Side;
import dev.quiver.host.store.StoreConflictException;
import dev.quiver.host.strategy.StrategyBundle;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The live session API: {@code /v1/sessions/{symbol}} (PUT opens, or opens the next generation of a
 * closed one; GET shows; DELETE closes), {@code POST /v1/sessions/{symbol}/bars}, {@code POST
 * /v1/sessions/{symbol}/rewarm} (after a refused gap), {@code GET
 * /v1/sessions/{symbol}/generations}, {@code /v1/accounts/{id}} (GET), {@code POST
 * /v1/accounts/{id}/fills}, {@code POST /v1/accounts/{id}/breakers/{breaker}/rearm} and the kill
 * switch ({@code POST /v1/halt}, {@code POST /v1/resume} with {@code actor} and {@code reason},
 * {@code GET /v1/halt} for the state and its audit). Bad input is a 4xx naming the field: 400
 * malformed, 404 unknown session or account, 409 a conflict with what the session already holds (a
 * changed bar, out of order, a gap, a fill id reused with other content, a session opened with
 * other settings, a session quarantined at start), 410 a closed session.
 */
final class SessionRoutes {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Codes answered with 409 Conflict. */
    private static final Set<String> CONFLICTS =
            Set.of(
                    "BAR_CONFLICT",
                    "BAR_OUT_OF_ORDER",
                    "BAR_GAP",
                    "BAR_STALE",
                    "SESSION_REWARM",
                    "SESSION_CONFLICT",
                    "SESSION_STARTED",
                    "BUNDLE_MISMATCH",
                    "BUNDLE_EXPIRED",
                    "ACCOUNT_IS_PAPER",
                    "WARMING_UP",
                    "SESSION_FAILED_RECOVERY",
                    "SESSION_NOT_REWARM_REQUIRED",
                    "NO_STRATEGY",
                    StoreConflictException.CODE);

    /** Codes answered with 404 Not Found. */
    private static final Set<String> NOT_FOUND = Set.of("UNKNOWN_SESSION", "UNKNOWN_ACCOUNT");

    /** Codes answered with 410 Gone: the session was closed (its symbol can be opened again). */
    private static final Set<String> GONE = Set.of("SESSION_CLOSED");

    private final SessionManager sessions;
    private final ServedStrategy served;
    private final PluginRuntime runtime;

    private SessionRoutes(ServedStrategy served, PluginRuntime runtime) {
        this.served = served;
        this.sessions = served == null ? null : served.sessions();
        this.runtime = runtime;
    }

    /**
     * Registers the routes.
     *
     * @param app the server
     * @param served the served strategy and its sessions, or null when no strategy is served (the
     *     routes then answer 409 saying so)
     * @param runtime the loaded plugins (a new bundle is checked against them)
     * @param json writes a JSON answer
     */
    static void register(Javalin app, ServedStrategy served, PluginRuntime runtime, Answer json) {
        SessionRoutes r = new SessionRoutes(served, runtime);
        app.get("/v1/strategy", ctx -> r.call(ctx, json, r::strategy));
        app.put("/v1/strategy", ctx -> r.call(ctx, json, () -> r.switchTo(ctx)));
        app.put("/v1/sessions/{symbol}", ctx -> r.call(ctx, json, () -> r.open(ctx)));
        app.get(
                "/v1/sessions",
                ctx ->
                        r.call(
                                ctx,
                                json,
                                () -> {
                                    Map<String, Object> m = new LinkedHashMap<>();
                                    m.put("sessions", r.live().list());
                                    m.put("halt", r.live().halt().status());
                                    return m;
                                }));
        // The kill switch (P12): halt all new risk, resume it; both audited with actor and reason.
        app.post("/v1/halt", ctx -> r.call(ctx, json, () -> r.halt(ctx, true)));
        app.post("/v1/resume", ctx -> r.call(ctx, json, () -> r.halt(ctx, false)));
        app.get("/v1/halt", ctx -> r.call(ctx, json, () -> r.live().halt().audit()));
        app.get(
                "/v1/sessions/{symbol}",
                ctx -> r.call(ctx, json, () -> r.live().state(ctx.pathParam("symbol"))));
        app.delete(
                "/v1/sessions/{symbol}",
                ctx -> r.call(ctx, json, () -> r.live().close(ctx.pathParam("symbol"))));
        app.post(
                "/v1/sessions/{symbol}/bars",
                ctx ->
                        r.call(
                                ctx,
                                json,
                                () -> r.live().bars(ctx.pathParam("symbol"), postedBars(ctx))));
        app.post("/v1/sessions/{symbol}/rewarm", ctx -> r.call(ctx, json, () -> r.rewarm(ctx)));
        app.get(
                "/v1/sessions/{symbol}/generations",
                ctx -> r.call(ctx, json, () -> r.live().generations(ctx.pathParam("symbol"))));
        app.get(
                "/v1/accounts/{id}",
                ctx -> r.call(ctx, json, () -> r.live().account(ctx.pathParam("id"))));
        app.post("/v1/accounts/{id}/fills", ctx -> r.call(ctx, json, () -> r.fill(ctx)));
        app.post(
                "/v1/accounts/{id}/breakers/{breaker}/rearm",
                ctx ->
                        r.call(
                                ctx,
                                json,
                                () -> {
                                    JsonNode b = body(ctx);
                                    return r.live()
                                            .rearm(
                                                    ctx.pathParam("id"),
                                                    ctx.pathParam("breaker"),
                                                    text(b, "actor", null),
                                                    text(b, "reason", null));
                                }));
    }

    /** Writes a JSON answer. */
    @FunctionalInterface
    interface Answer {
        void write(Context ctx, int status, Object body);
    }

    @FunctionalInterface
    private interface Work {
        Object run();
    }

    private void call(Context ctx, Answer json, Work work) {
        try {
            json.write(ctx, 200, work.run());
        } catch (QuiverInputException e) {
            int status =
                    CONFLICTS.contains(e.code())
                            ? 409
                            : NOT_FOUND.contains(e.code())
                                    ? 404
                                    : GONE.contains(e.code()) ? 410 : 400;
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("error", e.code());
            body.put("field", e.field());
            body.put("message", e.getMessage());
            json.write(ctx, status, body);
        } catch (StoreConflictException e) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("error", StoreConflictException.CODE);
            body.put("field", e.field());
            body.put("message", e.getMessage());
            json.write(ctx, 409, body);
        }
    }

    /** {@code POST /v1/halt} or {@code /v1/resume}: body {@code {"actor": ..., "reason": ...}}. */
    private Object halt(Context ctx, boolean halted) {
        JsonNode b = body(ctx);
        return live().halt(halted, text(b, "actor", null), text(b, "reason", null));
    }

    private SessionManager live() {
        if (sessions == null) {
            throw new QuiverInputException(
                    "NO_STRATEGY",
                    "strategy",
                    "sessions",
                    null,
                    "the service serves no strategy bundle (serve --strategy none); sessions need"
                            + " one");
        }
        return sessions;
    }

    private Map<String, Object> strategy() {
        live();
        Map<String, Object> m = new LinkedHashMap<>(served.bundle().provenance());
        m.put("expires_at", served.bundle().expiresAt(served.maxAge()).toString());
        served.degradedReason().ifPresent(r -> m.put("degraded", r));
        m.put(
                "refusals",
                served.refusals().stream()
                        .map(
                                r ->
                                        Map.of(
                                                "at", r.at().toString(),
                                                "requested", r.requested(),
                                                "reason", String.valueOf(r.reason())))
                        .toList());
        m.put("sessions", sessions.list());
        served.registry()
                .ifPresent(
                        r -> {
                            m.put("stale_since", r.get("stale_since"));
                            m.put("registry", r);
                        });
        return m;
    }

    /** {@code PUT /v1/strategy {"bundle": DIR, "actor": WHO}}: serve another bundle. */
    private Map<String, Object> switchTo(Context ctx) {
        live();
        JsonNode b = body(ctx);
        String dir = text(b, "bundle", null);
        if (Text.blank(dir)) {
            throw bad("bundle", dir, "is required: a strategy bundle folder");
        }
        String actor = text(b, "actor", "operator");
        StrategyBundle next = StrategyBundle.open(path("bundle", dir));
        Map<String, String> swapped = served.serve(next, runtime, actor);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("serving", next.id());
        m.put("sessions", swapped);
        return m;
    }

    private Map<String, Object> open(Context ctx) {
        String symbol = ctx.pathParam("symbol");
        if (!SYMBOL.matcher(symbol).matches()) {
            throw bad("symbol", symbol, SYMBOL_FORM);
        }
        JsonNode b = body(ctx);
        String account = text(b, "account", null);
        if (account != null && !ACCOUNT.matcher(account).matches()) {
            throw bad("account", account, ACCOUNT_FORM);
        }
        String currency = text(b, "currency", "USD");
        if (Text.blank(currency)) {
            throw bad("currency", currency, "must be non-blank, e.g. USD");
        }
        double equity = number(b, "starting_equity", 10_000);
        AccountMode mode =
                switch (text(b, "mode", "paper")) {
                    case "paper" -> AccountMode.PAPER;
                    case "external" -> AccountMode.EXTERNAL;
                    default -> throw bad("mode", text(b, "mode", null), "is not paper or external");
                };
        String intervalText = text(b, "interval", "PT4H");
        if (!INTERVAL.matcher(intervalText).matches()) {
            // Duration.parse took PT0S and -PT4H, which no bar series has.
            throw bad(
                    "interval",
                    intervalText,
                    "is not an ISO-8601 duration > 0 of days, hours, minutes and seconds, each 1 to"
                            + " 9999 (PT4H, P1D, PT15M)");
        }
        Duration interval = Duration.parse(intervalText);
        int maxGap = 3;
        JsonNode gap = b.get("max_gap_bars");
        if (gap != null && !gap.isNull()) {
            if (!gap.isIntegralNumber() || !gap.canConvertToInt()) {
                // (int) 2.5 was 2, and (int) 1e12 was Integer.MAX_VALUE: taken without a word
                throw bad("max_gap_bars", gap, "must be a whole number >= 1");
            }
            maxGap = gap.intValue();
        }
        if (maxGap < 1) {
            throw bad("max_gap_bars", maxGap, "must be >= 1");
        }
        if (!(equity > 0) || Double.isInfinite(equity)) {
            throw bad("starting_equity", equity, "must be a finite number > 0");
        }
        // The session's own stale-bar limit (0: a replay of history); absent: the service's.
        int staleAfter = -1;
        JsonNode stale = b.get("stale_after_intervals");
        if (stale != null && !stale.isNull()) {
            if (!stale.isIntegralNumber() || !stale.canConvertToInt() || stale.intValue() < 0) {
                throw bad(
                        "stale_after_intervals",
                        stale,
                        "must be a whole number >= 0 (0: no stale-bar check, for a replay)");
            }
            staleAfter = stale.intValue();
        }
        return live().open(
                        new SessionManager.OpenRequest(
                                symbol,
                                account,
                                currency,
                                equity,
                                mode,
                                interval,
                                maxGap,
                                text(b, "policy", null),
                                warmup(b.get("warmup")),
                                staleAfter,
                                b.hasNonNull("portfolio")
                                        ? PortfolioSettings.fromJson(b.get("portfolio"))
                                        : null));
    }

    /** {@code {"bars": [...]}}, {@code {"dataset": ID, "until": TIME}} or {@code {"csv": PATH}}. */
    private static List<Bar> warmup(JsonNode w) {
        if (w == null || w.isNull()) {
            return List.of();
        }
        if (!w.isObject()) {
            throw bad("warmup", w, "must be an object: {bars}, {dataset, until} or {csv, until}");
        }
        BarData data;
        if (w.has("bars")) {
            return DecisionService.bars(w.get("bars"));
        } else if (w.has("dataset")) {
            JsonNode ds = w.get("dataset");
            if (!ds.isTextual()) {
                throw bad("warmup.dataset", ds, "must be one of " + BundledData.ids());
            }
            String id = ds.asText();
            data =
                    BundledData.byId(id)
                            .orElseThrow(
                                    () ->
                                            bad(
                                                    "warmup.dataset",
                                                    id,
                                                    "is not one of " + BundledData.ids()))
                            .load();
        } else if (w.has("csv")) {
            JsonNode csv = w.get("csv");
            if (!csv.isTextual() || Text.blank(csv.asText())) {
                throw bad(
                        "warmup.csv", csv, "must be a non-blank path of a CSV file on the server");
            }
            Path file = path("warmup.csv", csv.asText());
            if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
                // BarCsvReader would throw UncheckedIOException: a 500 for a bad path.
                throw bad("warmup.csv", csv.asText(), "is not a readable file on the server");
            }
            data =
                    new BarCsvReader(BadBarPolicy.FAIL)
                            .read(file, file.getFileName().toString())
                            .data();
        } else {
            throw bad("warmup", w, "needs bars, dataset or csv");
        }
        Instant until = Instant.MAX;
        if (w.has("until")) {
            if (!w.get("until").isTextual()) {
                throw bad("warmup.until", w.get("until"), "must be an ISO-8601 instant (a string)");
            }
            try {
                until = Instant.parse(w.get("until").asText());
            } catch (DateTimeParseException e) {
                throw bad("warmup.until", w.get("until").asText(), "is not an ISO-8601 instant");
            }
        }
        List<Bar> bars = new ArrayList<>();
        for (int i = 0; i < data.size(); i++) {
            Bar bar = data.bar(i);
            if (bar.start().isAfter(until)) {
                break;
            }
            bars.add(bar);
        }
        return bars;
    }

    /**
     * {@code POST /v1/sessions/{symbol}/rewarm {"warmup": {bars} | {dataset, until} | {csv, until},
     * "actor": WHO, "reason": WHY}} (or {@code {"bars": [...]}}): re-warms a session in {@code
     * rewarm_required}.
     */
    private Map<String, Object> rewarm(Context ctx) {
        JsonNode b = body(ctx);
        List<Bar> bars;
        if (b.has("bars")) {
            bars = DecisionService.bars(b.get("bars"));
        } else if (b.hasNonNull("warmup")) {
            bars = warmup(b.get("warmup"));
        } else {
            throw bad(
                    "warmup",
                    null,
                    "is required: {bars}, {dataset, until} or {csv, until} covering the gap");
        }
        return live().rewarm(
                        ctx.pathParam("symbol"),
                        bars,
                        text(b, "actor", null),
                        text(b, "reason", null));
    }

    private Map<String, Object> fill(Context ctx) {
        JsonNode b = body(ctx);
        Side side =
                switch (text(b, "side", "")) {
                    case "buy" -> Side.BUY;
                    case "sell" -> Side.SELL;
                    default -> throw bad("side", text(b, "side", null), "is not buy or sell");
                };
        Instant time;
        try {
            time = Instant.parse(text(b, "time", ""));
        } catch (DateTimeParseException e) {
            throw bad("time", text(b, "time", null), "is not an ISO-8601 instant");
        }
        return live().fill(
                        ctx.pathParam("id"),
                        new SessionManager.FillRequest(
                                text(b, "client_fill_id", null),
                                text(b, "symbol", null),
                                side,
                                required(b, "quantity"),
                                required(b, "price"),
                                number(b, "fee", 0),
                                time));
    }

    /** A symbol: what a path segment carries unescaped (openapi.json {@code Symbol}). */
    static final java.util.regex.Pattern SYMBOL =
            java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    static final String SYMBOL_FORM =
            "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
                    + " (e.g. BTC-USD)";

    /** An account id (openapi.json {@code AccountId}). */
    private static final java.util.regex.Pattern ACCOUNT =
            java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private static final String ACCOUNT_FORM =
            "must be 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit";

    /**
     * A bar interval (openapi.json {@code SessionOpen.interval}): days, hours, minutes, seconds.
     */
    private static final java.util.regex.Pattern INTERVAL;

    static {
        String n = "[1-9][0-9]{0,3}";
        String time = "T(" + n + "H(" + n + "M)?(" + n + "S)?|" + n + "M(" + n + "S)?|" + n + "S)";
        INTERVAL = java.util.regex.Pattern.compile("P(" + n + "D(" + time + ")?|" + time + ")");
    }

    /** A path the request names; one this file system cannot hold (a NUL, say) is refused. */
    private static Path path(String field, String text) {
        try {
            return Path.of(text);
        } catch (java.nio.file.InvalidPathException e) {
            throw bad(field, text, "is not a valid path (" + e.getReason() + ")");
        }
    }

    private static JsonNode body(Context ctx) {
        return tree(bytes(ctx));
    }

    /**
     * The request's body. Read here, not through {@code ctx.bodyAsBytes()} (which copies it through
     * an 8 KiB buffer and a growing stream): a declared length is read into an array of that size.
     * The limits are Javalin's, as its body readers apply them (a declared length over {@code
     * maxRequestSize}: 413), and a chunked body's is {@link BodyLimit}'s stream.
     */
    private static byte[] bytes(Context ctx) {
        io.javalin.http.servlet.MaxRequestSize.INSTANCE.throwContentTooLargeIfContentTooLarge(ctx);
        try {
            java.io.InputStream in = ctx.req().getInputStream();
            int declared = ctx.req().getContentLength();
            if (declared < 0) {
                return in.readAllBytes();
            }
            byte[] b = new byte[declared];
            int n = in.readNBytes(b, 0, declared);
            return n == declared ? b : java.util.Arrays.copyOf(b, n);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A body as a JSON object; an empty (or blank) body is {@code {}}. */
    private static JsonNode tree(byte[] bytes) {
        if (blank(bytes)) {
            return JSON.createObjectNode();
        }
        try {
            JsonNode n = JSON.readTree(bytes);
            if (n == null || !n.isObject()) {
                throw bad("body", null, "must be a JSON object");
            }
            return n;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw bad("body", null, "is not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            // readTree(byte[]) declares it; reading an array in memory has no other I/O to fail
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * {@code POST /v1/sessions/{symbol}/bars}' bars: streamed by {@link BarsBody} when the body is
     * the common well-formed case, else read as a tree by {@link DecisionService#bars}, which names
     * what is wrong.
     */
    private static List<Bar> postedBars(Context ctx) {
        byte[] raw = bytes(ctx);
        List<Bar> bars = BarsBody.read(JSON.getFactory(), raw);
        return bars != null ? bars : DecisionService.bars(tree(raw).get("bars"));
    }

    /** Whether a body is empty or only JSON whitespace (space, tab, line feed, carriage return). */
    private static boolean blank(byte[] bytes) {
        for (byte c : bytes) {
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return false;
            }
        }
        return true;
    }

    private static String text(JsonNode b, String field, String otherwise) {
        JsonNode v = b.get(field);
        if (v == null || v.isNull()) {
            return otherwise;
        }
        if (!v.isTextual()) {
            throw bad(field, v, "must be a string");
        }
        return v.asText();
    }

    private static double number(JsonNode b, String field, double otherwise) {
        JsonNode v = b.get(field);
        if (v == null || v.isNull()) {
            return otherwise;
        }
        if (!v.isNumber()) {
            throw bad(field, v, "must be a number");
        }
        return v.asDouble();
    }

    private static double required(JsonNode b, String field) {
        JsonNode v = b.get(field);
        if (v == null || v.isNull()) {
            throw bad(field, null, "is missing");
        }
        if (!v.isNumber()) {
            throw bad(field, v, "must be a number (NaN and infinities are not numbers in JSON)");
        }
        return v.asDouble();
    }

    private static QuiverInputException bad(String field, Object value, String problem) {
        return new QuiverInputException("BAD_REQUEST", field, "request", value, problem);
    }
}
