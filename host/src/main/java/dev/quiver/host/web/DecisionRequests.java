package dev.quiver.host.web;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.engine.market.BarData;

/**
 * Bodies of {@code POST /v1/decisions} built from bars: the shape {@link DecisionService} parses,
 * for clients written in Java (the swap benchmark, tests).
 */
public final class DecisionRequests {

    private DecisionRequests() {}

    /**
     * {@code {"symbol": ..., "bars": [{timestamp, open, high, low, close, volume}, ...]}} of bars
     * {@code [first, last]}, oldest first, timestamps as ISO-8601 instants.
     *
     * @param symbol the request's symbol (also the rollout routing key by default)
     * @param data the bars
     * @param first index of the first bar sent
     * @param last index of the last bar sent, the decision bar
     * @return the body
     * @throws IndexOutOfBoundsException if the range is not inside {@code data}
     */
    public static ObjectNode body(String symbol, BarData data, int first, int last) {
        if (first < 0 || last >= data.size() || first > last) {
            throw new IndexOutOfBoundsException(
                    "bars [" + first + ", " + last + "] of a series of " + data.size());
        }
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("symbol", symbol);
        ArrayNode bars = body.putArray("bars");
        for (int i = first; i <= last; i++) {
            ObjectNode b = bars.addObject();
            b.put("timestamp", data.bar(i).start().toString());
            b.put("open", data.open[i]);
            b.put("high", data.high[i]);
            b.put("low", data.low[i]);
            b.put("close", data.close[i]);
            b.put("volume", data.volume[i]);
        }
        return body;
    }

    /**
     * The last {@code n} bars of a series, under its own symbol.
     *
     * @param data the bars
     * @param n how many, {@code 1..data.size()}
     * @return the body
     */
    public static ObjectNode lastBars(BarData data, int n) {
        return body(data.symbol(), data, data.size() - n, data.size() - 1);
    }
}
