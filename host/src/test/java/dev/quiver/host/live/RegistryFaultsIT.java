package dev.quiver.host.live;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.host.cli.Cli;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.mlflow.LocalMlflow;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowHttp;
import dev.quiver.host.mlflow.RegistryFaultProxy;
import dev.quiver.host.mlflow.RegistryFaultProxy.Exchange;
import dev.quiver.host.mlflow.RegistryFaultProxy.Fault;
import dev.quiver.host.registry.ModelRegistrar;
import dev.quiver.host.registry.ModelResolver;
import dev.quiver.host.registry.ResolvedModel;
import dev.quiver.host.web.DecisionRequests;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * RELIABILITY.md P8 and P17: the registry fault matrix. The distribution's {@code bin/quiver serve}
 * (a child JVM) follows {@code lstm=models:/NAME@champion} every 500 ms through a {@link
 * RegistryFaultProxy} in front of the real MLflow server the build starts, with basic-auth
 * credentials whose password is a recognisable secret. Decisions ({@code POST /v1/decisions}, four
 * client threads) flow the whole time. Phase by phase the proxy refuses connections, hangs, answers
 * 503, 401, 403, 429 with {@code Retry-After}, dribbles the body, flaps; then the registry is back
 * and the alias moves to v2; then the service restarts with the registry down.
 *
 * <p>Each phase: at least 1,000 decisions, 0 failed (HTTP 200, the expected version in the
 * provenance, the LSTM not among the failed sources); the polls as the host logged them ({@code
 * next poll in N ms}) and as the proxy saw them; staleness in {@code /v1/models} and {@code
 * /health/ready} (200). Over the whole run: the credential is sent on every registry request and
 * appears in no log line and no answer of the service.
 *
 * <p>No timing is asserted: waits are read from the host's own log, and the proxy's arrival times
 * are only used as lower bounds (a poll never comes sooner than the host said) and counts. Printed
 * for the report: each phase's p50 and p99 decision round trip (RELIABILITY.md P8's "p99 within 10
 * % of baseline", a latency) and the time a restart with the registry down takes to listen (P8's
 * "within 10 s"); the behaviour they stand for (serving the cached version, 0 failed decisions) is
 * asserted.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RegistryFaultsIT {

    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));
    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration POLL = Duration.ofMillis(500);
    static final int PER_PHASE = 1_000;

    /**
     * Decisions sent after each start of the service before its first measured phase, counted in no
     * phase (their failures are still checked): the decision path's code is then compiled, so each
     * phase's p99 is a warm JVM's, comparable with the baseline's (measured after the same
     * warm-up). Without it the first phase after a start had p99 250-375 ms against ~20 ms; after
     * 500 the baseline's p99 was still 60 ms against 10-30 ms for the phases after it, after 1,500
     * 43 ms against 9-46 ms (load 20); 1,000 keeps the added test time near 35 s for both tests.
     */
    static final int WARM_UP = 1_000;

    static final int THREADS = 4;
    static final String USER = "quiver-fault-it";
    static final Pattern NEXT_POLL =
            Pattern.compile(
                    "next poll in (\\d+) ms \\(backoff ceiling (\\d+) ms(?:, Retry-After (\\d+)"
                            + " ms)?");

    /**
     * One failed poll as the host logged it: the wait it chose, the backoff ceiling and the
     * registry's {@code Retry-After} (0 when it sent none).
     */
    record Wait(long waitMs, long ceilingMs, long retryAfterMs) {
        @Override
        public String toString() {
            return waitMs + "/" + ceilingMs;
        }
    }

    static final Pattern LISTENING =
            Pattern.compile("quiver serve: listening on http://127\\.0\\.0\\.1:(\\d+)/");

    /** The password: recognisable, so a leak anywhere is found by a plain search. */
    final String secret = "QvSecret-" + Long.toString(System.nanoTime(), 36) + "-do-not-log";

    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    Path work;
    Path plugins;
    RegistryFaultProxy proxy;
    MlflowClient direct;
    String name;
    String v1;
    String v2;
    String requestBody;
    Serve serve;

    /** The registered name whose {@code @champion} the service under test follows. */
    volatile String followed;

    final List<Path> logs = new ArrayList<>();
    final List<String> answers = new CopyOnWriteArrayList<>();
    final List<String> report = new ArrayList<>();

    /** The phases of the running test, warm-ups included, in order. */
    final List<Phase> phases = new CopyOnWriteArrayList<>();

    @BeforeAll
    void register(@TempDir Path dir) throws Exception {
        work = dir;
        Path cliPlugins = copyPlugins(work.resolve("plugins-cli"));
        plugins = copyPlugins(work.resolve("plugins-serve"));
        direct =
                new MlflowClient(new MlflowHttp(LocalMlflow.uri(), MlflowHttp.Settings.defaults()));
        name = "it-faults-lstm-" + Long.toString(System.nanoTime(), 36);
        v1 = registerLstm(cliPlugins, true);
        // v2: v1's files, smoke cases included, registered again (no second plugin run).
        ResolvedModel first =
                new ModelResolver(Optional.of(direct), work.resolve("test-cache"))
                        .resolve("models:/" + name + "/" + v1);
        v2 =
                new ModelRegistrar(direct)
                        .register(
                                name, first.modelFile(), first.sidecar(), first.smoke(), List.of())
                        .version();
        assertThat(direct.versionByAlias(name, "champion").path("version").asText()).isEqualTo(v1);
        // The smallest request the LSTM serves (its window after the features' warm-up).
        requestBody = DecisionRequests.lastBars(BundledData.BTC_USD_4H.load(), 120).toString();
        String basic =
                "Basic "
                        + Base64.getEncoder()
                                .encodeToString(
                                        (USER + ":" + secret).getBytes(StandardCharsets.UTF_8));
        proxy = new RegistryFaultProxy(LocalMlflow.uri(), basic);
    }

    @AfterAll
    void stop() throws Exception {
        if (serve != null) {
            serve.close();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void decisionsFlowThroughEveryRegistryFaultAndTheCredentialNeverLeaks() throws Exception {
        followed = name;
        report.clear();
        phases.clear();
        long t0 = System.nanoTime();
        serve = Serve.start(this, "serve-1");
        printf("serve started (registry answering) in %.1f s", seconds(t0));
        JsonNode start = binding();
        assertThat(start.at("/serving/version").asText()).isEqualTo(v1);
        assertThat(start.at("/serving/origin").asText()).isEqualTo("registry");
        assertThat(start.get("stale_since").isNull()).as(start.toString()).isTrue();

        Phase baseline;
        try (Load load = new Load()) {
            // 0. Warm-up (not counted), then the baseline: the registry answering, nothing moves.
            warmUp(load, "after start", Fault.FORWARD, Set.of(v1));
            baseline = load.phase("baseline", Fault.FORWARD, Set.of(v1));
            runUntil(baseline, () -> true);
            assertFresh(baseline);

            // 1. Connection refused: the host backs off with jitter, serves v1, says it is stale.
            Phase refused = load.phase("refused", Fault.REFUSE, Set.of(v1));
            runUntil(refused, () -> hostPolls(refused).size() >= 3);
            assertBackoff(refused, hostPolls(refused));
            assertStale(refused, "unavailable");

            // 2. 401: AUTH_FAILED, one request per poll interval at most, no retry within a poll.
            Phase unauthorized = load.phase("401", Fault.UNAUTHORIZED_401, Set.of(v1));
            runUntil(unauthorized, () -> proxied(unauthorized).size() >= 3);
            assertAuthFailed(unauthorized, 401);

            // 3. Accepts and never answers: each attempt ends at the client's 5 s timeout.
            Phase hang = load.phase("hang", Fault.HANG, Set.of(v1));
            runUntil(
                    hang,
                    () ->
                            stderrOf(hang).contains("HttpTimeoutException")
                                    && proxied(hang).size() >= 2);
            assertThat(stderrOf(hang)).contains("HttpTimeoutException");
            assertStale(hang, "unavailable");

            // 4. 403.
            Phase forbidden = load.phase("403", Fault.FORBIDDEN_403, Set.of(v1));
            runUntil(forbidden, () -> proxied(forbidden).size() >= 3);
            assertAuthFailed(forbidden, 403);

            // 5. 503 for a while: each poll retried once inside the call, then backoff.
            Phase storm = load.phase("503", Fault.UNAVAILABLE_503, Set.of(v1));
            runUntil(storm, () -> hostPolls(storm).size() >= 3);
            assertBackoff(storm, hostPolls(storm));
            assertThat(proxied(storm).size())
                    .as("two attempts per poll (one retry inside the call)")
                    .isGreaterThanOrEqualTo(2 * 3);
            assertStale(storm, "unavailable");

            // 6. Back: staleness clears, the backoff resets.
            Phase back = load.phase("back", Fault.FORWARD, Set.of(v1));
            runUntil(back, () -> binding().get("stale_since").isNull());
            assertFresh(back);

            // 7. 429 with Retry-After 2: the next poll is never sooner than asked.
            proxy.retryAfterSeconds = 2;
            Phase limited = load.phase("429", Fault.TOO_MANY_429, Set.of(v1));
            runUntil(limited, () -> limitedPolls(limited).size() >= 2);
            assertRetryAfterHonoured(limited);
            List<Exchange> asked = proxied(limited);
            for (int i = 1; i < asked.size(); i++) {
                assertThat(Duration.between(asked.get(i - 1).at(), asked.get(i).at()).toMillis())
                        .as("request %d of the 429 phase came sooner than Retry-After", i)
                        .isGreaterThanOrEqualTo(2_000);
            }
            assertStale(limited, "unavailable");

            // 8. Headers, then the body one byte every 200 ms: the 5 s bound covers the body.
            Phase slow = load.phase("slow body", Fault.SLOW_BODY, Set.of(v1));
            runUntil(slow, () -> stderrOf(slow).contains("no complete answer within 5000 ms"));
            assertThat(stderrOf(slow)).contains("no complete answer within 5000 ms");
            assertStale(slow, "unavailable");

            // 9. Flapping (1 s up, 1 s down): never a spurious swap or refusal.
            Phase flap = load.phase("flap", Fault.FLAP, Set.of(v1));
            runUntil(
                    flap,
                    () -> {
                        List<Exchange> seen = proxied(flap);
                        return seen.stream().anyMatch(e -> e.status() == 200)
                                && seen.stream().anyMatch(e -> e.status() == 503)
                                && seen.size() >= 6;
                    });
            JsonNode b = binding();
            assertThat(b.get("swaps").asLong()).isZero();
            assertThat(b.get("refused")).isEmpty();

            // 10. Back, and the alias moves to v2: swapped in by the first polls that see it.
            Phase moved = load.phase("back + v1->v2", Fault.FORWARD, Set.of(v1, v2));
            long back0 = System.nanoTime();
            await(Duration.ofSeconds(120), () -> binding().get("stale_since").isNull(), "fresh");
            double backSeconds = seconds(back0);
            int before = proxied(moved).size();
            direct.setAlias(name, "champion", v2);
            long move0 = System.nanoTime();
            await(
                    Duration.ofSeconds(180),
                    () -> binding().at("/serving/version").asText().equals(v2),
                    "serving v2");
            double moveSeconds = seconds(move0);
            long answeredV2 =
                    proxied(moved).stream()
                            .skip(before)
                            .filter(e -> e.status() == 200 && v2.equals(aliasVersion(e.body())))
                            .count();
            printf(
                    "back: first answered poll after %.1f s; alias v1 -> v2 served %.1f s after the"
                            + " move, after %d poll(s) that answered v2 (poll interval %d ms)",
                    backSeconds, moveSeconds, answeredV2, POLL.toMillis());
            assertThat(answeredV2).as("polls that saw v2 before it served").isBetween(1L, 2L);
            runUntil(moved, () -> moved.versions.getOrDefault(v2, new AtomicInteger()).get() > 0);
            assertFresh(moved);
        }

        // 11. Restart with the registry down: the cached v2 serves.
        serve.close();
        proxy.fault(Fault.REFUSE);
        long restart0 = System.nanoTime();
        serve = Serve.start(this, "serve-2");
        printf("restart with the registry down: listening in %.1f s", seconds(restart0));
        JsonNode cached = binding();
        assertThat(cached.at("/serving/version").asText()).isEqualTo(v2);
        assertThat(cached.at("/serving/origin").asText()).isEqualTo("cache");
        try (Load load = new Load()) {
            warmUp(load, "after restart", Fault.REFUSE, Set.of(v2));
            Phase down = load.phase("restart, registry down", Fault.REFUSE, Set.of(v2));
            runUntil(down, () -> hostPolls(down).size() >= 1);
            assertStale(down, "unavailable");
        }
        serve.close();

        // The credential: sent on every registry request, in no log line and no answer.
        List<Exchange> all = proxy.exchanges();
        assertThat(all).isNotEmpty();
        assertThat(all)
                .as("every registry request carried the credential")
                .allMatch(Exchange::authorized);
        String basic =
                Base64.getEncoder()
                        .encodeToString((USER + ":" + secret).getBytes(StandardCharsets.UTF_8));
        int lines = 0;
        for (Path log : logs) {
            for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                lines++;
                assertThat(line)
                        .as(log.getFileName().toString())
                        .doesNotContain(secret)
                        .doesNotContain(basic);
            }
        }
        for (String answer : answers) {
            assertThat(answer).doesNotContain(secret).doesNotContain(basic);
        }
        printf(
                "credential: %d registry requests carried it; 0 of %d log lines and 0 of %d"
                        + " answers contain it",
                all.size(), lines, answers.size());
        printRatios(baseline);
        printf("whole test: %.1f s", seconds(t0));
        report.forEach(System.out::println);
    }

    /**
     * The strategy bundle's alias follower ({@code serve --strategy models:/NAME@champion}) under
     * the same proxy: backoff with equal jitter while the registry refuses, {@code Retry-After} on
     * a 429, the 5 s bound on a dribbled body, one request per interval on a 401, staleness in
     * {@code GET /v1/strategy} and {@code /health/ready}, the alias move served by the first poll
     * that sees it once the registry is back; then a restart with the registry down serves the
     * cached bundle, stale from the start. Decisions ({@code POST /v1/decisions}, the bundle's
     * stateless decision) flow in every phase, each naming the bundle that made it.
     */
    @Test
    void theStrategyBundleFollowerBacksOffSaysItIsStaleAndServesFromTheCache() throws Exception {
        long t0 = System.nanoTime();
        Path fitPlugins = work.resolve("plugins-strategy");
        Files.createDirectories(fitPlugins);
        // A bundle names its ensemble: the stack of ensemble-gbm (with its two GBM sources).
        for (String id : List.of("prediction-traditional", "ensemble-gbm", "sizing-fixed")) {
            try (var zips =
                    Files.newDirectoryStream(DISTRIBUTION.resolve("plugins"), id + "-*.zip")) {
                for (Path zip : zips) {
                    Files.copy(zip, fitPlugins.resolve(zip.getFileName()));
                }
            }
        }
        String bundleName = "it-faults-strategy-" + Long.toString(System.nanoTime(), 36);
        followed = bundleName;
        report.clear();
        phases.clear();
        // The bundled BTC 4h series up to March 2017: a small fit (as StrategyRegistryIT's).
        Path data = work.resolve("btc-usd-4h-2017.csv");
        try (var in =
                new java.io.BufferedReader(
                        new java.io.InputStreamReader(
                                RegistryFaultsIT.class.getResourceAsStream(
                                        "/data/coinbase-btc-usd-4h-2016-2025.csv"),
                                StandardCharsets.UTF_8))) {
            Files.write(
                    data,
                    in.lines()
                            .filter(
                                    new java.util.function.Predicate<String>() {
                                        boolean header = true;

                                        @Override
                                        public boolean test(String line) {
                                            boolean keep =
                                                    header || line.compareTo("2017-03-01") < 0;
                                            header = false;
                                            return keep;
                                        }
                                    })
                            .toList());
        }
        var fitOut = new StringWriter();
        var fitErr = new StringWriter();
        int fitCode =
                Cli.execute(
                        new PrintWriter(fitOut),
                        new PrintWriter(fitErr),
                        "strategy",
                        "fit",
                        "--data",
                        data.toString(),
                        "--until",
                        "2017-01-15T00:00:00Z",
                        "--train-bars",
                        "300",
                        "--test-bars",
                        "200",
                        "--max-age",
                        "P36500D",
                        "--out",
                        work.resolve("strategy-bundle").toString(),
                        "--plugins-dir",
                        fitPlugins.toString(),
                        "--tracking-uri",
                        LocalMlflow.uri(),
                        "--register",
                        bundleName,
                        "--alias",
                        "champion");
        assertThat(fitCode).as(fitOut + "\n" + fitErr).isZero();
        Matcher registered =
                Pattern.compile("registered models:/" + Pattern.quote(bundleName) + "/(\\d+)")
                        .matcher(fitOut.toString());
        assertThat(registered.find()).as(fitOut.toString()).isTrue();
        String s1 = registered.group(1);
        // v2: v1's bundle registered again (its id is NAME/VERSION, so every decision names it).
        var first =
                new dev.quiver.host.strategy.StrategyResolver(
                                Optional.of(direct), work.resolve("strategy-test-cache"))
                        .resolve("models:/" + bundleName + "/" + s1);
        String s2 =
                new dev.quiver.host.strategy.BundleRegistrar(direct)
                        .register(
                                dev.quiver.host.strategy.BundleRegistrar.EXPERIMENT,
                                bundleName,
                                first.bundle(),
                                first.smoke().orElseThrow(),
                                Optional.empty(),
                                Map.of(),
                                List.of())
                        .version();
        String id1 = bundleName + "/" + s1;
        String id2 = bundleName + "/" + s2;
        String body = DecisionRequests.lastBars(BundledData.BTC_USD_4H.load(), 300).toString();
        printf("strategy: fitted and registered %s and %s in %.1f s", id1, id2, seconds(t0));
        List<String> what = List.of("--strategy", "models:/" + bundleName + "@champion");

        proxy.fault(Fault.FORWARD);
        long start0 = System.nanoTime();
        serve = Serve.start(this, "serve-strategy-1", fitPlugins, what);
        printf("strategy: serve started (registry answering) in %.1f s", seconds(start0));
        JsonNode st = strategy();
        assertThat(st.path("bundle").asText()).isEqualTo(id1);
        assertThat(st.at("/registry/requested").asText())
                .isEqualTo("models:/" + bundleName + "@champion");
        Function<JsonNode, String> bundleOf = d -> d.at("/provenance/bundle").asText();
        Phase baseline;
        try (Load load = new Load(body, bundleOf, null)) {
            // Warm-up (not counted), then the baseline: the registry answering, nothing moves.
            warmUp(load, "strategy after start", Fault.FORWARD, Set.of(id1));
            baseline = load.phase("strategy baseline", Fault.FORWARD, Set.of(id1));
            runUntil(baseline, () -> true);

            // Refused: equal jitter on a doubling ceiling; stale in /v1/strategy and /health/ready.
            Phase refused = load.phase("strategy refused", Fault.REFUSE, Set.of(id1));
            runUntil(refused, () -> hostPolls(refused).size() >= 4);
            assertBackoff(refused, hostPolls(refused));
            assertStrategyStale(refused, "unavailable");

            // 429 with Retry-After 2: never sooner than asked.
            proxy.retryAfterSeconds = 2;
            Phase limited = load.phase("strategy 429", Fault.TOO_MANY_429, Set.of(id1));
            runUntil(limited, () -> limitedPolls(limited).size() >= 2);
            assertRetryAfterHonoured(limited);
            List<Exchange> asked = proxied(limited);
            for (int i = 1; i < asked.size(); i++) {
                assertThat(Duration.between(asked.get(i - 1).at(), asked.get(i).at()).toMillis())
                        .as("request %d of the 429 phase came sooner than Retry-After", i)
                        .isGreaterThanOrEqualTo(2_000);
            }
            assertStrategyStale(limited, "unavailable");

            // Headers, then one byte every 200 ms: the poll ends at the whole-answer bound.
            Phase slow = load.phase("strategy slow body", Fault.SLOW_BODY, Set.of(id1));
            runUntil(slow, () -> stderrOf(slow).contains("no complete answer within 5000 ms"));
            assertStrategyStale(slow, "unavailable");

            // 401: AUTH_FAILED, asked again one interval later, never in a tight loop.
            Phase unauthorized = load.phase("strategy 401", Fault.UNAUTHORIZED_401, Set.of(id1));
            runUntil(unauthorized, () -> proxied(unauthorized).size() >= 3);
            long elapsed = Duration.between(unauthorized.since, Instant.now()).toMillis();
            assertThat((long) proxied(unauthorized).size())
                    .as("no tight loop on 401")
                    .isLessThanOrEqualTo(elapsed / POLL.toMillis() + 2);
            assertStrategyStale(unauthorized, "auth_failed");

            // Back, and the alias moves: served by the first polls that see it.
            Phase moved = load.phase("strategy back + move", Fault.FORWARD, Set.of(id1, id2));
            await(
                    Duration.ofSeconds(60),
                    () -> strategy().get("stale_since").isNull(),
                    "strategy fresh");
            assertThat(strategy().at("/registry/registry").asText()).isEqualTo("ok");
            assertThat(JSON.readTree(get("/health/ready").body()).has("stale_since")).isFalse();
            int before = proxied(moved).size();
            direct.setAlias(bundleName, "champion", s2);
            long move0 = System.nanoTime();
            await(
                    Duration.ofSeconds(120),
                    () -> strategy().path("bundle").asText().equals(id2),
                    "serving " + id2);
            double moveSeconds = seconds(move0);
            long answeredS2 =
                    proxied(moved).stream()
                            .skip(before)
                            .filter(e -> e.status() == 200 && s2.equals(aliasVersion(e.body())))
                            .count();
            printf(
                    "strategy: alias %s -> %s served %.1f s after the move, after %d poll(s) that"
                            + " answered it (poll interval %d ms)",
                    s1, s2, moveSeconds, answeredS2, POLL.toMillis());
            assertThat(answeredS2).as("polls that saw the move before it served").isBetween(1L, 2L);
            runUntil(moved, () -> moved.versions.getOrDefault(id2, new AtomicInteger()).get() > 0);
        }

        // Restart with the registry down: the cached bundle serves, stale from the start.
        serve.close();
        proxy.fault(Fault.REFUSE);
        long restart0 = System.nanoTime();
        serve = Serve.start(this, "serve-strategy-2", fitPlugins, what);
        printf("strategy: restart with the registry down: listening in %.1f s", seconds(restart0));
        JsonNode cached = strategy();
        assertThat(cached.path("bundle").asText()).isEqualTo(id2);
        try (Load load = new Load(body, bundleOf, null)) {
            warmUp(load, "strategy after restart", Fault.REFUSE, Set.of(id2));
            Phase down = load.phase("strategy restart, down", Fault.REFUSE, Set.of(id2));
            runUntil(down, () -> hostPolls(down).size() >= 1);
            assertStrategyStale(down, "unavailable");
        }
        serve.close();
        serve = null;
        printRatios(baseline);
        printf("strategy: whole test %.1f s", seconds(t0));
        report.forEach(System.out::println);
    }

    JsonNode strategy() throws Exception {
        HttpResponse<String> r = get("/v1/strategy");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    /** The follower's state in /v1/strategy, and the same staleness in /health/ready (200). */
    void assertStrategyStale(Phase p, String state) throws Exception {
        assertThat(get("/health/live").statusCode()).as(p.label + " live").isEqualTo(200);
        JsonNode s = strategy();
        JsonNode r = s.get("registry");
        assertThat(r.get("registry").asText()).as(p.label + ": " + r).isEqualTo(state);
        assertThat(s.get("stale_since").isNull()).as(p.label + ": " + r).isFalse();
        assertThat(r.get("stale_since").asText()).isEqualTo(s.get("stale_since").asText());
        assertThat(s.path("bundle").asText()).isEqualTo(p.expected.iterator().next());
        HttpResponse<String> ready = get("/health/ready");
        assertThat(ready.statusCode()).as(p.label + " ready: " + ready.body()).isEqualTo(200);
        JsonNode h = JSON.readTree(ready.body());
        assertThat(h.get("status").asText()).isEqualTo("ready");
        assertThat(h.get("stale_since").asText()).isEqualTo(s.get("stale_since").asText());
        assertThat(h.at("/registry/strategy/registry").asText()).isEqualTo(state);
    }

    // ---- phases and load ----

    /** One fault phase: what the decisions saw, from which point in the logs. */
    final class Phase {
        final String label;
        final Set<String> expected;
        final Instant since = Instant.now();
        final int stderrFrom;
        final int proxyFrom;
        final AtomicInteger ok = new AtomicInteger();
        final AtomicInteger failed = new AtomicInteger();
        final Map<String, AtomicInteger> versions = new ConcurrentHashMap<>();
        final List<String> failures = new CopyOnWriteArrayList<>();

        /** Round-trip time of every answered decision, nanoseconds (printed, never asserted). */
        final java.util.Queue<Long> nanos = new java.util.concurrent.ConcurrentLinkedQueue<>();

        volatile Instant until;

        /** Sent after a start before the measured phases: counted in none, in no ratio. */
        volatile boolean warmUp;

        /** The machine's 1-minute load average when the phase ended. */
        volatile String loadAverage = "?";

        /** p50 when the phase ended (decisions started while it is checked are excluded). */
        volatile double p50AtEnd = Double.NaN;

        /** p99 when the phase ended. */
        volatile double p99AtEnd = Double.NaN;

        Phase(String label, Set<String> expected) throws IOException {
            this.label = label;
            this.expected = expected;
            this.stderrFrom = serve.stderr().length();
            this.proxyFrom = proxy.exchanges().size();
        }

        int decisions() {
            return ok.get() + failed.get();
        }

        /** The {@code q} quantile of the decisions' round trips, milliseconds (nearest rank). */
        double quantileMs(double q) {
            long[] sorted = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
            if (sorted.length == 0) {
                return Double.NaN;
            }
            int rank = (int) Math.ceil(q * sorted.length);
            return sorted[Math.max(0, rank - 1)] / 1e6;
        }
    }

    /** Client threads posting decisions, each counted in the phase current when it started. */
    final class Load implements AutoCloseable {
        final AtomicReference<Phase> current = new AtomicReference<>();
        final ExecutorService threads = Executors.newFixedThreadPool(THREADS);
        final String body;
        final Function<JsonNode, String> versionOf;
        final String source;
        volatile boolean running = true;

        /**
         * The client threads' POSTs: Jetty's client, one connection per thread (the JDK's HTTP/1.1
         * pool can fail a POST on a reused connection, JDK-8338569/JDK-8357639, which would count
         * as a failed decision of the phase).
         */
        final dev.quiver.host.web.HttpCalls calls;

        /** Decisions of the bound LSTM: its version, and it never among the failed sources. */
        Load() throws Exception {
            this(requestBody, d -> d.at("/provenance/models/lstm/version").asText(), "lstm");
        }

        /**
         * @param body the decision request
         * @param versionOf what served a decision
         * @param source a source that must not fail, or null
         */
        Load(String body, Function<JsonNode, String> versionOf, String source) throws Exception {
            this.calls = new dev.quiver.host.web.HttpCalls(THREADS, Duration.ofSeconds(60));
            this.body = body;
            this.versionOf = versionOf;
            this.source = source;
            for (int i = 0; i < THREADS; i++) {
                threads.execute(this::loop);
            }
        }

        Phase phase(String label, Fault fault, Set<String> expected) throws IOException {
            Phase p = new Phase(label, expected);
            proxy.fault(fault);
            phases.add(p);
            current.set(p);
            return p;
        }

        void loop() {
            while (running) {
                Phase p = current.get();
                if (p == null) {
                    sleep(5);
                    continue;
                }
                try {
                    long sent = System.nanoTime();
                    dev.quiver.host.web.HttpCalls.Reply r =
                            calls.send("POST", serve.uri("/v1/decisions").toString(), body);
                    p.nanos.add(System.nanoTime() - sent);
                    answers.add(r.body());
                    String problem = null;
                    String version = "";
                    if (r.status() != 200) {
                        problem = "HTTP " + r.status() + ": " + r.body();
                    } else {
                        JsonNode d = JSON.readTree(r.body());
                        version = versionOf.apply(d);
                        if (!p.expected.contains(version)) {
                            problem = "served version '" + version + "', expected " + p.expected;
                        } else if (source != null
                                && d.at("/provenance/failed_sources").has(source)) {
                            problem = "lstm failed: " + d.at("/provenance/failed_sources");
                        }
                    }
                    if (problem == null) {
                        p.ok.incrementAndGet();
                        p.versions
                                .computeIfAbsent(version, v -> new AtomicInteger())
                                .incrementAndGet();
                    } else {
                        p.failed.incrementAndGet();
                        if (p.failures.size() < 5) {
                            p.failures.add(problem);
                        }
                    }
                } catch (IOException e) {
                    p.failed.incrementAndGet();
                    if (p.failures.size() < 5) {
                        p.failures.add(e.toString());
                    }
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        @Override
        public void close() {
            running = false;
            threads.shutdown();
            try {
                assertThat(threads.awaitTermination(120, TimeUnit.SECONDS)).isTrue();
                calls.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while stopping the load", e);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Runs a phase until it has its decisions and its condition, then checks its decisions. */
    void runUntil(Phase p, HotSwapIT.ThrowingCondition condition) throws Exception {
        runUntil(p, PER_PHASE, condition);
    }

    /** Runs a phase until it has {@code decisions} and its condition, then checks them. */
    void runUntil(Phase p, int decisions, HotSwapIT.ThrowingCondition condition) throws Exception {
        try {
            await(
                    Duration.ofSeconds(240),
                    () -> p.decisions() >= decisions && condition.met(),
                    p.label + ": " + decisions + " decisions and the phase's polls");
        } catch (AssertionError e) {
            throw new AssertionError(
                    e.getMessage()
                            + " (decisions "
                            + p.decisions()
                            + ", failed "
                            + p.failed.get()
                            + " "
                            + p.failures
                            + "; host polls "
                            + hostPolls(p)
                            + "; proxy "
                            + proxied(p).size()
                            + "); /v1/models "
                            + get("/v1/models").body(),
                    e);
        }
        p.until = Instant.now();
        p.loadAverage = HotSwapIT.loadAverage();
        p.p50AtEnd = p.quantileMs(0.50);
        p.p99AtEnd = p.quantileMs(0.99);
        List<String> arrivals = new ArrayList<>();
        Instant prev = null;
        for (Exchange x : proxied(p)) {
            arrivals.add(
                    (prev == null ? "+0" : "+" + Duration.between(prev, x.at()).toMillis())
                            + " ms:"
                            + (x.status() == 0 ? "none" : x.status()));
            prev = x.at();
        }
        printf(
                "%s %-22s %5d decisions (%d failed) in %5.1f s, p50 %.1f ms, p99 %.1f ms,"
                        + " load average %s, versions %s; host waits %s ms; alias requests at the"
                        + " proxy %s",
                p.warmUp ? "warm-up (not counted)" : "phase",
                p.label,
                p.decisions(),
                p.failed.get(),
                Duration.between(p.since, p.until).toMillis() / 1000.0,
                p.p50AtEnd,
                p.p99AtEnd,
                p.loadAverage,
                p.versions,
                hostPolls(p),
                arrivals);
        assertThat(p.failed.get()).as(p.label + " failed decisions: " + p.failures).isZero();
        assertThat(p.ok.get()).isGreaterThanOrEqualTo(decisions);
    }

    /**
     * Sends {@value #WARM_UP} decisions after a start of the service, counted in no phase: the
     * decision path is compiled before any measured phase, as it was before the baseline.
     */
    void warmUp(Load load, String label, Fault fault, Set<String> expected) throws Exception {
        Phase w = load.phase(label, fault, expected);
        w.warmUp = true;
        runUntil(w, WARM_UP, () -> true);
    }

    /**
     * RELIABILITY.md P8 "p99 within 10 % of the baseline": each measured phase's p99 over the
     * baseline's, all measured on a warm JVM (printed, never asserted: the shared machine's load
     * decides these figures).
     */
    void printRatios(Phase baseline) {
        for (Phase p : phases) {
            if (p.warmUp || p == baseline || p.until == null) {
                continue;
            }
            printf(
                    "p99 / baseline p99 %-24s %7.1f ms / %5.1f ms = %5.2f (p50 %.1f / %.1f ms;"
                            + " load average %s / %s)",
                    p.label,
                    p.p99AtEnd,
                    baseline.p99AtEnd,
                    p.p99AtEnd / baseline.p99AtEnd,
                    p.p50AtEnd,
                    baseline.p50AtEnd,
                    p.loadAverage,
                    baseline.loadAverage);
        }
    }

    /** The failed polls the host logged in this phase ({@code next poll in N ms ...}), in order. */
    List<Wait> hostPolls(Phase p) throws IOException {
        List<Wait> out = new ArrayList<>();
        for (String line : stderrOf(p).split("\n")) {
            if (line.contains(followed + "@champion") && line.contains("registry unavailable")) {
                Matcher m = NEXT_POLL.matcher(line);
                if (m.find()) {
                    out.add(
                            new Wait(
                                    Long.parseLong(m.group(1)),
                                    Long.parseLong(m.group(2)),
                                    m.group(3) == null ? 0 : Long.parseLong(m.group(3))));
                }
            }
        }
        return out;
    }

    /** The failed polls of a 429 phase that carried the registry's {@code Retry-After}. */
    List<Wait> limitedPolls(Phase p) throws IOException {
        return hostPolls(p).stream().filter(w -> w.retryAfterMs() > 0).toList();
    }

    /**
     * Every poll answered 429 waited at least the {@code Retry-After} (2 s). A poll already in
     * flight when the phase began may end under the previous fault and log its own wait first; at
     * most one such wait is allowed, and only before the first 429.
     */
    void assertRetryAfterHonoured(Phase p) throws IOException {
        List<Wait> all = hostPolls(p);
        int first = 0;
        while (first < all.size() && all.get(first).retryAfterMs() == 0) {
            first++;
        }
        assertThat(first)
                .as(p.label + ": waits before the first 429 " + all)
                .isLessThanOrEqualTo(1);
        List<Wait> limited = all.subList(first, all.size());
        assertThat(limited).as(p.label + " waits " + all).hasSizeGreaterThanOrEqualTo(2);
        assertThat(limited)
                .as(p.label + ": every wait after a 429 honours Retry-After 2 s: " + all)
                .allMatch(w -> w.retryAfterMs() == 2_000 && w.waitMs() >= 2_000);
    }

    String stderrOf(Phase p) throws IOException {
        String all = serve.stderr();
        return all.substring(Math.min(p.stderrFrom, all.length()));
    }

    /** The alias polls that reached the proxy in this phase. */
    List<Exchange> proxied(Phase p) {
        List<Exchange> all = proxy.exchanges();
        return all.subList(Math.min(p.proxyFrom, all.size()), all.size()).stream()
                .filter(e -> e.path().contains("registered-models/alias"))
                .toList();
    }

    /**
     * Equal jitter on a doubling ceiling: the ceilings grow (doubling from a quarter of the poll
     * interval up to the cap), each wait lies in [ceiling / 2, ceiling], and the waits differ.
     */
    static void assertBackoff(Phase p, List<Wait> waits) {
        assertThat(waits).as(p.label + " host waits").hasSizeGreaterThanOrEqualTo(3);
        assertThat(waits.get(0).ceilingMs())
                .as(p.label + " " + waits)
                .isEqualTo(POLL.toMillis() / 4);
        for (int i = 1; i < waits.size(); i++) {
            long before = waits.get(i - 1).ceilingMs();
            assertThat(waits.get(i).ceilingMs())
                    .as(p.label + ": ceiling %d of %s", i, waits)
                    .isEqualTo(Math.min(2 * before, 2 * POLL.toMillis()));
        }
        for (Wait w : waits) {
            assertThat(w.waitMs())
                    .as(p.label + " " + waits)
                    .isBetween(w.ceilingMs() / 2, w.ceilingMs());
        }
        assertThat(waits.stream().map(Wait::waitMs).distinct().count())
                .as(p.label + ": jittered waits " + waits)
                .isGreaterThan(1);
    }

    void assertStale(Phase p, String state) throws Exception {
        // P9: the process stays live through a registry outage.
        assertThat(get("/health/live").statusCode()).as(p.label + " live").isEqualTo(200);
        JsonNode b = binding();
        assertThat(b.get("registry").asText()).as(p.label + ": " + b).isEqualTo(state);
        assertThat(b.get("stale_since").isNull()).as(p.label + ": " + b).isFalse();
        assertThat(b.at("/serving/version").asText()).isEqualTo(p.expected.iterator().next());
        HttpResponse<String> ready = get("/health/ready");
        assertThat(ready.statusCode()).as(p.label + " ready: " + ready.body()).isEqualTo(200);
        JsonNode r = JSON.readTree(ready.body());
        assertThat(r.get("status").asText()).isEqualTo("ready");
        assertThat(r.get("stale_since").asText()).isEqualTo(b.get("stale_since").asText());
        assertThat(r.at("/registry/bindings/0/registry").asText()).isEqualTo(state);
    }

    void assertFresh(Phase p) throws Exception {
        JsonNode b = binding();
        assertThat(b.get("registry").asText()).as(p.label).isEqualTo("ok");
        assertThat(b.get("stale_since").isNull()).as(p.label).isTrue();
        HttpResponse<String> ready = get("/health/ready");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(ready.body()).has("stale_since")).as(ready.body()).isFalse();
    }

    /**
     * AUTH_FAILED named in /v1/models and the log; not retried inside a poll (one host log line per
     * request), and at most one request per poll interval over the phase.
     */
    void assertAuthFailed(Phase p, int status) throws Exception {
        JsonNode b = binding();
        assertThat(b.get("registry").asText()).as(b.toString()).isEqualTo("auth_failed");
        assertThat(b.get("last_poll_result").asText())
                .contains("[Quiver/AUTH_FAILED]")
                .contains("HTTP " + status);
        assertThat(b.get("stale_since").isNull()).isFalse();
        List<Exchange> seen = proxied(p);
        assertThat(seen).allMatch(e -> e.status() == status);
        long authLines =
                stderrOf(p)
                        .lines()
                        .filter(
                                l ->
                                        l.contains("refused the credentials")
                                                && l.contains("HTTP " + status))
                        .count();
        long elapsed = Duration.between(p.since, Instant.now()).toMillis();
        // One request per interval, +1 for the phase's first and +1 for arrival jitter at the
        // proxy; a tight loop would be hundreds.
        long allowed = elapsed / POLL.toMillis() + 2;
        printf(
                "%s: %d requests in %d ms (at most %d allowed at one per %d ms poll interval),"
                        + " %d AUTH_FAILED log lines",
                p.label, seen.size(), elapsed, allowed, POLL.toMillis(), authLines);
        assertThat((long) seen.size())
                .as("no tight loop on " + status)
                .isLessThanOrEqualTo(allowed);
        // Each request is one poll: the call is never retried on a definite answer.
        assertThat(authLines).isGreaterThanOrEqualTo(seen.size() - 1L);
        HttpResponse<String> ready = get("/health/ready");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(ready.body()).at("/registry/bindings/0/registry").asText())
                .isEqualTo("auth_failed");
        assertThat(get("/metrics").body())
                .contains("quiver_model_polls_total{result=\"auth_failed\"}");
    }

    // ---- the service ----

    /** {@code bin/quiver serve} bound to the proxy, with the credential in its environment. */
    static final class Serve implements AutoCloseable {
        final Process process;
        final Path out;
        final Path err;
        final int port;

        private Serve(Process process, Path out, Path err, int port) {
            this.process = process;
            this.out = out;
            this.err = err;
            this.port = port;
        }

        static Serve start(RegistryFaultsIT it, String label) throws Exception {
            return start(
                    it,
                    label,
                    it.plugins,
                    List.of(
                            "--strategy",
                            "none",
                            "--model",
                            "lstm=models:/" + it.name + "@champion"));
        }

        /** {@code serve} serving {@code what} (its {@code --strategy} and {@code --model}). */
        static Serve start(RegistryFaultsIT it, String label, Path pluginsDir, List<String> what)
                throws Exception {
            List<String> cmd = new ArrayList<>();
            cmd.add(DISTRIBUTION.resolve("bin/quiver").toString());
            cmd.addAll(
                    List.of(
                            "serve",
                            "--port",
                            "0",
                            "--tracking-uri",
                            it.proxy.uri(),
                            "--plugins-dir",
                            pluginsDir.toString(),
                            "--model-cache",
                            it.work.resolve("serve-cache").toString(),
                            "--rollouts-dir",
                            it.work.resolve("serve-rollouts").toString(),
                            "--state-url",
                            "jdbc:sqlite:"
                                    + it.work.resolve(
                                            pluginsDir.equals(it.plugins)
                                                    ? "serve-state.db"
                                                    : "serve-strategy-state.db"),
                            "--watch-interval-ms",
                            "0",
                            "--fit-on",
                            "none",
                            "--poll-interval",
                            POLL.toMillis() + "ms",
                            // A plugin call missing the default 2 s deadline on the loaded CI
                            // machine would fail a decision for a reason that is not the registry.
                            "-D",
                            "quiver.plugin.deadline-ms=60000"));
            cmd.addAll(what);
            cmd.addAll(dev.quiver.host.plugin.Trusting.options());
            Path o = it.work.resolve(label + ".out");
            Path e = it.work.resolve(label + ".err");
            it.logs.add(o);
            it.logs.add(e);
            ProcessBuilder pb =
                    new ProcessBuilder(cmd).redirectOutput(o.toFile()).redirectError(e.toFile());
            pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
            pb.environment().remove("MLFLOW_TRACKING_URI");
            pb.environment().remove("MLFLOW_TRACKING_TOKEN");
            pb.environment().remove("QUIVER_STATE_URL");
            pb.environment().put("MLFLOW_TRACKING_USERNAME", USER);
            pb.environment().put("MLFLOW_TRACKING_PASSWORD", it.secret);
            long started = System.nanoTime();
            Process p = pb.start();
            long deadline = started + TimeUnit.SECONDS.toNanos(240);
            int seenLines = 0;
            List<String> timeline = new ArrayList<>();
            while (System.nanoTime() < deadline) {
                // When each line of the start appeared (to 0.1 s): where a start spends its time.
                if (Files.exists(e)) {
                    List<String> lines =
                            Files.readString(e, StandardCharsets.UTF_8).lines().toList();
                    for (; seenLines < lines.size(); seenLines++) {
                        String l = lines.get(seenLines);
                        timeline.add(
                                String.format(
                                        java.util.Locale.ROOT,
                                        "  +%5.1f s %s",
                                        seconds(started),
                                        l.length() > 140 ? l.substring(0, 140) + "..." : l));
                    }
                }
                Matcher m = LISTENING.matcher(Files.readString(o, StandardCharsets.UTF_8));
                if (m.find()) {
                    it.printf(
                            "%s: listening after %.1f s; its log lines as they appeared:%n%s",
                            label, seconds(started), String.join("\n", timeline));
                    // Where the start spent its time, as serve says once its port is open.
                    Files.readString(e, StandardCharsets.UTF_8)
                            .lines()
                            .filter(l -> l.startsWith("serve: started in"))
                            .forEach(l -> it.printf("%s: %s", label, l));
                    return new Serve(p, o, e, Integer.parseInt(m.group(1)));
                }
                if (!p.isAlive()) {
                    throw new AssertionError(
                            "quiver serve exited with "
                                    + p.exitValue()
                                    + ":\n"
                                    + Files.readString(e));
                }
                Thread.sleep(100);
            }
            p.destroyForcibly();
            throw new AssertionError(
                    "quiver serve did not listen within 240 s:\n" + Files.readString(e));
        }

        URI uri(String path) {
            return URI.create("http://127.0.0.1:" + port + path);
        }

        String stderr() throws IOException {
            return Files.readString(err, StandardCharsets.UTF_8);
        }

        @Override
        public void close() throws IOException {
            if (process.isAlive()) {
                process.destroy();
                try {
                    if (!process.waitFor(30, TimeUnit.SECONDS)) {
                        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                        throw new AssertionError(
                                "quiver serve did not stop on SIGTERM within 30 s");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while stopping quiver serve", e);
                }
            }
        }
    }

    HttpResponse<String> get(String path) throws Exception {
        HttpResponse<String> r =
                http.send(
                        HttpRequest.newBuilder(serve.uri(path))
                                .timeout(Duration.ofSeconds(60))
                                .GET()
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        answers.add(r.body());
        return r;
    }

    JsonNode binding() throws Exception {
        return JSON.readTree(get("/v1/models").body()).get("bindings").get(0);
    }

    String registerLstm(Path cliPlugins, boolean champion) {
        // Through the CLI, as a user registers: it records the smoke cases with the plugin.
        List<String> args =
                new ArrayList<>(
                        List.of(
                                "models",
                                "register",
                                "--tracking-uri",
                                LocalMlflow.uri(),
                                "--name",
                                name,
                                "--model",
                                HotSwapIT.LSTM.toString(),
                                "--sidecar",
                                HotSwapIT.LSTM_SIDECAR.toString(),
                                "--plugin",
                                HotSwapIT.PLUGIN,
                                "--plugins-dir",
                                cliPlugins.toString()));
        if (champion) {
            args.addAll(List.of("--alias", "champion"));
        }
        var out = new StringWriter();
        var err = new StringWriter();
        int code =
                Cli.execute(
                        new PrintWriter(out), new PrintWriter(err), args.toArray(String[]::new));
        assertThat(code).as("models register: %s", err).isZero();
        Matcher m = ServeRegisteredModelsIT.REGISTERED.matcher(out.toString());
        assertThat(m.find()).as(out.toString()).isTrue();
        return m.group(2);
    }

    static Path copyPlugins(Path to) throws IOException {
        Files.createDirectories(to);
        for (String id : List.of("prediction-traditional", "prediction-lstm", "sizing-fixed")) {
            try (var zips =
                    Files.newDirectoryStream(DISTRIBUTION.resolve("plugins"), id + "-*.zip")) {
                for (Path zip : zips) {
                    Files.copy(zip, to.resolve(zip.getFileName()));
                }
            }
        }
        return to;
    }

    static void await(Duration max, HotSwapIT.ThrowingCondition c, String what) throws Exception {
        HotSwapIT.await(max, c, what);
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    void printf(String format, Object... args) {
        String line = String.format(java.util.Locale.ROOT, "RegistryFaultsIT: " + format, args);
        System.out.println(line);
        report.add(line);
    }

    /** The version in an alias answer's body, or null. */
    static String aliasVersion(String body) {
        try {
            return JSON.readTree(body).at("/model_version/version").asText(null);
        } catch (IOException e) {
            return null;
        }
    }
}
