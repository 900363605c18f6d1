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
 * the bytes, a NUL) must be valid UTF-8, as the flatbuffers format requires of strings, and valid
 * JSON wherever it starts like a JSON object. A length-prefixed run is taken for such a string when
 * it starts like a JSON object, or has no control byte and is at least 90% printable ASCII. A
 * flipped or zeroed byte there is damage CatBoost itself never looks at.
 */
final class CbmStructure {

    /** Shortest length-prefixed text taken for a metadata string, in bytes. */
    static final int MIN_STRING = 8;

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
        var jsonReader =
                ModelStore.JSON
                        .reader()
                        .with(
                                com.fasterxml.jackson.databind.DeserializationFeature
                                        .FAIL_ON_TRAILING_TOKENS);
        for (int i = 12; i < bytes.length - 1; i++) {
            long len =
                    ByteBuffer.wrap(bytes, i - 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt()
                            & 0xffffffffL;
            if (len < MIN_STRING || len > bytes.length - 1 - i || bytes[(int) (i + len)] != 0) {
                continue;
            }
            int n = (int) len;
            int text = 0;
            boolean control = false;
            for (int j = i; j < i + n && !control; j++) {
                int c = bytes[j] & 0xff;
                if ((c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t' || c == '\r') {
                    text++;
                } else {
                    control = c < 0x20 || c == 0x7f;
                }
            }
            boolean json = bytes[i] == '{' && bytes[i + 1] == '"';
            if (!json && (control || text * 10L < n * 9L)) {
                continue; // not a text string: binary data that happens to look length-prefixed
            }
            String s;
            try {
                s = utf8.decode(ByteBuffer.wrap(bytes, i, n)).toString();
            } catch (CharacterCodingException e) {
                return Optional.of(
                        file
                                + ": the metadata string at byte "
                                + i
                                + " ("
                                + n
                                + " bytes) is not valid UTF-8 (damaged)");
            }
            if (json) {
                try {
                    jsonReader.readTree(s);
                } catch (java.io.IOException e) {
                    return Optional.of(
                            file
                                    + ": the metadata string at byte "
                                    + i
                                    + " is not valid JSON (damaged): "
                                    + e.getMessage().lines().findFirst().orElse(""));
                }
            }
            i += n;
        }
        return Optional.empty();
    }
}
