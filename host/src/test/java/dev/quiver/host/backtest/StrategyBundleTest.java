package dev.quiver.host.backtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.fusion.WeightedFusion;
import dev.quiver.engine.gate.InputGate;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.strategy.BundleGate;
import dev.quiver.host.strategy.BundleWriter;
import dev.quiver.host.strategy.StrategyBundle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bundle written by {@link BundleWriter} from a real walk-forward (test sources, the built-in
 * fusion, whose fitted state it ships) opens and verifies; every kind of damage is refused with a
 * reason naming it.
 */
class StrategyBundleTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path tmp;
    Path dir;

    @BeforeEach
    void fit() {
        BarData bars = BundledData.SP500_DAILY.load().truncate(1600);
        var config = WalkForwardBacktest.Config.defaults().withWindows(500, 5, 250);
        WeightedFusion fusion = new WeightedFusion();
        var sources = List.of(TestCapabilities.momentum(20, 8), TestCapabilities.rsiReversion());
        var policies = List.of(TestCapabilities.fixed(0.5), TestCapabilities.quarterKelly());
        var fit =
                new WalkForwardBacktest(config)
                        .withoutIntervals()
                        .runAndFitFinal(
                                FeaturePipeline.compute(bars),
                                sources,
                                fusion,
                                policies,
                                Progress.NONE);
        dir = tmp.resolve("bundle");
        BundleWriter.write(
                dir,
                sources,
                fusion,
                policies,
                new BundleWriter.Context(
                        bars,
                        config,
                        fit,
                        FeaturePipeline.SCHEMA,
                        "1.3.0",
                        Map.of(),
                        Duration.ofDays(30),
                        Instant.parse("2026-01-01T00:00:00Z")));
    }

    @Test
    void aWrittenBundleOpensAndSaysWhatItHolds() throws Exception {
        StrategyBundle b = StrategyBundle.open(dir);
        assertThat(b.components())
                .extracting(StrategyBundle.Component::kind, StrategyBundle.Component::name)
                .contains(
                        org.assertj.core.groups.Tuple.tuple("ensemble", "fused"),
                        org.assertj.core.groups.Tuple.tuple("sizing", "kelly"));
        StrategyBundle.Component fused =
                b.components().stream()
                        .filter(c -> c.name().equals("fused"))
                        .findFirst()
                        .orElseThrow();
        assertThat(fused.files()).containsExactly("ensemble/fused.state.json");
        assertThat(b.servesFrom()).isAfter(Instant.parse("2005-01-01T00:00:00Z"));
        var m = b.manifest();
        assertThat(m.at("/walk_forward/folds").asInt()).isGreaterThan(0);
        assertThat(m.at("/settings/breakers/drawdown_rearm").asText()).isEqualTo("manual");
        assertThat(m.at("/feature_schema/hash").asText()).isEqualTo(FeaturePipeline.SCHEMA.hash());
        assertThat(m.path("files").has("ensemble/fused.state.json")).isTrue();
        assertThatThrownBy(() -> BundleWriter.write(dir, List.of(), null, List.of(), null))
                .hasMessageContaining("BUNDLE_EXISTS");
    }

    @Test
    void aWrittenBundleDeclaresItsInputGateFittedOnTheFinalWindow() {
        StrategyBundle b = StrategyBundle.open(dir);
        InputGate gate = BundleGate.of(b);
        assertThat(gate.distribution()).isNotNull();
        assertThat(gate.distributionOff()).isNull();
        assertThat(gate.limits().interval()).isEqualTo(Duration.ofDays(1));
        assertThat(gate.limits().maxGapBars()).isEqualTo(InputGate.Limits.DEFAULT_MAX_GAP_BARS);
        var m = b.manifest();
        assertThat(gate.distribution().rows())
                .isLessThanOrEqualTo(m.at("/settings/train_bars").asInt())
                .isGreaterThan(100);
        assertThat(m.at("/input_gate/distribution/first_bar").asText())
                .isEqualTo(m.at("/components/ensemble/training/first_bar").asText());
        assertThat(m.at("/input_gate/distribution/last_bar").asText())
                .isEqualTo(m.at("/components/ensemble/training/last_bar").asText());
        assertThat(gate.distribution().threshold()).isGreaterThan(0);
        assertThat(m.at("/walk_forward/input_gate/test_bars").asInt()).isGreaterThan(0);
        assertThat(m.at("/walk_forward/input_gate/abstained").isInt()).isTrue();
    }

    @Test
    void aBundleFittedBeforeTheGateStillLoadsWithItsDistributionCheckOffAndSaysSo()
            throws Exception {
        Path manifest = dir.resolve(StrategyBundle.MANIFEST);
        ObjectNode m = (ObjectNode) JSON.readTree(manifest.toFile());
        m.remove("input_gate");
        ((ObjectNode) m.path("walk_forward")).remove("input_gate");
        JSON.writeValue(manifest.toFile(), m);
        StrategyBundle b = StrategyBundle.open(dir);
        InputGate gate = BundleGate.of(b);
        assertThat(gate.distribution()).isNull();
        assertThat(gate.distributionOff()).isEqualTo(BundleGate.OFF_REASON);
        // the host's gap and move checks still apply, with the defaults for its interval
        assertThat(gate.limits().interval()).isEqualTo(Duration.ofDays(1));
        BarData bars = BundledData.SP500_DAILY.load().truncate(400);
        var frame = FeaturePipeline.compute(bars).frame(399);
        var verdict = gate.check(frame);
        assertThat(verdict.distributionOff()).isEqualTo(BundleGate.OFF_REASON);
        assertThat(verdict.distance()).isNaN();
        assertThat(verdict.abstain()).isEqualTo(verdict.gapBars() > 7 || verdict.moveAtr() > 20);
        // a damaged gate entry is refused naming the field
        m.putObject("input_gate").put("interval", "PT4H").put("max_gap_bars", "seven");
        JSON.writeValue(manifest.toFile(), m);
        assertThatThrownBy(() -> BundleGate.of(StrategyBundle.open(dir)))
                .isInstanceOf(QuiverInputException.class)
                .hasMessageContaining("BAD_BUNDLE")
                .hasMessageContaining("input_gate.max_gap_bars");
    }

    @Test
    void aMissingComponentFileIsRefused() throws Exception {
        Files.delete(dir.resolve("ensemble/fused.state.json"));
        refused("ensemble/fused.state.json", "listed in the manifest but missing");
    }

    @Test
    void aChangedByteIsASha256Mismatch() throws Exception {
        Path f = dir.resolve("ensemble/fused.state.json");
        String s = Files.readString(f);
        Files.writeString(f, s.replaceFirst("\\d", s.contains("1") ? "2" : "1"));
        refused("ensemble/fused.state.json", "sha256");
    }

    @Test
    void aTruncatedFileIsRefused() throws Exception {
        Path f = dir.resolve("ensemble/fused.state.json");
        byte[] b = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(b, b.length / 2));
        refused("ensemble/fused.state.json", "truncated");
    }

    @Test
    void aPickleIsRefusedBeforeAnythingReadsIt() throws Exception {
        Path f = dir.resolve("ensemble/model.pkl");
        Files.write(f, new byte[] {(byte) 0x80, 4, (byte) 0x95, 0, 0});
        listFile("ensemble/model.pkl", f);
        refused("ensemble/model.pkl", "not in a format the host accepts");
        Path disguised = dir.resolve("ensemble/model.json");
        Files.delete(f);
        removeFromManifest("ensemble/model.pkl");
        Files.write(disguised, new byte[] {(byte) 0x80, 4, (byte) 0x95, 0, 0});
        listFile("ensemble/model.json", disguised);
        refused("ensemble/model.json", "Python pickle");
    }

    @Test
    void aManifestPathEscapingTheFolderIsRefused() throws Exception {
        Files.writeString(tmp.resolve("outside.json"), "{}");
        listFile("../outside.json", tmp.resolve("outside.json"));
        refused("../outside.json", "escapes the bundle folder");
    }

    @Test
    void anUnlistedFileIsRefused() throws Exception {
        Files.writeString(dir.resolve("extra.json"), "{}");
        refused("extra.json", "not listed in the manifest");
    }

    @Test
    void anotherFeatureSchemaOrPluginVersionIsAMismatchNamingIt() {
        StrategyBundle b = StrategyBundle.open(dir);
        FeatureSchema other = new FeatureSchema("quiver-core", "2", FeaturePipeline.SCHEMA.names());
        assertThatThrownBy(() -> b.checkCompatible(other, Map.of(), Map.of()))
                .isInstanceOf(QuiverInputException.class)
                .hasMessageContaining("BUNDLE_MISMATCH")
                .hasMessageContaining("feature_schema.hash");
        assertThatThrownBy(
                        () ->
                                b.checkCompatible(
                                        FeaturePipeline.SCHEMA,
                                        Map.of(),
                                        Map.of("prediction:momentum", "1.0.0")))
                .isInstanceOf(QuiverInputException.class)
                .hasMessageContaining("prediction 'rsi' is not provided by any loaded plugin");
        assertThatThrownBy(
                        () ->
                                b.checkCompatible(
                                        FeaturePipeline.SCHEMA,
                                        Map.of(),
                                        Map.of(
                                                "prediction:momentum", "1.0.0",
                                                "prediction:rsi", "1.1.0",
                                                "ensemble:fused", "1.0.0",
                                                "sizing:fixed", "1.0.0",
                                                "sizing:kelly", "1.0.0")))
                .hasMessageContaining(
                        "prediction 'rsi' was version 1.0.0 when the bundle was fitted; 1.1.0 is loaded");
    }

    @Test
    void anExpiredBundleIsRefusedWithItsAgeAndLimit() {
        StrategyBundle b = StrategyBundle.open(dir);
        Instant expires = b.expiresAt(Optional.empty());
        assertThat(expires).isEqualTo(b.servesFrom().plus(Duration.ofDays(30)));
        b.checkFresh(expires.minusSeconds(1), Optional.empty());
        assertThatThrownBy(() -> b.checkFresh(expires, Optional.empty()))
                .isInstanceOf(QuiverInputException.class)
                .hasMessageContaining("BUNDLE_EXPIRED")
                .hasMessageContaining("maximum age PT720H");
        b.checkFresh(expires, Optional.of(Duration.ofDays(31)));
    }

    private void refused(String field, String reason) {
        assertThatThrownBy(() -> StrategyBundle.open(dir))
                .isInstanceOf(QuiverInputException.class)
                .hasMessageContaining("BAD_BUNDLE")
                .hasMessageContaining(field)
                .hasMessageContaining(reason);
    }

    private void listFile(String relative, Path file) throws Exception {
        Path m = dir.resolve(StrategyBundle.MANIFEST);
        ObjectNode n = (ObjectNode) JSON.readTree(m.toFile());
        ((ObjectNode) n.get("files"))
                .put(relative, dev.quiver.host.registry.ModelStore.sha256(file));
        JSON.writeValue(m.toFile(), n);
    }

    private void removeFromManifest(String relative) throws Exception {
        Path m = dir.resolve(StrategyBundle.MANIFEST);
        ObjectNode n = (ObjectNode) JSON.readTree(m.toFile());
        ((ObjectNode) n.get("files")).remove(relative);
        JSON.writeValue(m.toFile(), n);
    }
}
