package dev.quiver.plugins.lstm3;

import static dev.quiver.onnxmodels.SidecarJson.node;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.onnxmodels.ModelRefusedException;
import dev.quiver.onnxmodels.OnnxModels;
import dev.quiver.onnxmodels.SidecarJson;
import dev.quiver.onnxmodels.WindowModel;
import dev.quiver.onnxmodels.WindowSidecar;
import java.nio.file.Path;

/**
 * The three-class ONNX LSTM and its sidecar ({@code quiver-lstm3-sidecar/1}, written beside {@code
 * lstm3.onnx} by {@code mlflow/train/lstm3.py}), validated before the first call ({@link
 * WindowModel#open}): sha256 of the file against the sidecar, then ONNX Runtime's own parse, then
 * input {@code float[-1|1][timesteps][features]} and output {@code float[-1|1][3]} (down, sideways,
 * up) against the sidecar. Beyond the window sidecar's fields, the sidecar gives the sideways band
 * ({@code sideways_band.atr_multiple}) and the share of sideways bars that closed up ({@code
 * p_up_close.sideways_up_share}).
 *
 * <p>Not thread-safe: the owner serialises {@link #predict()} and {@link #close()}.
 */
final class Lstm3Model extends WindowModel {

    private final double sidewaysAtrMultiple;
    private final double sidewaysUpShare;

    private Lstm3Model(Sidecar sidecar, String modelName, OrtSession session, boolean batchable)
            throws OrtException {
        super(sidecar.window(), modelName, session, 3, batchable);
        this.sidewaysAtrMultiple = sidecar.sidewaysAtrMultiple();
        this.sidewaysUpShare = sidecar.sidewaysUpShare();
    }

    /** The window sidecar and the three-class fields of {@code quiver-lstm3-sidecar/1}. */
    record Sidecar(WindowSidecar window, double sidewaysAtrMultiple, double sidewaysUpShare) {

        static Sidecar parse(byte[] json, String file) {
            JsonNode root =
                    SidecarJson.parse(
                            json,
                            file,
                            "quiver-lstm3-sidecar/1",
                            " (expected that sidecar format)");
            WindowSidecar window = WindowSidecar.parse(root, file);
            double k = node(node(root, "sideways_band", file), "atr_multiple", file).asDouble();
            double share =
                    node(node(root, "p_up_close", file), "sideways_up_share", file)
                            .asDouble(Double.NaN);
            if (!(k > 0) || Double.isInfinite(k) || !(share >= 0 && share <= 1)) {
                throw new ModelRefusedException(
                        file,
                        "sideways_band.atr_multiple must be finite and > 0 and"
                                + " p_up_close.sideways_up_share in [0, 1], found "
                                + k
                                + " and "
                                + share);
            }
            return new Sidecar(window, k, share);
        }
    }

    /** Loads the model bundled in this plugin ({@code model/lstm3.json} beside this class). */
    static Lstm3Model bundled() {
        String base = "classpath:dev/quiver/plugins/lstm3/model/";
        byte[] json =
                OnnxModels.resource(Lstm3Model.class, "model/lstm3.json", base + "lstm3.json");
        Sidecar s = Sidecar.parse(json, base + "lstm3.json");
        String file = s.window().modelFile();
        return load(
                s,
                OnnxModels.resource(Lstm3Model.class, "model/" + file, base + file),
                base + file);
    }

    /** Loads a sidecar file and the model file it names, from the same folder. */
    static Lstm3Model fromFiles(Path sidecarFile) {
        Sidecar s = Sidecar.parse(OnnxModels.read(sidecarFile), sidecarFile.toString());
        Path model = OnnxModels.beside(sidecarFile, s.window().modelFile(), false);
        return load(s, OnnxModels.read(model), model.toString());
    }

    /**
     * Validates and opens a model.
     *
     * @throws ModelRefusedException naming {@code modelName} and what was expected
     */
    static Lstm3Model load(Sidecar sidecar, byte[] onnx, String modelName) {
        return open(
                sidecar.window(),
                onnx,
                modelName,
                "an ONNX three-class LSTM",
                3,
                "[down, sideways, up]",
                (session, batch) -> new Lstm3Model(sidecar, modelName, session, batch));
    }

    /** The half-width of the sideways band, in ATRs. */
    double sidewaysAtrMultiple() {
        return sidewaysAtrMultiple;
    }

    /** The share of sideways bars in training that closed up, {@code [0, 1]}. */
    double sidewaysUpShare() {
        return sidewaysUpShare;
    }

    static String sha256(byte[] bytes) {
        return OnnxModels.sha256(bytes);
    }
}
