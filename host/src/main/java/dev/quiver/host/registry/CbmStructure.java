package dev.quiver.host.registry;

import com.fasterxml.jackson.databind.DeserializationFeature;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import java.util.Locale;
import java.util.Optional;

/**
 * A CatBoost {@code .cbm} checked before CatBoost parses it, against CatBoost's published
 * flatbuffers schema ({@code catboost/libs/model/flatbuffers/model.fbs}, {@code features.fbs} and
 * {@code ctr_data.fbs}, as of CatBoost 1.2).
 *
 * <p>The file is {@code CBM1}, the little-endian {@code uint32} size of the flatbuffer core, then
 * the core: a {@code TModelCore} whose {@code ModelTrees} holds the trees. Checked, in this order:
 *
 * <ol>
 *   <li><b>Flatbuffer structure</b> (what the flatbuffers verifier checks, plus the builder's
 *       conventions): every table's vtable, every offset, vector and string in bounds of the core
 *       and aligned; every field inside its table; every string NUL-terminated and valid UTF-8 (the
 *       flatbuffers format requires it); no field the schema does not have; every byte of the core
 *       that belongs to no object zero (a flatbuffers builder writes zero padding); no byte after
 *       the core.
 *   <li><b>What Quiver serves</b>: float features only (no categorical, one-hot, CTR, text,
 *       embedding or estimated features, no model parts after the core: the CatBoost plugin feeds
 *       float features only); oblivious (symmetric) trees only.
 *   <li><b>Consistency of the trees</b>: tree depths in [0, 16] (CatBoost's maximum); {@code
 *       TreeSplits} holds the sum of the depths, each split an index below the number of float
 *       borders; {@code TreeStartOffsets} the running sums of the depths; {@code LeafValues} {@code
 *       sum(2^depth) * ApproxDimension} finite values; float features in increasing {@code Index}
 *       and {@code FlatIndex}, their borders finite and strictly increasing, their NaN treatment a
 *       known value; {@code RepackedBins} (CatBoost's compact copy of the splits) equal to what the
 *       splits say; {@code Scale}, {@code Bias} and {@code MultiBias} finite.
 *   <li><b>Leaf weights</b> (the learn set's weight in each leaf, written by CatBoost for feature
 *       importance; unused by predictions), when present: one per leaf, finite and non-negative; a
 *       leaf with weight 0 holds value 0 (no learn object reached it); every tree's leaves
 *       partition the same learn set, so every tree's weights add up to the same total: exactly
 *       when all weights are whole numbers (unweighted training, sums exact in a double), else
 *       within a relative 1e-9 (weighted training, rounding).
 *   <li>The metadata ({@code InfoMap}): keys unique; a value that starts like a JSON object must be
 *       valid JSON.
 * </ol>
 *
 * <p>Not detectable here, by design: a different finite leaf value or border that keeps all of the
 * above (for example a flipped low mantissa bit) is a valid model, different from the one
 * registered; the registry's checksum of the file is what tells it from the original.
 */
final class CbmStructure {

    /** CatBoost's maximum depth of an oblivious tree. */
    static final int MAX_DEPTH = 16;

    /**
     * Float borders per bucket of CatBoost's binarised features (its {@code MAX_VALUES_PER_BIN}).
     */
    static final int BORDERS_PER_BUCKET = 254;

    // TModelTrees field ids (model.fbs), in declaration order.
    private static final int APPROX_DIMENSION = 0;
    private static final int TREE_SPLITS = 1;
    private static final int TREE_SIZES = 2;
    private static final int TREE_START_OFFSETS = 3;
    private static final int CAT_FEATURES = 4;
    private static final int FLOAT_FEATURES = 5;
    private static final int ONE_HOT_FEATURES = 6;
    private static final int CTR_FEATURES = 7;
    private static final int LEAF_VALUES = 8;
    private static final int LEAF_WEIGHTS = 9;
    private static final int NON_SYMMETRIC_STEP_NODES = 10;
    private static final int NON_SYMMETRIC_NODE_ID_TO_LEAF_ID = 11;
    private static final int TEXT_FEATURES = 12;
    private static final int ESTIMATED_FEATURES = 13;
    private static final int SCALE = 14;
    private static final int BIAS = 15;
    private static final int MULTI_BIAS = 16;
    private static final int REPACKED_BINS = 17;
    private static final int EMBEDDING_FEATURES = 18;
    private static final String[] TREES_FIELDS = {
        "ApproxDimension",
        "TreeSplits",
        "TreeSizes",
        "TreeStartOffsets",
        "CatFeatures",
        "FloatFeatures",
        "OneHotFeatures",
        "CtrFeatures",
        "LeafValues",
        "LeafWeights",
        "NonSymmetricStepNodes",
        "NonSymmetricNodeIdToLeafId",
        "TextFeatures",
        "EstimatedFeatures",
        "Scale",
        "Bias",
        "MultiBias",
        "RepackedBins",
        "EmbeddingFeatures"
    };
    // Inline size of each TModelTrees field: int, offsets, double Scale and Bias.
    private static final int[] TREES_SIZES = {
        4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 8, 8, 4, 4, 4
    };

    private CbmStructure() {}

    /** A problem found in the file: its message names the place. */
    static final class Damaged extends Exception {
        private static final long serialVersionUID = 1L;

        Damaged(String message) {
            super(message);
        }
    }

    /**
     * The first problem, if any.
     *
     * @param bytes the file
     * @param file its name, for messages
     * @return empty if none found
     */
    static Optional<String> problem(byte[] bytes, String file) {
        if (bytes.length < 8) {
            return Optional.of(file + " is " + bytes.length + " bytes: shorter than a CBM header");
        }
        long core =
                ByteBuffer.wrap(bytes, 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xffffffffL;
        if (core < 8 || core > bytes.length - 8) {
            return Optional.of(
                    String.format(
                            Locale.ROOT,
                            "%s: its header declares a %,d-byte model core, the file has %,d bytes"
                                    + " after the header (inflated size field or truncated)",
                            file,
                            core,
                            bytes.length - 8));
        }
        try {
            new Reader(bytes, (int) core).read();
            return Optional.empty();
        } catch (Damaged e) {
            return Optional.of(file + ": " + e.getMessage());
        }
    }

    /** One flatbuffer table: where it is, its vtable, its name for messages. */
    private record Table(int at, int vtable, int vtableSize, int inlineSize, String name) {}

    /** One vector: where its first element is and how many it holds. */
    private record Vector(int first, int length, String name) {}

    /** Reads and checks the core; positions are in the core, messages give file bytes. */
    private static final class Reader {
        private static final int HEADER = 8;
        private final byte[] file;
        private final ByteBuffer b;
        private final int size;
        private final BitSet covered;

        Reader(byte[] file, int coreSize) {
            this.file = file;
            this.size = coreSize;
            this.b = ByteBuffer.wrap(file, HEADER, coreSize).slice().order(ByteOrder.LITTLE_ENDIAN);
            this.covered = new BitSet(coreSize);
        }

        void read() throws Damaged {
            cover(0, 4);
            Table root = table(offset(0, "the root offset"), "TModelCore", 4);
            Optional<Integer> version = ref(root, 0, 4, "FormatVersion");
            if (version.isPresent()) {
                String v = string(version.get(), "TModelCore.FormatVersion");
                if (!v.startsWith("FlabuffersModel_v")) {
                    throw new Damaged(
                            "TModelCore.FormatVersion is '"
                                    + v
                                    + "', not CatBoost's 'FlabuffersModel_v1'");
                }
            }
            info(ref(root, 2, 4, "InfoMap"));
            Optional<Integer> parts = ref(root, 3, 4, "ModelPartIds");
            if (parts.isPresent()) {
                Vector v = vector(parts.get(), 4, "TModelCore.ModelPartIds");
                if (v.length() > 0) {
                    throw new Damaged(
                            "TModelCore.ModelPartIds names "
                                    + v.length()
                                    + " model part(s) after the core (CTR data): Quiver serves"
                                    + " float-feature CatBoost models only");
                }
            }
            int trees =
                    ref(root, 1, 4, "ModelTrees")
                            .orElseThrow(() -> new Damaged("TModelCore has no ModelTrees"));
            trees(table(trees, "TModelTrees", TREES_FIELDS.length));
            if (file.length != HEADER + size) {
                throw new Damaged(
                        String.format(
                                Locale.ROOT,
                                "%,d bytes follow the %,d-byte model core; a float-feature"
                                        + " CatBoost model ends with its core (appended data or a"
                                        + " damaged size field)",
                                file.length - HEADER - size,
                                size));
            }
            int unused = covered.nextClearBit(0);
            while (unused < size) {
                if (b.get(unused) != 0) {
                    throw new Damaged(
                            String.format(
                                    Locale.ROOT,
                                    "byte %,d (0x%02x) belongs to no field of the model and is not"
                                            + " zero: a flatbuffers builder pads with zeros"
                                            + " (damaged)",
                                    HEADER + unused,
                                    b.get(unused) & 0xff));
                }
                unused = covered.nextClearBit(unused + 1);
            }
        }

        private void info(Optional<Integer> at) throws Damaged {
            if (at.isEmpty()) {
                return;
            }
            Vector v = vector(at.get(), 4, "TModelCore.InfoMap");
            var json =
                    ModelStore.JSON.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
            java.util.Set<String> keys = new java.util.HashSet<>();
            for (int i = 0; i < v.length(); i++) {
                String where = "TModelCore.InfoMap[" + i + "]";
                Table kv = table(offset(v.first() + 4 * i, where), where, 2);
                String key =
                        string(
                                ref(kv, 0, 4, "Key")
                                        .orElseThrow(
                                                () ->
                                                        new Damaged(
                                                                where + " has no Key (required)")),
                                where + ".Key");
                String value =
                        string(
                                ref(kv, 1, 4, "Value")
                                        .orElseThrow(
                                                () ->
                                                        new Damaged(
                                                                where
                                                                        + " ('"
                                                                        + key
                                                                        + "') has no Value"
                                                                        + " (required)")),
                                "the metadata '" + key + "'");
                if (!keys.add(key)) {
                    throw new Damaged("the metadata key '" + key + "' appears twice");
                }
                if (value.startsWith("{\"")) {
                    try {
                        json.readTree(value);
                    } catch (java.io.IOException e) {
                        throw new Damaged(
                                "the metadata '"
                                        + key
                                        + "' is not valid JSON (damaged): "
                                        + e.getMessage().lines().findFirst().orElse(""));
                    }
                }
            }
        }

        private void trees(Table t) throws Damaged {
            for (int f :
                    new int[] {
                        CAT_FEATURES,
                        ONE_HOT_FEATURES,
                        CTR_FEATURES,
                        TEXT_FEATURES,
                        ESTIMATED_FEATURES,
                        EMBEDDING_FEATURES
                    }) {
                Optional<Integer> at = ref(t, f, 4, TREES_FIELDS[f]);
                if (at.isPresent()) {
                    Vector v = vector(at.get(), 4, "TModelTrees." + TREES_FIELDS[f]);
                    if (v.length() > 0) {
                        throw new Damaged(
                                String.format(
                                        Locale.ROOT,
                                        "TModelTrees.%s holds %,d entries: Quiver's CatBoost plugin"
                                                + " feeds float features only",
                                        TREES_FIELDS[f],
                                        v.length()));
                    }
                }
            }
            for (int f : new int[] {NON_SYMMETRIC_STEP_NODES, NON_SYMMETRIC_NODE_ID_TO_LEAF_ID}) {
                Optional<Integer> at = ref(t, f, 4, TREES_FIELDS[f]);
                if (at.isPresent() && vector(at.get(), 4, TREES_FIELDS[f]).length() > 0) {
                    throw new Damaged(
                            "TModelTrees."
                                    + TREES_FIELDS[f]
                                    + " is not empty: a non-symmetric tree (grow_policy Depthwise"
                                    + " or Lossguide), which the host does not verify; Quiver"
                                    + " serves symmetric (oblivious) CatBoost trees");
                }
            }
            int dimension = scalarInt(t, APPROX_DIMENSION, 0);
            if (dimension < 1 || dimension > 1 << 16) {
                throw new Damaged("TModelTrees.ApproxDimension is " + dimension + ", not >= 1");
            }
            int[] sizes = ints(required(t, TREE_SIZES));
            int[] splits = ints(required(t, TREE_SPLITS));
            long leaves = 0;
            int depths = 0;
            for (int i = 0; i < sizes.length; i++) {
                if (sizes[i] < 0 || sizes[i] > MAX_DEPTH) {
                    throw new Damaged(
                            String.format(
                                    Locale.ROOT,
                                    "TModelTrees.TreeSizes[%d] is %d, not a depth in [0, %d]",
                                    i,
                                    sizes[i],
                                    MAX_DEPTH));
                }
                leaves += 1L << sizes[i];
                depths += sizes[i];
            }
            if (sizes.length == 0) {
                throw new Damaged("TModelTrees.TreeSizes is empty: a model without trees");
            }
            if (splits.length != depths) {
                throw new Damaged(
                        String.format(
                                Locale.ROOT,
                                "TModelTrees.TreeSplits holds %,d splits, the %,d trees' depths add"
                                        + " up to %,d",
                                splits.length,
                                sizes.length,
                                depths));
            }
            Optional<Integer> startsAt = ref(t, TREE_START_OFFSETS, 4, "TreeStartOffsets");
            if (startsAt.isPresent()) {
                int[] starts = ints(vector(startsAt.get(), 4, "TModelTrees.TreeStartOffsets"));
                if (starts.length != sizes.length) {
                    throw new Damaged(
                            String.format(
                                    Locale.ROOT,
                                    "TModelTrees.TreeStartOffsets holds %,d offsets for %,d trees",
                                    starts.length,
                                    sizes.length));
                }
                for (int i = 0, sum = 0; i < sizes.length; sum += sizes[i], i++) {
                    if (starts[i] != sum) {
                        throw new Damaged(
                                String.format(
                                        Locale.ROOT,
                                        "TModelTrees.TreeStartOffsets[%d] is %d, the depths"
                                                + " before tree %d add up to %d",
                                        i,
                                        starts[i],
                                        i,
                                        sum));
                    }
                }
            }
            Floats floats = floatFeatures(t);
            for (int i = 0; i < splits.length; i++) {
                if (splits[i] < 0 || splits[i] >= floats.borders()) {
                    throw new Damaged(
                            String.format(
                                    Locale.ROOT,
                                    "TModelTrees.TreeSplits[%d] is %d, the float features have"
                                            + " %,d borders (split indices 0..%d)",
                                    i,
                                    splits[i],
                                    floats.borders(),
                                    floats.borders() - 1));
                }
            }
            repackedBins(t, splits, floats);
            long values = leaves * dimension;
            Vector lvDoubles = required(t, LEAF_VALUES);
            if (lvDoubles.length() != values) {
                throw new Damaged(
                        String.format(
                                Locale.ROOT,
                                "TModelTrees.LeafValues holds %,d values, the trees have %,d leaves"
                                        + " x %d dimension(s) = %,d",
                                lvDoubles.length(),
                                leaves,
                                dimension,
                                values));
            }
            for (int i = 0; i < lvDoubles.length(); i++) {
                finite(lvDoubles, i);
            }
            leafWeights(t, sizes, lvDoubles, leaves, dimension);
            finiteScalar(t, SCALE);
            finiteScalar(t, BIAS);
            Optional<Integer> multiBias = ref(t, MULTI_BIAS, 4, "MultiBias");
            if (multiBias.isPresent()) {
                Vector mb = vector(multiBias.get(), 8, "TModelTrees.MultiBias");
                if (mb.length() != 0 && mb.length() != dimension) {
                    throw new Damaged(
                            String.format(
                                    Locale.ROOT,
                                    "TModelTrees.MultiBias holds %d values for %d dimension(s)",
                                    mb.length(),
                                    dimension));
                }
                for (int i = 0; i < mb.length(); i++) {
                    finite(mb, i);
                }
            }
        }

        /** The float features: count, borders in all, and where each one's borders start. */
        private record Floats(int count, int borders, int[] firstBorder) {}

        private Floats floatFeatures(Table t) throws Damaged {
            Vector v = required(t, FLOAT_FEATURES);
            int[] first = new int[v.length() + 1];
            int lastIndex = -1;
            int lastFlat = -1;
            long borders = 0;
            for (int i = 0; i < v.length(); i++) {
                String where = "TModelTrees.FloatFeatures[" + i + "]";
                Table f = table(offset(v.first() + 4 * i, where), where, 6);
                int hasNans = scalarByte(f, 0, 0);
                if (hasNans > 1) {
                    throw new Damaged(where + ".HasNans is " + hasNans + ", not a bool (0 or 1)");
                }
                int index = scalarInt(f, 1, -1);
                int flat = scalarInt(f, 2, -1);
                if (index <= lastIndex || flat <= lastFlat) {
                    throw new Damaged(
                            String.format(
                                    Locale.ROOT,
                                    "%s has Index %d and FlatIndex %d after %d and %d: CatBoost"
                                            + " writes float features in increasing index order",
                                    where,
                                    index,
                                    flat,
                                    lastIndex,
                                    lastFlat));
                }
                lastIndex = index;
                lastFlat = flat;
                int nan = scalarByte(f, 5, 0);
                if (nan > 2) {
                    throw new Damaged(
                            where
                                    + ".NanValueTreatment is "
                                    + nan
                                    + ", not AsIs, AsFalse or AsTrue (0..2)");
                }
                Optional<Integer> id = ref(f, 4, 4, "FeatureId");
                if (id.isPresent()) {
                    string(id.get(), where + ".FeatureId");
                }
                first[i] = (int) borders;
                Optional<Integer> bAt = ref(f, 3, 4, "Borders");
                if (bAt.isPresent()) {
                    Vector bv = vector(bAt.get(), 4, where + ".Borders");
                    float previous = Float.NEGATIVE_INFINITY;
                    for (int k = 0; k < bv.length(); k++) {
                        float x = b.getFloat(bv.first() + 4 * k);
                        if (!Float.isFinite(x) || !(x > previous)) {
                            throw new Damaged(
                                    String.format(
                                            Locale.ROOT,
                                            "%s.Borders[%d] (byte %,d) is %s after %s: borders"
                                                    + " must be finite and strictly increasing",
                                            where,
                                            k,
                                            HEADER + bv.first() + 4 * k,
                                            x,
                                            previous));
                        }
                        previous = x;
                    }
                    borders += bv.length();
                }
            }
            first[v.length()] = (int) borders;
            return new Floats(v.length(), (int) borders, first);
        }

        /**
         * {@code RepackedBins}, when present: one per split, the bucket of the split's float
         * feature (each feature with borders takes {@code ceil(borders / 254)} buckets, in feature
         * order; a feature without borders takes none), {@code SplitIdx} the border's index in its
         * bucket plus one, {@code XorMask} 0 (what CatBoost 1.2.7 writes for float splits, whatever
         * the NaN treatment; checked on models it trained with 592 and 622 borders on a feature, a
         * constant feature first, and {@code nan_mode} Min and Max).
         */
        private void repackedBins(Table t, int[] splits, Floats floats) throws Damaged {
            Optional<Integer> at = ref(t, REPACKED_BINS, 4, "RepackedBins");
            if (at.isEmpty()) {
                return;
            }
            Vector v = vector(at.get(), 4, "TModelTrees.RepackedBins");
            if (v.length() == 0) {
                return;
            }
            if (v.length() != splits.length) {
                throw new Damaged(
                        String.format(
                                Locale.ROOT,
                                "TModelTrees.RepackedBins holds %,d bins for %,d splits",
                                v.length(),
                                splits.length));
            }
            int[] firstBucket = new int[floats.count()];
            for (int f = 0, bucket = 0; f < floats.count(); f++) {
                firstBucket[f] = bucket;
                int n = floats.firstBorder()[f + 1] - floats.firstBorder()[f];
                bucket += (n + BORDERS_PER_BUCKET - 1) / BORDERS_PER_BUCKET;
            }
            for (int i = 0; i < splits.length; i++) {
                int feature = 0;
                while (floats.firstBorder()[feature + 1] <= splits[i]) {
                    feature++;
                }
                int border = splits[i] - floats.firstBorder()[feature];
                int bucket = firstBucket[feature] + border / BORDERS_PER_BUCKET;
                int pos = v.first() + 4 * i;
                int gotBucket = b.getShort(pos) & 0xffff;
                int xor = b.get(pos + 2) & 0xff;
                int idx = b.get(pos + 3) & 0xff;
                if (gotBucket != bucket || xor != 0 || idx != border % BORDERS_PER_BUCKET + 1) {
                    throw new Damaged(
                            String.format(
                                    Locale.ROOT,
                                    "TModelTrees.RepackedBins[%d] (byte %,d) is {FeatureIndex %d,"
                                            + " XorMask %d, SplitIdx %d}, but TreeSplits[%d] = %d"
                                            + " is border %d of float feature %d: {%d, 0, %d}",
                                    i,
                                    HEADER + pos,
                                    gotBucket,
                                    xor,
                                    idx,
                                    i,
                                    splits[i],
                                    border,
                                    feature,
                                    bucket,
                                    border % BORDERS_PER_BUCKET + 1));
                }
            }
        }

        private void leafWeights(Table t, int[] sizes, Vector values, long leaves, int dimension)
                throws Damaged {
            Optional<Integer> at = ref(t, LEAF_WEIGHTS, 4, "LeafWeights");
            if (at.isEmpty()) {
                return;
            }
            Vector w = vector(at.get(), 8, "TModelTrees.LeafWeights");
            if (w.length() == 0) {
                return;
            }
            if (w.length() != leaves) {
                throw new Damaged(
                        String.format(
                                Locale.ROOT,
                                "TModelTrees.LeafWeights holds %,d weights for %,d leaves",
                                w.length(),
                                leaves));
            }
            boolean whole = true;
            for (int i = 0; i < w.length(); i++) {
                double x = finite(w, i);
                if (x < 0) {
                    throw new Damaged(
                            String.format(
                                    Locale.ROOT,
                                    "TModelTrees.LeafWeights[%d] (byte %,d) is %s: a weight is not"
                                            + " negative",
                                    i,
                                    HEADER + w.first() + 8 * i,
                                    x));
                }
                whole &= x == Math.rint(x);
                if (x == 0) {
                    for (int d = 0; d < dimension; d++) {
                        int k = i * dimension + d;
                        double value = values(values, k);
                        if (value != 0) {
                            throw new Damaged(
                                    String.format(
                                            Locale.ROOT,
                                            "TModelTrees.LeafValues[%d] (byte %,d) is %s, but its"
                                                    + " leaf's weight is 0: a leaf no learn object"
                                                    + " reached has value 0",
                                            k,
                                            HEADER + values.first() + 8 * k,
                                            value));
                        }
                    }
                }
            }
            double first = Double.NaN;
            for (int tree = 0, leaf = 0; tree < sizes.length; tree++) {
                double sum = 0;
                int n = 1 << sizes[tree];
                for (int k = 0; k < n; k++) {
                    sum += b.getDouble(w.first() + 8 * (leaf + k));
                }
                if (tree == 0) {
                    first = sum;
                } else if (whole ? sum != first : Math.abs(sum - first) > 1e-9 * first) {
                    throw new Damaged(
                            String.format(
                                    Locale.ROOT,
                                    "the leaf weights of tree %d (TModelTrees.LeafWeights[%d..%d])"
                                            + " add up to %s, tree 0's to %s: every tree's leaves"
                                            + " partition the same learn set (a sum_models"
                                            + " model, whose trees come from different learn"
                                            + " sets, is refused too)",
                                    tree,
                                    leaf,
                                    leaf + n - 1,
                                    sum,
                                    first));
                }
                leaf += n;
            }
        }

        // ---- flatbuffer primitives -------------------------------------------------------

        private void cover(int at, int length) {
            covered.set(at, at + length);
        }

        private void inBounds(int at, long length, int align, String what) throws Damaged {
            if (at < 0 || length < 0 || at + length > size) {
                throw new Damaged(
                        String.format(
                                Locale.ROOT,
                                "%s at byte %,d (%,d bytes) lies outside the %,d-byte model core",
                                what,
                                HEADER + (long) at,
                                length,
                                size));
            }
            if (at % align != 0) {
                throw new Damaged(
                        String.format(
                                Locale.ROOT,
                                "%s at byte %,d is not aligned to %d bytes",
                                what,
                                HEADER + at,
                                align));
            }
        }

        /** Follows the {@code uoffset} at {@code at} (forward, in bounds). */
        private int offset(int at, String what) throws Damaged {
            inBounds(at, 4, 4, what);
            cover(at, 4);
            long o = b.getInt(at) & 0xffffffffL;
            if (o == 0 || at + o >= size) {
                throw new Damaged(
                        String.format(
                                Locale.ROOT,
                                "%s at byte %,d points %,d bytes on, outside the %,d-byte model"
                                        + " core",
                                what,
                                HEADER + at,
                                o,
                                size));
            }
            return (int) (at + o);
        }

        private Table table(int at, String name, int fields) throws Damaged {
            inBounds(at, 4, 4, name);
            int vtable = at - b.getInt(at);
            long vt = (long) at - b.getInt(at);
            if (vt < 0 || vt + 4 > size || vt % 2 != 0) {
                throw new Damaged(
                        String.format(
                                Locale.ROOT,
                                "the vtable of %s (table at byte %,d) would be at byte %,d, outside"
                                        + " the model core or misaligned",
                                name,
                                HEADER + at,
                                HEADER + vt));
            }
            int vtSize = b.getShort(vtable) & 0xffff;
            int inline = b.getShort(vtable + 2) & 0xffff;
            if (vtSize < 4 || vtSize % 2 != 0 || vtable + vtSize > size) {
                throw new Damaged(
                        String.format(
                                Locale.ROOT,
                                "the vtable of %s (byte %,d) declares %d bytes",
                                name,
                                HEADER + vtable,
                                vtSize));
            }
            inBounds(at, Math.max(4, inline), 4, name + " (its " + inline + " inline bytes)");
            cover(vtable, vtSize);
            cover(at, Math.max(4, inline));
            Table t = new Table(at, vtable, vtSize, inline, name);
            for (int f = 0; f < (vtSize - 4) / 2; f++) {
                int o = b.getShort(vtable + 4 + 2 * f) & 0xffff;
                if (o == 0) {
                    continue;
                }
                if (f >= fields) {
                    throw new Damaged(
                            String.format(
                                    Locale.ROOT,
                                    "%s (byte %,d) has a field number %d; CatBoost 1.2's schema"
                                            + " gives it %d fields (damaged, or a newer CatBoost)",
                                    name,
                                    HEADER + at,
                                    f,
                                    fields));
                }
                if (o < 4 || o >= Math.max(4, inline)) {
                    throw new Damaged(
                            String.format(
                                    Locale.ROOT,
                                    "%s (byte %,d): field %d lies at %d, outside its %d inline"
                                            + " bytes",
                                    name,
                                    HEADER + at,
                                    f,
                                    o,
                                    inline));
                }
            }
            return t;
        }

        /** The position of field {@code f}, after checking its {@code size} bytes fit. */
        private Optional<Integer> field(Table t, int f, int size) throws Damaged {
            if (4 + 2 * f + 2 > t.vtableSize()) {
                return Optional.empty();
            }
            int o = b.getShort(t.vtable() + 4 + 2 * f) & 0xffff;
            if (o == 0) {
                return Optional.empty();
            }
            if (o + size > t.inlineSize()) {
                throw new Damaged(
                        String.format(
                                Locale.ROOT,
                                "%s (byte %,d): field %d (%d bytes at %d) runs past its %d inline"
                                        + " bytes",
                                t.name(),
                                HEADER + t.at(),
                                f,
                                size,
                                o,
                                t.inlineSize()));
            }
            inBounds(t.at() + o, size, size, t.name() + " field " + f);
            return Optional.of(t.at() + o);
        }

        private Optional<Integer> ref(Table t, int f, int size, String name) throws Damaged {
            Optional<Integer> at = field(t, f, size);
            if (at.isEmpty()) {
                return at;
            }
            return Optional.of(offset(at.get(), t.name() + "." + name));
        }

        private int scalarInt(Table t, int f, int absent) throws Damaged {
            Optional<Integer> at = field(t, f, 4);
            return at.isPresent() ? b.getInt(at.get()) : absent;
        }

        private int scalarByte(Table t, int f, int absent) throws Damaged {
            Optional<Integer> at = field(t, f, 1);
            return at.isPresent() ? b.get(at.get()) & 0xff : absent;
        }

        private void finiteScalar(Table t, int f) throws Damaged {
            Optional<Integer> at = field(t, f, 8);
            if (at.isPresent() && !Double.isFinite(b.getDouble(at.get()))) {
                throw new Damaged(
                        String.format(
                                Locale.ROOT,
                                "TModelTrees.%s (byte %,d) is %s, not a finite number",
                                TREES_FIELDS[f],
                                HEADER + at.get(),
                                b.getDouble(at.get())));
            }
        }

        private Vector required(Table t, int f) throws Damaged {
            int at =
                    ref(t, f, 4, TREES_FIELDS[f])
                            .orElseThrow(
                                    () -> new Damaged("TModelTrees has no " + TREES_FIELDS[f]));
            int element = f == LEAF_VALUES || f == LEAF_WEIGHTS ? 8 : 4;
            return vector(at, element, "TModelTrees." + TREES_FIELDS[f]);
        }

        /** A vector of {@code element}-byte items at {@code at}: length, bounds, alignment. */
        private Vector vector(int at, int element, String name) throws Damaged {
            inBounds(at, 4, 4, name + "'s length");
            long n = b.getInt(at) & 0xffffffffL;
            inBounds(at + 4, n * element, element, name + " (" + n + " items)");
            cover(at, (int) (4 + n * element));
            return new Vector(at + 4, (int) n, name);
        }

        private int[] ints(Vector v) {
            int[] out = new int[v.length()];
            for (int i = 0; i < out.length; i++) {
                out[i] = b.getInt(v.first() + 4 * i);
            }
            return out;
        }

        private double values(Vector v, int i) {
            return b.getDouble(v.first() + 8 * i);
        }

        private double finite(Vector v, int i) throws Damaged {
            double x = b.getDouble(v.first() + 8 * i);
            if (!Double.isFinite(x)) {
                throw new Damaged(
                        String.format(
                                Locale.ROOT,
                                "%s[%d] (byte %,d) is %s, not a finite number",
                                v.name(),
                                i,
                                HEADER + v.first() + 8 * i,
                                x));
            }
            return x;
        }

        /** A string at {@code at}: in bounds, NUL-terminated, valid UTF-8. */
        private String string(int at, String what) throws Damaged {
            inBounds(at, 4, 4, what + "'s length");
            long n = b.getInt(at) & 0xffffffffL;
            inBounds(at + 4, n + 1, 1, what + " (" + n + " bytes and a NUL)");
            cover(at, (int) (4 + n + 1));
            if (b.get((int) (at + 4 + n)) != 0) {
                throw new Damaged(
                        String.format(
                                Locale.ROOT,
                                "%s (byte %,d, %,d bytes) does not end with the NUL a flatbuffers"
                                        + " string has (damaged length or text)",
                                what,
                                HEADER + at,
                                n));
            }
            try {
                return StandardCharsets.UTF_8
                        .newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(b.slice(at + 4, (int) n))
                        .toString();
            } catch (CharacterCodingException e) {
                throw new Damaged(
                        String.format(
                                Locale.ROOT,
                                "%s (byte %,d, %,d bytes) is not valid UTF-8 (damaged)",
                                what,
                                HEADER + at + 4,
                                n));
            }
        }
    }
}
