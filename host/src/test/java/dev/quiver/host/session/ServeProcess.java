package dev.quiver.host.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.market.Bar;
import dev.quiver.host.web.HttpCalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bin/quiver serve} of the built distribution as a child JVM, and JSON calls to it through
 * {@link HttpCalls} (Eclipse Jetty's client, not {@code java.net.http}, whose HTTP/1.1 pool can
 * fail a POST on a reused connection: JDK-8338569, JDK-8357639; these tests count what the service
 * did, so a POST is never retried).
 */
final class ServeProcess implements AutoCloseable {

    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));
    private static final Pattern LISTENING =
            Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)/");
    static final ObjectMapper JSON = new ObjectMapper();

    /** A call's timeout (connection, queueing, request and the whole answer). */
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(60);

    /**
     * Connections to the service the client may open at once: at least the most calls the tests
     * make at the same time (RolloutCrashIT: {@code CLIENTS} = 8 threads posting decisions;
     * SessionCrashIT: 8 client threads and the test thread re-arming a breaker), so that no call
     * waits in the client's queue for a connection (a queued call's wait counts against its
     * timeout). Jetty's default is 64 too; it is set here so the bound is stated.
     */
    static final int MAX_CONNECTIONS = 64;

    private final Process process;
    private final Path out;
    private final Path err;
    private final HttpCalls http;
    final int port;

    private ServeProcess(Process process, Path out, Path err) throws Exception {
        this.process = process;
        this.out = out;
        this.err = err;
        this.port = awaitListening(Duration.ofSeconds(240));
        this.http = new HttpCalls(MAX_CONNECTIONS, CALL_TIMEOUT);
    }

    /** Starts {@code serve --port 0} with the extra arguments, logs in {@code work}. */
    static ServeProcess start(Path work, String name, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(DISTRIBUTION.resolve("bin/quiver").toString());
        cmd.addAll(List.of("serve", "--port", "0", "--fit-on", "none"));
        if (!List.of(args).contains("--watch-interval-ms")) {
            // The plugins folder is not watched unless a test asks for it.
            cmd.addAll(List.of("--watch-interval-ms", "0"));
        }
        // These tests compare decisions for equality (with a backtest, a replay, another bundle):
        // a plugin call missing the default 2 s deadline on a loaded CI machine would change a
        // decision legitimately (a failed source) and, three times over, quarantine the plugin.
        // Deadlines and quarantine have their own tests (IsolationIT, StuckPluginIT).
        cmd.addAll(List.of("-D", "quiver.plugin.deadline-ms=60000"));
        // These tests replay history through sessions (bars years before the service's clock):
        // the stale-bar check (on by default, RELIABILITY.md P13) is off for the whole service;
        // SessionStaleBarsTest tests it.
        cmd.addAll(List.of("-D", "quiver.session.stale-after-intervals=0"));
        cmd.addAll(List.of(args));
        Path o = work.resolve(name + ".out");
        Path e = work.resolve(name + ".err");
        ProcessBuilder pb =
                new ProcessBuilder(cmd).redirectOutput(o.toFile()).redirectError(e.toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().remove("MLFLOW_TRACKING_URI");
        pb.environment().remove("QUIVER_STATE_URL");
        return new ServeProcess(pb.start(), o, e);
    }

    /**
     * Starts {@code serve} on a state store ({@code --state-url}), its rollouts in {@code work}.
     */
    static ServeProcess start(String stateUrl, Path work, String name) throws Exception {
        return start(
                work,
                name,
                "--state-url",
                stateUrl,
                "--rollouts-dir",
                work.resolve(name + "-rollouts").toString());
    }

    /**
     * What a finished {@code bin/quiver} printed.
     *
     * @param exit its exit code
     * @param out its standard output
     * @param err its standard error
     */
    record Exit(int exit, String out, String err) {}

    /** Runs {@code bin/quiver ARGS} to completion, whatever its exit code. */
    static Exit runExit(Path work, String name, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(DISTRIBUTION.resolve("bin/quiver").toString());
        cmd.addAll(List.of(args));
        Path o = work.resolve(name + ".out");
        Path e = work.resolve(name + ".err");
        ProcessBuilder pb =
                new ProcessBuilder(cmd).redirectOutput(o.toFile()).redirectError(e.toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().remove("MLFLOW_TRACKING_URI");
        Process p = pb.start();
        if (!p.waitFor(15, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("quiver " + args[0] + " did not finish in 15 minutes");
        }
        return new Exit(
                p.exitValue(),
                Files.readString(o, StandardCharsets.UTF_8),
                Files.readString(e, StandardCharsets.UTF_8));
    }

    /** Runs {@code bin/quiver ARGS} to completion; fails with its output when it exits non-zero. */
    static String run(Path work, String name, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(DISTRIBUTION.resolve("bin/quiver").toString());
        cmd.addAll(List.of(args));
        Path o = work.resolve(name + ".out");
        Path e = work.resolve(name + ".err");
        ProcessBuilder pb =
                new ProcessBuilder(cmd).redirectOutput(o.toFile()).redirectError(e.toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().remove("MLFLOW_TRACKING_URI");
        Process p = pb.start();
        if (!p.waitFor(15, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("quiver " + args[0] + " did not finish in 15 minutes");
        }
        if (p.exitValue() != 0) {
            throw new AssertionError(
                    "quiver "
                            + String.join(" ", args)
                            + " exited with "
                            + p.exitValue()
                            + ":\n"
                            + Files.readString(e, StandardCharsets.UTF_8));
        }
        return Files.readString(o, StandardCharsets.UTF_8);
    }

    /**
     * {@code strategy fit} on the bundled S&P 500 daily series up to {@code until} (750 training
     * and 500 test bars per fold, a long maximum age: the series ends in 2018), into {@code
     * work/name}.
     */
    static Path fitSp500(Path work, String name, String until) throws Exception {
        Path out = work.resolve(name);
        run(work, "fit-" + name, fitSp500Args(out, until).toArray(String[]::new));
        return out;
    }

    /**
     * {@link #fitSp500} with {@code --tracking-uri URI --register MODEL} (and {@code --alias} for
     * each alias): the bundle is fitted into {@code work/name} and registered.
     *
     * @return the registered version's number
     */
    static String fitAndRegisterSp500(
            Path work, String name, String until, String uri, String model, String... aliases)
            throws Exception {
        List<String> args = fitSp500Args(work.resolve(name), until);
        args.addAll(List.of("--tracking-uri", uri, "--register", model));
        for (String alias : aliases) {
            args.addAll(List.of("--alias", alias));
        }
        String out = run(work, "fit-" + name, args.toArray(String[]::new));
        Matcher m =
                Pattern.compile("registered models:/" + Pattern.quote(model) + "/(\\d+)")
                        .matcher(out);
        if (!m.find()) {
            throw new AssertionError("strategy fit --register printed no version:\n" + out);
        }
        return m.group(1);
    }

    private static List<String> fitSp500Args(Path out, String until) {
        return new ArrayList<>(
                List.of(
                        "strategy",
                        "fit",
                        "--dataset",
                        "sp500-daily",
                        "--until",
                        until,
                        "--train-bars",
                        "750",
                        "--test-bars",
                        "500",
                        "--max-age",
                        "P36500D",
                        "--out",
                        out.toString()));
    }

    /** Fused p_up per bar time from {@code backtest --strategy BUNDLE} on the S&P 500 series. */
    static Map<String, Double> backtestPUp(Path work, Path bundle, String name) throws Exception {
        Path out = work.resolve(name);
        run(
                work,
                name,
                "backtest",
                "--strategy",
                bundle.toString(),
                "--dataset",
                "sp500-daily",
                "--out",
                out.toString());
        Map<String, Double> m = new HashMap<>();
        for (String[] row : StrategyParityIT.readCsv(out.resolve("sp500-daily/decisions.csv"))) {
            if (!row[1].isEmpty()) {
                m.put(row[0], Double.parseDouble(row[1]));
            }
        }
        return m;
    }

    /** A JSON call; the answer's status and body. */
    record Answer(int status, JsonNode body) {
        @Override
        public String toString() {
            return status + " " + body;
        }
    }

    /**
     * A call with a JSON body ({@code null}: none; a {@link String}: sent as it is, for bodies a
     * JSON writer would not make).
     */
    Answer call(String method, String path, Object body) throws IOException, InterruptedException {
        HttpCalls.Reply r =
                http.send(
                        method,
                        uri(path),
                        body == null
                                ? null
                                : body instanceof String text
                                        ? text
                                        : JSON.writeValueAsString(body));
        return new Answer(r.status(), JSON.readTree(r.body().isEmpty() ? "{}" : r.body()));
    }

    /** A GET whose answer is text (e.g. {@code /metrics}); fails unless it answers 200. */
    String text(String path) throws IOException, InterruptedException {
        HttpCalls.Reply r = http.send("GET", uri(path), null);
        if (r.status() != 200) {
            throw new AssertionError("GET " + path + " answered " + r.status() + ": " + r.body());
        }
        return r.body();
    }

    private String uri(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    Answer get(String path) throws IOException, InterruptedException {
        return call("GET", path, null);
    }

    Answer delete(String path) throws IOException, InterruptedException {
        return call("DELETE", path, null);
    }

    Answer put(String path, Object body) throws IOException, InterruptedException {
        return call("PUT", path, body);
    }

    Answer post(String path, Object body) throws IOException, InterruptedException {
        return call("POST", path, body);
    }

    /** Posts {@code {"bars": [...]}} to a session. */
    Answer bars(String symbol, List<Bar> bars) throws IOException, InterruptedException {
        return post("/v1/sessions/" + symbol + "/bars", barsBody(bars));
    }

    static ObjectNode barsBody(List<Bar> bars) {
        ObjectNode body = JSON.createObjectNode();
        ArrayNode array = body.putArray("bars");
        for (Bar b : bars) {
            array.add(bar(b));
        }
        return body;
    }

    static ObjectNode bar(Bar b) {
        ObjectNode n = JSON.createObjectNode();
        n.put("timestamp", b.start().toString());
        n.put("open", b.open());
        n.put("high", b.high());
        n.put("low", b.low());
        n.put("close", b.close());
        n.put("volume", b.volume());
        return n;
    }

    /** A JSON call that must answer 200. */
    JsonNode ok(String method, String path, Object body) throws IOException, InterruptedException {
        Answer a = call(method, path, body);
        if (a.status() != 200) {
            throw new AssertionError(
                    method + " " + path + " answered " + a.status() + ": " + a.body());
        }
        return a.body();
    }

    String stderr() throws IOException {
        return Files.readString(err, StandardCharsets.UTF_8);
    }

    /** SIGKILL: nothing runs after it. */
    void kill() throws InterruptedException {
        process.toHandle().destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError("quiver serve survived SIGKILL for 30 s");
        }
    }

    /** SIGTERM, waits for a clean stop; then stops the HTTP client. */
    @Override
    public void close() throws IOException {
        try {
            stopProcess();
        } finally {
            http.close();
        }
    }

    private void stopProcess() throws IOException {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    throw new AssertionError("quiver serve did not stop on SIGTERM within 30 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while stopping quiver serve", e);
            }
        }
    }

    private int awaitListening(Duration max) throws Exception {
        long deadline = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < deadline) {
            Matcher m = LISTENING.matcher(Files.readString(out, StandardCharsets.UTF_8));
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
            if (!process.isAlive()) {
                throw new AssertionError(
                        "quiver serve exited with "
                                + process.exitValue()
                                + " before listening; stderr:\n"
                                + Files.readString(err, StandardCharsets.UTF_8));
            }
            Thread.sleep(100);
        }
        throw new AssertionError(
                "quiver serve did not listen within "
                        + max.toSeconds()
                        + " s; stderr:\n"
                        + Files.readString(err, StandardCharsets.UTF_8));
    }
}
