package dev.quiver.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.web.DecisionRequests;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RELIABILITY.md P9, liveness and readiness tell the truth, through the distribution's {@code
 * bin/quiver serve} in a child JVM, as a probe sees it: at each step of a scripted lifecycle the
 * codes of {@code GET /health/live}, {@code GET /health/ready} and the model-ready endpoint {@code
 * GET /v1/models/{name}/ready} are asserted.
 *
 * <ol>
 *   <li>Plugin pipeline ({@code --strategy none}, the plugins folder watched every 100 ms): boot
 *       with only the traditional prediction: live 200, ready 503 naming the unwired sizing,
 *       traditional ready 200.
 *   <li>The sizing plugin dropped in: ready 200.
 *   <li>A required plugin FAILED: the sizing plugin replaced by one whose {@code start()} throws:
 *       ready 503 (no sizing wired), live 200, the refusal on {@code /v1/plugins}.
 *   <li>The sizing plugin back: ready 200.
 *   <li>Hot swap: the template plugin 1.0.0 dropped in, then replaced by 1.0.1; ready, live and the
 *       model's readiness are probed through the swap and answer 200 every time.
 *   <li>A plugin that throws on every call: quarantined after 3 decisions; its model 503 naming the
 *       quarantine, the service still ready (200) and live.
 *   <li>The served strategy bundle (the distribution's, a second child JVM) with its tracking URI
 *       on a port where nothing listens (a registry outage from the start; the bundle is resolved
 *       from its folder, so the registry is not on the request path): live 200, ready 200 with the
 *       bundle's id, a bundle source's model ready 200, an unknown name 404.
 *   <li>Kill switch on ({@code POST /v1/halt}): live 200, ready 200 with {@code halted: true}.
 *   <li>Kill switch off ({@code POST /v1/resume}): ready 200, {@code halted: false}.
 * </ol>
 */
class HealthLifecycleIT {

    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));
    static final ObjectMapper JSON = new ObjectMapper();
    static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)/");

    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    record Answer(int status, JsonNode body) {
        @Override
        public String toString() {
            return status + " " + body;
        }
    }

    /** A {@code bin/quiver serve} child JVM. */
    final class Serve implements AutoCloseable {
        final Process process;
        final Path err;
        final int port;

        Serve(Path work, String name, String... args) throws Exception {
            List<String> cmd = new ArrayList<>();
            cmd.add(DISTRIBUTION.resolve("bin/quiver").toString());
            cmd.addAll(List.of("serve", "--port", "0", "--fit-on", "none"));
            cmd.addAll(Trusting.options());
            cmd.addAll(List.of(args));
            Path out = work.resolve(name + ".out");
            err = work.resolve(name + ".err");
            ProcessBuilder pb =
                    new ProcessBuilder(cmd)
                            .redirectOutput(out.toFile())
                            .redirectError(err.toFile());
            pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
            pb.environment().remove("MLFLOW_TRACKING_URI");
            pb.environment().remove("QUIVER_STATE_URL");
            process = pb.start();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
            int found = -1;
            while (found < 0) {
                String text =
                        Files.readString(out, StandardCharsets.UTF_8)
                                + Files.readString(err, StandardCharsets.UTF_8);
                Matcher m = LISTENING.matcher(text);
                if (m.find()) {
                    found = Integer.parseInt(m.group(1));
                } else if (!process.isAlive() || System.nanoTime() > until) {
                    throw new AssertionError("serve did not start:\n" + text);
                } else {
                    Thread.sleep(100);
                }
            }
            port = found;
        }

        Answer call(String method, String path, Object body) throws Exception {
            HttpRequest.BodyPublisher p =
                    body == null
                            ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(
                                    body instanceof String s ? s : JSON.writeValueAsString(body));
            HttpResponse<String> r =
                    http.send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                                    .timeout(Duration.ofSeconds(60))
                                    .header("Content-Type", "application/json")
                                    .method(method, p)
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            return new Answer(r.statusCode(), JSON.readTree(r.body().isEmpty() ? "{}" : r.body()));
        }

        Answer get(String path) throws Exception {
            return call("GET", path, null);
        }

        /** Polls {@code path} until {@code done} holds (the watcher acts within a few scans). */
        Answer await(String path, Predicate<Answer> done) throws Exception {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            Answer a = get(path);
            while (!done.test(a)) {
                if (System.nanoTime() > until) {
                    throw new AssertionError(path + " never reached the state; last: " + a);
                }
                Thread.sleep(50);
                a = get(path);
            }
            return a;
        }

        /** live, ready and each named model's ready codes, as a probe would read them. */
        void expect(String step, int ready, Map<String, Integer> models) throws Exception {
            assertThat(get("/health/live").status()).as(step + ": live").isEqualTo(200);
            Answer r = get("/health/ready");
            assertThat(r.status()).as(step + ": ready " + r).isEqualTo(ready);
            for (var e : models.entrySet()) {
                Answer m = get("/v1/models/" + e.getKey() + "/ready");
                assertThat(m.status())
                        .as(step + ": model " + e.getKey() + " " + m)
                        .isEqualTo(e.getValue());
                assertThat(m.body().get("ready").asBoolean()).isEqualTo(e.getValue() == 200);
            }
            System.out.printf("P9 %s: live 200, ready %d, models %s%n", step, ready, models);
        }

        @Override
        public void close() {
            process.destroy();
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    static Path distributionZip(String prefix) throws IOException {
        try (Stream<Path> s = Files.list(DISTRIBUTION.resolve("plugins"))) {
            return s.filter(p -> p.getFileName().toString().startsWith(prefix))
                    .filter(p -> p.getFileName().toString().endsWith(".zip"))
                    .findFirst()
                    .orElseThrow();
        }
    }

    /** Copies a distribution plugin in under a temporary name, then renames it into place. */
    static void dropIn(Path zip, Path dir) throws IOException {
        Path tmp = dir.resolve(".tmp-" + zip.getFileName());
        Files.copy(zip, tmp);
        Files.move(
                tmp, dir.resolve(zip.getFileName()), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    @Test
    void liveReadyAndModelReadyAnswerTheTruthAtEveryStep(@TempDir Path work) throws Exception {
        long t0 = System.nanoTime();
        Path plugins = Files.createDirectories(work.resolve("plugins"));
        Path staging = Files.createDirectories(work.resolve("staging"));
        dropIn(distributionZip("prediction-traditional-"), plugins);
        String decision = DecisionRequests.lastBars(BundledData.BTC_USD_4H.load(), 300).toString();
        try (Serve serve =
                new Serve(
                        work,
                        "pipeline",
                        "--strategy",
                        "none",
                        "--plugins-dir",
                        plugins.toString(),
                        "--watch-interval-ms",
                        "100")) {
            // 1. Boot: nothing sizes yet.
            serve.expect(
                    "1 boot, no sizing plugin", 503, Map.of("traditional", 200, "momentum", 404));
            assertThat(serve.get("/health/ready").body().get("reason").asText())
                    .isEqualTo("no sizing capability is wired");

            // 2. The sizing plugin dropped in.
            Path sizing = distributionZip("sizing-fixed-");
            dropIn(sizing, plugins);
            serve.await("/health/ready", a -> a.status() == 200);
            serve.expect("2 sizing dropped in", 200, Map.of("traditional", 200));

            // 3. A required plugin FAILED: sizing replaced by one whose start() throws.
            PluginFaultsIT.zipInto(
                    staging,
                    "bad-sizing",
                    "quiver.sizing; name=oversized",
                    PluginFaultsIT.PKG + "StartThrowingPlugin",
                    PluginFaultsIT.PKG + "OversizedSizer");
            Files.delete(plugins.resolve(sizing.getFileName()));
            Files.move(staging.resolve("bad-sizing.zip"), plugins.resolve("bad-sizing.zip"));
            Answer plugins3 =
                    serve.await(
                            "/v1/plugins",
                            a -> a.body().get("refusals").toString().contains("bad-sizing"));
            assertThat(plugins3.body().get("refusals").toString())
                    .contains("deliberately broken start");
            serve.await("/health/ready", a -> a.status() == 503);
            serve.expect("3 required sizing plugin FAILED", 503, Map.of("traditional", 200));
            assertThat(serve.get("/health/ready").body().get("reason").asText())
                    .isEqualTo("no sizing capability is wired");

            // 4. The sizing plugin back.
            dropIn(sizing, plugins);
            serve.await("/health/ready", a -> a.status() == 200);
            serve.expect("4 sizing restored", 200, Map.of("traditional", 200));

            // 5. Hot swap of a source: every probe through the swap answers 200.
            LivePlugins.template("1.0.0", plugins.resolve("momentum.zip"));
            serve.await("/v1/models/momentum/ready", a -> a.status() == 200);
            LivePlugins.template("1.0.1", plugins.resolve("momentum.zip"));
            int probes = 0;
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!serve.get("/v1/plugins").body().get("plugins").toString().contains("1.0.1")) {
                assertThat(serve.get("/health/live").status()).isEqualTo(200);
                assertThat(serve.get("/health/ready").status()).isEqualTo(200);
                assertThat(serve.get("/v1/models/momentum/ready").status()).isEqualTo(200);
                probes++;
                assertThat(System.nanoTime()).as("swap to 1.0.1").isLessThan(until);
            }
            serve.expect(
                    "5 template 1.0.0 -> 1.0.1 swapped",
                    200,
                    Map.of("momentum", 200, "traditional", 200));
            System.out.printf("P9 5: %d probe rounds during the swap, all 200%n", probes);

            // 6. A plugin throwing on every call: quarantined; its model 503, the service ready.
            PluginFaultsIT.zipInto(
                    staging,
                    "bad-throwing",
                    "quiver.prediction; name=throwing; horizon=1",
                    null,
                    PluginFaultsIT.PKG + "ThrowingForecaster");
            Files.move(staging.resolve("bad-throwing.zip"), plugins.resolve("bad-throwing.zip"));
            serve.await("/v1/models/throwing/ready", a -> a.status() == 200);
            for (int i = 0; i < 3; i++) {
                assertThat(serve.call("POST", "/v1/decisions", decision).status()).isEqualTo(200);
            }
            serve.expect(
                    "6 plugin quarantined",
                    200,
                    Map.of("throwing", 503, "traditional", 200, "momentum", 200));
            assertThat(serve.get("/v1/models/throwing/ready").body().get("reason").asText())
                    .startsWith(
                            "its plugin 'bad-throwing' is quarantined: 3 consecutive failed calls");
        }

        // 7-9: the distribution's strategy bundle, the registry (for alias following) down.
        // A port nothing listens on any more: connection refused.
        int dead;
        try (java.net.ServerSocket reserved = new java.net.ServerSocket(0)) {
            dead = reserved.getLocalPort();
        }
        try (Serve serve =
                new Serve(
                        work,
                        "bundle",
                        "--state-url",
                        "jdbc:sqlite:" + work.resolve("state.db"),
                        "--rollouts-dir",
                        work.resolve("rollouts").toString(),
                        "--tracking-uri",
                        "http://127.0.0.1:" + dead)) {
            Answer ready = serve.get("/health/ready");
            String source =
                    JSON.readTree(
                                    Files.readString(
                                            DISTRIBUTION.resolve(
                                                    "strategies/btc-usd-4h/manifest.json")))
                            .at("/components/sources/0/name")
                            .asText();
            serve.expect(
                    "7 bundle served, registry down",
                    200,
                    Map.of(source, 200, "nothing-by-this-name", 404));
            assertThat(ready.body().get("strategy").asText()).isNotBlank();
            assertThat(ready.body().get("halted").asBoolean()).isFalse();

            Answer halt =
                    serve.call("POST", "/v1/halt", Map.of("actor", "p9", "reason", "probe check"));
            assertThat(halt.status()).as(halt.toString()).isEqualTo(200);
            serve.expect("8 kill switch on", 200, Map.of(source, 200));
            assertThat(serve.get("/health/ready").body().get("halted").asBoolean()).isTrue();

            Answer resume =
                    serve.call("POST", "/v1/resume", Map.of("actor", "p9", "reason", "probe done"));
            assertThat(resume.status()).as(resume.toString()).isEqualTo(200);
            serve.expect("9 kill switch off", 200, Map.of(source, 200));
            assertThat(serve.get("/health/ready").body().get("halted").asBoolean()).isFalse();
        }
        System.out.printf("P9: HealthLifecycleIT took %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }
}
