package dev.quiver.host.registry;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;

/**
 * A CatBoost {@code .cbm} checked before CatBoost parses it: {@code CBM1}, then the little-endian
 * uint32 size of the flatbuffer core, which must fit in the file; and the metadata CatBoost stores
 * as flatbuffer strings (training parameters, metrics, class names: each a {@code uint32} length,
 * the bytes, a NUL) must be valid UTF-8 JSON wherever it starts like a JSON object, as the
 * flatbuffers format requires of strings. A flipped or zeroed byte there is damage CatBoost itself
 * never looks at.
 */
final class CbmStructure {

    private CbmStructure() {}

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
        var utf8 =
                StandardCharsets.UTF_8
                        .newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT);
        for (int i = 12; i < bytes.length - 1; i++) {
            if (bytes[i] != '{' || bytes[i + 1] != '"') {
                continue;
            }
            long len =
                    ByteBuffer.wrap(bytes, i - 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt()
                            & 0xffffffffL;
            if (len < 2 || i + len >= bytes.length || bytes[(int) (i + len)] != 0) {
                continue; // not the start of a flatbuffer string
            }
            try {
                String s = utf8.decode(ByteBuffer.wrap(bytes, i, (int) len)).toString();
                ModelStore.JSON.readTree(s);
            } catch (CharacterCodingException e) {
                return Optional.of(
                        file
                                + ": the metadata string at byte "
                                + i
                                + " is not valid UTF-8 (damaged)");
            } catch (java.io.IOException e) {
                return Optional.of(
                        file
                                + ": the metadata string at byte "
                                + i
                                + " is not valid JSON (damaged): "
                                + e.getMessage().lines().findFirst().orElse(""));
            }
            i += (int) len;
        }
        return Optional.empty();
    }
}
