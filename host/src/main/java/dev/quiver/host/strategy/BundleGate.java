package dev.quiver.host.strategy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.engine.gate.Dissimilarity;
import dev.quiver.engine.gate.InputGate;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * A strategy bundle's input gate ({@link InputGate}) in its manifest, field {@value #FIELD}:
 *
 * <pre>{@code
 * "input_gate": {"interval": "PT4H", "max_gap_bars": 7, "max_move_atr": 20.0,
 *   "distribution": {"distance": "mahalanobis", "covariance": "ledoit-wolf", "features": [...],
 *                    "mean": [...], "scale": [...], "precision": [[...]], "threshold": 4.1,
 *                    "quantile": 0.99, "shrinkage": 0.01, "rows": 1000,
 *                    "first_bar": ..., "last_bar": ...}}
 * }</pre>
 *
 * The distribution is fitted on the final fit's training window (the bars the bundle's sources were
 * fitted on). A bundle fitted before the gate existed has no {@value #FIELD}: it still loads; its
 * gap and move checks apply with the host's defaults for its interval and its distribution check is
 * off, which every decision's {@code gate} answer says ({@link #OFF_REASON}).
 */
public final class BundleGate {

    /** The manifest field. */
    public static final String FIELD = "input_gate";

    /** Why the distribution check is off for a bundle fitted without the gate's statistics. */
    public static final String OFF_REASON =
            "the strategy bundle was fitted without the input gate's statistics (before the gate"
                    + " existed): no training distribution to judge against; refit it to turn the"
                    + " check on";

    private BundleGate() {}

    /**
     * The manifest entry of a gate.
     *
     * @param gate the gate fitted on the final window
     * @param firstBar the window's first bar
     * @param lastBar the window's last bar
     * @return the {@value #FIELD} object
     */
    public static ObjectNode toJson(InputGate gate, String firstBar, String lastBar) {
        ObjectNode g = StrategyBundle.newObject();
        g.put("interval", gate.limits().interval().toString());
        g.put("max_gap_bars", gate.limits().maxGapBars());
        g.put("max_move_atr", gate.limits().maxMoveAtr());
        Dissimilarity d = gate.distribution();
        if (d == null) {
            g.putNull("distribution");
            g.put("distribution_off", gate.distributionOff());
            return g;
        }
        ObjectNode n = g.putObject("distribution");
        n.put("distance", "mahalanobis");
        n.put(
                "covariance",
                "ledoit-wolf shrunk correlation of the training span's standard scores");
        ArrayNode f = n.putArray("features");
        d.features().forEach(f::add);
        ArrayNode mean = n.putArray("mean");
        for (double v : d.mean()) {
            mean.add(v);
        }
        ArrayNode scale = n.putArray("scale");
        for (double v : d.scale()) {
            scale.add(v);
        }
        ArrayNode precision = n.putArray("precision");
        for (double[] row : d.precision()) {
            ArrayNode r = precision.addArray();
            for (double v : row) {
                r.add(v);
            }
        }
        n.put("threshold", d.threshold());
        n.put("quantile", d.quantile());
        n.put("shrinkage", d.shrinkage());
        n.put("rows", d.rows());
        n.put("first_bar", firstBar);
        n.put("last_bar", lastBar);
        return g;
    }

    /**
     * The gate a bundle declares.
     *
     * @param bundle the bundle
     * @return its gate; for a bundle without {@value #FIELD}, the host's default limits for its
     *     interval with the distribution check off ({@link #OFF_REASON})
     * @throws QuiverInputException {@code BAD_BUNDLE} naming the field when the entry is malformed
     */
    public static InputGate of(StrategyBundle bundle) {
        JsonNode m = bundle.manifest();
        JsonNode g = m.path(FIELD);
        if (g.isMissingNode() || g.isNull()) {
            return new InputGate(
                    InputGate.Limits.defaults(duration(bundle, "interval", m.path("interval"))),
                    null,
                    OFF_REASON);
        }
        try {
            InputGate.Limits limits =
                    new InputGate.Limits(
                            duration(bundle, FIELD + ".interval", g.path("interval")),
                            integer(bundle, FIELD + ".max_gap_bars", g.path("max_gap_bars")),
                            number(bundle, FIELD + ".max_move_atr", g.path("max_move_atr")));
            JsonNode d = g.path("distribution");
            if (!d.isObject()) {
                return new InputGate(
                        limits,
                        null,
                        g.path("distribution_off").asText("the bundle declares no distribution"));
            }
            if (!"mahalanobis".equals(d.path("distance").asText())) {
                throw bad(
                        bundle,
                        FIELD + ".distribution.distance",
                        d.path("distance"),
                        "is not a distance this host computes (mahalanobis)");
            }
            List<String> features = new ArrayList<>();
            for (JsonNode f : d.path("features")) {
                features.add(f.asText());
            }
            JsonNode p = d.path("precision");
            double[][] precision = new double[p.size()][];
            for (int i = 0; i < precision.length; i++) {
                precision[i] =
                        numbers(bundle, FIELD + ".distribution.precision[" + i + "]", p.get(i));
            }
            return new InputGate(
                    limits,
                    new Dissimilarity(
                            features,
                            numbers(bundle, FIELD + ".distribution.mean", d.path("mean")),
                            numbers(bundle, FIELD + ".distribution.scale", d.path("scale")),
                            precision,
                            number(bundle, FIELD + ".distribution.threshold", d.path("threshold")),
                            number(bundle, FIELD + ".distribution.quantile", d.path("quantile")),
                            number(bundle, FIELD + ".distribution.shrinkage", d.path("shrinkage")),
                            integer(bundle, FIELD + ".distribution.rows", d.path("rows"))),
                    null);
        } catch (IllegalArgumentException e) {
            throw bad(bundle, FIELD, null, "is malformed: " + e.getMessage());
        }
    }

    private static Duration duration(StrategyBundle bundle, String field, JsonNode n) {
        try {
            return Duration.parse(n.asText());
        } catch (DateTimeParseException e) {
            throw bad(bundle, field, n, "is not an ISO-8601 duration");
        }
    }

    private static int integer(StrategyBundle bundle, String field, JsonNode n) {
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw bad(bundle, field, n, "is not a whole number");
        }
        return n.intValue();
    }

    private static double number(StrategyBundle bundle, String field, JsonNode n) {
        if (!n.isNumber()) {
            throw bad(bundle, field, n, "is not a number");
        }
        return n.doubleValue();
    }

    private static double[] numbers(StrategyBundle bundle, String field, JsonNode n) {
        if (n == null || !n.isArray()) {
            throw bad(bundle, field, n, "is not an array of numbers");
        }
        double[] out = new double[n.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = number(bundle, field + "[" + i + "]", n.get(i));
        }
        return out;
    }

    private static QuiverInputException bad(
            StrategyBundle bundle, String field, Object value, String problem) {
        return new QuiverInputException(
                "BAD_BUNDLE", field, "strategy bundle " + bundle.id(), value, problem);
    }
}
