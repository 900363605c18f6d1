package dev.quiver.engine.trading;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class UtcDayTest {

    private static long at(String instant) {
        return Instant.parse(instant).toEpochMilli();
    }

    @Test
    void theFirstBarStartsADayAndBarsOfThatDayDoNot() {
        UtcDay day = new UtcDay();
        assertThat(day.advance(at("2024-03-01T00:00:00Z"))).isTrue();
        assertThat(day.advance(at("2024-03-01T04:00:00Z"))).isFalse();
        assertThat(day.advance(at("2024-03-01T23:59:59.999Z"))).isFalse();
    }

    @Test
    void midnightUtcStartsTheNextDayAndAGapOfDaysToo() {
        UtcDay day = new UtcDay();
        day.advance(at("2024-03-01T20:00:00Z"));
        assertThat(day.advance(at("2024-03-02T00:00:00Z"))).isTrue();
        assertThat(day.advance(at("2024-03-02T00:00:00.001Z"))).isFalse();
        assertThat(day.advance(at("2024-03-09T12:00:00Z"))).isTrue();
    }

    @Test
    void agreesWithFloorDivisionBeforeTheEpochAndAtTheEndsOfTheRange() {
        long[] millis = {
            -86_400_001L,
            -86_400_000L,
            -1L,
            0L,
            86_399_999L,
            86_400_000L,
            Long.MAX_VALUE - 1,
            Long.MAX_VALUE,
            Long.MIN_VALUE,
            Long.MIN_VALUE + 1
        };
        UtcDay day = new UtcDay();
        long previous = 0;
        boolean first = true;
        for (long m : millis) {
            long d = Math.floorDiv(m, 86_400_000L);
            assertThat(day.advance(m)).as("day of %d", m).isEqualTo(first || d != previous);
            previous = d;
            first = false;
        }
    }
}
