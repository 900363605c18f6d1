package dev.quiver.host.mlflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MLflow REST API and the server's {@code mlflow-artifacts} proxy over {@code java.net.http},
 * with our own failure policy rather than any client library's.
 *
 * <p>Every call has an explicit connect timeout and a per-request read timeout. Unavailability (IO
 * errors, timeouts, HTTP 5xx, 408, 429) is retried up to {@link Settings#maxAttempts()} times with
 * exponential backoff and jitter ({@code sleep = random(c / 2, c)}, {@code c = min(maxDelay, base *
 * 2^(n-1))} before retry n), and never sooner than a 429 or 503 answer's {@code Retry-After} (a
 * {@code Retry-After} longer than {@link Settings#maxDelay()} ends the call at once, for the caller
 * to wait); a definite answer (any other 4xx) is thrown at once, never retried. A 401/403 is
 * reported as {@code AUTH_FAILED}. The read timeout bounds a whole answer, headers and body (a
 * streamed download: until its headers).
 *
 * <p>Credentials come from {@code MLFLOW_TRACKING_TOKEN} (bearer) or {@code
 * MLFLOW_TRACKING_USERNAME}/{@code MLFLOW_TRACKING_PASSWORD} (basic) and never appear in a message
 * or a log line.
 *
 * <p>Thread-safe.
 */
public final class MlflowHttp {

    private static final Logger LOG = LoggerFactory.getLogger(MlflowHttp.class);
    static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Timeouts and retry budget.
     *
     * @param connectTimeout TCP connect timeout
     * @param readTimeout time allowed for a whole response (headers and body)
     * @param maxAttempts attempts per call, at least 1
     * @param baseDelay first backoff ceiling
     * @param maxDelay backoff ceiling
     */
    public record Settings(
            Duration connectTimeout,
            Duration readTimeout,
            int maxAttempts,
            Duration baseDelay,
            Duration maxDelay) {

        /** Validates. */
        public Settings {
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be >= 1, was " + maxAttempts);
            }
        }

        /**
         * 2 s connect, 10 s read, 4 attempts, backoff 200 ms doubling up to 3 s.
         *
         * @return the defaults
         */
        public static Settings defaults() {
            return new Settings(
                    Duration.ofSeconds(2),
                    Duration.ofSeconds(10),
                    4,
                    Duration.ofMillis(200),
                    Duration.ofSeconds(3));
        }

        /**
         * Same, with another read timeout and attempt count (e.g. short for polling).
         *
         * @param read read timeout
         * @param attempts attempts per call
         * @return new settings
         */
        public Settings with(Duration read, int attempts) {
            return new Settings(connectTimeout, read, attempts, baseDelay, maxDelay);
        }
    }

    private final URI base;
    private final Settings settings;
    private final HttpClient http;
    private final Optional<String> authorization;

    /** The credential's parts as they could appear in a server's text, to be blotted out. */
    private final java.util.List<String> secrets;

    /**
     * A client for one server.
     *
     * @param trackingUri e.g. {@code http://127.0.0.1:5000}
     * @param settings timeouts and retries
     * @throws IllegalArgumentException if the URI is not http(s)
     */
    public MlflowHttp(String trackingUri, Settings settings) {
        this(trackingUri, settings, System.getenv());
    }

    MlflowHttp(String trackingUri, Settings settings, Map<String, String> env) {
        URI uri = URI.create(trackingUri.endsWith("/") ? trackingUri : trackingUri + "/");
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] --tracking-uri "
                            + trackingUri
                            + ": expected http://HOST:PORT of an MLflow server");
        }
        this.base = uri;
        this.settings = settings;
        this.http =
                HttpClient.newBuilder()
                        .connectTimeout(settings.connectTimeout())
                        .followRedirects(HttpClient.Redirect.NEVER)
                        .build();
        this.authorization = authorization(uri, env);
        java.util.List<String> parts = new java.util.ArrayList<>();
        authorization.ifPresent(
                a -> {
                    parts.add(a);
                    parts.add(a.substring(a.indexOf(' ') + 1));
                });
        for (String key : java.util.List.of("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_PASSWORD")) {
            String v = env.get(key);
            if (v != null && !v.isBlank()) {
                parts.add(v);
            }
        }
        // Longest first, so a header is blotted out whole before its parts.
        parts.sort(java.util.Comparator.comparingInt(String::length).reversed());
        this.secrets = java.util.List.copyOf(parts);
    }

    /** MLflow's built-in basic-auth administrator, which every fresh auth-enabled server has. */
    static final String DEFAULT_USER = "admin";

    /** ... and its documented default password. */
    static final String DEFAULT_PASSWORD = "password1234";

    /** Opt-in for a registry on another host that takes no credentials. */
    static final String ANONYMOUS_OPT_IN = "QUIVER_REGISTRY_ANONYMOUS";

    /**
     * The Authorization header, and the credential policy (RELIABILITY.md P17): a token, or a user
     * and password together; never MLflow's default administrator password; and a registry on
     * another host than this one is only used with credentials, unless {@value #ANONYMOUS_OPT_IN}
     * is {@code 1}. Nothing here ever puts a credential in a message.
     *
     * @throws IllegalArgumentException naming the variable that is wrong or missing
     */
    static Optional<String> authorization(URI server, Map<String, String> env) {
        String token = env.get("MLFLOW_TRACKING_TOKEN");
        if (token != null && !token.isBlank()) {
            return Optional.of("Bearer " + token);
        }
        String user = env.get("MLFLOW_TRACKING_USERNAME");
        String password = env.get("MLFLOW_TRACKING_PASSWORD");
        if ((user == null) != (password == null)) {
            throw new IllegalArgumentException(
                    "[Quiver/CREDENTIALS_INCOMPLETE] "
                            + (user == null
                                    ? "MLFLOW_TRACKING_PASSWORD is set but MLFLOW_TRACKING_USERNAME"
                                            + " is not"
                                    : "MLFLOW_TRACKING_USERNAME is set but MLFLOW_TRACKING_PASSWORD"
                                            + " is not")
                            + "; set both (basic auth) or MLFLOW_TRACKING_TOKEN");
        }
        if (user != null) {
            if (user.equals(DEFAULT_USER) && password.equals(DEFAULT_PASSWORD)) {
                throw new IllegalArgumentException(
                        "[Quiver/DEFAULT_CREDENTIALS] MLFLOW_TRACKING_USERNAME/PASSWORD are MLflow's"
                                + " built-in administrator defaults; change the password on the"
                                + " server (mlflow server --app-name basic-auth) and use that");
            }
            return Optional.of(
                    "Basic "
                            + Base64.getEncoder()
                                    .encodeToString(
                                            (user + ":" + password)
                                                    .getBytes(StandardCharsets.UTF_8)));
        }
        if (!isLoopback(server.getHost()) && !"1".equals(env.get(ANONYMOUS_OPT_IN))) {
            throw new IllegalArgumentException(
                    "[Quiver/NO_CREDENTIALS] the registry "
                            + server
                            + " is on another host and no credentials are set: set"
                            + " MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and"
                            + " MLFLOW_TRACKING_PASSWORD (a server on this machine, 127.0.0.1 or"
                            + " localhost, needs none; "
                            + ANONYMOUS_OPT_IN
                            + "=1 accepts an anonymous remote registry)");
        }
        return Optional.empty();
    }

    private static boolean isLoopback(String host) {
        if (host == null) {
            return false;
        }
        String h = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        return h.equals("localhost")
                || h.equals("::1")
                || h.equals("0:0:0:0:0:0:0:1")
                || h.startsWith("127.");
    }

    /**
     * The server's base URI.
     *
     * @return e.g. {@code http://127.0.0.1:5000/}
     */
    public URI base() {
        return base;
    }

    /**
     * {@code GET /api/2.0/mlflow/<path>?query}.
     *
     * @param path e.g. {@code experiments/get-by-name}
     * @param query parameters, URL-encoded here
     * @return the JSON answer
     * @throws MlflowException on an error status or when unreachable after the retries
     */
    public JsonNode get(String path, Map<String, String> query) {
        String q = query(query);
        URI uri = base.resolve("api/2.0/mlflow/" + path + (q.isEmpty() ? "" : "?" + q));
        return json("GET " + path, () -> request(uri).GET().build());
    }

    /**
     * {@code DELETE /api/2.0/mlflow/<path>} with a JSON body (MLflow's server reads a DELETE's
     * fields from its JSON body).
     *
     * @param path e.g. {@code registered-models/alias}
     * @param body JSON body
     * @return the JSON answer
     * @throws MlflowException on an error status or when unreachable after the retries
     */
    public JsonNode delete(String path, JsonNode body) {
        return send("DELETE", path, body);
    }

    /**
     * {@code POST /api/2.0/mlflow/<path>} with a JSON body.
     *
     * @param path e.g. {@code runs/create}
     * @param body JSON body
     * @return the JSON answer
     * @throws MlflowException on an error status or when unreachable after the retries
     */
    public JsonNode post(String path, JsonNode body) {
        return send("POST", path, body);
    }

    /**
     * {@code PATCH /api/2.0/mlflow/<path>} with a JSON body.
     *
     * @param path e.g. {@code logged-models/m-1}
     * @param body JSON body
     * @return the JSON answer
     * @throws MlflowException on an error status or when unreachable after the retries
     */
    public JsonNode patch(String path, JsonNode body) {
        return send("PATCH", path, body);
    }

    private JsonNode send(String method, String path, JsonNode body) {
        URI uri = base.resolve("api/2.0/mlflow/" + path);
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return json(
                method + " " + path,
                () ->
                        request(uri)
                                .header("Content-Type", "application/json")
                                .method(method, HttpRequest.BodyPublishers.ofByteArray(bytes))
                                .build());
    }

    /**
     * Uploads a file through the server's artifact proxy: {@code PUT
     * /api/2.0/mlflow-artifacts/artifacts/<artifactPath>}.
     *
     * @param artifactUri {@code mlflow-artifacts:/...} folder of the run or logged model
     * @param relativePath path under it, e.g. {@code report.json}
     * @param file the file to upload
     * @throws MlflowException on an error status or when unreachable after the retries
     */
    public void upload(String artifactUri, String relativePath, Path file) {
        URI uri = artifactEndpoint(artifactUri, relativePath);
        call(
                "PUT artifact " + relativePath,
                () -> {
                    try {
                        return request(uri)
                                .header("Content-Type", "application/octet-stream")
                                .PUT(HttpRequest.BodyPublishers.ofFile(file))
                                .build();
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                },
                HttpResponse.BodyHandlers.ofString(),
                r -> r);
    }

    /**
     * Lists one folder through the artifact proxy: {@code GET
     * /api/2.0/mlflow-artifacts/artifacts?path=...}.
     *
     * @param artifactUri {@code mlflow-artifacts:/...} folder
     * @return the {@code files} array (each {@code path}, {@code is_dir}, {@code file_size}), paths
     *     relative to the folder as the server wrote them (untrusted)
     * @throws MlflowException on an error status or when unreachable after the retries
     */
    public JsonNode list(String artifactUri) {
        String path = proxyPath(artifactUri);
        URI uri = base.resolve("api/2.0/mlflow-artifacts/artifacts?" + query(Map.of("path", path)));
        JsonNode node = json("list artifacts " + artifactUri, () -> request(uri).GET().build());
        return node.path("files");
    }

    /**
     * Downloads one file through the artifact proxy into {@code target} (written to a temporary
     * sibling first, then moved, so a failed download leaves nothing at {@code target}).
     *
     * @param artifactUri {@code mlflow-artifacts:/...} folder
     * @param relativePath a path under it, already checked by the caller
     * @param target where to write
     * @return bytes written
     * @throws MlflowException on an error status or when unreachable after the retries
     */
    public long download(String artifactUri, String relativePath, Path target) {
        URI uri = artifactEndpoint(artifactUri, relativePath);
        Path partial = target.resolveSibling(target.getFileName() + ".partial");
        return call(
                "download " + relativePath,
                () -> request(uri).GET().build(),
                HttpResponse.BodyHandlers.ofInputStream(),
                r -> {
                    try (InputStream in = r.body()) {
                        long n = Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
                        Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING);
                        return n;
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
    }

    private URI artifactEndpoint(String artifactUri, String relativePath) {
        StringJoiner path = new StringJoiner("/");
        for (String part : (proxyPath(artifactUri) + "/" + relativePath).split("/")) {
            if (!part.isEmpty()) {
                path.add(URLEncoder.encode(part, StandardCharsets.UTF_8).replace("+", "%20"));
            }
        }
        return base.resolve("api/2.0/mlflow-artifacts/artifacts/" + path);
    }

    /**
     * The path of an artifact folder under the server's artifact proxy.
     *
     * @param artifactUri {@code mlflow-artifacts:/1/abc/artifacts} or {@code
     *     mlflow-artifacts://host:port/1/abc/artifacts}
     * @return {@code 1/abc/artifacts}
     * @throws MlflowException if the location is not served by the server's artifact proxy
     */
    static String proxyPath(String artifactUri) {
        String prefix = "mlflow-artifacts:";
        if (!artifactUri.startsWith(prefix)) {
            throw new MlflowException(
                    "[Quiver/ARTIFACT_LOCATION] artifact location "
                            + artifactUri
                            + " is not served by the MLflow server's artifact proxy; start the"
                            + " server with --serve-artifacts (mlflow/server.sh does)",
                    400,
                    "",
                    null);
        }
        String rest = artifactUri.substring(prefix.length());
        if (rest.startsWith("//")) {
            int slash = rest.indexOf('/', 2);
            rest = slash < 0 ? "" : rest.substring(slash);
        }
        while (rest.startsWith("/")) {
            rest = rest.substring(1);
        }
        while (rest.endsWith("/")) {
            rest = rest.substring(0, rest.length() - 1);
        }
        return rest;
    }

    private HttpRequest.Builder request(URI uri) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(settings.readTimeout());
        authorization.ifPresent(a -> b.header("Authorization", a));
        return b;
    }

    private JsonNode json(String what, java.util.function.Supplier<HttpRequest> request) {
        return call(
                what,
                request,
                HttpResponse.BodyHandlers.ofString(),
                r -> {
                    try {
                        String body = r.body();
                        return body.isBlank() ? JSON.createObjectNode() : JSON.readTree(body);
                    } catch (IOException e) {
                        throw new MlflowException(
                                "[Quiver/MLFLOW_BAD_ANSWER] "
                                        + what
                                        + ": the server's answer is not JSON",
                                r.statusCode(),
                                "",
                                e);
                    }
                });
    }

    private <B, T> T call(
            String what,
            java.util.function.Supplier<HttpRequest> request,
            HttpResponse.BodyHandler<B> handler,
            Function<HttpResponse<B>, T> onSuccess) {
        MlflowException last = null;
        for (int attempt = 1; attempt <= settings.maxAttempts(); attempt++) {
            if (attempt > 1) {
                sleepBackoff(attempt - 1, last.retryAfter().orElse(Duration.ZERO));
            }
            HttpResponse<B> response;
            try {
                response = send(request.get(), handler);
            } catch (IOException e) {
                last =
                        new MlflowException(
                                "[Quiver/REGISTRY_UNAVAILABLE] "
                                        + what
                                        + " at "
                                        + base
                                        + ": "
                                        + e.getClass().getSimpleName()
                                        + (e.getMessage() == null
                                                ? ""
                                                : " " + redact(e.getMessage())),
                                0,
                                "",
                                e);
                LOG.debug(
                        "attempt {} of {}: {}", attempt, settings.maxAttempts(), last.getMessage());
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new MlflowException(
                        "[Quiver/REGISTRY_UNAVAILABLE] " + what + ": interrupted", 0, "", e);
            }
            int status = response.statusCode();
            if (status >= 200 && status < 300) {
                return onSuccess.apply(response);
            }
            last = error(what, response);
            if (!last.unavailable()) {
                throw last; // a definite answer: never retried
            }
            if (last.retryAfter().map(w -> w.compareTo(settings.maxDelay()) > 0).orElse(false)) {
                throw last; // the server asks for a longer wait than a call's retries may take
            }
            LOG.debug("attempt {} of {}: {}", attempt, settings.maxAttempts(), last.getMessage());
        }
        throw last;
    }

    /**
     * One exchange, bounded as a whole by the read timeout: {@link HttpRequest#timeout} only covers
     * the wait for the response headers, so a server that sends its headers and then dribbles the
     * body would otherwise hold the caller for as long as it likes. (For a streamed body, {@link
     * HttpResponse.BodyHandlers#ofInputStream}, the bound ends at the headers.)
     */
    private <B> HttpResponse<B> send(HttpRequest request, HttpResponse.BodyHandler<B> handler)
            throws IOException, InterruptedException {
        java.util.concurrent.CompletableFuture<HttpResponse<B>> f =
                http.sendAsync(request, handler);
        try {
            return f.get(
                    settings.readTimeout().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            f.cancel(true);
            throw new java.net.http.HttpTimeoutException(
                    "no complete answer within " + settings.readTimeout().toMillis() + " ms");
        } catch (InterruptedException e) {
            f.cancel(true);
            throw e;
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) {
                throw io;
            }
            if (c instanceof RuntimeException r) {
                throw r;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new IOException(c);
        }
    }

    private MlflowException error(String what, HttpResponse<?> response) {
        int status = response.statusCode();
        String code = "";
        String message = "";
        Object body = response.body();
        String text = "";
        if (body instanceof String s) {
            text = s;
        } else if (body instanceof InputStream in) {
            try (in) {
                text = new String(in.readNBytes(4096), StandardCharsets.UTF_8);
            } catch (IOException e) {
                text = "";
            }
        }
        try {
            JsonNode node = JSON.readTree(text);
            if (node instanceof ObjectNode) {
                code = node.path("error_code").asText("");
                message = redact(node.path("message").asText(""));
            }
        } catch (IOException e) {
            // Redacted before it is cut: a cut could leave a credential's prefix unrecognised.
            String clean = redact(text);
            message = clean.length() > 200 ? clean.substring(0, 200) : clean;
        }
        String quiverCode =
                status == 401 || status == 403
                        ? "AUTH_FAILED"
                        : status >= 500 || status == 408 || status == 429
                                ? "REGISTRY_UNAVAILABLE"
                                : "MLFLOW_REFUSED";
        Duration retryAfter =
                status == 429 || status == 503
                        ? response.headers()
                                .firstValue("Retry-After")
                                .flatMap(MlflowHttp::retryAfter)
                                .orElse(null)
                        : null;
        return new MlflowException(
                String.format(
                        Locale.ROOT,
                        "[Quiver/%s] %s at %s: HTTP %d%s%s%s",
                        quiverCode,
                        what,
                        base,
                        status,
                        code.isEmpty() ? "" : " " + code,
                        message.isBlank() ? "" : ": " + message.strip(),
                        retryAfter == null
                                ? ""
                                : " (Retry-After " + retryAfter.toMillis() + " ms)"),
                status,
                code,
                null,
                retryAfter);
    }

    /**
     * A server's text with our credential blotted out: an error page or a proxy may echo the
     * request's headers, and its text goes into messages and logs.
     */
    String redact(String text) {
        String out = text;
        for (String secret : secrets) {
            out = out.replace(secret, "[REDACTED]");
        }
        return out;
    }

    /**
     * A {@code Retry-After} value (RFC 9110 section 10.2.3): delay-seconds or an HTTP-date.
     *
     * @return the wait from now, never negative; empty when the value is neither form
     */
    static Optional<Duration> retryAfter(String value) {
        String v = value.strip();
        if (v.matches("[0-9]{1,9}")) {
            return Optional.of(Duration.ofSeconds(Long.parseLong(v)));
        }
        try {
            java.time.ZonedDateTime at =
                    java.time.ZonedDateTime.parse(
                            v, java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME);
            Duration d = Duration.between(java.time.Instant.now(), at.toInstant());
            return Optional.of(d.isNegative() ? Duration.ZERO : d);
        } catch (java.time.format.DateTimeParseException e) {
            return Optional.empty(); // not a Retry-After we understand: plain backoff applies
        }
    }

    private void sleepBackoff(int retry, Duration atLeast) {
        long ceiling =
                Math.min(
                        settings.maxDelay().toMillis(),
                        settings.baseDelay().toMillis() << Math.min(retry - 1, 20));
        long sleep =
                Math.max(
                        atLeast.toMillis(),
                        ThreadLocalRandom.current().nextLong(ceiling / 2, ceiling + 1));
        try {
            Thread.sleep(sleep);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static String query(Map<String, String> query) {
        StringJoiner q = new StringJoiner("&");
        query.forEach(
                (k, v) ->
                        q.add(
                                URLEncoder.encode(k, StandardCharsets.UTF_8)
                                        + "="
                                        + URLEncoder.encode(v, StandardCharsets.UTF_8)));
        return q.toString();
    }
}
