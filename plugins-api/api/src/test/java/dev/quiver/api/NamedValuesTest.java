package dev.quiver.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.sizing.SizingDecision;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link NamedValues} (1.5.0): a map equal to the {@link Map#of} it replaces, unmodifiable, kept by
 * {@link Forecast} and {@link SizingDecision} without a copy and checked by them like any map.
 */
class NamedValuesTest {

    static final NamedValues.Names NAMES = NamedValues.names("rsi_14", "atr_pct_14", "score");

    @Test
    void isTheMapOfItsNamesAndValuesInOrder() {
        NamedValues v = NAMES.of(31.5, 0.012, -0.75);
        Map<String, Double> same = Map.of("rsi_14", 31.5, "atr_pct_14", 0.012, "score", -0.75);
        assertThat(v).isEqualTo(same).hasSameHashCodeAs(same);
        assertThat(same).isEqualTo(v);
        assertThat(new HashMap<>(v)).isEqualTo(same);
        assertThat(v.get("score")).isEqualTo(-0.75);
        assertThat(v.get("missing")).isNull();
        assertThat(v.get(null)).isNull();
        assertThat(v.containsKey("atr_pct_14")).isTrue();
        assertThat(v.size()).isEqualTo(3);
        assertThat(new ArrayList<>(v.keySet())).containsExactly("rsi_14", "atr_pct_14", "score");
        assertThat(new ArrayList<>(v.values())).containsExactly(31.5, 0.012, -0.75);
        assertThat(v.name(1)).isEqualTo("atr_pct_14");
        assertThat(v.value(2)).isEqualTo(-0.75);
        assertThat(NAMES.list()).containsExactly("rsi_14", "atr_pct_14", "score");
        assertThat(v.toString()).isEqualTo("{rsi_14=31.5, atr_pct_14=0.012, score=-0.75}");
    }

    @Test
    void isUnmodifiableAndOwnsItsValues() {
        double[] values = {1, 2, 3};
        NamedValues v = NAMES.of(values);
        values[0] = 99;
        assertThat(v.value(0)).isEqualTo(1.0);
        assertThatThrownBy(() -> v.put("x", 1.0)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> v.remove("score"))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(v::clear).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> v.entrySet().iterator().next().setValue(5.0))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThat(v).containsEntry("rsi_14", 1.0);
    }

    @Test
    void refusesRepeatedOrBlankNamesAndAWrongCount() {
        assertThatThrownBy(() -> NamedValues.names("p", "q", "p"))
                .isInstanceOf(QuiverInputException.class)
                .hasMessageContaining("names[2]")
                .hasMessageContaining("repeats names[0]");
        assertThatThrownBy(() -> NamedValues.names("p", " "))
                .isInstanceOf(QuiverInputException.class)
                .hasMessageContaining("names[1]");
        assertThatThrownBy(() -> NAMES.of(1, 2))
                .isInstanceOf(QuiverInputException.class)
                .hasMessageContaining("one value per name (3)");
    }

    @Test
    void forecastAndSizingKeepItAndStillRefuseANonFiniteValue() {
        Instant t = Instant.parse("2024-01-01T00:00:00Z");
        NamedValues details = NAMES.of(40, 0.01, 0.2);
        Forecast f = new Forecast("traditional", t, 1, 0.55, details);
        assertThat(f.details()).isSameAs(details);
        assertThat(f).isEqualTo(new Forecast("traditional", t, 1, 0.55, Map.copyOf(details)));
        assertThatThrownBy(
                        () -> new Forecast("traditional", t, 1, 0.55, NAMES.of(40, Double.NaN, 0)))
                .isInstanceOf(QuiverInputException.class)
                .hasMessageContaining("details.atr_pct_14")
                .hasMessageContaining("forecast of 'traditional' at bar " + t);

        NamedValues inputs = NamedValues.names("p", "fraction").of(0.6, 0.5);
        SizingDecision d = new SizingDecision(0.5, "fixed fraction: p > 0.5", inputs);
        assertThat(d.inputs()).isSameAs(inputs);
        assertThatThrownBy(
                        () ->
                                new SizingDecision(
                                        0.5,
                                        "x",
                                        NamedValues.names("p").of(Double.POSITIVE_INFINITY)))
                .isInstanceOf(QuiverInputException.class)
                .hasMessageContaining("inputs.p");
        // Any other map is still copied.
        Map<String, Double> plain = new HashMap<>(Map.of("p", 0.6));
        List<Object> kept = List.of(new SizingDecision(0, "flat", plain).inputs());
        plain.put("p", 0.1);
        assertThat(kept.get(0)).isEqualTo(Map.of("p", 0.6));
    }
}
