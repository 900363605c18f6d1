package dev.quiver.host.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.host.plugin.PluginRuntime;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API description and the server cannot drift apart (issue 16 item 6): every route the Javalin
 * app registers under {@code /v1}, {@code /health} and {@code /metrics} is described in {@code
 * openapi.json} with that method, and every described operation is registered; a method a described
 * path does not declare answers 405 with {@code Allow} listing exactly the declared ones (and HEAD,
 * which Javalin answers from GET) and a JSON error body. Other paths (the dashboard's static files
 * at {@code /}) are not the API's and are left out.
 */
class OpenApiRoutesTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> METHODS =
            Set.of("get", "put", "post", "delete", "patch", "head", "options", "trace");

    @TempDir static Path dir;
    private static PluginRuntime runtime;
    private static QuiverServer server;

    @BeforeAll
    static void start() {
        // No plugins: every route is registered whatever the service serves (the session and
        // rollout routes then answer 409 / 404 saying why).
        runtime = PluginRuntime.start(dir, Map.of());
        server = QuiverServer.start(runtime, "127.0.0.1", 0, 0.25);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (runtime != null) {
            runtime.close();
        }
    }

    private static boolean api(String path) {
        return path.startsWith("/v1/")
                || path.startsWith("/health/")
                || path.equals("/metrics")
                || path.equals("/openapi.json");
    }

    private static JsonNode description() throws Exception {
        try (InputStream in = QuiverServer.class.getResourceAsStream("openapi.json")) {
            assertThat(in).as("openapi.json beside QuiverServer").isNotNull();
            return JSON.readTree(in);
        }
    }

    /** {@code METHOD /path} of every described operation. */
    private static Set<String> described(JsonNode doc) {
        Set<String> out = new TreeSet<>();
        for (Map.Entry<String, JsonNode> p : doc.get("paths").properties()) {
            for (Iterator<String> m = p.getValue().fieldNames(); m.hasNext(); ) {
                String method = m.next();
                if (METHODS.contains(method)) {
                    out.add(method.toUpperCase(Locale.ROOT) + " " + p.getKey());
                }
            }
        }
        return out;
    }

    @Test
    void everyRegisteredRouteIsDescribedWithItsMethodAndViceVersa() throws Exception {
        Set<String> registered = new TreeSet<>();
        for (String r : server.routes()) {
            if (api(r.substring(r.indexOf(' ') + 1))) {
                // The dashboard's event streams are one route per page, described as one
                // operation with the page an enum.
                registered.add(r.replaceFirst("^GET /v1/events/[a-z]+$", "GET /v1/events/{page}"));
            }
        }
        Set<String> described = new TreeSet<>();
        for (String d : described(description())) {
            if (api(d.substring(d.indexOf(' ') + 1))) {
                described.add(d);
            }
        }
        Set<String> undescribed = new TreeSet<>(registered);
        undescribed.removeAll(described);
        Set<String> unserved = new TreeSet<>(described);
        unserved.removeAll(registered);
        System.out.printf(
                "routes: %d registered, %d described, undescribed %s, unserved %s%n",
                registered.size(), described.size(), undescribed, unserved);
        assertThat(undescribed).as("routes the server has and openapi.json lacks").isEmpty();
        assertThat(unserved).as("operations openapi.json describes and the server lacks").isEmpty();
        // The sessions, accounts and kill switch are among them (they were missing before).
        assertThat(registered)
                .contains(
                        "PUT /v1/sessions/{symbol}",
                        "POST /v1/accounts/{id}/fills",
                        "POST /v1/accounts/{id}/breakers/{breaker}/rearm",
                        "POST /v1/halt",
                        "POST /v1/resume");
    }

    @Test
    void anUndeclaredMethodOnADescribedPathAnswers405WithAllowAndAJsonError() throws Exception {
        JsonNode doc = description();
        HttpClient http = HttpClient.newHttpClient();
        List<String> checked = new ArrayList<>();
        for (Map.Entry<String, JsonNode> p : doc.get("paths").properties()) {
            Set<String> declared = new TreeSet<>();
            p.getValue()
                    .fieldNames()
                    .forEachRemaining(m -> declared.add(m.toUpperCase(Locale.ROOT)));
            declared.retainAll(Set.of("GET", "PUT", "POST", "DELETE", "PATCH"));
            Set<String> allow = new TreeSet<>(declared);
            if (declared.contains("GET")) {
                allow.add("HEAD");
            }
            // Path parameters filled with a well-formed value.
            String path =
                    p.getKey()
                            .replace("{symbol}", "BTC-USD")
                            .replace("{id}", "x1")
                            .replace("{breaker}", "daily_loss")
                            .replace("{name}", "traditional")
                            .replace("{page}", "live");
            for (String method : List.of("GET", "PUT", "POST", "DELETE", "PATCH", "TRACE")) {
                if (declared.contains(method)) {
                    continue;
                }
                HttpResponse<String> r =
                        http.send(
                                HttpRequest.newBuilder(
                                                URI.create(
                                                        "http://127.0.0.1:" + server.port() + path))
                                        .timeout(Duration.ofSeconds(30))
                                        .method(method, HttpRequest.BodyPublishers.noBody())
                                        .build(),
                                HttpResponse.BodyHandlers.ofString());
                String what = method + " " + path + " -> " + r.statusCode() + " " + r.body();
                assertThat(r.statusCode()).as(what).isEqualTo(405);
                Set<String> header = new TreeSet<>();
                for (String m : r.headers().firstValue("Allow").orElse("").split(",")) {
                    if (!m.isBlank()) {
                        header.add(m.strip());
                    }
                }
                assertThat(header).as("Allow of " + what).isEqualTo(allow);
                assertThat(r.headers().firstValue("Content-Type").orElse(""))
                        .as(what)
                        .startsWith("application/json");
                JsonNode body = JSON.readTree(r.body());
                assertThat(body.path("error").asText()).as(what).isEqualTo("METHOD_NOT_ALLOWED");
                assertThat(body.path("message").asText()).as(what).contains(method, path);
                checked.add(method + " " + p.getKey());
            }
        }
        System.out.printf("405 checked for %d undeclared (method, path) pairs%n", checked.size());
        assertThat(checked).hasSizeGreaterThan(100);

        HttpResponse<String> unknown =
                http.send(
                        HttpRequest.newBuilder(
                                        URI.create(
                                                "http://127.0.0.1:"
                                                        + server.port()
                                                        + "/v1/no-such-thing"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(unknown.body()).path("error").asText()).isEqualTo("NOT_FOUND");
    }
}
