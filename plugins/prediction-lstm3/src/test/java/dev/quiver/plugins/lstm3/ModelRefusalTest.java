package dev.quiver.plugins.lstm3;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.onnxmodels.ModelRefusedException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A two-class or mis-shaped model, or a sidecar without its band, is refused before serving. */
class ModelRefusalTest {

    @TempDir Path dir;

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = Lstm3Forecaster.class.getResourceAsStream(name)) {
            return in.readAllBytes();
        }
    }

    private Path writeModel(byte[] onnx) throws IOException {
        String json = new String(resource("model/lstm3.json"), StandardCharsets.UTF_8);
        Files.write(dir.resolve("lstm3.onnx"), onnx);
        json =
                json.replace(
                        Lstm3Model.sha256(resource("model/lstm3.onnx")), Lstm3Model.sha256(onnx));
        Path sidecar = dir.resolve("lstm3.json");
        Files.writeString(sidecar, json, StandardCharsets.UTF_8);
        return sidecar;
    }

    @Test
    void aValidModelOfTheWrongShapeIsRefusedWithBothShapes() throws IOException {
        Path sidecar = writeModel(resource("wrong-shape.onnx"));
        assertThatThrownBy(() -> Lstm3Model.fromFiles(sidecar))
                .isInstanceOf(ModelRefusedException.class)
                .hasMessage(
                        "[Quiver/MODEL_REFUSED] "
                                + dir.resolve("lstm3.onnx")
                                + ": input shape [-1, 8, 3] differs from the sidecar's [-1, 32, 7]"
                                + " (float[batch][timesteps][features] in, [down, sideways, up]"
                                + " out)");
    }

    @Test
    void aSidecarWithoutItsSidewaysBandIsRefused() throws IOException {
        Path sidecar = writeModel(resource("model/lstm3.onnx"));
        Files.writeString(sidecar, Files.readString(sidecar).replace("\"atr_multiple\"", "\"k\""));
        assertThatThrownBy(() -> Lstm3Model.fromFiles(sidecar))
                .isInstanceOf(ModelRefusedException.class)
                .hasMessage(
                        "[Quiver/MODEL_REFUSED] " + sidecar + ": field 'atr_multiple' is missing");
    }
}
