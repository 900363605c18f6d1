package dev.quiver.host.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.mlflow.LocalMlflow;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowException;
import dev.quiver.host.mlflow.MlflowHttp;
import dev.quiver.host.registry.ModelRegistrar;
import dev.quiver.host.registry.ModelResolver;
import dev.quiver.host.store.StateStore;
import dev.quiver.host.store.TestStores;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Model-version rollouts against the real MLflow server: the aliases follow the rollout, and both
 * versions are served side by side by the LSTM plugin, each in its own plugin manager.
 */
class RolloutRegistryIT {

    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));
    static final Path LSTM_DIR =
            Path.of(
                            "..",
                            "plugins",
                            "prediction-lstm/src/main/resources/dev/quiver/plugins/lstm/model")
                    .toAbsolutePath()
                    .normalize();

    static MlflowClient client;
    static String name;
    static String v1;
    static String v2;
    static String v3;

    @BeforeAll
    static void register() throws java.io.IOException {
        client =
                new MlflowClient(new MlflowHttp(LocalMlflow.uri(), MlflowHttp.Settings.defaults()));
        ModelRegistrar registrar = new ModelRegistrar(client);
        name = "quiver-lstm-rollout-" + Long.toString(System.nanoTime(), 36);
        Optional<Path> sidecar = Optional.of(LSTM_DIR.resolve("lstm.json"));
        v1 =
                registrar
                        .register(name, LSTM_DIR.resolve("lstm.onnx"), sidecar, List.of("champion"))
                        .version();
        v2 = registrar.register(name, LSTM_DIR.resolve("lstm.onnx"), sidecar, List.of()).version();
        v3 = registrar.register(name, LSTM_DIR.resolve("lstm.onnx"), sidecar, List.of()).version();
    }

    static RolloutSpec spec(String id, String champion, String challenger) {
        return RolloutSpec.parse(
                """
                {"id": "%s",
                 "capability": {"kind": "prediction", "name": "lstm", "plugin": "prediction-lstm"},
                 "champion": {"model": "models:/%s/%s"},
                 "challenger": {"model": "models:/%s/%s"},
                 "rules": {"metric": "log_loss", "min_samples": 100}}
                """
                        .formatted(id, name, champion, name, challenger),
                "RolloutRegistryIT",
                null);
    }

    static String alias(String alias) {
        return client.versionByAlias(name, alias).path("version").asText();
    }

    @Test
    void completingMovesChampionToTheChallengerAndRollbackRemovesChallenger(@TempDir Path dir)
            throws Exception {
        try (StateStore db = TestStores.sqlite(dir);
                RolloutManager m =
                        RolloutManager.open(
                                new RolloutStore(db), Optional.of(client), Clock.systemUTC())) {
            m.start(spec("lstm-v2", v1, v2));
            m.awaitRegistry();
            assertThat(alias("challenger")).isEqualTo(v2);
            assertThat(alias("champion")).isEqualTo(v1);

            m.promote("lstm-v2", "looks fine");
            m.promote("lstm-v2", "looks fine");
            m.awaitRegistry();
            assertThat(alias("champion")).as("not before completed").isEqualTo(v1);
            Transition done = m.promote("lstm-v2", "complete");
            assertThat(done.to()).isEqualTo("completed");
            m.awaitRegistry();
            assertThat(alias("champion")).isEqualTo(v2);
            assertThatThrownBy(() -> alias("challenger"))
                    .isInstanceOf(MlflowException.class)
                    .hasMessageContaining("not found");

            m.start(spec("lstm-v3", v2, v3));
            m.awaitRegistry();
            assertThat(alias("challenger")).isEqualTo(v3);
            m.rollback("lstm-v3", "operator says no");
            m.awaitRegistry();
            assertThat(alias("champion")).isEqualTo(v2);
            assertThatThrownBy(() -> alias("challenger"))
                    .isInstanceOf(MlflowException.class)
                    .hasMessageContaining("not found");

            List<String> registryLines =
                    m.store().auditLines().stream()
                            .filter(l -> l.contains("\"event\":\"registry\""))
                            .toList();
            assertThat(registryLines)
                    .hasSize(4)
                    .allSatisfy(l -> assertThat(l).contains("\"result\":\"ok\""));
        }
    }

    @Test
    void bothModelVersionsAreServedSideBySideByTheSamePlugin(
            @TempDir Path cache, @TempDir Path work) {
        RolloutSpec spec = spec("lstm-side-by-side", v1, v2);
        ModelResolver resolver = new ModelResolver(Optional.of(client), cache);
        FeatureMatrix features = FeaturePipeline.compute(BundledData.BTC_USD_4H.load());
        try (VariantRuntime a =
                        VariantRuntime.start(
                                spec,
                                Role.CHAMPION,
                                DISTRIBUTION.resolve("plugins"),
                                Map.of(),
                                Optional.of(resolver),
                                work);
                VariantRuntime b =
                        VariantRuntime.start(
                                spec,
                                Role.CHALLENGER,
                                DISTRIBUTION.resolve("plugins"),
                                Map.of(),
                                Optional.of(resolver),
                                work)) {
            assertThat(a.model().orElseThrow().version()).isEqualTo(v1);
            assertThat(b.model().orElseThrow().version()).isEqualTo(v2);
            assertThat(b.description()).contains("models:/" + name + "/" + v2);
            int bar = features.bars().size() - 2;
            double pa = a.prediction().forecast(features.frame(bar)).probabilityUp();
            double pb = b.prediction().forecast(features.frame(bar)).probabilityUp();
            // the same file registered twice: the same forecast from two plugin managers
            assertThat(pb).isEqualTo(pa).isBetween(0.0, 1.0);
        }
    }
}
