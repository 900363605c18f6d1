package dev.quiver.host.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.Javalin;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The action guard on a real Javalin server: loopback serves every request; bound to all addresses
 * ({@code 0.0.0.0}), a state-changing request needs the token (refused with 403 when none is
 * configured, 401 when wrong or missing), reads stay open, and no answer echoes the token.
 */
class ActionGuardTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "s3cret-token-0123456789abcdef";
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void loopbackServesActionsWithoutAToken() throws Exception {
        try (Running r = serve("127.0.0.1", Optional.empty())) {
            assertThat(r.call("POST", null).statusCode()).isEqualTo(200);
            assertThat(r.call("GET", null).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void beyondLoopbackWithoutATokenEveryActionIsRefused() throws Exception {
        try (Running r = serve("0.0.0.0", Optional.empty())) {
            HttpResponse<String> post = r.call("POST", "Bearer anything-at-all-here");
            assertThat(post.statusCode()).isEqualTo(403);
            JsonNode body = JSON.readTree(post.body());
            assertThat(body.get("error").asText()).isEqualTo("ACTIONS_DISABLED");
            assertThat(body.get("message").asText()).contains(DashboardSettings.TOKEN_VARIABLE);
            assertThat(r.call("DELETE", null).statusCode()).isEqualTo(403);
            assertThat(r.call("PUT", null).statusCode()).isEqualTo(403);
            assertThat(r.call("GET", null).statusCode()).isEqualTo(200);
            assertThat(r.posts).isZero();
        }
    }

    @Test
    void beyondLoopbackTheTokenIsRequiredAndNeverEchoed() throws Exception {
        try (Running r = serve("0.0.0.0", Optional.of(TOKEN))) {
            HttpResponse<String> none = r.call("POST", null);
            assertThat(none.statusCode()).isEqualTo(401);
            assertThat(JSON.readTree(none.body()).get("error").asText()).isEqualTo("UNAUTHORIZED");
            HttpResponse<String> wrong = r.call("POST", "Bearer " + TOKEN + "x");
            assertThat(wrong.statusCode()).isEqualTo(401);
            assertThat(wrong.body()).doesNotContain(TOKEN);
            assertThat(r.call("POST", TOKEN).statusCode()).as("no Bearer scheme").isEqualTo(401);
            assertThat(r.posts).isZero();
            HttpResponse<String> right = r.call("POST", "Bearer " + TOKEN);
            assertThat(right.statusCode()).isEqualTo(200);
            assertThat(right.body()).doesNotContain(TOKEN);
            assertThat(r.posts).isEqualTo(1);
        }
    }

    @Test
    void aShortTokenIsRefusedWithoutShowingIt() {
        assertThatThrownBy(
                        () -> new DashboardSettings(Path.of("quiver-out"), Optional.of("short-1")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(DashboardSettings.TOKEN_VARIABLE)
                .hasMessageNotContaining("short-1");
        assertThat(new DashboardSettings(Path.of("x"), Optional.of(TOKEN)).toString())
                .doesNotContain(TOKEN)
                .contains("(set)");
    }

    private Running serve(String host, Optional<String> token) {
        Javalin app = Javalin.create(c -> c.showJavalinBanner = false);
        Running r = new Running(app);
        ActionGuard guard = ActionGuard.of(host, token);
        app.before(
                ctx ->
                        guard.check(
                                ctx,
                                (c, status, body) ->
                                        c.status(status)
                                                .contentType("application/json")
                                                .result(JSON.valueToTree(body).toString())));
        app.post(
                "/v1/thing",
                ctx -> {
                    r.posts++;
                    ctx.json(Map.of("done", true));
                });
        app.put("/v1/thing", ctx -> ctx.json(Map.of("done", true)));
        app.delete("/v1/thing", ctx -> ctx.json(Map.of("done", true)));
        app.get("/v1/thing", ctx -> ctx.json(Map.of("read", true)));
        app.start(host, 0);
        return r;
    }

    private final class Running implements AutoCloseable {
        final Javalin app;
        int posts;

        Running(Javalin app) {
            this.app = app;
        }

        HttpResponse<String> call(String method, String authorization) throws Exception {
            HttpRequest.Builder b =
                    HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + app.port() + "/v1/thing"));
            if (authorization != null) {
                b.header("Authorization", authorization);
            }
            return http.send(
                    b.method(method, HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
        }

        @Override
        public void close() {
            app.stop();
        }
    }
}
