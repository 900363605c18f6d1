package dev.quiver.host.session;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.mlflow.LocalMlflow;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowHttp;
import dev.quiver.host.registry.ModelStore;
import dev.quiver.host.strategy.BundleRegistrar;
import dev.quiver.host.strategy.StrategyBundle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hot swap of whole strategy bundles under load through the real MLflow registry, on the real
 * plugins and S&amp;P 500 bars, as a user runs it: two bundles fitted and registered by {@code
 * strategy fit --register}, {@code serve --strategy models:/NAME@champion} following the alias, 16
 * sessions posting bars concurrently while {@code NAME@champion} is moved 20 times between the two
 * versions (the first move with {@code quiver models alias}, the others through the registry's REST
 * API; each move is seen by the service before the next). No request fails, every decision names
 * one version, and its fused p_up is that version's p_up for the bar ({@code backtest --strategy}
 * of the same bundle), so a decision mixing two bundles fails.
 *
 * <p>Then, while a version serves, every bad bundle the issue lists is refused with its reason and
 * the serving one keeps serving and deciding: through the alias (a version with a tampered file, an
 * expired version) and through {@code PUT /v1/strategy} (a missing component, a sha256 mismatch, a
 * feature-schema mismatch, a plugin-version mismatch, an expired bundle, a pickle inside, a
 * manifest path escaping the folder, a truncated file). A restart replays the swaps to the same
 * accounts.
 */
class StrategySwapIT {

    static final int CLIENTS = 16;
    static final int MOVES = 20;
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path work;

    @Test
    void sixteenSessionsDecideThroughTwentyAliasMovesEachWithOneWholeBundle() throws Exception {
        String uri = LocalMlflow.uri();
        MlflowClient client = new MlflowClient(new MlflowHttp(uri, MlflowHttp.Settings.defaults()));
        String name = "it-swap-strategy-" + System.nanoTime();
        BarData bars = BundledData.SP500_DAILY.load();
        int liveFrom = bars.size() - 400;
        int last = bars.size() - 1; // posted after the refusals
        String untilA = bars.bar(liveFrom - 300).start().toString();
        String untilB = bars.bar(liveFrom - 1).start().toString();
        String vA = ServeProcess.fitAndRegisterSp500(work, "a", untilA, uri, name, "champion");
        String vB = ServeProcess.fitAndRegisterSp500(work, "b", untilB, uri, name);
        assertThat(vB).isNotEqualTo(vA);
        Path a = work.resolve("a");
        Path b = work.resolve("b");
        Map<String, Double> pA = ServeProcess.backtestPUp(work, a, "eval-a");
        Map<String, Double> pB = ServeProcess.backtestPUp(work, b, "eval-b");
        String idA = name + "/" + vA;
        String idB = name + "/" + vB;

        Path db = work.resolve("state.db");
        String[] serveArgs = {
            "--strategy",
            "models:/" + name + "@champion",
            "--tracking-uri",
            uri,
            "--poll-interval",
            "250ms",
            "--model-cache",
            work.resolve("cache").toString(),
            "--state-url",
            "jdbc:sqlite:" + db
        };
        Map<String, JsonNode> accountsBefore = new HashMap<>();
        try (ServeProcess serve = ServeProcess.start(work, "serve", serveArgs)) {
            assertThat(serving(serve)).isEqualTo(idA);
            for (int c = 0; c < CLIENTS; c++) {
                Map<String, Object> open = new LinkedHashMap<>();
                open.put("account", "acct-" + c);
                open.put("interval", "P1D");
                open.put("max_gap_bars", 10);
                open.put("warmup", Map.of("dataset", "sp500-daily", "until", untilB));
                serve.ok("PUT", "/v1/sessions/S" + c, open);
            }
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<JsonNode> decisions = new ConcurrentLinkedQueue<>();
            AtomicInteger moved = new AtomicInteger();
            AtomicBoolean stop = new AtomicBoolean();
            int live = last - liveFrom;
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS + 1);
            List<Future<?>> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                String symbol = "S" + c;
                clients.add(
                        pool.submit(
                                () -> {
                                    for (int j = 0; j < live; j++) {
                                        // spread the bars over the moves: every move happens while
                                        // all 16 clients are posting
                                        long need = (long) j * (MOVES + 1) / live;
                                        while (moved.get() < need && !stop.get()) {
                                            Thread.sleep(5);
                                        }
                                        try {
                                            var ans =
                                                    serve.call(
                                                            "POST",
                                                            "/v1/sessions/" + symbol + "/bars",
                                                            Map.of(
                                                                    "bars",
                                                                    List.of(
                                                                            StrategyParityIT.bar(
                                                                                    bars.bar(
                                                                                            liveFrom
                                                                                                    + j)))));
                                            if (ans.status() != 200) {
                                                failures.add(symbol + " " + ans);
                                            } else {
                                                decisions.add(ans.body());
                                            }
                                        } catch (Exception e) {
                                            failures.add(symbol + " " + e);
                                        }
                                    }
                                    return null;
                                }));
            }
            double[] moveSeconds = new double[MOVES];
            Future<?> mover =
                    pool.submit(
                            () -> {
                                try {
                                    for (int k = 0; k < MOVES; k++) {
                                        String to = k % 2 == 0 ? vB : vA;
                                        long t0 = System.nanoTime();
                                        if (k == 0) {
                                            ServeProcess.run(
                                                    work,
                                                    "alias",
                                                    "models",
                                                    "alias",
                                                    "--tracking-uri",
                                                    uri,
                                                    "--name",
                                                    name,
                                                    "--alias",
                                                    "champion",
                                                    "--version",
                                                    to);
                                        } else {
                                            client.setAlias(name, "champion", to);
                                        }
                                        String now = "";
                                        while (System.nanoTime() - t0 < 120_000_000_000L) {
                                            now = serving(serve);
                                            if (now.equals(name + "/" + to)) {
                                                break;
                                            }
                                            Thread.sleep(20);
                                        }
                                        if (!now.equals(name + "/" + to)) {
                                            failures.add(
                                                    "move "
                                                            + k
                                                            + " to "
                                                            + to
                                                            + " not served in 120 s: "
                                                            + serve.ok(
                                                                    "GET", "/v1/strategy", null));
                                            return null;
                                        }
                                        moveSeconds[k] = (System.nanoTime() - t0) / 1e9;
                                        moved.incrementAndGet();
                                        Thread.sleep(100);
                                    }
                                    return null;
                                } finally {
                                    stop.set(true);
                                }
                            });
            mover.get();
            for (Future<?> f : clients) {
                f.get();
            }
            pool.shutdown();
            double[] sorted = moveSeconds.clone();
            Arrays.sort(sorted);
            System.out.printf(
                    "%d alias moves under %d clients, alias set to served: p50 %.2f s, max %.2f s"
                            + " (poll every 250 ms)%n",
                    MOVES, CLIENTS, sorted[MOVES / 2], sorted[MOVES - 1]);
            assertThat(failures).isEmpty();
            assertThat(moved.get()).isEqualTo(MOVES);
            assertThat(decisions).hasSize(CLIENTS * live);
            int[] byBundle = new int[2];
            for (JsonNode d : decisions) {
                String bundle = d.at("/provenance/bundle").asText();
                String time = d.path("bar_time").asText();
                assertThat(bundle).isIn(idA, idB);
                assertThat(d.at("/provenance/version").asText())
                        .isEqualTo(bundle.equals(idA) ? vA : vB);
                Map<String, Double> expected = bundle.equals(idA) ? pA : pB;
                byBundle[bundle.equals(idA) ? 0 : 1]++;
                assertThat(d.at("/fused/p_up").asDouble())
                        .as(
                                "p_up of %s at %s (failed sources: %s)",
                                bundle, time, d.at("/provenance/failed_sources"))
                        .isEqualTo(expected.get(time));
            }
            System.out.printf(
                    "decisions by %s: %d, by %s: %d%n", idA, byBundle[0], idB, byBundle[1]);
            assertThat(byBundle[0]).as("decisions by version %s", vA).isPositive();
            assertThat(byBundle[1]).as("decisions by version %s", vB).isPositive();
            assertThat(serving(serve)).as("the last move was to %s", vA).isEqualTo(idA);

            // bad versions through the alias: refused, the serving one keeps serving
            String tampered =
                    register(
                            client,
                            name,
                            b,
                            "tampered",
                            dir -> {
                                Path model = firstSourceFile(dir);
                                Files.writeString(model, Files.readString(model) + " ");
                            },
                            false);
            moveAndExpectRefusal(serve, client, name, tampered, "has sha256");
            String expired =
                    register(
                            client,
                            name,
                            b,
                            "expired",
                            dir -> editManifest(dir, m -> m.put("max_age", "P1D")),
                            true);
            moveAndExpectRefusal(serve, client, name, expired, "expired at");
            assertThat(serving(serve)).isEqualTo(idA);

            // bad folders through PUT /v1/strategy: each refused with its reason
            Path outside = work.resolve("outside.json");
            Files.writeString(outside, "{}");
            refusedPut(
                    serve,
                    bad(b, "missing", dir -> Files.delete(firstSourceFile(dir))),
                    400,
                    "is listed in the manifest but missing");
            refusedPut(
                    serve,
                    bad(
                            b,
                            "damaged",
                            dir -> {
                                Path f = dir.resolve("ensemble/stack.state.json");
                                Files.writeString(f, Files.readString(f).replaceFirst("\\d", "7"));
                            }),
                    400,
                    "sha256");
            refusedPut(
                    serve,
                    bad(
                            b,
                            "other-schema",
                            dir ->
                                    editManifest(
                                            dir,
                                            m ->
                                                    ((ObjectNode) m.get("feature_schema"))
                                                            .put("hash", "0123456789abcdef"))),
                    409,
                    "feature_schema.hash");
            refusedPut(
                    serve,
                    bad(
                            b,
                            "other-plugin",
                            dir ->
                                    editManifest(
                                            dir,
                                            m ->
                                                    ((ObjectNode) m.get("plugins"))
                                                            .put("ensemble-gbm", "9.9.9"))),
                    409,
                    "plugin 'ensemble-gbm' was 9.9.9 when the bundle was fitted");
            refusedPut(
                    serve,
                    bad(b, "expired", dir -> editManifest(dir, m -> m.put("max_age", "P1D"))),
                    409,
                    "expired at");
            refusedPut(
                    serve,
                    bad(
                            b,
                            "pickle",
                            dir -> {
                                Path f = dir.resolve("ensemble/model.pkl");
                                Files.write(f, new byte[] {(byte) 0x80, 4, (byte) 0x95, 0, 0});
                                listFile(dir, "ensemble/model.pkl", f);
                            }),
                    400,
                    "not in a format the host accepts");
            refusedPut(
                    serve,
                    bad(b, "escaping", dir -> listFile(dir, "../outside.json", outside)),
                    400,
                    "escapes the bundle folder");
            refusedPut(
                    serve,
                    bad(
                            b,
                            "truncated",
                            dir -> {
                                Path f = dir.resolve("ensemble/stack.state.json");
                                byte[] all = Files.readAllBytes(f);
                                Files.write(f, Arrays.copyOf(all, all.length / 2));
                            }),
                    400,
                    "truncated");
            assertThat(serving(serve)).isEqualTo(idA);
            JsonNode strategy = serve.ok("GET", "/v1/strategy", null);
            assertThat(strategy.path("refusals").toString())
                    .contains("models:/" + name + "/" + tampered)
                    .contains("models:/" + name + "/" + expired);
            // ... and the serving version still decides, whole
            String time = bars.bar(last).start().toString();
            JsonNode after =
                    serve.ok(
                            "POST",
                            "/v1/sessions/S0/bars",
                            Map.of("bars", List.of(StrategyParityIT.bar(bars.bar(last)))));
            assertThat(after.at("/provenance/bundle").asText()).isEqualTo(idA);
            assertThat(after.at("/fused/p_up").asDouble()).isEqualTo(pA.get(time));

            for (int c = 0; c < CLIENTS; c++) {
                accountsBefore.put("acct-" + c, serve.ok("GET", "/v1/accounts/acct-" + c, null));
            }
        }
        // restart: the swaps are replayed with the version that decided each bar
        try (ServeProcess again = ServeProcess.start(work, "again", serveArgs)) {
            for (int c = 0; c < CLIENTS; c++) {
                JsonNode before = accountsBefore.get("acct-" + c);
                JsonNode after = again.ok("GET", "/v1/accounts/acct-" + c, null);
                for (String f :
                        List.of(
                                "equity",
                                "cash",
                                "position_units",
                                "drawdown",
                                "high_water_mark")) {
                    assertThat(after.path(f).asDouble())
                            .as("acct-%d %s after restart", c, f)
                            .isEqualTo(before.path(f).asDouble());
                }
                assertThat(after.path("breakers")).isEqualTo(before.path("breakers"));
            }
        }
    }

    private static String serving(ServeProcess serve) throws Exception {
        return serve.ok("GET", "/v1/strategy", null).path("bundle").asText();
    }

    /** Moves {@code @champion} to a bad version; it is refused and the serving one stays. */
    private static void moveAndExpectRefusal(
            ServeProcess serve, MlflowClient client, String name, String version, String reason)
            throws Exception {
        String before = serving(serve);
        client.setAlias(name, "champion", version);
        String requested = "models:/" + name + "/" + version;
        JsonNode refusal = null;
        long t0 = System.nanoTime();
        while (refusal == null && System.nanoTime() - t0 < 120_000_000_000L) {
            for (JsonNode r : serve.ok("GET", "/v1/strategy", null).path("refusals")) {
                if (r.path("requested").asText().equals(requested)) {
                    refusal = r;
                }
            }
            Thread.sleep(50);
        }
        assertThat(refusal).as("refusal of %s in GET /v1/strategy", requested).isNotNull();
        assertThat(refusal.path("reason").asText()).contains(reason);
        assertThat(serving(serve)).isEqualTo(before);
    }

    private static void refusedPut(ServeProcess serve, Path bundle, int status, String reason)
            throws Exception {
        String before = serving(serve);
        var r = serve.call("PUT", "/v1/strategy", Map.of("bundle", bundle.toString()));
        assertThat(r.status()).as("%s: %s", bundle.getFileName(), r.body()).isEqualTo(status);
        assertThat(r.body().path("message").asText())
                .as(bundle.getFileName().toString())
                .contains(reason);
        assertThat(serving(serve)).isEqualTo(before);
    }

    /** Registers a damaged copy of {@code from} as a version (no smoke cases); its number. */
    private String register(
            MlflowClient client,
            String name,
            Path from,
            String copyName,
            Damage damage,
            boolean tagsOfCopy)
            throws Exception {
        Path copy = copy(from, "registered-" + copyName);
        damage.apply(copy);
        StrategyBundle tagged = StrategyBundle.open(tagsOfCopy ? copy : from);
        Map<String, Path> files = new TreeMap<>();
        try (Stream<Path> all = Files.walk(copy)) {
            for (Path p : all.filter(Files::isRegularFile).toList()) {
                String rel = copy.relativize(p).toString().replace('\\', '/');
                if (!rel.equals(StrategyBundle.REGISTRY_FILE)) {
                    files.put("bundle/" + rel, p);
                }
            }
        }
        return new BundleRegistrar(client)
                .registerFiles(
                        BundleRegistrar.EXPERIMENT,
                        name,
                        files,
                        BundleRegistrar.tagsFor(tagged, Optional.empty()),
                        Map.of(),
                        Map.of(),
                        Optional.empty())
                .version();
    }

    @FunctionalInterface
    private interface Damage {
        void apply(Path bundle) throws Exception;
    }

    private Path bad(Path from, String name, Damage damage) throws Exception {
        Path copy = copy(from, "bad-" + name);
        damage.apply(copy);
        return copy;
    }

    /** The first file of a source's model listed in the manifest (e.g. the XGBoost JSON). */
    private static Path firstSourceFile(Path bundle) throws Exception {
        JsonNode m = JSON.readTree(bundle.resolve(StrategyBundle.MANIFEST).toFile());
        for (var e : m.path("files").properties()) {
            if (e.getKey().startsWith("sources/")) {
                return bundle.resolve(e.getKey());
            }
        }
        throw new AssertionError("no source file in " + bundle);
    }

    private static void editManifest(Path bundle, Consumer<ObjectNode> edit) throws Exception {
        Path f = bundle.resolve(StrategyBundle.MANIFEST);
        ObjectNode m = (ObjectNode) JSON.readTree(f.toFile());
        edit.accept(m);
        JSON.writeValue(f.toFile(), m);
    }

    private static void listFile(Path bundle, String relative, Path file) throws Exception {
        String sha = ModelStore.sha256(file);
        editManifest(bundle, m -> ((ObjectNode) m.get("files")).put(relative, sha));
    }

    private Path copy(Path from, String name) throws Exception {
        Path to = work.resolve(name);
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : all.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
        return to;
    }
}
