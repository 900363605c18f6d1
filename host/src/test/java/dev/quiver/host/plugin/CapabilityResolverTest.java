package dev.quiver.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.host.plugin.CapabilityResolver.Candidate;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Resolution and its messages; messages are checked against golden files (Guice style). */
class CapabilityResolverTest {

    static final String LSTM =
            "quiver.prediction; name=lstm; version:Version=1.0.0; horizon:Long=1;"
                    + " calibrated=false; feature-schema=quiver-core@1";

    final CapabilityResolver resolver =
            new CapabilityResolver(
                    CapabilityResolver.hostCapabilities("1.1.0", FeaturePipeline.SCHEMA),
                    FeaturePipeline.SCHEMA);

    static Candidate plugin(String id, String provides, String requires) {
        return new Candidate(id, "1.0.0", Path.of("/plugins/" + id + ".zip"), provides, requires);
    }

    @Test
    void everythingThatResolvesIsWiredWithItsProvider() {
        var r =
                resolver.resolve(
                        List.of(
                                plugin("prediction-lstm", LSTM, null),
                                plugin(
                                        "ensemble-stack",
                                        "quiver.ensemble; name=stack",
                                        "quiver.prediction;"
                                                + " filter:=\"(&(name=lstm)(horizon<=4)(version>=1.0.0))\","
                                                + " quiver.host; filter:=\"(api>=1.1.0)\"")));
        assertThat(r.refusals()).isEmpty();
        assertThat(r.wired()).containsExactly("ensemble-stack", "prediction-lstm");
        assertThat(r.wires())
                .extracting(w -> w.pluginId() + " <- " + w.provider().owner())
                .containsExactly("ensemble-stack <- prediction-lstm", "ensemble-stack <- host");
    }

    @Test
    void aRequirementNobodyProvidesNamesPluginRequirementAndOffer() throws IOException {
        var r =
                resolver.resolve(
                        List.of(
                                plugin("prediction-lstm", LSTM, null),
                                plugin(
                                        "ensemble-stack",
                                        "quiver.ensemble; name=stack",
                                        "quiver.prediction;"
                                                + " filter:=\"(&(name=lstm)(horizon>=4))\"")));
        assertThat(r.wired()).containsExactly("prediction-lstm");
        assertThat(r.refusals())
                .singleElement()
                .satisfies(x -> golden(x, "capability_unresolved.txt"));
    }

    @Test
    void refusalCascadesAndTheRefusedOfferIsNamed() throws IOException {
        var r =
                resolver.resolve(
                        List.of(
                                plugin(
                                        "model-lstm",
                                        "quiver.model; name=lstm-direction; format=onnx",
                                        "quiver.host; filter:=\"(api>=2.0.0)\""),
                                plugin(
                                        "prediction-lstm",
                                        LSTM,
                                        "quiver.model;"
                                                + " filter:=\"(&(format=onnx)(name=lstm-direction))\"")));
        assertThat(r.wired()).isEmpty();
        assertThat(r.refusals()).hasSize(2);
        golden(r.refusals().get(0), "capability_unresolved_host_api.txt");
        golden(r.refusals().get(1), "capability_unresolved_cascade.txt");
    }

    @Test
    void optionalRequirementsNeverRefuse() {
        var r =
                resolver.resolve(
                        List.of(
                                plugin(
                                        "prediction-lstm",
                                        LSTM,
                                        "quiver.model; filter:=\"(format=onnx)\";"
                                                + " resolution:=optional")));
        assertThat(r.wired()).containsExactly("prediction-lstm");
        assertThat(r.wires()).isEmpty();
    }

    @Test
    void featureSchemaMustBeTheHostsByNameAndVersionOrHash() throws IOException {
        var r =
                resolver.resolve(
                        List.of(
                                plugin("prediction-old", LSTM.replace("@1", "@0"), null),
                                plugin(
                                        "prediction-hash",
                                        LSTM.replace(
                                                "quiver-core@1", FeaturePipeline.SCHEMA.hash()),
                                        null)));
        assertThat(r.wired()).containsExactly("prediction-hash");
        golden(r.refusals().get(0), "feature_schema_mismatch.txt");
    }

    @Test
    void headersThatDoNotParseAreRefused() throws IOException {
        var r =
                resolver.resolve(
                        List.of(
                                plugin(
                                        "bad-filter",
                                        LSTM,
                                        "quiver.model; filter:=\"(&(format=onnx)\""),
                                plugin(
                                        "bad-horizon",
                                        LSTM.replace("horizon:Long=1", "horizon:Long=0"),
                                        null)));
        assertThat(r.wired()).isEmpty();
        golden(r.refusals().get(0), "capability_header_invalid_filter.txt");
        golden(r.refusals().get(1), "capability_header_invalid_horizon.txt");
    }

    /**
     * Compares with {@code testdata/<file>}; {@code -Dquiver.updateGolden=true} rewrites the file
     * instead (review the diff before committing it).
     */
    static void golden(PluginRefusal refusal, String file) {
        String path = "/dev/quiver/host/plugin/testdata/" + file;
        if (Boolean.getBoolean("quiver.updateGolden")) {
            try {
                java.nio.file.Files.writeString(
                        Path.of("src/test/resources" + path),
                        refusal.message().replace(FeaturePipeline.SCHEMA.hash(), "$SCHEMA_HASH")
                                + "\n");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return;
        }
        try (InputStream in = CapabilityResolverTest.class.getResourceAsStream(path)) {
            assertThat(in).as("golden file %s", path).isNotNull();
            String expected =
                    new String(in.readAllBytes(), StandardCharsets.UTF_8)
                            .replace("$SCHEMA_HASH", FeaturePipeline.SCHEMA.hash())
                            .stripTrailing();
            assertThat(refusal.message()).as(file).isEqualTo(expected);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
