package dev.quiver.host.session;

import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.SourceContribution;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code fused} object of a decision answer, the same for a session's decision and the
 * stateless {@code POST /v1/decisions}: {@code p_up}, {@code confidence}, {@code agreement}, {@code
 * fusion} (the ensemble's name) and {@code contributions} (per source: {@code source}, {@code
 * p_up}, {@code weight}).
 */
public final class FusedJson {

    private FusedJson() {}

    /**
     * The fused signal as an ordered, mutable map (callers may add notes).
     *
     * @param signal the fused signal
     * @param fusion the ensemble's capability name
     * @return the map
     */
    public static Map<String, Object> of(FusedSignal signal, String fusion) {
        Map<String, Object> fused = new LinkedHashMap<>();
        fused.put("p_up", signal.probabilityUp());
        fused.put("confidence", signal.confidence());
        fused.put("agreement", signal.agreement());
        fused.put("fusion", fusion);
        List<Map<String, Object>> contributions = new ArrayList<>();
        for (SourceContribution c : signal.contributions()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("source", c.source());
            m.put("p_up", c.probabilityUp());
            m.put("weight", c.weight());
            contributions.add(m);
        }
        fused.put("contributions", contributions);
        return fused;
    }
}
