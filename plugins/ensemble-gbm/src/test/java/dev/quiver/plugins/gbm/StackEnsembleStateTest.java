package dev.quiver.plugins.gbm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.LabeledForecasts;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.testkit.EnsembleCapabilityContract;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The stack's fitted state: {@code stack.state.json} written, read back exactly, or refused. */
class StackEnsembleStateTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final FeatureFrame FRAME = RealRows.BTC.get(0).frame();

    @TempDir Path dir;

    /** The kit's contract (state round trip included) with the isotonic calibrator. */
    @Nested
    class IsotonicContract implements EnsembleCapabilityContract {
        @Override
        public EnsembleCapability newEnsemble() {
            return stack("isotonic");
        }
    }

    /** And without a calibrator. */
    @Nested
    class UncalibratedContract implements EnsembleCapabilityContract {
        @Override
        public EnsembleCapability newEnsemble() {
            return stack("none");
        }
    }

    @Test
    void anIsotonicStepOfManyBlocksRoundTripsBitForBit() throws IOException {
        StackEnsemble fitted = stack("isotonic");
        fitted.fit(toy(20_000, 1));
        var iso = (IsotonicCalibration) fitted.state().calibration();
        assertThat(iso.blocks()).isGreaterThan(10);
        List<Path> files = fitted.exportState(dir);
        assertThat(files).containsExactly(dir.resolve("stack.state.json"));
        ObjectNode json = (ObjectNode) JSON.readTree(files.get(0).toFile());
        assertThat(json.get("calibrator").get("kind").asText()).isEqualTo("isotonic");
        assertThat(json.get("calibrator").get("thresholds")).hasSize(iso.blocks());

        StackEnsemble restored = stack("isotonic");
        restored.restoreState(dir);
        var back = (IsotonicCalibration) restored.state().calibration();
        assertThat(back.thresholds()).isEqualTo(iso.thresholds());
        assertThat(back.values()).isEqualTo(iso.values());
        assertThat(restored.state().rows()).isEqualTo(20_000);
        assertThat(restored.toString()).isEqualTo(fitted.toString());
        for (LabeledForecasts row : toy(5_000, 2)) {
            FusedSignal a = fitted.fuse(row.forecasts(), FRAME);
            FusedSignal b = restored.fuse(row.forecasts(), FRAME);
            assertThat(Double.doubleToRawLongBits(b.probabilityUp()))
                    .as("p for %s", row.forecasts())
                    .isEqualTo(Double.doubleToRawLongBits(a.probabilityUp()));
            assertThat(b).isEqualTo(a);
        }
    }

    @Test
    void theStateFileHoldsWhatTheDocsSay() throws IOException {
        StackEnsemble fitted = stack("platt");
        fitted.fit(twoSources(2_000, 3));
        ObjectNode json = (ObjectNode) JSON.readTree(fitted.exportState(dir).get(0).toFile());
        assertThat(json.get("format").asText()).isEqualTo("quiver-stack-state/1");
        assertThat(json.get("capability").get("name").asText()).isEqualTo("stack");
        assertThat(json.get("capability").get("version").asText()).isEqualTo("1.0.0");
        assertThat(json.get("config").get("calibration").asText()).isEqualTo("platt");
        assertThat(json.get("rows").asInt()).isEqualTo(2_000);
        assertThat(json.get("sources")).extracting(n -> n.asText()).containsExactly("a", "b");
        double[] beta = fitted.state().meta().beta();
        assertThat(json.get("meta").get("intercept").doubleValue()).isEqualTo(beta[0]);
        assertThat(json.get("meta").get("coefficients").get(1).doubleValue()).isEqualTo(beta[2]);
        var platt = (PlattCalibration) fitted.state().calibration();
        assertThat(json.get("calibrator").get("kind").asText()).isEqualTo("platt");
        assertThat(json.get("calibrator").get("a").doubleValue()).isEqualTo(platt.slope());
        assertThat(json.get("calibrator").get("b").doubleValue()).isEqualTo(platt.intercept());
        assertThat(json.get("note").asText()).isEqualTo(fitted.state().note());
    }

    @Test
    void thePriorRoundTripsWithItsRowCount() {
        StackEnsemble prior = stack("platt");
        prior.fit(twoSources(150, 4));
        assertThat(prior.state().meta()).isNull();
        prior.exportState(dir);
        StackEnsemble target = stack("platt");
        target.fit(twoSources(2_000, 5));
        target.restoreState(dir);
        assertThat(target.state()).isEqualTo(prior.state());
        assertThat(target.toString()).contains("150 out-of-fold training rows");
    }

    @Test
    void aFormatItDoesNotReadIsRefusedNamingFileAndField() throws IOException {
        assertRefused(
                j -> j.put("format", "quiver-stack-state/2"),
                "format",
                "is not a format this plugin reads (quiver-stack-state/1)");
    }

    @Test
    void anotherCapabilitysStateIsRefused() throws IOException {
        assertRefused(
                j -> ((ObjectNode) j.get("capability")).put("name", "kelly_ml"),
                "capability.name",
                "is not 'stack'");
    }

    @Test
    void malformedFieldsAreRefusedByName() throws IOException {
        assertRefused(
                j -> ((ArrayNode) j.get("meta").get("coefficients")).remove(0),
                "meta.coefficients",
                "must be one per source (2)");
        assertRefused(
                j -> ((ArrayNode) j.get("meta").get("coefficients")).set(1, "0.3"),
                "meta.coefficients[1]",
                "is not a finite number");
        assertRefused(j -> j.remove("rows"), "rows", "is missing");
        assertRefused(
                j -> ((ObjectNode) j.get("calibrator")).put("kind", "beta"),
                "calibrator.kind",
                "is not platt or isotonic");
        assertRefused(
                j -> ((ObjectNode) j.get("calibrator")).remove("b"), "calibrator.b", "is missing");
        assertRefused(
                j -> j.putArray("sources").add("a").add("a"), "sources", "names a source twice");
    }

    @Test
    void aStateExportedUnderAnotherCalibrationIsRefused() {
        StackEnsemble platt = stack("platt");
        platt.fit(twoSources(2_000, 6));
        platt.exportState(dir);
        StackEnsemble isotonic = stack("isotonic");
        assertThatThrownBy(() -> isotonic.restoreState(dir))
                .isInstanceOf(QuiverInputException.class)
                .hasMessageContaining("stack.state.json")
                .hasMessageContaining(
                        "field 'config.calibration' differs from this instance's"
                                + " stack.calibration=isotonic");
    }

    /**
     * Exports a fitted platt stack, edits its state file, and checks the restore is refused with
     * BAD_STATE naming the file and field, the target fusing as before.
     */
    private void assertRefused(Consumer<ObjectNode> edit, String field, String problem)
            throws IOException {
        StackEnsemble fitted = stack("platt");
        fitted.fit(twoSources(2_000, 7));
        Path file = fitted.exportState(dir).get(0);
        ObjectNode json = (ObjectNode) JSON.readTree(file.toFile());
        edit.accept(json);
        JSON.writeValue(file.toFile(), json);
        StackEnsemble target = stack("platt");
        target.fit(twoSources(1_000, 8));
        var before = fuseAll(target);
        assertThatThrownBy(() -> target.restoreState(dir))
                .isInstanceOfSatisfying(
                        QuiverInputException.class,
                        e -> {
                            assertThat(e.code()).isEqualTo("BAD_STATE");
                            assertThat(e.field()).isEqualTo(field);
                            assertThat(e.where()).endsWith("stack.state.json");
                        })
                .hasMessageContaining(problem);
        assertThat(fuseAll(target)).isEqualTo(before);
        Files.delete(file);
    }

    private static List<FusedSignal> fuseAll(StackEnsemble s) {
        var out = new ArrayList<FusedSignal>();
        for (LabeledForecasts row : twoSources(300, 9)) {
            out.add(s.fuse(row.forecasts(), FRAME));
        }
        return out;
    }

    private static StackEnsemble stack(String calibration) {
        return new StackEnsemble(RealRows.context(Map.of("stack.calibration", calibration)));
    }

    private static Forecast forecast(String source, double p, int i) {
        return new Forecast(source, Instant.ofEpochSecond(i * 3600L), 1, p, Map.of());
    }

    /** As {@code StackEnsembleTest.toy}: a miscalibrated source, a step truth. */
    private static List<LabeledForecasts> toy(int n, long seed) {
        Random r = new Random(seed);
        List<LabeledForecasts> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            double p = 0.05 + 0.9 * r.nextDouble();
            boolean up = r.nextDouble() < (p > 0.5 ? 0.65 : 0.35);
            out.add(
                    new LabeledForecasts(
                            Instant.ofEpochSecond(i * 3600L), List.of(forecast("toy", p, i)), up));
        }
        return out;
    }

    /** Two sources with some signal: the truth is the mean of their probabilities. */
    private static List<LabeledForecasts> twoSources(int n, long seed) {
        Random r = new Random(seed);
        List<LabeledForecasts> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            double a = 0.2 + 0.6 * r.nextDouble();
            double b = 0.2 + 0.6 * r.nextDouble();
            boolean up = r.nextDouble() < (a + b) / 2;
            out.add(
                    new LabeledForecasts(
                            Instant.ofEpochSecond(i * 3600L),
                            List.of(forecast("a", a, i), forecast("b", b, i)),
                            up));
        }
        return out;
    }
}
