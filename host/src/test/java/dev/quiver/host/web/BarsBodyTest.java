package dev.quiver.host.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.market.Bar;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link BarsBody} against the tree reader it stands in for ({@link DecisionService#bars} on the
 * parsed body): on every body it either reads the very bars the tree reader reads, or gives {@code
 * null} and leaves the body to the tree reader; it never takes a body the tree reader refuses. The
 * common well-formed bodies (real BTC bars, one and several per body, ISO or epoch-millisecond
 * timestamps, extra fields) take the streaming path.
 */
class BarsBodyTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final BarData BTC = BundledData.BTC_USD_4H.load();

    private static final String ONE =
            "{\"timestamp\":\"2024-01-01T00:00:00Z\",\"open\":100,\"high\":110,\"low\":95,"
                    + "\"close\":105.5,\"volume\":12.25}";
    private static final String TWO =
            "{\"timestamp\":\"2024-01-01T04:00:00Z\",\"open\":105.5,\"high\":106,\"low\":101,"
                    + "\"close\":102,\"volume\":3}";

    /** What the tree reader makes of a body: its bars, or null when it refuses the body. */
    private static List<Bar> tree(String body) {
        try {
            JsonNode n = body.isBlank() ? JSON.createObjectNode() : JSON.readTree(body);
            if (n == null || !n.isObject()) {
                return null;
            }
            return DecisionService.bars(n.get("bars"));
        } catch (Exception e) {
            return null;
        }
    }

    private static List<Bar> fast(String body) {
        return BarsBody.read(JSON.getFactory(), body.getBytes(StandardCharsets.UTF_8));
    }

    /** The streaming reader takes the body, with the tree reader's bars. */
    private static void streamed(String body) {
        List<Bar> fast = fast(body);
        assertThat(fast).as("streamed: %s", body).isNotNull();
        assertThat(fast).as(body).isEqualTo(tree(body));
    }

    /** The streaming reader leaves the body to the tree reader. */
    private static void deferred(String body) {
        assertThat(fast(body)).as("deferred: %s", body).isNull();
    }

    @Test
    void realBarsStreamAsTheTreeReadsThem() throws Exception {
        int n = 0;
        for (int i = 0; i + 3 <= 600; i += 3) {
            ArrayNode bars = JSON.createArrayNode();
            for (int k = 0; k < (i % 2 == 0 ? 1 : 3); k++) {
                Bar b = BTC.bar(i + k);
                ObjectNode o = bars.addObject();
                if (k == 1) {
                    o.put("timestamp", b.start().toEpochMilli());
                } else {
                    o.put("timestamp", b.start().toString());
                }
                o.put("open", b.open());
                o.put("high", b.high());
                o.put("low", b.low());
                o.put("close", b.close());
                o.put("volume", b.volume());
            }
            ObjectNode body = JSON.createObjectNode();
            body.set("bars", bars);
            String text = JSON.writeValueAsString(body);
            streamed(text);
            assertThat(fast(text).get(0)).isEqualTo(BTC.bar(i));
            n++;
        }
        System.out.printf("BarsBodyTest: %d real-bar bodies streamed as the tree reads them%n", n);
    }

    @Test
    void wellFormedVariantsStream() {
        streamed("{\"bars\":[" + ONE + "]}");
        streamed("{\"bars\":[" + ONE + "," + TWO + "]}");
        streamed(" \n{\"symbol\":\"X\",\"bars\":[" + ONE + "],\"extra\":{\"a\":[1,2,{}]}}  ");
        streamed(
                "{\"bars\":[{\"note\":[1,{\"x\":null}],\"timestamp\":1704067200000,\"open\":1,"
                        + "\"high\":2,\"low\":0.5,\"close\":1.5,\"volume\":0,\"n\":\"s\"}]}");
        streamed("{\"bars\":[" + ONE + "]} trailing");
        streamed(
                "{\"bars\":[{\"timestamp\":\"2024-01-01T00:00:00+01:00\",\"open\":1e2,"
                        + "\"high\":1.1E2,\"low\":95,\"close\":105,\"volume\":123456789012345678901}]}");
    }

    @Test
    void everythingElseIsLeftToTheTreeReader() {
        String[] bodies = {
            "",
            "   ",
            "null",
            "[]",
            "[" + ONE + "]",
            "{}",
            "{\"bars\":null}",
            "{\"bars\":{}}",
            "{\"bars\":[]}",
            "{\"bars\":[1]}",
            "{\"bars\":[null]}",
            "{\"bars\":[" + ONE + "],\"bars\":[" + TWO + "]}",
            "{\"bars\":[" + TWO + "," + ONE + "]}",
            "{\"bars\":[" + ONE + "," + ONE + "]}",
            "{\"bars\":[" + ONE.replace("\"volume\":12.25", "\"volume\":\"12\"") + "]}",
            "{\"bars\":[" + ONE.replace("\"volume\":12.25", "\"volume\":null") + "]}",
            "{\"bars\":[" + ONE.replace(",\"volume\":12.25", "") + "]}",
            "{\"bars\":[" + ONE.replace("\"open\":100", "\"open\":100,\"open\":101") + "]}",
            "{\"bars\":[" + ONE.replace("\"high\":110", "\"high\":90") + "]}",
            "{\"bars\":[" + ONE.replace("\"low\":95", "\"low\":-5") + "]}",
            "{\"bars\":[" + ONE.replace("2024-01-01T00:00:00Z", "yesterday") + "]}",
            "{\"bars\":[" + ONE.replace("\"2024-01-01T00:00:00Z\"", "1.5") + "]}",
            "{\"bars\":[" + ONE.replace("\"2024-01-01T00:00:00Z\"", "true") + "]}",
            "{\"bars\":[" + ONE.replace("\"2024-01-01T00:00:00Z\"", "99999999999999999999") + "]}",
            "{\"bars\":[" + ONE.replace("\"2024-01-01T00:00:00Z\"", "null") + "]}",
            "{\"bars\":[" + ONE + ",]}",
            "{\"bars\":[" + ONE,
            "{\"bars\":[" + ONE.replace("105.5", "NaN") + "]}",
        };
        for (String body : bodies) {
            deferred(body);
        }
        // And none of them is a body the tree reader would read differently: where it takes one
        // (a repeated field, a huge integer), the streaming reader has already declined.
        for (String body : bodies) {
            List<Bar> tree = tree(body);
            if (tree != null) {
                System.out.printf("BarsBodyTest: the tree reader takes, unstreamed: %s%n", body);
            }
        }
    }
}
