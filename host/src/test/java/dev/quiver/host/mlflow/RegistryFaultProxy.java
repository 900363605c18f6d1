package dev.quiver.host.mlflow;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * An HTTP proxy in front of the real MLflow server that injects registry faults on cue: it forwards
 * each request to the server and returns the server's own answer, or, by {@link Fault}, refuses
 * connections (nothing listens on its port), accepts and never answers, answers 503, 429 with
 * {@code Retry-After}, 401 or 403, sends the real answer's body one byte at a time, or flaps
 * between forwarding and 503. It never makes up an MLflow answer: every 2xx it returns is the
 * server's. Built on the JDK's {@code com.sun.net.httpserver} and {@code java.net.http}.
 *
 * <p>Every request is recorded ({@link #exchanges()}): when it arrived, what was asked, the fault
 * applied, the status returned, whether it carried the expected {@code Authorization} header, and
 * for a forwarded answer its body.
 */
public final class RegistryFaultProxy implements AutoCloseable {

    /** What the proxy does with the next requests. */
    public enum Fault {
        /** The server's own answer. */
        FORWARD,
        /** Nothing listens: connections are refused. */
        REFUSE,
        /** Accepts, reads the request, never answers (until the fault changes). */
        HANG,
        /** {@code 503 Service Unavailable}. */
        UNAVAILABLE_503,
        /** {@code 429 Too Many Requests} with {@code Retry-After} ({@link #retryAfterSeconds}). */
        TOO_MANY_429,
        /** {@code 401 Unauthorized} with {@code WWW-Authenticate}, as MLflow's basic-auth says. */
        UNAUTHORIZED_401,
        /** {@code 403 Forbidden}, as MLflow's basic-auth says for a missing permission. */
        FORBIDDEN_403,
        /** The server's answer: headers at once, then the body one byte every 200 ms. */
        SLOW_BODY,
        /** Forwards and answers 503 in turn, switching every {@link #flapMillis}. */
        FLAP
    }

    /**
     * One request as the proxy saw it, recorded when it arrives (its status and body once
     * answered).
     */
    public static final class Exchange {
        private final Instant at;
        private final String method;
        private final String path;
        private final Fault fault;
        private final boolean authorized;
        private volatile int status;
        private volatile String body = "";

        Exchange(Instant at, String method, String path, Fault fault, boolean authorized) {
            this.at = at;
            this.method = method;
            this.path = path;
            this.fault = fault;
            this.authorized = authorized;
        }

        /** When it arrived. */
        public Instant at() {
            return at;
        }

        /** HTTP method. */
        public String method() {
            return method;
        }

        /** Path and query. */
        public String path() {
            return path;
        }

        /** The fault applied. */
        public Fault fault() {
            return fault;
        }

        /** Whether it carried the expected {@code Authorization} header. */
        public boolean authorized() {
            return authorized;
        }

        /** The status returned, 0 while none was (hang, or the client left). */
        public int status() {
            return status;
        }

        /** The forwarded answer's body, or empty. */
        public String body() {
            return body;
        }
    }

    private final URI target;
    private final String expectedAuthorization;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ExecutorService handlers = Executors.newCachedThreadPool(daemon());
    private final List<Exchange> exchanges = new ArrayList<>();
    private final int port;
    private volatile Fault fault = Fault.FORWARD;
    private volatile Instant faultSince = Instant.now();
    private volatile HttpServer server;

    /** Seconds in the {@code Retry-After} of {@link Fault#TOO_MANY_429}. */
    public volatile int retryAfterSeconds = 2;

    /** Half-period of {@link Fault#FLAP}. */
    public volatile long flapMillis = 1_000;

    /**
     * Starts a proxy on a free loopback port.
     *
     * @param target the real MLflow server, e.g. {@code http://127.0.0.1:5000}
     * @param expectedAuthorization the header value the client must send
     * @throws IOException if no port can be bound
     */
    public RegistryFaultProxy(String target, String expectedAuthorization) throws IOException {
        this.target = URI.create(target.endsWith("/") ? target : target + "/");
        this.expectedAuthorization = expectedAuthorization;
        this.server = bind(0);
        this.port = server.getAddress().getPort();
    }

    /**
     * The URI clients use.
     *
     * @return {@code http://127.0.0.1:PORT}
     */
    public String uri() {
        return "http://127.0.0.1:" + port;
    }

    /**
     * Applies a fault to every request from now on (a hanging or dribbling answer in progress is
     * ended).
     *
     * @param next the fault
     * @throws IOException if {@link Fault#REFUSE} ends and the port cannot be bound again
     */
    public synchronized void fault(Fault next) throws IOException {
        if (next == fault) {
            return;
        }
        if (next == Fault.REFUSE) {
            server.stop(0);
        } else if (fault == Fault.REFUSE) {
            server = bindAgain();
        }
        fault = next;
        faultSince = Instant.now();
        notifyAll(); // hanging and dribbling handlers stop
    }

    /**
     * Every request so far, in arrival order.
     *
     * @return a copy
     */
    public List<Exchange> exchanges() {
        synchronized (exchanges) {
            return List.copyOf(exchanges);
        }
    }

    @Override
    public synchronized void close() {
        fault = Fault.FORWARD;
        notifyAll();
        server.stop(0);
        handlers.shutdownNow();
    }

    private HttpServer bindAgain() throws IOException {
        // The port was just closed; its accepted connections may linger briefly.
        IOException last = null;
        for (int i = 0; i < 50; i++) {
            try {
                return bind(port);
            } catch (java.net.BindException e) {
                last = e;
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IOException(ie);
                }
            }
        }
        throw last;
    }

    private HttpServer bind(int p) throws IOException {
        HttpServer s =
                HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), p), 50);
        s.setExecutor(handlers);
        s.createContext("/", this::handle);
        s.start();
        return s;
    }

    private void handle(HttpExchange ex) throws IOException {
        Instant at = Instant.now();
        String path = ex.getRequestURI().getRawPath();
        String query = ex.getRequestURI().getRawQuery();
        String pathAndQuery = query == null ? path : path + "?" + query;
        boolean authorized =
                expectedAuthorization.equals(ex.getRequestHeaders().getFirst("Authorization"));
        byte[] requestBody = ex.getRequestBody().readAllBytes();
        Fault f = fault;
        if (f == Fault.FLAP) {
            long since = Duration.between(faultSince, at).toMillis();
            f = (since / flapMillis) % 2 == 0 ? Fault.UNAVAILABLE_503 : Fault.FORWARD;
        }
        Exchange x = new Exchange(at, ex.getRequestMethod(), pathAndQuery, f, authorized);
        synchronized (exchanges) {
            exchanges.add(x);
        }
        int status = 0;
        String body = "";
        try {
            switch (f) {
                case FORWARD, FLAP -> {
                    HttpResponse<byte[]> r = forward(ex, pathAndQuery, requestBody);
                    status = r.statusCode();
                    body = new String(r.body(), StandardCharsets.UTF_8);
                    x.body = body;
                    x.status = status;
                    respond(ex, status, r.headers().firstValue("Content-Type"), r.body());
                }
                case SLOW_BODY -> {
                    HttpResponse<byte[]> r = forward(ex, pathAndQuery, requestBody);
                    status = r.statusCode();
                    dribble(ex, r);
                }
                case HANG -> hang(Fault.HANG);
                case UNAVAILABLE_503 -> {
                    status = 503;
                    x.status = status;
                    respond(
                            ex,
                            503,
                            Optional.of("text/html"),
                            "<html><body>503 Service Unavailable</body></html>"
                                    .getBytes(StandardCharsets.UTF_8));
                }
                case TOO_MANY_429 -> {
                    status = 429;
                    x.status = status;
                    ex.getResponseHeaders().add("Retry-After", Integer.toString(retryAfterSeconds));
                    respond(
                            ex,
                            429,
                            Optional.of("application/json"),
                            "{\"error_code\": \"REQUEST_LIMIT_EXCEEDED\", \"message\": \"Too many requests\"}"
                                    .getBytes(StandardCharsets.UTF_8));
                }
                case UNAUTHORIZED_401 -> {
                    status = 401;
                    x.status = status;
                    ex.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"mlflow\"");
                    respond(
                            ex,
                            401,
                            Optional.of("text/plain"),
                            ("You are not authenticated. Please see"
                                            + " https://www.mlflow.org/docs/latest/auth/index.html"
                                            + "#authenticating-to-mlflow on how to authenticate.")
                                    .getBytes(StandardCharsets.UTF_8));
                }
                case FORBIDDEN_403 -> {
                    status = 403;
                    x.status = status;
                    respond(
                            ex,
                            403,
                            Optional.of("text/plain"),
                            "Permission denied".getBytes(StandardCharsets.UTF_8));
                }
                case REFUSE -> {
                    // Accepted just before the listener closed: end it without an answer.
                }
            }
        } catch (IOException e) {
            // The client gave up (its own timeout): recorded with the status sent, if any.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            x.status = status;
            x.body = body;
            ex.close();
        }
    }

    private HttpResponse<byte[]> forward(HttpExchange ex, String pathAndQuery, byte[] body)
            throws IOException, InterruptedException {
        String relative = pathAndQuery.startsWith("/") ? pathAndQuery.substring(1) : pathAndQuery;
        HttpRequest.Builder b =
                HttpRequest.newBuilder(target.resolve(relative))
                        .timeout(Duration.ofSeconds(30))
                        .method(
                                ex.getRequestMethod(),
                                body.length == 0
                                        ? HttpRequest.BodyPublishers.noBody()
                                        : HttpRequest.BodyPublishers.ofByteArray(body));
        String type = ex.getRequestHeaders().getFirst("Content-Type");
        if (type != null) {
            b.header("Content-Type", type);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static void respond(HttpExchange ex, int status, Optional<String> type, byte[] body)
            throws IOException {
        type.ifPresent(t -> ex.getResponseHeaders().add("Content-Type", t));
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    /** Headers at once, then one byte every 200 ms, until the fault changes or the client goes. */
    private void dribble(HttpExchange ex, HttpResponse<byte[]> r)
            throws IOException, InterruptedException {
        r.headers()
                .firstValue("Content-Type")
                .ifPresent(t -> ex.getResponseHeaders().add("Content-Type", t));
        byte[] body = r.body();
        ex.sendResponseHeaders(r.statusCode(), body.length);
        OutputStream out = ex.getResponseBody();
        for (byte b : body) {
            out.write(b);
            out.flush();
            synchronized (this) {
                if (fault != Fault.SLOW_BODY) {
                    return; // the connection is closed unfinished
                }
                wait(200);
            }
        }
        out.close();
    }

    private synchronized void hang(Fault while_) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (fault == while_ && System.nanoTime() < deadline) {
            wait(1_000);
        }
    }

    private static java.util.concurrent.ThreadFactory daemon() {
        return r -> {
            Thread t = new Thread(r, "registry-fault-proxy");
            t.setDaemon(true);
            return t;
        };
    }
}
