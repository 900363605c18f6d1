package dev.quiver.host.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The CatBoost checks ({@link CbmStructure}) on the shipped {@code catboost.cbm}, each damaged in
 * one place found by walking the flatbuffer (positions below are file offsets).
 */
class CbmStructureTest {

    static final Path CBM =
            Path.of(
                    "..",
                    "plugins/prediction-catboost/src/main/resources/dev/quiver/plugins/catboost/model/catboost.cbm");

    // TModelTrees field ids of model.fbs.
    static final int TREE_SPLITS = 1;
    static final int FLOAT_FEATURES = 5;
    static final int LEAF_VALUES = 8;
    static final int LEAF_WEIGHTS = 9;
    static final int REPACKED_BINS = 17;

    @Test
    void theShippedModelPasses() throws Exception {
        assertThat(CbmStructure.problem(Files.readAllBytes(CBM), "catboost.cbm")).isEmpty();
    }

    @Test
    void aCoreSizeBeyondTheFileIsRefused() throws Exception {
        byte[] b = Files.readAllBytes(CBM);
        ByteBuffer.wrap(b, 4, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(0x7fffffff);
        assertThat(CbmStructure.problem(b, "catboost.cbm"))
                .get()
                .asString()
                .contains("declares a 2,147,483,647-byte model core, the file has 18,360 bytes");
    }

    @Test
    void bytesAfterTheCoreAndARootOffsetOutsideItAreRefused() throws Exception {
        byte[] b = Files.readAllBytes(CBM);
        assertThat(CbmStructure.problem(Arrays.copyOf(b, b.length + 4), "catboost.cbm"))
                .get()
                .asString()
                .contains("4 bytes follow the 18,360-byte model core");
        buf(b).putInt(8, 0x7ffffff0);
        assertThat(CbmStructure.problem(b, "catboost.cbm"))
                .get()
                .asString()
                .contains("the root offset at byte 8 points 2,147,483,632 bytes on, outside");
    }

    @Test
    void aDamagedMetadataStringIsRefused() throws Exception {
        byte[] b = Files.readAllBytes(CBM);
        int at = new String(b, StandardCharsets.ISO_8859_1).indexOf("{\"detailed_profile\"") + 5;
        byte[] flipped = b.clone();
        flipped[at] ^= (byte) 0x80;
        assertThat(CbmStructure.problem(flipped, "catboost.cbm"))
                .get()
                .asString()
                .contains("the metadata 'params'")
                .contains("is not valid UTF-8");
        byte[] broken = b.clone();
        // '"detailed_profile":false' -> '"detailed_profile"#false': not JSON
        broken[new String(b, StandardCharsets.ISO_8859_1).indexOf("\"detailed_profile\":") + 18] =
                '#';
        assertThat(CbmStructure.problem(broken, "catboost.cbm"))
                .get()
                .asString()
                .contains("the metadata 'params' is not valid JSON");
    }

    @Test
    void aNonZeroPaddingByteIsRefused() throws Exception {
        byte[] b = Files.readAllBytes(CBM);
        // "FlabuffersModel_v1": 4-byte length, 18 bytes, NUL, then 1 byte of padding to 4 bytes.
        int pad = new String(b, StandardCharsets.ISO_8859_1).indexOf("FlabuffersModel_v1") + 18 + 1;
        assertThat(b[pad]).isZero();
        b[pad] = (byte) 0x80;
        assertThat(CbmStructure.problem(b, "catboost.cbm"))
                .get()
                .asString()
                .contains(String.format("byte %,d (0x80) belongs to no field", pad));
    }

    @Test
    void aSplitIndexBeyondTheBordersIsRefused() throws Exception {
        byte[] b = Files.readAllBytes(CBM);
        ByteBuffer bb = buf(b);
        bb.putInt(vector(bb, trees(bb), TREE_SPLITS), 85);
        assertThat(CbmStructure.problem(b, "catboost.cbm"))
                .get()
                .asString()
                .contains("TreeSplits[0] is 85, the float features have 85 borders");
    }

    @Test
    void bordersOutOfOrderAreRefused() throws Exception {
        byte[] b = Files.readAllBytes(CBM);
        ByteBuffer bb = buf(b);
        int features = vector(bb, trees(bb), FLOAT_FEATURES);
        int first = features + bb.getInt(features);
        int borders = vector(bb, first, 3);
        float b0 = bb.getFloat(borders);
        bb.putFloat(borders, bb.getFloat(borders + 4));
        bb.putFloat(borders + 4, b0);
        assertThat(CbmStructure.problem(b, "catboost.cbm"))
                .get()
                .asString()
                .contains("TModelTrees.FloatFeatures[0].Borders[1]")
                .contains("must be finite and strictly increasing");
    }

    @Test
    void repackedBinsThatDisagreeWithTheSplitsAreRefused() throws Exception {
        byte[] b = Files.readAllBytes(CBM);
        ByteBuffer bb = buf(b);
        int bins = vector(bb, trees(bb), REPACKED_BINS);
        bb.put(bins + 3, (byte) (bb.get(bins + 3) + 1));
        assertThat(CbmStructure.problem(b, "catboost.cbm"))
                .get()
                .asString()
                .contains("TModelTrees.RepackedBins[0]")
                .contains("but TreeSplits[0] = ");
    }

    @Test
    void leafValuesAndWeightsThatBreakTheTreesInvariantsAreRefused() throws Exception {
        byte[] original = Files.readAllBytes(CBM);
        ByteBuffer ob = buf(original);
        int values = vector(ob, trees(ob), LEAF_VALUES);
        int weights = vector(ob, trees(ob), LEAF_WEIGHTS);
        int empty = 0;
        while (ob.getDouble(weights + 8 * empty) != 0) {
            empty++;
        }
        byte[] b = original.clone();
        buf(b).putDouble(values + 8 * empty, 1e-300);
        assertThat(CbmStructure.problem(b, "catboost.cbm"))
                .get()
                .asString()
                .contains("LeafValues[" + empty + "]")
                .contains("but its leaf's weight is 0");
        b = original.clone();
        buf(b).putDouble(values, Double.NaN);
        assertThat(CbmStructure.problem(b, "catboost.cbm"))
                .get()
                .asString()
                .contains("TModelTrees.LeafValues[0]")
                .contains("is NaN, not a finite number");
        b = original.clone();
        buf(b).putDouble(weights + 8 * 17, ob.getDouble(weights + 8 * 17) + 1);
        assertThat(CbmStructure.problem(b, "catboost.cbm"))
                .get()
                .asString()
                .contains("the leaf weights of tree 1 (TModelTrees.LeafWeights[16..31]) add up to")
                .contains("every tree's leaves partition the same learn set");
    }

    // ---- walking the flatbuffer (file offsets; the core starts at byte 8) -------------------

    static ByteBuffer buf(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The position of table field {@code f}'s value, or -1. */
    static int field(ByteBuffer b, int table, int f) {
        int vtable = table - b.getInt(table);
        int o = 4 + 2 * f < b.getShort(vtable) ? b.getShort(vtable + 4 + 2 * f) : 0;
        return o == 0 ? -1 : table + o;
    }

    static int deref(ByteBuffer b, int at) {
        return at + b.getInt(at);
    }

    static int trees(ByteBuffer b) {
        return deref(b, field(b, deref(b, 8), 1));
    }

    /** The first element of the vector in field {@code f} of a table. */
    static int vector(ByteBuffer b, int table, int f) {
        return deref(b, field(b, table, f)) + 4;
    }
}
