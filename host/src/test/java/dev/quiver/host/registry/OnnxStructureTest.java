package dev.quiver.host.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The ONNX protobuf walk and the checks it feeds, on the shipped LSTM and hand-built models. */
class OnnxStructureTest {

    static final Path LSTM =
            Path.of(
                    "..",
                    "plugins/prediction-lstm/src/main/resources/dev/quiver/plugins/lstm/model/lstm.onnx");

    @Test
    void theShippedLstmReadsAsItWasExportedAndPasses() throws Exception {
        byte[] b = Files.readAllBytes(LSTM);
        OnnxStructure s = OnnxStructure.read(b);
        // tf2onnx 1.17 export: IR 8, opset 15 (+ ai.onnx.ml 2), input window float[-1][32][7].
        assertThat(s.irVersion()).isEqualTo(8);
        assertThat(s.opsets())
                .containsExactly(
                        new OnnxStructure.Opset("", 15), new OnnxStructure.Opset("ai.onnx.ml", 2));
        assertThat(s.inputs()).hasSize(1);
        assertThat(s.inputs().get(0).name()).isEqualTo("window");
        assertThat(s.inputs().get(0).elemType()).isEqualTo(1);
        assertThat(s.inputs().get(0).dims()).containsExactly(-1L, 32L, 7L);
        // W0 of a 16-unit LSTM over 7 features: [1, 4*16, 7] float32 = 1,792 bytes.
        OnnxStructure.Tensor w0 =
                s.tensors().stream().filter(t -> t.name().startsWith("W0__")).findFirst().get();
        assertThat(w0.dims()).containsExactly(1L, 64L, 7L);
        assertThat(w0.rawLength()).isEqualTo(1792);
        assertThat(OnnxStructure.problem(b, "lstm.onnx")).isEmpty();
    }

    @Test
    void aTruncatedFileIsRefusedNamingTheByteAndTheField() throws Exception {
        byte[] b = Files.readAllBytes(LSTM);
        byte[] half = Arrays.copyOf(b, b.length / 2);
        assertThat(OnnxStructure.problem(half, "lstm.onnx"))
                .get()
                .asString()
                // The graph (field 7) starts at byte 24 with a 2-byte length 0xfe 0x46 = 9,086.
                .startsWith("lstm.onnx is not a well-formed ONNX protobuf: field 7 of ModelProto")
                .contains("at byte 24 declares 9086 bytes, only " + (half.length - 27) + " remain");
    }

    @Test
    void wireTypesOnnxNeverUsesAreRefused() {
        // key 0x0b: field 1, wire type 3 (start group)
        assertThatThrownBy(() -> OnnxStructure.read(new byte[] {0x0b, 0x00}))
                .isInstanceOf(OnnxStructure.Malformed.class)
                .hasMessageContaining("wire type 3");
    }

    @ParameterizedTest
    @CsvSource({
        "../../etc/passwd, true",
        "subdir/../../etc/passwd, true",
        "/etc/passwd, true",
        "'C:\\Windows\\win.ini', true",
        "'..', true",
        "weights.bin, false",
        "a..b.bin, false",
        "sub/weights.bin, false"
    })
    void escapesTellsAPathThatLeavesTheFolder(String location, boolean escapes) {
        assertThat(OnnxStructure.escapes(location)).isEqualTo(escapes);
    }

    @Test
    void externalDataIsRefusedAndAnEscapeIsNamedAsOne() {
        assertThat(OnnxStructure.problem(model(external("../../etc/passwd")), "m.onnx"))
                .get()
                .asString()
                .contains("tensor 'w' keeps its data in external file '../../etc/passwd'")
                .contains("escapes the model folder");
        assertThat(OnnxStructure.problem(model(external("subdir/../../etc/passwd")), "m.onnx"))
                .get()
                .asString()
                .contains("escapes the model folder");
        assertThat(OnnxStructure.problem(model(external("weights.bin")), "m.onnx"))
                .get()
                .asString()
                .contains("external file 'weights.bin'")
                .doesNotContain("escapes")
                .contains("must carry its weights inline");
    }

    @Test
    void opsetAndIrVersionNewerThanTheRuntimeAreRefused() {
        byte[] ok = model(tensor(List.of(2L), 1, new byte[8]));
        assertThat(OnnxStructure.problem(ok, "m.onnx")).isEmpty();
        byte[] opset22 =
                concat(varint(1, 8), graph(tensor(List.of(2L), 1, new byte[8])), opset(22));
        assertThat(OnnxStructure.problem(opset22, "m.onnx"))
                .get()
                .asString()
                .contains("imports opset ai.onnx version 22")
                .contains("up to 21");
        byte[] ir11 = concat(varint(1, 11), graph(tensor(List.of(2L), 1, new byte[8])), opset(15));
        assertThat(OnnxStructure.problem(ir11, "m.onnx"))
                .get()
                .asString()
                .contains("IR version 11");
    }

    @Test
    void dimensionBombsAndSizesThatDisagreeWithTheDataAreRefused() {
        assertThat(
                        OnnxStructure.problem(
                                model(tensor(List.of(1_000_000L, 1_000_000L, 1_000_000L), 1, null)),
                                "m.onnx"))
                .get()
                .asString()
                .contains("dimension bomb");
        // [3] float32 declares 12 bytes; 8 given.
        assertThat(OnnxStructure.problem(model(tensor(List.of(3L), 1, new byte[8])), "m.onnx"))
                .get()
                .asString()
                .contains("declares dims [3] of type 1 (12 bytes) but carries 8 bytes");
    }

    // ---- a tiny protobuf writer for hand-built models ----

    static byte[] model(byte[] tensor) {
        return concat(varint(1, 8), graph(tensor), opset(15));
    }

    static byte[] graph(byte[] tensor) {
        return field(7, field(5, tensor));
    }

    static byte[] opset(long version) {
        return field(8, concat(field(1, new byte[0]), varint(2, version)));
    }

    static byte[] tensor(List<Long> dims, int type, byte[] raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (long d : dims) {
            out.writeBytes(varint(1, d));
        }
        out.writeBytes(varint(2, type));
        out.writeBytes(field(8, "w".getBytes(StandardCharsets.UTF_8)));
        if (raw != null) {
            out.writeBytes(field(9, raw));
        }
        return out.toByteArray();
    }

    static byte[] external(String location) {
        return concat(
                varint(1, 2),
                varint(2, 1),
                field(8, "w".getBytes(StandardCharsets.UTF_8)),
                field(
                        13,
                        concat(
                                field(1, "location".getBytes(StandardCharsets.UTF_8)),
                                field(2, location.getBytes(StandardCharsets.UTF_8)))),
                varint(14, 1));
    }

    static byte[] field(int number, byte[] payload) {
        return concat(raw((long) number << 3 | 2), raw(payload.length), payload);
    }

    static byte[] varint(int number, long value) {
        return concat(raw((long) number << 3), raw(value));
    }

    static byte[] raw(long v) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
        return out.toByteArray();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
