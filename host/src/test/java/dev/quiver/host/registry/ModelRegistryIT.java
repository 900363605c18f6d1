package dev.quiver.host.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.host.mlflow.LocalMlflow;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowHttp;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model registry against a real MLflow server: the committed LSTM (.onnx) and CatBoost (.cbm)
 * registered with their tags, {@code @champion} moved between versions and followed, damaged
 * versions refused with their reason, and the cache serving when the registry is down.
 */
class ModelRegistryIT {

    static final Path PLUGINS = Path.of("..", "plugins").toAbsolutePath().normalize();
    static final Path LSTM_DIR =
            PLUGINS.resolve("prediction-lstm/src/main/resources/dev/quiver/plugins/lstm/model");
    static final Path CATBOOST_DIR =
            PLUGINS.resolve(
                    "prediction-catboost/src/main/resources/dev/quiver/plugins/catboost/model");
    static final Path LSTM = LSTM_DIR.resolve("lstm.onnx");
    static final Path LSTM_SIDECAR = LSTM_DIR.resolve("lstm.json");
    static final Path CATBOOST = CATBOOST_DIR.resolve("catboost.cbm");
    static final Path CATBOOST_SIDECAR = CATBOOST_DIR.resolve("catboost.json");

    static MlflowClient client;
    static ModelRegistrar registrar;

    @BeforeAll
    static void connect() {
        client =
                new MlflowClient(new MlflowHttp(LocalMlflow.uri(), MlflowHttp.Settings.defaults()));
        registrar = new ModelRegistrar(client);
    }

    static String unique(String stem) {
        return stem + "-" + Long.toString(System.nanoTime(), 36);
    }

    @Test
    void committedModelsRegisterWithTheirTagsAndResolve(@TempDir Path cache) throws IOException {
        String lstm = unique("quiver-lstm");
        String catboost = unique("quiver-catboost");
        var l = registrar.register(lstm, LSTM, Optional.of(LSTM_SIDECAR), List.of("champion"));
        var c =
                registrar.register(
                        catboost, CATBOOST, Optional.of(CATBOOST_SIDECAR), List.of("champion"));

        var tags = MlflowClient.byKey(client.modelVersion(lstm, l.version()).path("tags"));
        assertThat(tags.get("quiver.sha256").asText()).isEqualTo(ModelStore.sha256(LSTM));
        assertThat(tags.get("quiver.format").asText()).isEqualTo("onnx");
        assertThat(tags.get("quiver.feature_schema_hash").asText())
                .isEqualTo("16e739f306b5748bb02cddc8be47d7f857ba5defdd0db33e0bf3577caf58ccf2");
        assertThat(tags.get("quiver.training_span").asText())
                .isEqualTo("2016-05-28T20:00:00Z..2018-12-31T20:00:00Z");
        assertThat(tags.get("quiver.dataset").asText()).isEqualTo("btc-usd-4h");

        var resolver = new ModelResolver(Optional.of(client), cache);
        ResolvedModel rl = resolver.resolve("models:/" + lstm + "@champion");
        ResolvedModel rc = resolver.resolve("models:/" + catboost + "/" + c.version());
        assertThat(rl.origin()).isEqualTo("registry");
        assertThat(rl.runId()).isEqualTo(l.runId());
        assertThat(Files.mismatch(rl.modelFile(), LSTM)).isEqualTo(-1L);
        assertThat(rl.sidecar())
                .hasValueSatisfying(
                        s -> assertThat(s.getFileName().toString()).isEqualTo("lstm.json"));
        assertThat(rl.format()).isEqualTo(ModelFormat.ONNX);
        assertThat(Files.mismatch(rc.modelFile(), CATBOOST)).isEqualTo(-1L);
        assertThat(rc.format()).isEqualTo(ModelFormat.CATBOOST_CBM);
        assertThat(rc.dir()).isEqualTo(cache.resolve(catboost).resolve(c.version()));
    }

    @Test
    void championMovesBetweenTwoVersionsAndEachIsResolved(@TempDir Path cache) throws IOException {
        String name = unique("quiver-direction");
        var v1 = registrar.register(name, LSTM, Optional.of(LSTM_SIDECAR), List.of("champion"));
        var v2 =
                registrar.register(
                        name, CATBOOST, Optional.of(CATBOOST_SIDECAR), List.of("challenger"));
        var resolver = new ModelResolver(Optional.of(client), cache);
        String champion = "models:/" + name + "@champion";

        assertThat(resolver.resolve(champion).version()).isEqualTo(v1.version());
        assertThat(resolver.resolve("models:/" + name + "@challenger").version())
                .isEqualTo(v2.version());

        client.setAlias(name, "champion", v2.version());
        ResolvedModel now = resolver.resolve(champion);
        assertThat(now.version()).isEqualTo(v2.version());
        assertThat(now.format()).isEqualTo(ModelFormat.CATBOOST_CBM);

        client.setAlias(name, "champion", v1.version());
        assertThat(resolver.resolve(champion).version()).isEqualTo(v1.version());
        assertThat(
                        resolver.resolve("models:/" + name + "/" + v2.version())
                                .modelFile()
                                .getFileName())
                .hasToString("catboost.cbm");

        assertThatThrownBy(() -> resolver.resolve("models:/" + name + "@nobody"))
                .isInstanceOf(ModelRefusedException.class)
                .hasMessageContaining("alias nobody not found");
    }

    /** A damaged version is refused with its reason; the good version stays cached and served. */
    @Test
    void badVersionsAreRefusedWithTheirReason(@TempDir Path tmp) throws IOException {
        Path cache = tmp.resolve("cache");
        String name = unique("quiver-bad");
        var good = registrar.register(name, LSTM, Optional.empty(), List.of("champion"));
        var resolver = new ModelResolver(Optional.of(client), cache);
        assertThat(resolver.resolve("models:/" + name + "@champion").version())
                .isEqualTo(good.version());
        Map<String, String> goodTags = ModelRegistrar.tagsFor(LSTM, Optional.empty());
        byte[] bytes = Files.readAllBytes(LSTM);

        Path truncated = tmp.resolve("truncated/lstm.onnx");
        Files.createDirectories(truncated.getParent());
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        expectRefused(resolver, name, Map.of("lstm.onnx", truncated), goodTags, "(truncated)");

        Path flipped = tmp.resolve("flipped/lstm.onnx");
        Files.createDirectories(flipped.getParent());
        byte[] f = bytes.clone();
        f[f.length / 2] ^= 0x01;
        Files.write(flipped, f);
        expectRefused(
                resolver, name, Map.of("lstm.onnx", flipped), goodTags, "(checksum mismatch)");

        // A real pickle (protocol 4 of the tuple ('x',)), named .onnx, with matching checksum tags.
        Path pickle = tmp.resolve("pickle/model.onnx");
        Files.createDirectories(pickle.getParent());
        Files.write(
                pickle,
                new byte[] {
                    (byte) 0x80,
                    0x04,
                    (byte) 0x95,
                    0x09,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    (byte) 0x8c,
                    0x01,
                    'x',
                    (byte) 0x94,
                    (byte) 0x85,
                    (byte) 0x94,
                    '.'
                });
        expectRefused(
                resolver,
                name,
                Map.of("model.onnx", pickle),
                ModelRegistrar.tagsFor(pickle, Optional.empty()),
                "is a Python pickle");

        Map<String, String> escape = new LinkedHashMap<>(goodTags);
        escape.put(ModelStore.TAG_MODEL_FILE, "../../escaped.onnx");
        expectRefused(resolver, name, Map.of("lstm.onnx", LSTM), escape, "path escape");
        assertThat(tmp.resolve("escaped.onnx")).doesNotExist();
        assertThat(cache.getParent().resolve("escaped.onnx")).doesNotExist();

        Path pkl = tmp.resolve("extra/model.pkl");
        Files.createDirectories(pkl.getParent());
        Files.write(pkl, new byte[] {(byte) 0x80, 0x04, '.'});
        expectRefused(
                resolver,
                name,
                Map.of("lstm.onnx", LSTM, "model.pkl", pkl),
                goodTags,
                "'model.pkl' is not an accepted format");

        // The good version is still what @champion serves, from a verified cache folder.
        client.setAlias(name, "champion", good.version());
        ResolvedModel back = resolver.resolve("models:/" + name + "@champion");
        assertThat(back.version()).isEqualTo(good.version());
        assertThat(Files.mismatch(back.modelFile(), LSTM)).isEqualTo(-1L);
        try (Stream<Path> s = Files.list(cache.resolve(name))) {
            assertThat(s.map(p -> p.getFileName().toString()).toList())
                    .as("only the good version and the alias record are cached")
                    .containsExactlyInAnyOrder("aliases.json", good.version());
        }
    }

    /**
     * Signed registration through the real MLflow server (RELIABILITY.md P15): a registrar with the
     * installation's key signs the version; a host trusting that key serves it, from the registry
     * and again from its cache; a bit flip registered with checksum tags rewritten to match, an
     * unsigned version and one signed by another key are refused with their reason.
     */
    @Test
    void signedVersionsServeAndAChangedUnsignedOrForeignOneIsRefused(@TempDir Path tmp)
            throws IOException {
        ModelSigner signer =
                ModelSigner.generate(tmp.resolve("signing-key.pem"), tmp.resolve("trusted"));
        ModelSigner stranger =
                ModelSigner.generate(tmp.resolve("stranger-key.pem"), tmp.resolve("other"));
        ModelRegistrar signing = new ModelRegistrar(client, Optional.of(signer));
        ModelTrust trust =
                new ModelTrust(ModelTrust.readKeys(tmp.resolve("trusted")), true, "trusted");
        Path cache = tmp.resolve("cache");
        var resolver = new ModelResolver(Optional.of(client), new ModelStore(cache, trust));
        String name = unique("quiver-signed");
        var good =
                signing.register(
                        name, CATBOOST, Optional.of(CATBOOST_SIDECAR), List.of("champion"));
        var tags = MlflowClient.byKey(client.modelVersion(name, good.version()).path("tags"));
        assertThat(tags.get(ModelTrust.TAG_SIGNING_KEY).asText()).isEqualTo(signer.keyId());
        String champion = "models:/" + name + "@champion";
        assertThat(resolver.resolve(champion).origin()).isEqualTo("registry");
        assertThat(resolver.cached(champion, "restart")).isPresent();

        // The attacker can write files and tags, not sign: one bit flipped, the checksum, size
        // and sidecar rewritten to match, the original's signature kept.
        byte[] bytes = Files.readAllBytes(CATBOOST);
        bytes[bytes.length / 2] ^= 0x01;
        Path flipped = tmp.resolve("flipped/catboost.cbm");
        Files.createDirectories(flipped.getParent());
        Files.write(flipped, bytes);
        Path sidecar = tmp.resolve("flipped/catboost.json");
        var node =
                (com.fasterxml.jackson.databind.node.ObjectNode)
                        ModelStore.JSON.readTree(CATBOOST_SIDECAR.toFile());
        node.put("model_sha256", ModelStore.sha256(flipped));
        ModelStore.JSON.writeValue(sidecar.toFile(), node);
        Map<String, String> forged = new LinkedHashMap<>(good.tags());
        forged.put(ModelStore.TAG_SHA256, ModelStore.sha256(flipped));
        forged.put(ModelStore.TAG_SIZE, Long.toString(bytes.length));
        expectRefused(
                resolver,
                name,
                Map.of("catboost.cbm", flipped, "catboost.json", sidecar),
                forged,
                "MODEL_SIGNATURE_INVALID");

        Map<String, String> unsigned = ModelRegistrar.tagsFor(CATBOOST, Optional.empty());
        expectRefused(resolver, name, Map.of("catboost.cbm", CATBOOST), unsigned, "MODEL_UNSIGNED");

        Map<String, String> foreign = new LinkedHashMap<>(unsigned);
        foreign.putAll(stranger.sign(unsigned, Optional.empty()));
        expectRefused(
                resolver, name, Map.of("catboost.cbm", CATBOOST), foreign, "MODEL_SIGNER_UNKNOWN");

        client.setAlias(name, "champion", good.version());
        assertThat(resolver.resolve(champion).version()).isEqualTo(good.version());
    }

    private void expectRefused(
            ModelResolver resolver,
            String name,
            Map<String, Path> files,
            Map<String, String> tags,
            String reason) {
        var bad = registrar.registerFiles(name, files, tags);
        client.setAlias(name, "champion", bad.version());
        assertThatThrownBy(() -> resolver.resolve("models:/" + name + "@champion"))
                .isInstanceOf(ModelRefusedException.class)
                .hasMessageContaining(
                        "[Quiver/MODEL_REFUSED] models:/" + name + "/" + bad.version())
                .hasMessageContaining(reason);
    }

    @Test
    void registryDownServesTheCachedVersionAlsoAfterARestart(@TempDir Path cache) throws Exception {
        String name = unique("quiver-cached");
        var v =
                registrar.register(
                        name, CATBOOST, Optional.of(CATBOOST_SIDECAR), List.of("champion"));
        String champion = "models:/" + name + "@champion";
        assertThat(new ModelResolver(Optional.of(client), cache).resolve(champion).origin())
                .isEqualTo("registry");

        var quick =
                new MlflowHttp.Settings(
                        Duration.ofMillis(500),
                        Duration.ofMillis(700),
                        2,
                        Duration.ofMillis(50),
                        Duration.ofMillis(100));
        // 1. A port that accepts connections and never answers.
        List<Socket> accepted = new ArrayList<>();
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor =
                    new Thread(
                            () -> {
                                try {
                                    while (true) {
                                        accepted.add(silent.accept());
                                    }
                                } catch (IOException e) {
                                    // closed
                                }
                            });
            acceptor.setDaemon(true);
            acceptor.start();
            var hanging =
                    new MlflowClient(
                            new MlflowHttp("http://127.0.0.1:" + silent.getLocalPort(), quick));
            long t0 = System.nanoTime();
            ResolvedModel r = new ModelResolver(Optional.of(hanging), cache).resolve(champion);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertThat(r.origin()).isEqualTo("cache");
            assertThat(r.version()).isEqualTo(v.version());
            assertThat(r.note()).contains("REGISTRY_UNAVAILABLE");
            assertThat(ms).as("bounded by timeouts x attempts").isLessThan(5_000);
            assertThat(accepted).isNotEmpty();
        } finally {
            for (Socket s : accepted) {
                s.close();
            }
        }
        // 2. Connection refused (nothing listens), with a fresh resolver: a restart with the
        // registry down.
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        var refused = new MlflowClient(new MlflowHttp("http://127.0.0.1:" + closed, quick));
        ResolvedModel r = new ModelResolver(Optional.of(refused), cache).resolve(champion);
        assertThat(r.origin()).isEqualTo("cache");
        assertThat(Files.mismatch(r.modelFile(), CATBOOST)).isEqualTo(-1L);
        // 3. A model never cached cannot come from the cache: the unavailability is reported.
        assertThatThrownBy(
                        () ->
                                new ModelResolver(Optional.of(refused), cache)
                                        .resolve("models:/never-seen@champion"))
                .hasMessageContaining("REGISTRY_UNAVAILABLE");
        // 4. No tracking URI: the same folder is the embedded registry.
        ResolvedModel local = new ModelResolver(Optional.empty(), cache).resolve(champion);
        assertThat(local.origin()).isEqualTo("local");
        assertThat(local.version()).isEqualTo(v.version());
    }
}
