package dev.quiver.host.mlflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** RELIABILITY.md P17: registry credentials are required where it matters and handled safely. */
class CredentialPolicyTest {

    static final URI LOCAL = URI.create("http://127.0.0.1:5000/");
    static final URI REMOTE = URI.create("https://mlflow.example.com/");

    @Test
    void aServerOnThisMachineNeedsNoCredentials() {
        assertThat(MlflowHttp.authorization(LOCAL, Map.of())).isEmpty();
        assertThat(MlflowHttp.authorization(URI.create("http://localhost:5000/"), Map.of()))
                .isEmpty();
        assertThat(MlflowHttp.authorization(URI.create("http://[::1]:5000/"), Map.of())).isEmpty();
    }

    @Test
    void aRemoteRegistryWithoutCredentialsIsRefusedUnlessOptedIn() {
        assertThatThrownBy(() -> MlflowHttp.authorization(REMOTE, Map.of()))
                .hasMessageContaining("NO_CREDENTIALS")
                .hasMessageContaining("mlflow.example.com");
        assertThat(MlflowHttp.authorization(REMOTE, Map.of(MlflowHttp.ANONYMOUS_OPT_IN, "1")))
                .isEmpty();
    }

    @Test
    void theDefaultAdministratorPasswordIsRefusedAndNeverEchoed() {
        assertThatThrownBy(
                        () ->
                                MlflowHttp.authorization(
                                        REMOTE,
                                        Map.of(
                                                "MLFLOW_TRACKING_USERNAME", "admin",
                                                "MLFLOW_TRACKING_PASSWORD", "password1234")))
                .hasMessageContaining("DEFAULT_CREDENTIALS")
                .hasMessageNotContaining("password1234");
    }

    @Test
    void halfOfABasicCredentialIsNamedNotIgnored() {
        assertThatThrownBy(
                        () ->
                                MlflowHttp.authorization(
                                        REMOTE, Map.of("MLFLOW_TRACKING_USERNAME", "quant")))
                .hasMessageContaining("CREDENTIALS_INCOMPLETE")
                .hasMessageContaining("MLFLOW_TRACKING_PASSWORD is not");
    }

    /**
     * A token or a full basic credential is sent on every call, and never ends up in a message: not
     * when the call fails (401, 403 with MLflow's JSON error, 503, connection refused), not even
     * when the server's answer echoes the request's {@code Authorization} header back (as some
     * error pages and proxies do) or names the password itself.
     */
    @Test
    void aTokenOrAFullBasicCredentialIsSentAndNeverInAMessage() throws Exception {
        String token = "tok-" + Long.toString(System.nanoTime(), 36) + "-s3cr3t";
        String password = "pw-" + Long.toString(System.nanoTime(), 36) + "-s3cr3t";
        String basic =
                Base64.getEncoder()
                        .encodeToString(("quant:" + password).getBytes(StandardCharsets.UTF_8));
        assertThat(MlflowHttp.authorization(REMOTE, Map.of("MLFLOW_TRACKING_TOKEN", token)))
                .contains("Bearer " + token);
        assertThat(
                        MlflowHttp.authorization(
                                REMOTE,
                                Map.of(
                                        "MLFLOW_TRACKING_USERNAME",
                                        "quant",
                                        "MLFLOW_TRACKING_PASSWORD",
                                        password)))
                .contains("Basic " + basic);

        List<String> received = new CopyOnWriteArrayList<>();
        HttpServer echo =
                HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 10);
        echo.createContext(
                "/",
                ex -> {
                    String header = ex.getRequestHeaders().getFirst("Authorization");
                    received.add(String.valueOf(header));
                    String path = ex.getRequestURI().getPath();
                    int status =
                            path.endsWith("/auth") ? 401 : path.endsWith("/denied") ? 403 : 503;
                    String body =
                            status == 403
                                    ? "{\"error_code\": \"PERMISSION_DENIED\", \"message\":"
                                            + " \"no READ for "
                                            + header
                                            + " ("
                                            + (String.valueOf(header).startsWith("Bearer")
                                                    ? token
                                                    : password)
                                            + ")\"}"
                                    : "Unauthorized; you sent Authorization: " + header;
                    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
                    ex.sendResponseHeaders(status, bytes.length);
                    try (var out = ex.getResponseBody()) {
                        out.write(bytes);
                    }
                });
        echo.start();
        String uri = "http://127.0.0.1:" + echo.getAddress().getPort();
        MlflowHttp.Settings quick =
                new MlflowHttp.Settings(
                        Duration.ofSeconds(2),
                        Duration.ofSeconds(5),
                        2,
                        Duration.ofMillis(10),
                        Duration.ofMillis(20));
        List<Map<String, String>> credentials =
                List.of(
                        Map.of("MLFLOW_TRACKING_TOKEN", token),
                        Map.of(
                                "MLFLOW_TRACKING_USERNAME",
                                "quant",
                                "MLFLOW_TRACKING_PASSWORD",
                                password));
        List<String> messages = new ArrayList<>();
        try {
            for (Map<String, String> env : credentials) {
                MlflowHttp client = new MlflowHttp(uri, quick, env);
                for (String path : List.of("auth", "denied", "busy")) {
                    messages.add(
                            assertThatThrownBy(() -> client.get(path, Map.of()))
                                    .isInstanceOf(MlflowException.class)
                                    .actual()
                                    .getMessage());
                }
            }
        } finally {
            echo.stop(0);
        }
        // Nothing listens any more: connection refused.
        for (Map<String, String> env : credentials) {
            MlflowHttp client = new MlflowHttp(uri, quick, env);
            messages.add(
                    assertThatThrownBy(() -> client.get("refused", Map.of()))
                            .isInstanceOf(MlflowException.class)
                            .actual()
                            .getMessage());
        }
        // Sent on every call: 401 and 403 once (never retried), 503 twice (retried), per kind.
        assertThat(received)
                .containsExactly(
                        "Bearer " + token,
                        "Bearer " + token,
                        "Bearer " + token,
                        "Bearer " + token,
                        "Basic " + basic,
                        "Basic " + basic,
                        "Basic " + basic,
                        "Basic " + basic);
        assertThat(messages).hasSize(8);
        assertThat(messages.subList(0, 2)).allMatch(m -> m.contains("[Quiver/AUTH_FAILED]"));
        assertThat(messages.get(0)).contains("HTTP 401").contains("[REDACTED]");
        assertThat(messages.get(1)).contains("HTTP 403 PERMISSION_DENIED").contains("[REDACTED]");
        assertThat(messages.get(2)).contains("[Quiver/REGISTRY_UNAVAILABLE]").contains("HTTP 503");
        assertThat(messages.get(6)).contains("[Quiver/REGISTRY_UNAVAILABLE]");
        for (String m : messages) {
            assertThat(m)
                    .doesNotContain(token)
                    .doesNotContain(password)
                    .doesNotContain(basic)
                    .doesNotContain("s3cr3t");
        }
    }
}
