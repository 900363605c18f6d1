package dev.quiver.host.registry;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What an ONNX file declares, read by walking its protobuf in Java before ONNX Runtime ever sees
 * it: the IR version, the operator sets, every tensor (graph initializers, sparse initializers,
 * tensors in node attributes, subgraphs and functions) with its dims, type, inline data and {@code
 * external_data} location, and the graph's inputs with their element types and dims.
 *
 * <p>Only the fields named in {@code onnx/onnx.proto} (IR version 10) that matter for these checks
 * are interpreted; every other field is skipped by its wire type, so an unknown field is harmless
 * and a truncated or overlong one is caught ({@link #problem}).
 *
 * <p>The checks ({@link #problem}) refuse, before the native load:
 *
 * <ul>
 *   <li>malformed protobuf: a length or varint that runs past the end of its message (truncation),
 *       wire types 3, 4, 6, 7 (groups and invalid), a field number 0;
 *   <li>an IR version above {@value #MAX_IR_VERSION} or an {@code ai.onnx} opset above {@value
 *       #MAX_OPSET} ({@code ai.onnx.ml} above {@value #MAX_ML_OPSET}): newer than ONNX Runtime 1.20
 *       implements (its compatibility table: ONNX 1.16, opset 21, IR 10);
 *   <li>any tensor whose data lives outside the file ({@code data_location = EXTERNAL} or {@code
 *       external_data}): a location that escapes the folder ({@code ../../etc/passwd}, {@code
 *       subdir/../../x}, an absolute path) is named as an escape; a plain name is refused too,
 *       because the plugins hand ONNX Runtime the file's bytes, and ONNX Runtime then resolves an
 *       external location against the process's working directory, not the model's folder;
 *   <li>dimension bombs: a negative dim, or dims whose product overflows or exceeds {@value
 *       #MAX_ELEMENTS} elements; inline data whose size is not what the dims and type declare;
 *   <li>graph input dims below 0 or above {@value #MAX_ELEMENTS}.
 * </ul>
 *
 * <p>Input names, input element types and shapes are the plugin's to check against its sidecar (in
 * the child JVM): only the plugin knows what it feeds.
 *
 * @param irVersion the model's {@code ir_version}
 * @param opsets operator sets imported, {@code domain:version}
 * @param tensors every tensor found
 * @param inputs the main graph's inputs
 */
record OnnxStructure(long irVersion, List<Opset> opsets, List<Tensor> tensors, List<Input> inputs) {

    /** Highest IR version ONNX Runtime 1.20 reads. */
    static final long MAX_IR_VERSION = 10;

    /** Highest {@code ai.onnx} opset ONNX Runtime 1.20 implements. */
    static final long MAX_OPSET = 21;

    /** Highest {@code ai.onnx.ml} opset ONNX Runtime 1.20 implements. */
    static final long MAX_ML_OPSET = 4;

    /** Largest element count accepted for one tensor or input dim: 2^28 (1 GiB of float32). */
    static final long MAX_ELEMENTS = 1L << 28;

    /**
     * An imported operator set.
     *
     * @param domain {@code ""} or {@code ai.onnx} for the default set
     * @param version its version
     */
    record Opset(String domain, long version) {}

    /**
     * A tensor.
     *
     * @param name its name
     * @param dataType the {@code TensorProto.DataType} number (1 float, 11 double, ...)
     * @param dims its dims
     * @param inlineElements elements carried in the typed fields ({@code float_data}, ...)
     * @param rawOffset offset of {@code raw_data} in the file, -1 if none
     * @param rawLength length of {@code raw_data}, 0 if none
     * @param external whether {@code data_location} is {@code EXTERNAL}
     * @param locations the {@code external_data} {@code location} values
     */
    record Tensor(
            String name,
            int dataType,
            List<Long> dims,
            long inlineElements,
            int rawOffset,
            int rawLength,
            boolean external,
            List<String> locations) {}

    /**
     * A graph input.
     *
     * @param name its name
     * @param elemType its element type number
     * @param elemTypeOffset offset of the element type's varint in the file, -1 if absent
     * @param dims fixed dims (-1 for a named or absent dim)
     */
    record Input(String name, int elemType, int elemTypeOffset, List<Long> dims) {}

    /** A protobuf that cannot be walked. */
    static final class Malformed extends Exception {
        private static final long serialVersionUID = 1L;

        Malformed(String message) {
            super(message);
        }
    }

    /**
     * Walks a file's bytes.
     *
     * @param bytes the whole file
     * @return what it declares
     * @throws Malformed naming the byte offset and field where the protobuf breaks
     */
    static OnnxStructure read(byte[] bytes) throws Malformed {
        Walker w = new Walker(bytes);
        w.model(0, bytes.length);
        return new OnnxStructure(
                w.irVersion, List.copyOf(w.opsets), List.copyOf(w.tensors), List.copyOf(w.inputs));
    }

    /**
     * The first reason the file must not reach ONNX Runtime.
     *
     * @param bytes the whole file
     * @param file its name, for messages
     * @return empty if none
     */
    static Optional<String> problem(byte[] bytes, String file) {
        OnnxStructure s;
        try {
            s = read(bytes);
        } catch (Malformed e) {
            return Optional.of(file + " is not a well-formed ONNX protobuf: " + e.getMessage());
        }
        if (s.irVersion() > MAX_IR_VERSION || s.irVersion() < 1) {
            return Optional.of(
                    file
                            + " declares ONNX IR version "
                            + s.irVersion()
                            + "; this host's ONNX Runtime (1.20) reads IR versions 1.."
                            + MAX_IR_VERSION);
        }
        for (Opset o : s.opsets()) {
            boolean core = o.domain().isEmpty() || o.domain().equals("ai.onnx");
            long max = core ? MAX_OPSET : o.domain().equals("ai.onnx.ml") ? MAX_ML_OPSET : -1;
            if (max > 0 && (o.version() > max || o.version() < 1)) {
                return Optional.of(
                        file
                                + " imports opset "
                                + (core ? "ai.onnx" : o.domain())
                                + " version "
                                + o.version()
                                + ", newer than this host's ONNX Runtime (1.20) implements (up to "
                                + max
                                + ")");
            }
        }
        for (Tensor t : s.tensors()) {
            for (String location : t.locations()) {
                return Optional.of(
                        file
                                + ": tensor '"
                                + t.name()
                                + "' keeps its data in external file '"
                                + location
                                + "'"
                                + (escapes(location)
                                        ? ", which escapes the model folder (path traversal)"
                                        : "")
                                + "; external data is refused: a model must carry its weights"
                                + " inline (plugins hand ONNX Runtime the bytes, and it would"
                                + " resolve the name against the working directory)");
            }
            if (t.external()) {
                return Optional.of(
                        file
                                + ": tensor '"
                                + t.name()
                                + "' declares data_location EXTERNAL with no location; external"
                                + " data is refused");
            }
            long elements = 1;
            for (long d : t.dims()) {
                if (d < 0) {
                    return Optional.of(
                            file + ": tensor '" + t.name() + "' has a negative dim " + t.dims());
                }
                if (d != 0 && elements > MAX_ELEMENTS / d) {
                    return Optional.of(dimensionBomb(file, t.name(), t.dims()));
                }
                elements *= d;
            }
            if (elements > MAX_ELEMENTS) {
                return Optional.of(dimensionBomb(file, t.name(), t.dims()));
            }
            int size = elementBytes(t.dataType());
            if (t.rawOffset() >= 0 && size > 0 && (long) t.rawLength() != elements * size) {
                return Optional.of(
                        String.format(
                                Locale.ROOT,
                                "%s: tensor '%s' declares dims %s of type %d (%,d bytes) but"
                                        + " carries %,d bytes of raw_data",
                                file,
                                t.name(),
                                t.dims(),
                                t.dataType(),
                                elements * size,
                                t.rawLength()));
            }
            if (t.rawOffset() < 0 && t.inlineElements() > 0 && t.inlineElements() != elements) {
                return Optional.of(
                        String.format(
                                Locale.ROOT,
                                "%s: tensor '%s' declares dims %s (%,d elements) but carries %,d",
                                file,
                                t.name(),
                                t.dims(),
                                elements,
                                t.inlineElements()));
            }
        }
        for (Input in : s.inputs()) {
            for (long d : in.dims()) {
                if (d < -1 || d > MAX_ELEMENTS) {
                    return Optional.of(
                            file
                                    + ": graph input '"
                                    + in.name()
                                    + "' declares dims "
                                    + in.dims()
                                    + " (dimension bomb or negative dim)");
                }
            }
        }
        return Optional.empty();
    }

    private static String dimensionBomb(String file, String tensor, List<Long> dims) {
        return file
                + ": tensor '"
                + tensor
                + "' declares dims "
                + dims
                + ", more than "
                + MAX_ELEMENTS
                + " elements (dimension bomb)";
    }

    /** Whether an external location could leave the model's folder. */
    static boolean escapes(String location) {
        String l = location.replace('\\', '/');
        return l.startsWith("/")
                || l.matches("^[A-Za-z]:.*")
                || l.equals("..")
                || l.startsWith("../")
                || l.contains("/../")
                || l.endsWith("/..");
    }

    /** Bytes per element of a {@code TensorProto.DataType}; 0 when not fixed (string, int4). */
    static int elementBytes(int dataType) {
        return switch (dataType) {
            case 2, 3, 9, 17, 18, 19, 20 -> 1;
            case 4, 5, 10, 16 -> 2;
            case 1, 6, 12 -> 4;
            case 7, 11, 13, 14 -> 8;
            case 15 -> 16;
            default -> 0;
        };
    }

    /** The protobuf walk: one method per message type of interest. */
    private static final class Walker {
        private final byte[] b;
        private int pos;
        long irVersion;
        final List<Opset> opsets = new ArrayList<>();
        final List<Tensor> tensors = new ArrayList<>();
        final List<Input> inputs = new ArrayList<>();
        private int graphDepth;

        Walker(byte[] b) {
            this.b = b;
        }

        /** A field header: number, wire type, and for wire type 2 its payload span. */
        private record Field(int number, int wire, long value, int start, int end) {}

        private Field next(int end, String message) throws Malformed {
            int at = pos;
            long key = varint(end, message);
            int number = (int) (key >>> 3);
            int wire = (int) (key & 7);
            if (number == 0) {
                throw new Malformed("field number 0 at byte " + at + " in " + message);
            }
            switch (wire) {
                case 0:
                    return new Field(number, 0, varint(end, message), -1, -1);
                case 1:
                    skip(8, end, message, number);
                    return new Field(number, 1, 0, -1, -1);
                case 5:
                    skip(4, end, message, number);
                    return new Field(number, 5, 0, -1, -1);
                case 2:
                    long len = varint(end, message);
                    if (len < 0 || len > end - pos) {
                        throw new Malformed(
                                "field "
                                        + number
                                        + " of "
                                        + message
                                        + " at byte "
                                        + at
                                        + " declares "
                                        + len
                                        + " bytes, only "
                                        + (end - pos)
                                        + " remain (truncated or inflated length)");
                    }
                    int start = pos;
                    pos += (int) len;
                    return new Field(number, 2, len, start, pos);
                default:
                    throw new Malformed(
                            "wire type "
                                    + wire
                                    + " (field "
                                    + number
                                    + ") at byte "
                                    + at
                                    + " in "
                                    + message
                                    + " is not valid in ONNX");
            }
        }

        private void skip(int n, int end, String message, int number) throws Malformed {
            if (end - pos < n) {
                throw new Malformed(
                        "field " + number + " of " + message + " at byte " + pos + " is cut short");
            }
            pos += n;
        }

        private long varint(int end, String message) throws Malformed {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (pos >= end) {
                    throw new Malformed(
                            "varint cut short at byte " + pos + " in " + message + " (truncated)");
                }
                byte x = b[pos++];
                v |= (long) (x & 0x7f) << shift;
                if ((x & 0x80) == 0) {
                    return v;
                }
            }
            throw new Malformed("varint longer than 10 bytes at byte " + pos + " in " + message);
        }

        private String string(Field f) {
            return new String(b, f.start(), f.end() - f.start(), StandardCharsets.UTF_8);
        }

        /**
         * Runs {@code body} over the span of a length-delimited field, then restores the cursor.
         */
        private interface Body {
            void run(int start, int end) throws Malformed;
        }

        private void inside(Field f, Body body) throws Malformed {
            int saved = pos;
            pos = f.start();
            body.run(f.start(), f.end());
            pos = saved;
        }

        void model(int start, int end) throws Malformed {
            pos = start;
            while (pos < end) {
                Field f = next(end, "ModelProto");
                if (f.number() == 1 && f.wire() == 0) {
                    irVersion = f.value();
                } else if (f.number() == 7 && f.wire() == 2) {
                    inside(f, (s, e) -> graph(e, true));
                } else if (f.number() == 8 && f.wire() == 2) {
                    inside(f, (s, e) -> opset(e));
                } else if (f.number() == 25 && f.wire() == 2) {
                    inside(f, (s, e) -> function(e));
                }
            }
        }

        private void opset(int end) throws Malformed {
            String domain = "";
            long version = 0;
            while (pos < end) {
                Field f = next(end, "OperatorSetIdProto");
                if (f.number() == 1 && f.wire() == 2) {
                    domain = string(f);
                } else if (f.number() == 2 && f.wire() == 0) {
                    version = f.value();
                }
            }
            opsets.add(new Opset(domain, version));
        }

        private void graph(int end, boolean main) throws Malformed {
            if (++graphDepth > 32) {
                throw new Malformed("subgraphs nested deeper than 32 at byte " + pos);
            }
            while (pos < end) {
                Field f = next(end, "GraphProto");
                if (f.wire() != 2) {
                    continue;
                }
                switch (f.number()) {
                    case 1 -> inside(f, (s, e) -> node(e));
                    case 5 -> inside(f, (s, e) -> tensor(e));
                    case 15 -> inside(f, (s, e) -> sparse(e));
                    case 11 -> {
                        if (main) {
                            inside(f, (s, e) -> valueInfo(e));
                        }
                    }
                    default -> {}
                }
            }
            graphDepth--;
        }

        private void function(int end) throws Malformed {
            while (pos < end) {
                Field f = next(end, "FunctionProto");
                if (f.number() == 7 && f.wire() == 2) {
                    inside(f, (s, e) -> node(e));
                }
            }
        }

        private void node(int end) throws Malformed {
            while (pos < end) {
                Field f = next(end, "NodeProto");
                if (f.number() == 5 && f.wire() == 2) {
                    inside(f, (s, e) -> attribute(e));
                }
            }
        }

        private void attribute(int end) throws Malformed {
            while (pos < end) {
                Field f = next(end, "AttributeProto");
                if (f.wire() != 2) {
                    continue;
                }
                switch (f.number()) {
                    case 5, 10 -> inside(f, (s, e) -> tensor(e));
                    case 6, 11 -> inside(f, (s, e) -> graph(e, false));
                    case 22, 23 -> inside(f, (s, e) -> sparse(e));
                    default -> {}
                }
            }
        }

        private void sparse(int end) throws Malformed {
            while (pos < end) {
                Field f = next(end, "SparseTensorProto");
                if ((f.number() == 1 || f.number() == 2) && f.wire() == 2) {
                    inside(f, (s, e) -> tensor(e));
                }
            }
        }

        private void tensor(int end) throws Malformed {
            String name = "";
            int dataType = 0;
            List<Long> dims = new ArrayList<>();
            long inline = 0;
            int rawOffset = -1;
            int rawLength = 0;
            boolean external = false;
            List<String> locations = new ArrayList<>();
            while (pos < end) {
                Field f = next(end, "TensorProto");
                switch (f.number()) {
                    case 1 -> {
                        if (f.wire() == 0) {
                            dims.add(f.value());
                        } else if (f.wire() == 2) {
                            int saved = pos;
                            pos = f.start();
                            while (pos < f.end()) {
                                dims.add(varint(f.end(), "TensorProto.dims"));
                            }
                            pos = saved;
                        }
                    }
                    case 2 -> dataType = f.wire() == 0 ? (int) f.value() : dataType;
                    case 8 -> name = f.wire() == 2 ? string(f) : name;
                    case 9 -> {
                        if (f.wire() == 2) {
                            rawOffset = f.start();
                            rawLength = f.end() - f.start();
                        }
                    }
                    case 4 -> inline += f.wire() == 2 ? f.value() / 4 : 1; // float_data
                    case 10 -> inline += f.wire() == 2 ? f.value() / 8 : 1; // double_data
                    case 5, 7, 11 -> // int32_data, int64_data, uint64_data: varints
                            inline += f.wire() == 2 ? countVarints(f) : 1;
                    case 13 -> {
                        if (f.wire() == 2) {
                            String[] kv = new String[2];
                            inside(
                                    f,
                                    (s, e) -> {
                                        while (pos < e) {
                                            Field g = next(e, "StringStringEntryProto");
                                            if (g.wire() == 2 && g.number() <= 2) {
                                                kv[g.number() - 1] = string(g);
                                            }
                                        }
                                    });
                            if ("location".equals(kv[0])) {
                                locations.add(kv[1] == null ? "" : kv[1]);
                            }
                        }
                    }
                    case 14 -> external = f.wire() == 0 && f.value() == 1;
                    default -> {}
                }
            }
            tensors.add(
                    new Tensor(
                            name,
                            dataType,
                            List.copyOf(dims),
                            inline,
                            rawOffset,
                            rawLength,
                            external,
                            List.copyOf(locations)));
        }

        private long countVarints(Field f) {
            long n = 0;
            for (int i = f.start(); i < f.end(); i++) {
                if ((b[i] & 0x80) == 0) {
                    n++;
                }
            }
            return n;
        }

        private void valueInfo(int end) throws Malformed {
            String name = "";
            int[] elem = {0, -1};
            List<Long> dims = new ArrayList<>();
            while (pos < end) {
                Field f = next(end, "ValueInfoProto");
                if (f.number() == 1 && f.wire() == 2) {
                    name = string(f);
                } else if (f.number() == 2 && f.wire() == 2) {
                    inside(f, (s, e) -> type(e, elem, dims));
                }
            }
            inputs.add(new Input(name, elem[0], elem[1], List.copyOf(dims)));
        }

        /** TypeProto → tensor_type (1) → elem_type (1), shape (2) → dim (1) → dim_value (1). */
        private void type(int end, int[] elem, List<Long> dims) throws Malformed {
            while (pos < end) {
                Field f = next(end, "TypeProto");
                if (f.number() == 1 && f.wire() == 2) {
                    inside(
                            f,
                            (s, e) -> {
                                while (pos < e) {
                                    int at = pos;
                                    Field g = next(e, "TypeProto.Tensor");
                                    if (g.number() == 1 && g.wire() == 0) {
                                        elem[0] = (int) g.value();
                                        elem[1] = at + 1;
                                    } else if (g.number() == 2 && g.wire() == 2) {
                                        inside(g, (s2, e2) -> shape(e2, dims));
                                    }
                                }
                            });
                }
            }
        }

        private void shape(int end, List<Long> dims) throws Malformed {
            while (pos < end) {
                Field f = next(end, "TensorShapeProto");
                if (f.number() == 1 && f.wire() == 2) {
                    long[] d = {-1};
                    inside(
                            f,
                            (s, e) -> {
                                while (pos < e) {
                                    Field g = next(e, "TensorShapeProto.Dimension");
                                    if (g.number() == 1 && g.wire() == 0) {
                                        d[0] = g.value();
                                    }
                                }
                            });
                    dims.add(d[0]);
                }
            }
        }
    }
}
