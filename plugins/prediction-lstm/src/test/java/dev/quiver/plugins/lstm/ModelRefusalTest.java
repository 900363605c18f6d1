package dev.quiver.plugins.lstm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.onnxmodels.ModelRefusedException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile or broken model files are refused before serving, naming the file and the expectation.
 */
class ModelRefusalTest {

    @TempDir Path dir;

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = LstmForecaster.class.getResourceAsStream(name)) {
            return in.readAllBytes();
        }
    }

    private Path writeModel(byte[] onnx, boolean sidecarMatchesFile) throws IOException {
        String json = new String(resource("model/lstm.json"), StandardCharsets.UTF_8);
        Files.write(dir.resolve("lstm.onnx"), onnx);
        if (sidecarMatchesFile) {
            String original = LstmModel.sha256(resource("model/lstm.onnx"));
            json = json.replace(original, LstmModel.sha256(onnx));
        }
        Path sidecar = dir.resolve("lstm.json");
        Files.writeString(sidecar, json, StandardCharsets.UTF_8);
        return sidecar;
    }

    @Test
    void theIntactCopyLoads() throws IOException {
        Path sidecar = writeModel(resource("model/lstm.onnx"), false);
        try (LstmModel m = LstmModel.fromFiles(sidecar)) {
            assertThat(m.modelName()).endsWith("lstm.onnx");
        }
    }

    @Test
    void aTruncatedFileIsRefusedByItsHashNamingTheFile() throws IOException {
        byte[] onnx = resource("model/lstm.onnx");
        Path sidecar = writeModel(Arrays.copyOf(onnx, onnx.length * 6 / 10), false);
        assertThatThrownBy(() -> LstmModel.fromFiles(sidecar))
                .isInstanceOf(ModelRefusedException.class)
                .hasMessageStartingWith("[Quiver/MODEL_REFUSED] " + dir.resolve("lstm.onnx"))
                .hasMessageContaining(
                        "(" + onnx.length * 6 / 10 + " bytes) differs from the sidecar's")
                .hasMessageContaining("truncated");
    }

    @Test
    void aTruncatedFileWhoseHashWasUpdatedIsRefusedByOnnxRuntimeNamingTheFile() throws IOException {
        byte[] onnx = resource("model/lstm.onnx");
        for (int cut : new int[] {0, 16, onnx.length / 3, onnx.length * 6 / 10, onnx.length - 1}) {
            Path sidecar = writeModel(Arrays.copyOf(onnx, cut), true);
            assertThatThrownBy(() -> LstmModel.fromFiles(sidecar))
                    .as("cut at %s bytes", cut)
                    .isInstanceOf(ModelRefusedException.class)
                    .hasMessageStartingWith("[Quiver/MODEL_REFUSED] " + dir.resolve("lstm.onnx"))
                    .hasMessageContaining("expected an ONNX LSTM with input float[-1][32][7]");
        }
    }

    @Test
    void aValidModelOfTheWrongShapeIsRefusedWithBothShapes() throws IOException {
        Path sidecar = writeModel(resource("wrong-shape.onnx"), true);
        assertThatThrownBy(() -> LstmModel.fromFiles(sidecar))
                .isInstanceOf(ModelRefusedException.class)
                .hasMessage(
                        "[Quiver/MODEL_REFUSED] "
                                + dir.resolve("lstm.onnx")
                                + ": input shape [-1, 8, 3] differs from the sidecar's [-1, 32, 7]"
                                + " (float[batch][timesteps][features] in, [down, up] out)");
    }

    @Test
    void aSidecarThatPointsOutsideItsFolderIsRefused() throws IOException {
        Path sidecar = writeModel(resource("model/lstm.onnx"), false);
        Files.writeString(
                sidecar,
                Files.readString(sidecar).replace("\"lstm.onnx\"", "\"../../etc/passwd\""));
        assertThatThrownBy(() -> LstmModel.fromFiles(sidecar))
                .isInstanceOf(ModelRefusedException.class)
                .hasMessageContaining("must name a file in the sidecar's own folder");
    }

    @Test
    void aSidecarWithoutNormalisationIsRefused() throws IOException {
        Path sidecar = writeModel(resource("model/lstm.onnx"), false);
        Files.writeString(sidecar, Files.readString(sidecar).replace("\"std\"", "\"sd\""));
        assertThatThrownBy(() -> LstmModel.fromFiles(sidecar))
                .isInstanceOf(ModelRefusedException.class)
                .hasMessage("[Quiver/MODEL_REFUSED] " + sidecar + ": field 'std' is missing");
    }
}
