package dev.quiver.host.session;

import dev.quiver.engine.gate.GateVerdict;
import dev.quiver.engine.gate.InputGate;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code gate} object of a decision answer, the same for a session's decision and the stateless
 * {@code POST /v1/decisions}: {@code abstain}, {@code reason} (null when the bar passed), {@code
 * gap_bars}, {@code max_gap_bars}, {@code move_atr}, {@code max_move_atr}, {@code distribution}
 * ({@code on} or {@code off}), {@code distance}, {@code threshold}, {@code most_deviant} and, when
 * the distribution check is off, {@code distribution_off} (why). A figure that is not a number (no
 * previous bar, the check off) is {@code null}.
 */
public final class GateJson {

    private GateJson() {}

    /**
     * The gate's verdict as an ordered map.
     *
     * @param gate the engine's gate
     * @param verdict its verdict on the decision bar
     * @return the map, or {@code null} when there is no gate or no verdict (warm-up)
     */
    public static Map<String, Object> of(InputGate gate, GateVerdict verdict) {
        if (gate == null || verdict == null) {
            return null;
        }
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("abstain", verdict.abstain());
        g.put("reason", verdict.reason());
        g.put("gap_bars", num(verdict.gapBars()));
        g.put("max_gap_bars", gate.limits().maxGapBars());
        g.put("move_atr", num(verdict.moveAtr()));
        g.put("max_move_atr", gate.limits().maxMoveAtr());
        g.put("distribution", verdict.distributionOff() == null ? "on" : "off");
        g.put("distance", num(verdict.distance()));
        g.put("threshold", num(verdict.threshold()));
        g.put("most_deviant", verdict.deviant());
        if (verdict.distributionOff() != null) {
            g.put("distribution_off", verdict.distributionOff());
        }
        return g;
    }

    private static Double num(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
