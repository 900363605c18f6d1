package dev.quiver.host.web;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.host.rollout.RolloutStore;
import dev.quiver.host.session.HistoryColumns;
import dev.quiver.host.session.ServedStrategy;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The small read-only endpoints the dashboard's pages draw from, beside the API they also call:
 * {@code GET /v1/sessions/{symbol}/history} (a session's stepped bars with their decisions), {@code
 * GET /v1/reports} and {@code GET /v1/reports/file} (backtest reports in the output folder) and
 * {@code GET /v1/dashboard} (what the pages need to know about the service: whether actions need a
 * token, what is not available).
 */
final class DashboardRoutes {

    /** Entries {@code history} answers when no {@code limit} is given. */
    static final int DEFAULT_HISTORY = 2_000;

    /** How deep under the reports folder a {@code report.html} is looked for. */
    static final int REPORT_DEPTH = 3;

    private final Optional<ServedStrategy> strategy;
    private final boolean training;
    private final DashboardSettings settings;
    private final ActionGuard guard;
    private final String bind;

    private DashboardRoutes(
            Optional<ServedStrategy> strategy,
            boolean training,
            DashboardSettings settings,
            ActionGuard guard,
            String bind) {
        this.strategy = strategy;
        this.training = training;
        this.settings = settings;
        this.guard = guard;
        this.bind = bind;
    }

    static void register(
            Javalin app,
            Optional<ServedStrategy> strategy,
            boolean training,
            DashboardSettings settings,
            ActionGuard guard,
            String bind,
            SessionRoutes.Answer json) {
        DashboardRoutes r = new DashboardRoutes(strategy, training, settings, guard, bind);
        app.get("/v1/sessions/{symbol}/history", ctx -> r.call(ctx, json, () -> r.history(ctx)));
        app.get("/v1/reports", ctx -> r.call(ctx, json, r::reports));
        app.get("/v1/reports/file", ctx -> r.call(ctx, json, () -> r.file(ctx)));
        app.get("/v1/dashboard", ctx -> r.call(ctx, json, r::about));
    }

    @FunctionalInterface
    private interface Work {
        Object run();
    }

    private void call(Context ctx, SessionRoutes.Answer json, Work work) {
        try {
            Object out = work.run();
            if (out != null) {
                json.write(ctx, 200, out);
            }
        } catch (QuiverInputException e) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("error", e.code());
            body.put("field", e.field());
            body.put("message", e.getMessage());
            json.write(
                    ctx,
                    switch (e.code()) {
                        case "UNKNOWN_SESSION", "UNKNOWN_REPORT", "NO_STRATEGY" -> 404;
                        case "SESSION_CLOSED" -> 410;
                        default -> 400;
                    },
                    body);
        }
    }

    private Map<String, Object> history(Context ctx) {
        String symbol = ctx.pathParam("symbol");
        String text = ctx.queryParam("limit");
        int limit = DEFAULT_HISTORY;
        if (text != null) {
            try {
                limit = Integer.parseInt(text);
            } catch (NumberFormatException e) {
                throw bad("limit", text, "is not a whole number");
            }
            if (limit < 1) {
                throw bad("limit", text, "must be >= 1");
            }
        }
        ServedStrategy served =
                strategy.orElseThrow(
                        () ->
                                new QuiverInputException(
                                        "NO_STRATEGY",
                                        "strategy",
                                        "sessions",
                                        null,
                                        "the service serves no strategy bundle (serve --strategy"
                                                + " none); sessions need one"));
        String format = ctx.queryParam("format");
        if (format != null && !format.equals("entries") && !format.equals("columns")) {
            throw bad("format", format, "is not one of entries, columns");
        }
        if (!"columns".equals(format)) {
            if (ctx.queryParam("fields") != null || ctx.queryParam("policies") != null) {
                throw bad("format", format, "must be columns with fields or policies");
            }
            return served.sessions().history(symbol, limit);
        }
        // The Live page's first load waits for this answer (10,000 bars: 1.75 MB): how long the
        // columns and their JSON took goes to the browser as Server-Timing (the dashboard's test
        // prints it), floats are written by Jackson's fast writer (Schubfach), and a client on
        // this machine gets it uncompressed (gzip costs the server more than it saves on
        // loopback; any other client still gets it compressed).
        java.util.Set<HistoryColumns.Field> fields =
                HistoryColumns.Field.parse(ctx.queryParam("fields"));
        String policies = ctx.queryParam("policies");
        if (policies != null && !policies.equals("all") && !policies.equals("acting")) {
            throw bad("policies", policies, "is not one of all, acting");
        }
        long started = System.nanoTime();
        Map<String, Object> columns =
                served.sessions().historyColumns(symbol, limit, fields, "acting".equals(policies));
        long built = System.nanoTime();
        byte[] body;
        try {
            body = COLUMNS_JSON.writeValueAsBytes(columns);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        long written = System.nanoTime();
        if (loopback(ctx)) {
            ctx.disableCompression();
        }
        ctx.header(
                "Server-Timing",
                String.format(
                        Locale.ROOT,
                        "columns;dur=%.1f;desc=\"columns from the journal\", json;dur=%.1f",
                        (built - started) / 1e6,
                        (written - built) / 1e6));
        ctx.status(200).contentType("application/json").result(body);
        return null;
    }

    /** The history's columns as JSON: floats by Jackson's fast writer. */
    private static final com.fasterxml.jackson.databind.ObjectWriter COLUMNS_JSON =
            RolloutStore.JSON
                    .writer()
                    .with(com.fasterxml.jackson.core.StreamWriteFeature.USE_FAST_DOUBLE_WRITER);

    /** Whether the request comes from this machine (a loopback address). */
    private static boolean loopback(Context ctx) {
        try {
            return java.net.InetAddress.getByName(ctx.req().getRemoteAddr()).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    private Map<String, Object> about() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("bind", bind);
        m.put("actions_need_token", guard.tokenRequired());
        m.put("token_configured", guard.tokenConfigured());
        m.put("strategy", strategy.map(s -> s.bundle().id()).orElse(null));
        m.put("reports_dir", settings.reportsDir().toAbsolutePath().normalize().toString());
        m.put("time", Instant.now().toString());
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("available", training);
        t.put(
                "reason",
                training
                        ? "training jobs and schedules: GET /v1/training/jobs and"
                                + " /v1/training/config"
                        : "this service runs no training scheduler: `quiver strategy fit` and"
                                + " `quiver models train` run from the command line");
        m.put("training", t);
        return m;
    }

    /** The report folders under the reports folder, newest first. */
    private Map<String, Object> reports() {
        Path root = settings.reportsDir().toAbsolutePath().normalize();
        List<Map<String, Object>> out = new ArrayList<>();
        for (Path dir : reportDirs(root)) {
            Map<String, Object> m = new LinkedHashMap<>();
            Path html = dir.resolve("report.html");
            m.put("id", root.relativize(dir).toString().replace('\\', '/'));
            try {
                m.put("modified", Files.getLastModifiedTime(html).toInstant().toString());
                m.put("bytes", Files.size(html));
                List<String> files = new ArrayList<>();
                try (Stream<Path> s = Files.list(dir)) {
                    s.filter(Files::isRegularFile)
                            .map(p -> p.getFileName().toString())
                            .sorted()
                            .forEach(files::add);
                }
                m.put("files", files);
                Path json = dir.resolve("report.json");
                if (Files.isRegularFile(json)) {
                    JsonNode j = RolloutStore.JSON.readTree(json.toFile());
                    m.put("dataset", j.path("dataset").asText(null));
                    m.put("bars", j.path("bars").isNumber() ? j.path("bars").asLong() : null);
                    List<String> policies = new ArrayList<>();
                    j.path("policies").fieldNames().forEachRemaining(policies::add);
                    m.put("policies", policies);
                }
            } catch (IOException e) {
                m.put("error", "unreadable: " + e.getMessage());
            }
            out.add(m);
        }
        out.sort(
                Comparator.comparing((Map<String, Object> x) -> String.valueOf(x.get("modified")))
                        .reversed());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("dir", root.toString());
        body.put("exists", Files.isDirectory(root));
        body.put("reports", out);
        return body;
    }

    private static List<Path> reportDirs(Path root) {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(root, REPORT_DEPTH)) {
            return s.filter(p -> p.getFileName().toString().equals("report.html"))
                    .filter(Files::isRegularFile)
                    .map(Path::getParent)
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("listing reports under " + root, e);
        }
    }

    /**
     * {@code GET /v1/reports/file?id=DIR&file=NAME}: one file of a listed report folder (default
     * {@code report.html}); anything else is 404, so no path outside the report folders is served.
     */
    private Object file(Context ctx) {
        String id = ctx.queryParam("id");
        String name = Optional.ofNullable(ctx.queryParam("file")).orElse("report.html");
        if (dev.quiver.host.session.Text.blank(id)) {
            throw bad("id", id, "is required: a report id from GET /v1/reports");
        }
        Path root = settings.reportsDir().toAbsolutePath().normalize();
        Path dir =
                reportDirs(root).stream()
                        .filter(d -> root.relativize(d).toString().replace('\\', '/').equals(id))
                        .findFirst()
                        .orElseThrow(
                                () ->
                                        new QuiverInputException(
                                                "UNKNOWN_REPORT",
                                                "id",
                                                "reports under " + root,
                                                id,
                                                "is not a report folder (GET /v1/reports lists"
                                                        + " them)"));
        if (name.contains("/") || name.contains("\\") || name.startsWith(".")) {
            throw bad("file", name, "must be a file name of the report folder");
        }
        Path file = dir.resolve(name);
        if (!Files.isRegularFile(file)) {
            throw new QuiverInputException(
                    "UNKNOWN_REPORT", "file", "report " + id, name, "is not a file of the report");
        }
        String lower = name.toLowerCase(Locale.ROOT);
        String type =
                lower.endsWith(".html")
                        ? "text/html; charset=utf-8"
                        : lower.endsWith(".png")
                                ? "image/png"
                                : lower.endsWith(".json")
                                        ? "application/json"
                                        : lower.endsWith(".csv")
                                                ? "text/csv; charset=utf-8"
                                                : "text/plain; charset=utf-8";
        try {
            ctx.status(200).contentType(type).result(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file, e);
        }
        return null;
    }

    private static QuiverInputException bad(String field, Object value, String problem) {
        return new QuiverInputException("BAD_REQUEST", field, "request", value, problem);
    }
}
