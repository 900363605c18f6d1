package dev.quiver.plugins.gbm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.api.error.CapabilityException;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.LabeledFrame;
import dev.quiver.gbmtrees.ModelRefusedException;
import dev.quiver.gbmtrees.TreeEnsemble;
import dev.quiver.gbmtrees.XgbJson;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GbmSourcesTest {

    static final List<LabeledFrame> WINDOW = RealRows.BTC.subList(0, 1000);

    /** Every real row after the training window: out-of-sample for the model. */
    static final List<LabeledFrame> LATER = RealRows.BTC.subList(1005, RealRows.BTC.size());

    /** Eleven feature names: a caller that expects more features than the model has. */
    private static List<String> elevenNames() {
        return java.util.stream.IntStream.range(0, 11).mapToObj(i -> "f" + i).toList();
    }

    private static double[] row(LabeledFrame lf) {
        double[] x = new double[GbmFeatures.NAMES.size()];
        new GbmFeatures().row(lf.frame(), x);
        return x;
    }

    /**
     * The Java tree evaluator equals xgboost4j's own prediction within 1e-5 on every one of 19,625
     * real rows. The per-row costs are printed for information; the benchmark ({@code bin/quiver
     * bench}) is where the speed claim is measured, not a timed assertion here.
     */
    @Test
    void javaTreesEqualXgboost4jOnRealRows() throws Exception {
        try (var xgb = new XgbForecaster(RealRows.context(Map.of()))) {
            xgb.keepBooster();
            xgb.fixedRounds = 150; // many trees: a stronger parity check than an early stop
            xgb.fit(WINDOW);
            TreeEnsemble trees = xgb.trees();
            Booster booster = xgb.booster();
            assertThat(trees.trees()).isEqualTo(150);
            int n = LATER.size();
            assertThat(n).isGreaterThanOrEqualTo(10_000);
            int c = GbmFeatures.NAMES.size();
            float[] all = new float[n * c];
            double[][] rows = new double[n][];
            for (int i = 0; i < n; i++) {
                rows[i] = row(LATER.get(i));
                for (int j = 0; j < c; j++) {
                    all[i * c + j] = (float) rows[i][j];
                }
            }
            DMatrix dm = new DMatrix(all, n, c, Float.NaN);
            float[][] lib = booster.predict(dm);
            dm.dispose();
            double worst = 0;
            for (int i = 0; i < n; i++) {
                double java = TreeEnsemble.sigmoid(trees.margin(rows[i]));
                worst = Math.max(worst, Math.abs(java - lib[i][0]));
            }
            assertThat(worst).as("max |java - xgboost4j| over %d rows", n).isLessThan(1e-5);

            // Speed, cycling through the real rows (never one repeated row).
            int reps = 3000;
            double sink = 0;
            for (int i = 0; i < 20_000; i++) {
                sink += trees.margin(rows[i % n]);
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < 200_000; i++) {
                sink += trees.margin(rows[i % n]);
            }
            double javaUs = (System.nanoTime() - t0) / 1e3 / 200_000;
            float[] one = new float[c];
            for (int i = 0; i < 300; i++) {
                System.arraycopy(all, (i % n) * c, one, 0, c);
                sink += booster.inplace_predict(one, 1, c, Float.NaN)[0][0];
            }
            long t1 = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                System.arraycopy(all, (i % n) * c, one, 0, c);
                sink += booster.inplace_predict(one, 1, c, Float.NaN)[0][0];
            }
            double inplaceUs = (System.nanoTime() - t1) / 1e3 / reps;
            long t2 = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                System.arraycopy(all, (i % n) * c, one, 0, c);
                DMatrix d1 = new DMatrix(one, 1, c, Float.NaN);
                sink += booster.predict(d1)[0][0];
                d1.dispose();
            }
            double dmatrixUs = (System.nanoTime() - t2) / 1e3 / reps;
            System.out.printf(
                    "xgboost %d trees: java %.3f us/row, xgboost4j inplace_predict %.1f us/row,"
                            + " DMatrix+predict %.1f us/row, max diff %.2e on %d rows (%s)%n",
                    trees.trees(), javaUs, inplaceUs, dmatrixUs, worst, n, sink > 0);
        }
    }

    /** The Java evaluator equals LightGBM's own batch prediction on the same real rows. */
    @Test
    void javaTreesEqualLightgbmOnRealRows() {
        try (var lgb = new LgbmForecaster(RealRows.context(Map.of()))) {
            lgb.fixedRounds = 150;
            lgb.fit(WINDOW);
            TreeEnsemble trees = lgb.trees();
            int n = LATER.size();
            int c = GbmFeatures.NAMES.size();
            double[] all = new double[n * c];
            for (int i = 0; i < n; i++) {
                System.arraycopy(row(LATER.get(i)), 0, all, i * c, c);
            }
            double[] lib = LgbmForecaster.libraryPredict(lgb.modelText(), all, n, c);
            double worst = 0;
            for (int i = 0; i < n; i++) {
                double java =
                        TreeEnsemble.sigmoid(
                                trees.margin(Arrays.copyOfRange(all, i * c, (i + 1) * c)));
                worst = Math.max(worst, Math.abs(java - lib[i]));
            }
            assertThat(worst).as("max |java - lightgbm| over %d rows", n).isLessThan(1e-9);
            assertThat(trees.trees()).isEqualTo(150);
        }
    }

    /** Same window, same model: fixed seeds, one thread. */
    @Test
    void fitIsDeterministicAndForecastsAreProbabilities() {
        for (GbmSource s :
                List.<GbmSource>of(
                        new XgbForecaster(RealRows.context(Map.of())),
                        new LgbmForecaster(RealRows.context(Map.of())))) {
            try (s) {
                s.fit(WINDOW);
                double a = s.forecast(LATER.get(7).frame()).probabilityUp();
                s.fit(RealRows.BTC.subList(500, 1500));
                s.fit(WINDOW);
                assertThat(s.forecast(LATER.get(7).frame()).probabilityUp()).isEqualTo(a);
                assertThat(a).isBetween(0.0, 1.0);
                assertThat(s.descriptor().attributes())
                        .containsEntry("training", "per-fold")
                        .containsEntry(
                                "trained_through",
                                WINDOW.get(999).frame().bar().start().toString());
            }
        }
    }

    @Test
    void unfittedOrTooShortWindowIsRefusedClearly() {
        try (var xgb = new XgbForecaster(RealRows.context(Map.of()))) {
            assertThatThrownBy(() -> xgb.forecast(LATER.get(0).frame()))
                    .isInstanceOf(CapabilityException.class)
                    .hasMessageContaining("not fitted");
            assertThatThrownBy(() -> xgb.fit(WINDOW.subList(0, 100)))
                    .isInstanceOf(CapabilityException.class)
                    .hasMessageContaining("100 labelled rows, fewer than the 300");
        }
    }

    /** A truncated or wrong-shape model dump is refused, naming the file and what was expected. */
    @Test
    void truncatedOrWrongShapeModelsAreRefusedNamingTheFile() throws Exception {
        byte[] json;
        String text;
        try (var xgb = new XgbForecaster(RealRows.context(Map.of()));
                var lgb = new LgbmForecaster(RealRows.context(Map.of()))) {
            xgb.keepBooster();
            xgb.fit(WINDOW);
            json = xgb.booster().toByteArray("json");
            lgb.fit(WINDOW);
            text = lgb.modelText();
        }
        assertThat(XgbJson.parse(json, "x.json", GbmFeatures.NAMES).trees()).isPositive();
        byte[] cut = Arrays.copyOf(json, json.length / 2);
        assertThatThrownBy(() -> XgbJson.parse(cut, "models/xgb-fold3.json", GbmFeatures.NAMES))
                .isInstanceOf(ModelRefusedException.class)
                .hasMessageStartingWith("[Quiver/MODEL_REFUSED] models/xgb-fold3.json: ")
                .hasMessageContaining("not complete JSON")
                .hasMessageContaining("expected an XGBoost 2.1 JSON model");
        assertThatThrownBy(() -> XgbJson.parse(json, "models/xgb-fold3.json", elevenNames()))
                .hasMessageContaining("models/xgb-fold3.json")
                .hasMessageContaining("has 7 input features, expected 11");
        String cutText = text.substring(0, text.length() / 2);
        assertThatThrownBy(() -> LgbmText.parse(cutText, "models/lgbm-fold3.txt", 7))
                .isInstanceOf(ModelRefusedException.class)
                .hasMessageContaining("models/lgbm-fold3.txt")
                .hasMessageContaining("truncated");
        assertThatThrownBy(() -> LgbmText.parse(text, "models/lgbm-fold3.txt", 9))
                .hasMessageContaining("has 7 input features, expected 9");
        String badNode =
                new String(json, StandardCharsets.UTF_8)
                        .replaceFirst("\"split_indices\":\\[\\d+", "\"split_indices\":[99");
        assertThatThrownBy(
                        () ->
                                XgbJson.parse(
                                        badNode.getBytes(StandardCharsets.UTF_8),
                                        "m.json",
                                        GbmFeatures.NAMES))
                .hasMessageContaining("m.json")
                .hasMessageContaining("expected a feature in [0, 7)");
    }

    /**
     * A fitted model exported with its sidecar and served pinned from those files forecasts exactly
     * as the source that trained it, is never refitted, and declines the bars it was trained on.
     */
    @Test
    void anExportedModelServesPinnedWithTheSameForecastsAndIsNeverRefitted(@TempDir Path dir)
            throws Exception {
        for (String name : List.of("xgboost", "lightgbm")) {
            Path out = Files.createDirectories(dir.resolve(name));
            List<Path> files;
            try (GbmSource trained = source(name, Map.of())) {
                trained.fit(WINDOW);
                files = trained.exportModel(out);
                assertThat(files)
                        .extracting(f -> f.getFileName().toString())
                        .containsExactly(
                                name + (name.equals("xgboost") ? ".json" : ".txt"),
                                name + "-sidecar.json");
                var sidecar = new ObjectMapper().readTree(files.get(1).toFile());
                assertThat(sidecar.path("model_sha256").asText())
                        .isEqualTo(GbmSource.sha256(Files.readAllBytes(files.get(0))));
                assertThat(sidecar.path("training").path("last_bar").asText())
                        .isEqualTo(WINDOW.get(999).frame().bar().start().toString());
                assertThat(sidecar.path("training").path("rows").asInt()).isEqualTo(1000);
                assertThat(sidecar.path("schema").path("hash").asText())
                        .isEqualTo(RealRows.SCHEMA.hash());

                try (GbmSource pinned =
                        source(name, Map.of(name + ".model", files.get(1).toString()))) {
                    assertThat(pinned.descriptor().attributes())
                            .containsEntry("training", "registered")
                            .containsEntry(
                                    "trained_through",
                                    WINDOW.get(999).frame().bar().start().toString());
                    pinned.fit(RealRows.BTC.subList(3000, 4000)); // must leave the model alone
                    for (LabeledFrame lf : LATER.subList(0, 2000)) {
                        assertThat(pinned.forecast(lf.frame()).probabilityUp())
                                .as("%s at %s", name, lf.frame().bar().start())
                                .isEqualTo(trained.forecast(lf.frame()).probabilityUp());
                    }
                    assertThatThrownBy(() -> pinned.forecast(WINDOW.get(999).frame()))
                            .isInstanceOf(QuiverInputException.class)
                            .hasMessageContaining("IN_TRAINING_SPAN");
                    assertThatThrownBy(() -> pinned.forecast(WINDOW.get(3).frame()))
                            .isInstanceOf(QuiverInputException.class)
                            .hasMessageContaining("IN_TRAINING_SPAN");
                    // A pinned model re-exports byte for byte.
                    List<Path> again = pinned.exportModel(Files.createTempDirectory(dir, "x"));
                    assertThat(Files.readAllBytes(again.get(0)))
                            .isEqualTo(Files.readAllBytes(files.get(0)));
                }
            }
        }
    }

    /** A registered model whose file was damaged, or whose sidecar points outside, never serves. */
    @Test
    void aDamagedOrEscapingRegisteredModelIsRefusedNamingTheFile(@TempDir Path dir)
            throws Exception {
        List<Path> files;
        try (var xgb = new XgbForecaster(RealRows.context(Map.of()))) {
            xgb.fit(WINDOW);
            files = xgb.exportModel(dir);
        }
        Path sidecar = files.get(1);
        byte[] model = Files.readAllBytes(files.get(0));
        model[model.length / 2] ^= 1;
        Files.write(files.get(0), model);
        assertThatThrownBy(
                        () ->
                                new XgbForecaster(
                                        RealRows.context(
                                                Map.of("xgboost.model", sidecar.toString()))))
                .isInstanceOf(ModelRefusedException.class)
                .hasMessageContaining(files.get(0).toString())
                .hasMessageContaining("damaged or replaced");
        String escaping =
                Files.readString(sidecar).replace("\"xgboost.json\"", "\"../xgboost.json\"");
        Files.writeString(sidecar, escaping);
        assertThatThrownBy(
                        () ->
                                new XgbForecaster(
                                        RealRows.context(
                                                Map.of("xgboost.model", sidecar.toString()))))
                .isInstanceOf(ModelRefusedException.class)
                .hasMessageContaining("must be a plain file name");
        assertThatThrownBy(
                        () ->
                                new LgbmForecaster(
                                        RealRows.context(
                                                Map.of("lightgbm.model", sidecar.toString()))))
                .isInstanceOf(ModelRefusedException.class);
    }

    private static GbmSource source(String name, Map<String, String> config) {
        return name.equals("xgboost")
                ? new XgbForecaster(RealRows.context(config))
                : new LgbmForecaster(RealRows.context(config));
    }
}
