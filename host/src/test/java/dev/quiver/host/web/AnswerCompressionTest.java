package dev.quiver.host.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.host.plugin.PluginRuntime;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service's compression ({@link QuiverServer#compression()}: JSON declared compressible up
 * front) compresses what Javalin's default did: a JSON answer over 1500 bytes is gzip-encoded for a
 * client that accepts gzip and sent as is to one that does not; a small answer never is.
 */
class AnswerCompressionTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir static Path dir;
    private static PluginRuntime runtime;
    private static QuiverServer server;
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        runtime = PluginRuntime.start(dir, Map.of());
        server = QuiverServer.start(runtime, "127.0.0.1", 0, 0.25);
    }

    @AfterAll
    static void stop() {
        server.close();
        runtime.close();
    }

    private static HttpResponse<InputStream> get(String path, boolean gzip)
            throws IOException, InterruptedException {
        HttpRequest.Builder b =
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path));
        if (gzip) {
            b.header("Accept-Encoding", "gzip");
        }
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    @Test
    void largeJsonIsGzippedOnlyForClientsThatAcceptIt() throws Exception {
        HttpResponse<InputStream> plain = get("/openapi.json", false);
        byte[] plainBytes;
        try (InputStream in = plain.body()) {
            plainBytes = in.readAllBytes();
        }
        assertThat(plain.statusCode()).isEqualTo(200);
        assertThat(plain.headers().firstValue("Content-Encoding")).isEmpty();
        assertThat(plainBytes.length).isGreaterThan(1500);
        JsonNode expected = JSON.readTree(plainBytes);

        HttpResponse<InputStream> zipped = get("/openapi.json", true);
        assertThat(zipped.statusCode()).isEqualTo(200);
        assertThat(zipped.headers().firstValue("Content-Encoding")).hasValue("gzip");
        assertThat(zipped.headers().firstValue("Content-Type").orElse(""))
                .startsWith("application/json");
        try (InputStream in = new GZIPInputStream(zipped.body())) {
            assertThat(JSON.readTree(in)).isEqualTo(expected);
        }
    }

    @Test
    void smallJsonIsNeverGzipped() throws Exception {
        HttpResponse<InputStream> r = get("/health/live", true);
        try (InputStream in = r.body()) {
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Encoding")).isEmpty();
            assertThat(JSON.readTree(in).isObject()).isTrue();
        }
    }
}
