package dev.quiver.host.session;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.market.Bar;
import dev.quiver.engine.CallFailures;
import dev.quiver.host.store.EventRow;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code call_failures} event: the plugin calls that failed on a live bar ({@link
 * CallFailures}), stored with the bar so a replay fails them again instead of calling them. Detail:
 * {@code {"bar_ms": ..., "sources": {name: reason}, "ensemble": reason?, "policies": {name:
 * reason}}}.
 */
final class CallFailureEvents {

    private static final ObjectMapper JSON = new ObjectMapper();

    private CallFailureEvents() {}

    /** The plugin calls of the bar just stepped that failed, as an event to store with the bar. */
    static Optional<EventRow> of(LiveSession s, Bar b, long nowMs) {
        CallFailures f = s.engine().lastFailures();
        if (f.isEmpty()) {
            return Optional.empty();
        }
        ObjectNode d = JSON.createObjectNode();
        d.put("bar_ms", b.start().toEpochMilli());
        ObjectNode sources = d.putObject("sources");
        f.sources().forEach(sources::put);
        if (f.ensemble() != null) {
            d.put("ensemble", f.ensemble());
        }
        ObjectNode policies = d.putObject("policies");
        f.policies().forEach(policies::put);
        return Optional.of(
                new EventRow(
                        s.account.id(),
                        Optional.of(s.settings.symbol()),
                        SessionManager.CALL_FAILURES,
                        Optional.empty(),
                        d.toString(),
                        nowMs,
                        "engine",
                        Optional.of("plugin calls failed on the bar; a replay fails them again")));
    }

    /** Reads what {@link #of} stored. */
    static CallFailures read(com.fasterxml.jackson.databind.JsonNode d) {
        Map<String, String> sources = new LinkedHashMap<>();
        for (Map.Entry<String, com.fasterxml.jackson.databind.JsonNode> e :
                d.path("sources").properties()) {
            sources.put(e.getKey(), e.getValue().asText());
        }
        Map<String, String> policies = new LinkedHashMap<>();
        for (Map.Entry<String, com.fasterxml.jackson.databind.JsonNode> e :
                d.path("policies").properties()) {
            policies.put(e.getKey(), e.getValue().asText());
        }
        com.fasterxml.jackson.databind.JsonNode ensemble = d.get("ensemble");
        return new CallFailures(
                sources,
                ensemble == null || ensemble.isNull() ? null : ensemble.asText(),
                policies);
    }
}
