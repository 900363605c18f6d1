package dev.quiver.host.web;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.market.Bar;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the bars of a {@code POST /v1/sessions/{symbol}/bars} body ({@code {"bars": [{timestamp,
 * open, high, low, close, volume}, ...]}}) with Jackson's streaming parser, without building the
 * body's tree first: the route's common case, one or a few well-formed bars, costs no {@code
 * JsonNode} per field.
 *
 * <p>It only takes what {@link DecisionService#bars} takes to the same bars: the root an object,
 * {@code bars} a non-empty array of objects, each with its six fields once, numbers for the prices
 * and volume, an ISO-8601 instant or epoch milliseconds (a whole number within {@code long}) for
 * the timestamp, valid bars in strictly increasing time. Other fields, at the root or in a bar, are
 * skipped, as the tree reader skips them. Anything else (a missing or repeated field, a value of
 * another type, an invalid bar, bars out of order, malformed JSON) gives {@code null}: the caller
 * then reads the body as a tree with {@link DecisionService#bars}, whose refusal names the field.
 */
final class BarsBody {

    private static final String[] FIELDS = {"timestamp", "open", "high", "low", "close", "volume"};

    private BarsBody() {}

    /**
     * The bars of a body, or {@code null} when the tree reader must look at it.
     *
     * @param json the factory to parse with
     * @param body the request's bytes
     * @return the bars, oldest first, as {@link DecisionService#bars} reads them; or {@code null}
     */
    static List<Bar> read(JsonFactory json, byte[] body) {
        try (JsonParser p = json.createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            List<Bar> bars = null;
            for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
                if (t != JsonToken.FIELD_NAME) {
                    return null;
                }
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if (name.equals("bars")) {
                    if (bars != null || v != JsonToken.START_ARRAY) {
                        return null;
                    }
                    bars = array(p);
                    if (bars == null) {
                        return null;
                    }
                } else {
                    p.skipChildren();
                }
            }
            return bars;
        } catch (IOException | RuntimeException e) {
            // Malformed JSON, a number out of range, an invalid bar: the tree reader says which.
            return null;
        }
    }

    /** The array's bars, the parser on its {@code START_ARRAY}; null to defer to the tree. */
    private static List<Bar> array(JsonParser p) throws IOException {
        List<Bar> bars = new ArrayList<>(1);
        for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
            if (t != JsonToken.START_OBJECT) {
                return null;
            }
            Bar b = bar(p);
            if (b == null
                    || (!bars.isEmpty() && !b.start().isAfter(bars.get(bars.size() - 1).start()))) {
                return null;
            }
            bars.add(b);
        }
        return bars.isEmpty() ? null : bars;
    }

    /** One bar, the parser on its {@code START_OBJECT}; null to defer to the tree. */
    private static Bar bar(JsonParser p) throws IOException {
        Instant start = null;
        double[] values = new double[FIELDS.length];
        int seen = 0;
        for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
            if (t != JsonToken.FIELD_NAME) {
                return null;
            }
            int f = field(p.currentName());
            JsonToken v = p.nextToken();
            if (f < 0) {
                p.skipChildren();
                continue;
            }
            if ((seen & (1 << f)) != 0) {
                return null; // repeated: the tree keeps the last one, let it
            }
            seen |= 1 << f;
            if (f == 0) {
                start = timestamp(p, v);
                if (start == null) {
                    return null;
                }
            } else if (v == JsonToken.VALUE_NUMBER_INT || v == JsonToken.VALUE_NUMBER_FLOAT) {
                values[f] = p.getDoubleValue();
            } else {
                return null;
            }
        }
        if (seen != (1 << FIELDS.length) - 1) {
            return null;
        }
        try {
            return new Bar(start, values[1], values[2], values[3], values[4], values[5]);
        } catch (QuiverInputException e) {
            return null;
        }
    }

    private static int field(String name) {
        for (int i = 0; i < FIELDS.length; i++) {
            if (FIELDS[i].equals(name)) {
                return i;
            }
        }
        return -1;
    }

    private static Instant timestamp(JsonParser p, JsonToken v) throws IOException {
        if (v == JsonToken.VALUE_NUMBER_INT) {
            JsonParser.NumberType type = p.getNumberType();
            return type == JsonParser.NumberType.INT || type == JsonParser.NumberType.LONG
                    ? Instant.ofEpochMilli(p.getLongValue())
                    : null;
        }
        if (v == JsonToken.VALUE_STRING) {
            try {
                return Instant.parse(p.getText());
            } catch (DateTimeParseException e) {
                return null;
            }
        }
        return null;
    }
}
