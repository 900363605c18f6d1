package dev.quiver.api.prediction;

import dev.quiver.api.Stable;
import dev.quiver.api.error.QuiverInputException;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The class probabilities of a three-class direction classifier (down / sideways / up under a
 * declared {@link SidewaysBand}), carried by its {@link Forecast}.
 *
 * <p>A three-class source still answers {@link Forecast#probabilityUp()}, the probability of an up
 * close that the ensemble fuses and sizing reads; how it derives that from the class probabilities
 * is its own (documented) business. The class probabilities travel in the forecast's {@code
 * details} under the keys {@link #P_DOWN}, {@link #P_SIDEWAYS}, {@link #P_UP} and {@link
 * #BAND_KEY}, written by {@link #toForecast} and read back by {@link #of(Forecast)}, so every path
 * a forecast takes (fusion, sessions, HTTP, the backtest's scores) carries them unchanged and a
 * host of an older minor version simply sees four more details.
 *
 * @param probabilityDown {@code P(DOWN)}, in [0, 1]
 * @param probabilitySideways {@code P(SIDEWAYS)}, in [0, 1]
 * @param probabilityUp {@code P(UP)} (the class, not an up close), in [0, 1]
 * @param band the label rule the classes refer to
 * @since 1.4.0
 */
@Stable(since = "1.4.0")
public record DirectionForecast(
        double probabilityDown,
        double probabilitySideways,
        double probabilityUp,
        SidewaysBand band) {

    /** Detail key of {@code P(DOWN)}. */
    public static final String P_DOWN = "class_p_down";

    /** Detail key of {@code P(SIDEWAYS)}. */
    public static final String P_SIDEWAYS = "class_p_sideways";

    /** Detail key of {@code P(UP)} (the class). */
    public static final String P_UP = "class_p_up";

    /** Detail key of the band's {@code k} ({@link SidewaysBand#atrMultiple()}). */
    public static final String BAND_KEY = "sideways_band_atr_multiple";

    /**
     * Largest tolerated {@code |sum - 1|} of the three probabilities (float32 softmax rounding).
     */
    public static final double SUM_TOLERANCE = 1e-4;

    /**
     * Validates.
     *
     * @throws QuiverInputException with code {@code BAD_FORECAST} if a probability is not in [0,
     *     1], they do not sum to 1 within {@link #SUM_TOLERANCE}, or the band is missing
     */
    public DirectionForecast {
        check("probabilityDown", probabilityDown);
        check("probabilitySideways", probabilitySideways);
        check("probabilityUp", probabilityUp);
        double sum = probabilityDown + probabilitySideways + probabilityUp;
        if (!(Math.abs(sum - 1) <= SUM_TOLERANCE)) {
            throw new QuiverInputException(
                    "BAD_FORECAST",
                    "probabilities",
                    "direction forecast",
                    sum,
                    "sum to more than " + SUM_TOLERANCE + " away from 1");
        }
        if (band == null) {
            throw new QuiverInputException(
                    "BAD_FORECAST", "band", "direction forecast", null, "is missing");
        }
    }

    private static void check(String field, double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new QuiverInputException(
                    "BAD_FORECAST", field, "direction forecast", p, "is not in [0, 1]");
        }
    }

    /**
     * The probability of one class.
     *
     * @param d the class
     * @return its probability
     */
    public double probability(Direction d) {
        return switch (d) {
            case DOWN -> probabilityDown;
            case SIDEWAYS -> probabilitySideways;
            case UP -> probabilityUp;
        };
    }

    /**
     * The most probable class; ties go to the earlier class in {@link Direction} order.
     *
     * @return the predicted class
     */
    public Direction predicted() {
        Direction best = Direction.DOWN;
        for (Direction d : Direction.values()) {
            if (probability(d) > probability(best)) {
                best = d;
            }
        }
        return best;
    }

    /**
     * A forecast carrying these class probabilities in its details (besides {@code details}).
     *
     * @param source the producing capability's name
     * @param barTime start of the decision bar
     * @param horizonBars horizon, {@code >= 1}
     * @param probabilityUpClose the probability of an up close the source answers (what fusion and
     *     sizing read), in [0, 1]
     * @param details further details, finite; must not use this type's keys
     * @return the forecast
     * @throws QuiverInputException as {@link Forecast}'s constructor, or with code {@code
     *     BAD_FORECAST} if {@code details} uses one of this type's keys
     */
    public Forecast toForecast(
            String source,
            Instant barTime,
            int horizonBars,
            double probabilityUpClose,
            Map<String, Double> details) {
        Map<String, Double> all = new HashMap<>(details == null ? Map.of() : details);
        for (String key : new String[] {P_DOWN, P_SIDEWAYS, P_UP, BAND_KEY}) {
            if (all.containsKey(key)) {
                throw new QuiverInputException(
                        "BAD_FORECAST",
                        "details." + key,
                        "forecast of '" + source + "' at bar " + barTime,
                        all.get(key),
                        "is reserved for the class probabilities");
            }
        }
        all.put(P_DOWN, probabilityDown);
        all.put(P_SIDEWAYS, probabilitySideways);
        all.put(P_UP, probabilityUp);
        all.put(BAND_KEY, band.atrMultiple());
        return new Forecast(source, barTime, horizonBars, probabilityUpClose, all);
    }

    /**
     * The class probabilities a forecast carries, if it carries them.
     *
     * @param forecast any forecast
     * @return the class probabilities when all four keys are present, else empty (a two-class
     *     source)
     * @throws QuiverInputException with code {@code BAD_FORECAST} if some but not all keys are
     *     present, or their values are not valid class probabilities
     */
    public static Optional<DirectionForecast> of(Forecast forecast) {
        Map<String, Double> d = forecast.details();
        Double down = d.get(P_DOWN);
        Double side = d.get(P_SIDEWAYS);
        Double up = d.get(P_UP);
        Double k = d.get(BAND_KEY);
        if (down == null && side == null && up == null && k == null) {
            return Optional.empty();
        }
        if (down == null || side == null || up == null || k == null) {
            throw new QuiverInputException(
                    "BAD_FORECAST",
                    "details",
                    "forecast of '" + forecast.source() + "' at bar " + forecast.barTime(),
                    d.keySet(),
                    "carries some but not all of "
                            + P_DOWN
                            + ", "
                            + P_SIDEWAYS
                            + ", "
                            + P_UP
                            + ", "
                            + BAND_KEY);
        }
        return Optional.of(new DirectionForecast(down, side, up, new SidewaysBand(k)));
    }
}
