package dev.quiver.plugins.lstm;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.quiver.onnxmodels.OnnxModels;
import dev.quiver.onnxmodels.WindowModel;
import dev.quiver.onnxmodels.WindowSidecar;
import java.nio.file.Path;

/**
 * The ONNX LSTM and its sidecar ({@code quiver-lstm-sidecar/1}), validated before the first call
 * ({@link WindowModel#open}): sha256 of the file against the sidecar, then ONNX Runtime's own
 * parse, then input {@code float[-1|1][timesteps][features]} and output {@code float[-1|1][2]}
 * (down, up) against the sidecar.
 *
 * <p>Not thread-safe: the owner serialises {@link #predict()} and {@link #close()}.
 */
final class LstmModel extends WindowModel {

    private LstmModel(WindowSidecar sidecar, String modelName, OrtSession session, boolean batch)
            throws OrtException {
        super(sidecar, modelName, session, 2, batch);
    }

    /** Loads the model bundled in this plugin ({@code model/lstm.json} beside this class). */
    static LstmModel bundled() {
        String base = "classpath:dev/quiver/plugins/lstm/model/";
        byte[] json = OnnxModels.resource(LstmModel.class, "model/lstm.json", base + "lstm.json");
        WindowSidecar s = parse(json, base + "lstm.json");
        String file = s.modelFile();
        return load(
                s, OnnxModels.resource(LstmModel.class, "model/" + file, base + file), base + file);
    }

    /** Loads a sidecar file and the model file it names, from the same folder. */
    static LstmModel fromFiles(Path sidecarFile) {
        WindowSidecar s = parse(OnnxModels.read(sidecarFile), sidecarFile.toString());
        Path model = OnnxModels.beside(sidecarFile, s.modelFile(), false);
        return load(s, OnnxModels.read(model), model.toString());
    }

    /**
     * Validates and opens a model.
     *
     * @throws dev.quiver.onnxmodels.ModelRefusedException naming {@code modelName} and what was
     *     expected
     */
    static LstmModel load(WindowSidecar sidecar, byte[] onnx, String modelName) {
        return open(
                sidecar,
                onnx,
                modelName,
                "an ONNX LSTM",
                2,
                "[down, up]",
                (session, batch) -> new LstmModel(sidecar, modelName, session, batch));
    }

    static WindowSidecar parse(byte[] json, String file) {
        return WindowSidecar.parse(json, file, "quiver-lstm-sidecar/1");
    }

    static String sha256(byte[] bytes) {
        return OnnxModels.sha256(bytes);
    }
}
