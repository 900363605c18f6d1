package dev.quiver.host.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The CatBoost header and metadata-string checks, on the shipped {@code catboost.cbm}. */
class CbmStructureTest {

    static final Path CBM =
            Path.of(
                    "..",
                    "plugins/prediction-catboost/src/main/resources/dev/quiver/plugins/catboost/model/catboost.cbm");

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
    void aDamagedMetadataStringIsRefused() throws Exception {
        byte[] b = Files.readAllBytes(CBM);
        int at = new String(b, StandardCharsets.ISO_8859_1).indexOf("{\"detailed_profile\"") + 5;
        byte[] flipped = b.clone();
        flipped[at] ^= (byte) 0x80;
        assertThat(CbmStructure.problem(flipped, "catboost.cbm"))
                .get()
                .asString()
                .contains("is not valid UTF-8");
        byte[] broken = b.clone();
        // '"detailed_profile":false' -> '"detailed_profile"#false': not JSON
        broken[new String(b, StandardCharsets.ISO_8859_1).indexOf("\"detailed_profile\":") + 18] =
                '#';
        assertThat(CbmStructure.problem(broken, "catboost.cbm"))
                .get()
                .asString()
                .contains("is not valid JSON");
    }
}
