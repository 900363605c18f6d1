package dev.quiver.plugins.lstm3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/**
 * Java ONNX Runtime equals Python onnxruntime (all three class probabilities) to 1e-5 on the golden
 * windows that {@code mlflow/train/lstm3.py} recorded: 4 blocks of 50 consecutive out-of-sample
 * BTC-USD 4h windows (2019, 2021, 2023, 2025), raw features in, normalised here by the plugin's own
 * code.
 */
class Lstm3ParityTest {

    static final double TOLERANCE = 1e-5;

    @Test
    void javaOnnxRuntimeEqualsPythonOnnxRuntimeOnTwoHundredRecordedWindows() throws IOException {
        JsonNode golden;
        try (InputStream in = Lstm3ParityTest.class.getResourceAsStream("lstm3-golden.json")) {
            golden = new ObjectMapper().readTree(in);
        }
        try (Lstm3Model model = Lstm3Model.bundled()) {
            int t = model.sidecar().timesteps();
            int f = model.sidecar().features().size();
            assertThat(golden.get("timesteps").asInt()).isEqualTo(t);
            assertThat(golden.get("features").size()).isEqualTo(f);
            int windows = 0;
            double worst = 0;
            for (JsonNode block : golden.get("blocks")) {
                JsonNode raw = block.get("raw_rows");
                JsonNode expected = block.get("p");
                float[][] z = new float[raw.size()][f];
                for (int r = 0; r < raw.size(); r++) {
                    double[] row = new double[f];
                    for (int j = 0; j < f; j++) {
                        row[j] = raw.get(r).get(j).asDouble();
                    }
                    model.normalise(row, z[r]);
                }
                for (int k = 0; k < expected.size(); k++) {
                    for (int s = 0; s < t; s++) {
                        model.input().put(s * f, z[k + s]);
                    }
                    float[] p = model.predict();
                    for (int c = 0; c < 3; c++) {
                        double want = expected.get(k).get(c).asDouble();
                        assertThat((double) p[c])
                                .as("block %s window %s class %s", block.get("first_end_bar"), k, c)
                                .isCloseTo(want, within(TOLERANCE));
                        worst = Math.max(worst, Math.abs(p[c] - want));
                    }
                    windows++;
                }
            }
            assertThat(windows).isEqualTo(200);
            System.out.printf(
                    "lstm3 parity: %d windows, max |java - python| = %.3g%n", windows, worst);
        }
    }
}
