package dev.quiver.host.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.Javalin;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard's own endpoints on a real Javalin server: reports are the folders holding a {@code
 * report.html}, and only their files are served, by name (no path outside them, whatever the id or
 * file says); {@code /v1/dashboard} says whether actions need a token and never shows it; without a
 * strategy the history answers 404 saying why.
 */
class DashboardRoutesTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "dashboard-token-0123456789";
    private final HttpClient http = HttpClient.newHttpClient();

    @TempDir Path reports;
    Javalin app;

    @BeforeEach
    void start() throws Exception {
        Files.createDirectories(reports.resolve("sp500-daily"));
        Files.writeString(reports.resolve("sp500-daily/report.html"), "<h1>sp500</h1>");
        Files.writeString(
                reports.resolve("sp500-daily/report.json"),
                "{\"dataset\": \"sp500-daily\", \"bars\": 4000, \"policies\": {\"kelly\": {}}}");
        Files.createDirectories(reports.resolve("runs/b"));
        Files.writeString(reports.resolve("runs/b/report.html"), "<h1>b</h1>");
        Files.createDirectories(reports.resolve("no-report"));
        Files.writeString(reports.resolve("no-report/notes.txt"), "not a report");
        Files.writeString(reports.resolve("secret.txt"), "outside every report folder");
        app = Javalin.create(c -> c.showJavalinBanner = false);
        DashboardRoutes.register(
                app,
                Optional.empty(),
                false,
                new DashboardSettings(reports, Optional.of(TOKEN)),
                ActionGuard.of("0.0.0.0", Optional.of(TOKEN)),
                "0.0.0.0",
                (ctx, status, body) ->
                        ctx.status(status)
                                .contentType("application/json")
                                .result(JSON.valueToTree(body).toString()));
        app.start("127.0.0.1", 0);
    }

    @AfterEach
    void stop() {
        app.stop();
    }

    @Test
    void listsTheReportFoldersWithTheirFigures() throws Exception {
        JsonNode r = JSON.readTree(get("/v1/reports").body());
        List<String> ids = new ArrayList<>();
        r.get("reports").forEach(x -> ids.add(x.get("id").asText()));
        assertThat(ids).containsExactlyInAnyOrder("sp500-daily", "runs/b");
        JsonNode sp = null;
        for (JsonNode x : r.get("reports")) {
            if (x.get("id").asText().equals("sp500-daily")) {
                sp = x;
            }
        }
        assertThat(sp.get("dataset").asText()).isEqualTo("sp500-daily");
        assertThat(sp.get("bars").asLong()).isEqualTo(4000);
        assertThat(sp.get("policies").get(0).asText()).isEqualTo("kelly");
        assertThat(sp.get("files").toString()).contains("report.html", "report.json");
    }

    @Test
    void servesOnlyFilesOfAListedReportByName() throws Exception {
        HttpResponse<String> html = get("/v1/reports/file?id=runs/b");
        assertThat(html.statusCode()).isEqualTo(200);
        assertThat(html.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
        assertThat(html.body()).isEqualTo("<h1>b</h1>");
        assertThat(get("/v1/reports/file?id=sp500-daily&file=report.json").statusCode())
                .isEqualTo(200);

        assertThat(status("/v1/reports/file?id=" + enc("..") + "&file=secret.txt")).isEqualTo(404);
        assertThat(status("/v1/reports/file?id=no-report&file=notes.txt")).isEqualTo(404);
        assertThat(status("/v1/reports/file?id=" + enc(reports.toString()))).isEqualTo(404);
        HttpResponse<String> up =
                get("/v1/reports/file?id=sp500-daily&file=" + enc("../secret.txt"));
        assertThat(up.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(up.body()).get("field").asText()).isEqualTo("file");
        assertThat(up.body()).doesNotContain("outside every report folder");
        assertThat(status("/v1/reports/file?id=sp500-daily&file=missing.html")).isEqualTo(404);
        assertThat(status("/v1/reports/file")).isEqualTo(400);
    }

    @Test
    void theAboutAnswerSaysWhatActionsNeedAndNeverShowsTheToken() throws Exception {
        HttpResponse<String> r = get("/v1/dashboard");
        assertThat(r.body()).doesNotContain(TOKEN);
        JsonNode about = JSON.readTree(r.body());
        assertThat(about.get("actions_need_token").asBoolean()).isTrue();
        assertThat(about.get("token_configured").asBoolean()).isTrue();
        assertThat(about.get("training").get("available").asBoolean()).isFalse();
        assertThat(about.get("training").get("reason").asText()).contains("no training scheduler");
    }

    @Test
    void historyWithoutAStrategyIsNotFoundSayingWhy() throws Exception {
        HttpResponse<String> r = get("/v1/sessions/BTC/history");
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(r.body()).get("error").asText()).isEqualTo("NO_STRATEGY");
        HttpResponse<String> bad = get("/v1/sessions/BTC/history?limit=0");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(bad.body()).get("field").asText()).isEqualTo("limit");
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private int status(String path) throws Exception {
        return get(path).statusCode();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
