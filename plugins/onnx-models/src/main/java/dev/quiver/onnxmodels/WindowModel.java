package dev.quiver.onnxmodels;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.api.market.BarSeries;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * An ONNX classifier over a window of feature rows and its {@link WindowSidecar}, validated before
 * the first call (see {@link #open}): input {@code float[-1|1][timesteps][features]}, output {@code
 * float[-1|1][classes]} (class probabilities).
 *
 * <p>One reused direct {@link FloatBuffer} wrapped once in an {@link OnnxTensor} of shape {@code
 * [1, timesteps, features]} carries every input, so a call allocates no input tensor.
 *
 * <p>Not thread-safe: the owner serialises {@link #fill}, {@link #predict()} and {@link #close()}.
 */
public class WindowModel implements AutoCloseable {

    /** Builds a plugin's model on an opened and checked session. */
    @FunctionalInterface
    public interface Factory<T extends WindowModel> {
        /**
         * @param session the opened session, its tensors checked
         * @param batchable whether input and output have a dynamic batch dimension
         * @return the model
         * @throws OrtException if ONNX Runtime cannot create the input tensor
         */
        T create(OrtSession session, boolean batchable) throws OrtException;
    }

    private final WindowSidecar sidecar;
    private final String modelName;
    private final OrtSession session;
    private final int classes;
    private final FloatBuffer input;
    private final OnnxTensor inputTensor;
    private final Map<String, OnnxTensor> feed;
    private final boolean batchable;
    private final double[] raw;
    private final float[] row;

    /**
     * @param sidecar the model's sidecar
     * @param modelName the model file's name, for messages
     * @param session the session opened by {@link #open}
     * @param classes the number of class probabilities the model outputs
     * @param batchable whether input and output have a dynamic batch dimension
     * @throws OrtException if ONNX Runtime cannot create the input tensor
     */
    protected WindowModel(
            WindowSidecar sidecar,
            String modelName,
            OrtSession session,
            int classes,
            boolean batchable)
            throws OrtException {
        this.batchable = batchable;
        this.sidecar = sidecar;
        this.modelName = modelName;
        this.session = session;
        this.classes = classes;
        this.raw = new double[sidecar.features().size()];
        this.row = new float[sidecar.features().size()];
        int n = sidecar.timesteps() * sidecar.features().size();
        this.input =
                ByteBuffer.allocateDirect(n * Float.BYTES)
                        .order(ByteOrder.nativeOrder())
                        .asFloatBuffer();
        this.inputTensor =
                OnnxTensor.createTensor(
                        OrtEnvironment.getEnvironment(),
                        input,
                        new long[] {1, sidecar.timesteps(), sidecar.features().size()});
        this.feed = Map.of(sidecar.inputName(), inputTensor);
    }

    /**
     * Validates and opens a model: sha256 against the sidecar, ONNX Runtime's parse, then the
     * single input and output, named as in the sidecar, float tensors of shape {@code
     * [-1|1][timesteps][features]} and {@code [-1|1][classes]}.
     *
     * @param kind what the model is, for messages, e.g. {@code "an ONNX LSTM"}
     * @param classes the number of classes output
     * @param classNames the classes in output order, for messages, e.g. {@code "[down, up]"}
     * @param factory builds the model on the checked session
     * @throws ModelRefusedException naming {@code modelName} and what was expected
     */
    public static <T extends WindowModel> T open(
            WindowSidecar sidecar,
            byte[] onnx,
            String modelName,
            String kind,
            int classes,
            String classNames,
            Factory<T> factory) {
        String expected =
                kind
                        + " with input float[-1]["
                        + sidecar.timesteps()
                        + "]["
                        + sidecar.features().size()
                        + "]";
        return OnnxModels.open(
                onnx,
                sidecar.modelSha256(),
                modelName,
                expected,
                session -> {
                    String layout = "float[batch][timesteps][features] in, " + classNames + " out";
                    long[] expectedIn = {-1, sidecar.timesteps(), sidecar.features().size()};
                    NodeInfo in =
                            OnnxModels.single(
                                    session.getInputInfo(),
                                    "input",
                                    sidecar.inputName(),
                                    modelName);
                    long[] inShape =
                            OnnxModels.checkTensor(
                                    in, "input", expectedIn, modelName, "the sidecar's ", layout);
                    NodeInfo out =
                            OnnxModels.single(
                                    session.getOutputInfo(),
                                    "output",
                                    sidecar.outputName(),
                                    modelName);
                    long[] outShape =
                            OnnxModels.checkTensor(
                                    out,
                                    "output",
                                    new long[] {-1, classes},
                                    modelName,
                                    "the sidecar's ",
                                    layout);
                    return factory.create(session, inShape[0] == -1 && outShape[0] == -1);
                });
    }

    /** The sidecar the model was checked against. */
    public WindowSidecar sidecar() {
        return sidecar;
    }

    /** The model file's name. */
    public String modelName() {
        return modelName;
    }

    /**
     * Where the model's features are in the host's schema, after checking that the schema is the
     * one the model was trained on.
     *
     * @param schema the host's feature schema
     * @param capability the capability serving the model, for messages, e.g. {@code "lstm"}
     * @param trainingScript the script that retrains the model, e.g. {@code mlflow/train/lstm.py}
     * @return per sidecar feature, its index in {@code schema}
     * @throws QuiverInputException {@code SCHEMA_MISMATCH} if the schema's hash differs from the
     *     sidecar's
     */
    public int[] featureIndex(FeatureSchema schema, String capability, String trainingScript) {
        String hash = schema.hash();
        if (!hash.equals(sidecar.schemaHash())) {
            throw new QuiverInputException(
                    "SCHEMA_MISMATCH",
                    "schema",
                    "capability '" + capability + "' (" + modelName + ")",
                    schema.name() + " v" + schema.version() + " sha256=" + hash,
                    "differs from the schema the model was trained on, "
                            + sidecar.schemaName()
                            + " v"
                            + sidecar.schemaVersion()
                            + " sha256="
                            + sidecar.schemaHash()
                            + "; retrain the model ("
                            + trainingScript
                            + ") on the host's features");
        }
        List<String> names = sidecar.features();
        int[] index = new int[names.size()];
        for (int i = 0; i < index.length; i++) {
            index[i] = schema.indexOf(names.get(i));
        }
        return index;
    }

    /**
     * z-scores one raw feature row exactly as training did: {@code clip((x - mean) / std, -clip,
     * clip)} in double, then float.
     *
     * @param raw feature values in sidecar order
     * @param out destination, same length
     */
    public void normalise(double[] raw, float[] out) {
        double[] mean = sidecar.mean();
        double[] std = sidecar.std();
        double clip = sidecar.clip();
        for (int i = 0; i < out.length; i++) {
            double z = (raw[i] - mean[i]) / std[i];
            out[i] = (float) Math.max(-clip, Math.min(clip, z));
        }
    }

    /**
     * Refuses a bar of the model's training span on its training series (case-insensitive): the
     * model is never scored on bars it was fitted on. Declined input, not a failure.
     *
     * @param frame the decision bar and its history
     * @param capability the capability serving the model, for messages, e.g. {@code "lstm"}
     * @throws QuiverInputException {@code IN_TRAINING_SPAN} if the bar lies inside the sidecar's
     *     training span (both ends included) of its training series
     */
    public void refuseTrainingSpan(FeatureFrame frame, String capability) {
        BarSeries history = frame.history();
        Instant barTime = frame.bar().start();
        if (history.symbol().equalsIgnoreCase(sidecar.trainingSeries())
                && !barTime.isBefore(sidecar.trainingFirstBar())
                && !barTime.isAfter(sidecar.trainingLastBar())) {
            throw new QuiverInputException(
                    "IN_TRAINING_SPAN",
                    "bar",
                    "capability '" + capability + "' on " + history.symbol(),
                    barTime,
                    "lies inside the model's training span "
                            + sidecar.trainingFirstBar()
                            + ".."
                            + sidecar.trainingLastBar()
                            + "; it is not forecast, so no score includes a bar the model was"
                            + " fitted on");
        }
    }

    /**
     * Writes the frame's window of the last {@code timesteps} feature rows, each picked by {@code
     * featureIndex} and {@link #normalise normalised}, into {@code in} from {@code offset}: {@code
     * timesteps * features} floats, row-major, oldest row first.
     *
     * @param frame the decision bar and its history
     * @param featureIndex per sidecar feature, its index in the frame's schema ({@link
     *     #featureIndex})
     * @param in the destination, {@link #input()} or a batch buffer
     * @param offset the float position of the window's first value in {@code in}
     * @throws QuiverInputException {@code SHORT_HISTORY} if fewer than {@code timesteps} chained
     *     feature rows end at the frame's bar
     */
    public void fill(FeatureFrame frame, int[] featureIndex, FloatBuffer in, int offset) {
        int timesteps = sidecar.timesteps();
        double[][] window = frame.window(timesteps);
        for (int k = 0; k < timesteps; k++) {
            for (int i = 0; i < raw.length; i++) {
                raw[i] = window[k][featureIndex[i]];
            }
            normalise(raw, row);
            in.put(offset + k * row.length, row);
        }
    }

    /** The reused input buffer, {@code timesteps * features} floats, row-major. */
    public FloatBuffer input() {
        return input;
    }

    /**
     * Runs the model on the current contents of {@link #input()}.
     *
     * @return the class probabilities, {@code float[classes]}
     * @throws IllegalStateException if ONNX Runtime fails
     */
    public float[] predict() {
        try (OrtSession.Result result = session.run(feed)) {
            FloatBuffer out = ((OnnxTensor) result.get(0)).getFloatBuffer();
            float[] p = new float[classes];
            for (int i = 0; i < classes; i++) {
                p[i] = out.get(i);
            }
            return p;
        } catch (OrtException e) {
            throw new IllegalStateException(
                    "[Quiver/CAPABILITY_FAILED] ONNX Runtime failed on " + modelName, e);
        }
    }

    /**
     * Whether the model takes a batch of windows in one run (its input and output declare a dynamic
     * batch dimension, {@code -1}); a model exported with batch 1 is run window by window.
     */
    public boolean batchable() {
        return batchable;
    }

    /**
     * Runs the model once on {@code windows} windows laid out in {@code batch}: {@code
     * float[windows][timesteps][features]}, row-major, from position 0 (a direct buffer, wrapped
     * without a copy).
     *
     * @param batch a direct buffer of at least {@code windows * timesteps * features} floats
     * @param windows the batch size, {@code >= 1}; more than 1 only when {@link #batchable()}
     * @return the class probabilities per window, {@code float[windows * classes]}
     * @throws IllegalStateException if ONNX Runtime fails
     */
    public float[] predict(FloatBuffer batch, int windows) {
        int n = windows * sidecar.timesteps() * sidecar.features().size();
        FloatBuffer view = batch.duplicate().position(0).limit(n).slice();
        try (OnnxTensor tensor =
                        OnnxTensor.createTensor(
                                OrtEnvironment.getEnvironment(),
                                view,
                                new long[] {
                                    windows, sidecar.timesteps(), sidecar.features().size()
                                });
                OrtSession.Result result = session.run(Map.of(sidecar.inputName(), tensor))) {
            FloatBuffer out = ((OnnxTensor) result.get(0)).getFloatBuffer();
            float[] p = new float[windows * classes];
            out.get(p);
            return p;
        } catch (OrtException e) {
            throw new IllegalStateException(
                    "[Quiver/CAPABILITY_FAILED] ONNX Runtime failed on "
                            + modelName
                            + " (batch of "
                            + windows
                            + ")",
                    e);
        }
    }

    /** Closes the input tensor and the session (the shared environment stays). */
    @Override
    public void close() {
        inputTensor.close();
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("closing the ONNX session of " + modelName, e);
        }
    }
}
