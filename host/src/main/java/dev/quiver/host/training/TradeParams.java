package dev.quiver.host.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.engine.trading.Stops;
import dev.quiver.host.backtest.WalkForwardBacktest;
import dev.quiver.host.strategy.EvolvedSizing;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One parameter set of {@code evolve-params}: the host's ATR exits, the maximum position, the Kelly
 * fraction and the confidence/ATR leverage rule of {@link EvolvedSizing}.
 *
 * @param stops stop-loss, take-profit and trailing-stop ATR multiples
 * @param maxPosition the position cap, fraction of equity, in {@code (0, 1]} (the walk-forward's
 *     {@code maxFraction}; the engine is long only without leverage above equity)
 * @param kellyFraction the multiple of full Kelly, in {@code (0, 1]}, or NaN when the sizing policy
 *     is not Kelly (then its own fraction is used)
 * @param leverageMax the leverage rule's multiple at full confidence, {@code >= 1}; {@code 1} with
 *     an infinite {@code leverageAtrPct} is no rule
 * @param leverageAtrPct the ATR, percent of the close per bar, above which the exposure is cut in
 *     proportion, {@code > 0}; {@code +Infinity} for no cut
 */
record TradeParams(
        Stops stops,
        double maxPosition,
        double kellyFraction,
        double leverageMax,
        double leverageAtrPct) {

    /** The names of the parameters, in the order {@link #values()} gives them. */
    static final List<String> NAMES =
            List.of(
                    "stop_loss_atr",
                    "take_profit_atr",
                    "trailing_atr",
                    "max_position",
                    "kelly_fraction",
                    "leverage_max",
                    "leverage_atr_pct");

    /** Checks the values. */
    TradeParams {
        if (!(maxPosition > 0 && maxPosition <= 1)) {
            throw new IllegalArgumentException(
                    "max_position must be in (0, 1] (long only), was " + maxPosition);
        }
        if (!Double.isNaN(kellyFraction) && !(kellyFraction > 0 && kellyFraction <= 1)) {
            throw new IllegalArgumentException(
                    "kelly_fraction must be in (0, 1], was " + kellyFraction);
        }
        if (!(leverageMax >= 1) || Double.isInfinite(leverageMax)) {
            throw new IllegalArgumentException(
                    "leverage_max must be finite and >= 1, was " + leverageMax);
        }
        if (!(leverageAtrPct > 0)) {
            throw new IllegalArgumentException(
                    "leverage_atr_pct must be > 0 (+Infinity for no cut), was " + leverageAtrPct);
        }
    }

    /**
     * The parameter set of a grid point of the search.
     *
     * @param names the searched names (a subset of {@link #NAMES}), in the order of {@code v}
     * @param v their values
     * @param fixed the values of the names not searched
     * @return the set
     */
    static TradeParams of(List<String> names, double[] v, TradeParams fixed) {
        Map<String, Double> m = new LinkedHashMap<>(fixed.values());
        for (int i = 0; i < names.size(); i++) {
            m.put(names.get(i), v[i]);
        }
        return new TradeParams(
                new Stops(m.get("stop_loss_atr"), m.get("take_profit_atr"), m.get("trailing_atr")),
                m.get("max_position"),
                m.get("kelly_fraction"),
                m.get("leverage_max"),
                m.get("leverage_atr_pct"));
    }

    /**
     * The values by name, in the order of {@link #NAMES}.
     *
     * @return the values (NaN / infinite where the set has none)
     */
    Map<String, Double> values() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("stop_loss_atr", stops.stopLossAtr());
        m.put("take_profit_atr", stops.takeProfitAtr());
        m.put("trailing_atr", stops.trailingAtr());
        m.put("max_position", maxPosition);
        m.put("kelly_fraction", kellyFraction);
        m.put("leverage_max", leverageMax);
        m.put("leverage_atr_pct", leverageAtrPct);
        return m;
    }

    /**
     * The set as JSON: a value the set has none of (no Kelly fraction, no ATR cut) is {@code null}.
     *
     * @return the object
     */
    ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        values().forEach(
                        (k, v) -> {
                            if (Double.isFinite(v)) {
                                o.put(k, v);
                            } else {
                                o.putNull(k);
                            }
                        });
        return o;
    }

    /**
     * A set given as JSON (job parameter {@code champion}): every name of {@link #NAMES} a number,
     * {@code kelly_fraction} and {@code leverage_atr_pct} may be {@code null} (none).
     *
     * @param o the object
     * @param field the parameter's name, for a refusal
     * @return the set
     * @throws dev.quiver.api.error.QuiverInputException naming {@code field.name} when a value is
     *     missing or out of range
     */
    static TradeParams fromJson(JsonNode o, String field) {
        if (o == null || !o.isObject()) {
            throw TrainingService.bad(field, o, "is not an object of " + NAMES);
        }
        for (var it = o.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!NAMES.contains(f)) {
                throw TrainingService.bad(field + "." + f, o.get(f), "is not one of " + NAMES);
            }
        }
        double[] v = new double[NAMES.size()];
        for (int i = 0; i < NAMES.size(); i++) {
            String n = NAMES.get(i);
            JsonNode x = o.get(n);
            boolean nullable = n.equals("kelly_fraction") || n.equals("leverage_atr_pct");
            if (x == null || (x.isNull() && !nullable) || (!x.isNull() && !x.isNumber())) {
                throw TrainingService.bad(
                        field + "." + n,
                        x,
                        nullable ? "is not a number or null" : "is required, a number");
            }
            v[i] =
                    x.isNull()
                            ? (n.equals("kelly_fraction") ? Double.NaN : Double.POSITIVE_INFINITY)
                            : x.asDouble();
        }
        try {
            return new TradeParams(new Stops(v[0], v[1], v[2]), v[3], v[4], v[5], v[6]);
        } catch (IllegalArgumentException e) {
            throw TrainingService.bad(field, o, e.getMessage());
        }
    }

    /**
     * The set's sizing part for a policy: its Kelly fraction and leverage rule.
     *
     * @param policy the sizing policy's name
     * @return the rule a bundle records and serves ({@code settings.evolved_sizing})
     */
    EvolvedSizing.Rule rule(String policy) {
        return new EvolvedSizing.Rule(policy, kellyFraction, leverageMax, leverageAtrPct);
    }

    /**
     * The walk-forward settings with this set's stops and position cap.
     *
     * @param c the settings
     * @return a copy
     */
    WalkForwardBacktest.Config apply(WalkForwardBacktest.Config c) {
        return new WalkForwardBacktest.Config(
                c.trainBars(),
                c.embargoBars(),
                c.testBars(),
                c.initialEquity(),
                c.costs(),
                maxPosition,
                c.rebalanceBand(),
                c.payoffWindowBars(),
                stops,
                c.breakers());
    }

    @Override
    public String toString() {
        return String.format(
                Locale.ROOT,
                "stops %s/%s/%s ATR, max position %s, Kelly %s, leverage %sx above %s%% ATR",
                stops.stopLossAtr(),
                stops.takeProfitAtr(),
                stops.trailingAtr(),
                maxPosition,
                Double.isNaN(kellyFraction) ? "-" : kellyFraction,
                leverageMax,
                Double.isInfinite(leverageAtrPct) ? "no cut" : leverageAtrPct);
    }
}
