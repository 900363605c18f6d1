package dev.quiver.host.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.host.plugin.PluginRuntime;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every HTTP error the service answers is the API's JSON error shape, {@code {"error": CODE,
 * "message": "[Quiver/CODE] ..."}} with {@code Content-Type: application/json}: Javalin's (no such
 * route, a static file missing, a method the path does not take, a body over the limit), the
 * routes' (malformed JSON) and Jetty's own, answered before Javalin sees the request (a malformed
 * percent-escape, a URI or headers too large). Raw HTTP over a socket, so nothing in a client
 * library cleans the request up first.
 */
class HttpErrorsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir static Path dir;
    private static PluginRuntime runtime;
    private static QuiverServer server;

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

    /** Status, content type and the parsed body of one raw request. */
    record Answer(int status, String contentType, JsonNode body, String raw) {}

    private static Answer send(String head, byte[] body) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            out.write(head.getBytes(StandardCharsets.ISO_8859_1));
            try {
                out.write(body);
                out.flush();
            } catch (IOException e) {
                // The server may answer and close before it reads a refused body: read the answer.
            }
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = in.read(buf)) > 0; ) {
                    all.write(buf, 0, n);
                }
            } catch (java.net.SocketException e) {
                // A reset after the answer was sent (the refused body's rest): keep what came.
            }
            String raw = all.toString(StandardCharsets.UTF_8);
            int split = raw.indexOf("\r\n\r\n");
            assertThat(split).as("an HTTP answer: " + raw).isPositive();
            String headers = raw.substring(0, split);
            String text = raw.substring(split + 4);
            int status = Integer.parseInt(headers.substring(9, 12));
            String type = "";
            for (String line : headers.split("\r\n")) {
                if (line.toLowerCase(Locale.ROOT).startsWith("content-type:")) {
                    type = line.substring("content-type:".length()).trim();
                }
            }
            if (headers.toLowerCase(Locale.ROOT).contains("transfer-encoding: chunked")) {
                text = dechunk(text);
            }
            return new Answer(status, type, JSON.readTree(text), raw);
        }
    }

    private static String dechunk(String text) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            int eol = text.indexOf("\r\n", i);
            int size = Integer.parseInt(text.substring(i, eol).trim(), 16);
            if (size == 0) {
                break;
            }
            out.append(text, eol + 2, eol + 2 + size);
            i = eol + 2 + size + 2;
        }
        return out.toString();
    }

    private static Answer get(String target, String extraHeader) throws IOException {
        return send(
                "GET "
                        + target
                        + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        + extraHeader
                        + "Connection: close\r\n\r\n",
                new byte[0]);
    }

    private static Answer post(String target, String type, byte[] body) throws IOException {
        return send(
                "POST "
                        + target
                        + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                        + type
                        + "\r\nContent-Length: "
                        + body.length
                        + "\r\nConnection: close\r\n\r\n",
                body);
    }

    private static void assertJsonError(Answer a, int status, String code) {
        assertThat(a.status()).as(a.raw()).isEqualTo(status);
        assertThat(a.contentType()).as(a.raw()).startsWith("application/json");
        assertThat(a.body().path("error").asText()).as(a.raw()).isEqualTo(code);
        assertThat(a.body().path("message").asText())
                .as(a.raw())
                .startsWith("[Quiver/" + code + "]");
    }

    @Test
    void javalinsRefusalsAreJson() throws IOException {
        assertJsonError(get("/no-such-asset.js", ""), 404, "NOT_FOUND");
        assertJsonError(get("/pages/no-such-page.js", ""), 404, "NOT_FOUND");
        assertJsonError(get("/v1/no-such-route", ""), 404, "NOT_FOUND");
        assertJsonError(
                send(
                        "DELETE /v1/plugins HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                        new byte[0]),
                405,
                "METHOD_NOT_ALLOWED");
    }

    @Test
    void aBodyOverTheLimitIs413Json() throws IOException {
        byte[] big = new byte[2_000_000];
        java.util.Arrays.fill(big, (byte) 'a');
        Answer a = post("/v1/decisions", "application/json", big);
        assertJsonError(a, 413, "CONTENT_TOO_LARGE");
        assertThat(a.body().path("message").asText()).contains("POST /v1/decisions", "bytes");
    }

    @Test
    void aChunkedBodyOverTheLimitIs413JsonToo() throws IOException {
        // Without Content-Length the size is known only while reading: refused at the limit.
        byte[] chunk = new byte[100_000];
        java.util.Arrays.fill(chunk, (byte) 'a');
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (int i = 0; i < 20; i++) {
            body.write(
                    (Integer.toHexString(chunk.length) + "\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1));
            body.write(chunk);
            body.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
        }
        body.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        Answer a =
                send(
                        "POST /v1/decisions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type:"
                                + " application/json\r\nTransfer-Encoding: chunked\r\n"
                                + "Connection: close\r\n\r\n",
                        body.toByteArray());
        assertJsonError(a, 413, "CONTENT_TOO_LARGE");
        assertThat(a.body().path("message").asText()).contains("POST /v1/decisions", "bytes");
        // Under the limit, chunked is read as before (here: malformed JSON, 400).
        Answer small =
                send(
                        "POST /v1/decisions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type:"
                                + " application/json\r\nTransfer-Encoding: chunked\r\n"
                                + "Connection: close\r\n\r\n",
                        "4\r\n{bad\r\n0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        assertJsonError(small, 400, "BAD_JSON");
    }

    @Test
    void malformedJsonIs400Json() throws IOException {
        Answer a =
                post("/v1/decisions", "application/json", "{bad".getBytes(StandardCharsets.UTF_8));
        assertJsonError(a, 400, "BAD_JSON");
    }

    @Test
    void jettysOwnRefusalsAreJson() throws IOException {
        assertJsonError(get("/v1/%zz", ""), 400, "BAD_REQUEST");
        assertJsonError(get("/v1/" + "a".repeat(20_000), ""), 414, "URI_TOO_LONG");
        assertJsonError(
                get("/v1/plugins", "X-Big: " + "a".repeat(20_000) + "\r\n"),
                431,
                "REQUEST_HEADER_FIELDS_TOO_LARGE");
    }
}
