package dev.quiver.host.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ServeOptionsTest {

    @Test
    void pollIntervalUnits() {
        assertThat(ServeCommand.duration("--poll-interval", "500ms"))
                .isEqualTo(Duration.ofMillis(500));
        assertThat(ServeCommand.duration("--poll-interval", "5s")).isEqualTo(Duration.ofSeconds(5));
        assertThat(ServeCommand.duration("--poll-interval", "2m")).isEqualTo(Duration.ofMinutes(2));
        for (String bad : new String[] {"0s", "5", "-1s", "5h", "fast"}) {
            assertThatThrownBy(() -> ServeCommand.duration("--poll-interval", bad))
                    .as(bad)
                    .hasMessageContaining("[Quiver/BAD_OPTION] --poll-interval '" + bad + "'");
        }
    }

    @Test
    void theStaleBarCheckIsOnAtTwoIntervalsUnlessConfigured() {
        // RELIABILITY.md P13: no decision when the last bar is older than 2 x the timeframe.
        String key = "quiver.session.stale-after-intervals";
        assertThat(ServeCommand.staleAfterIntervals(java.util.Map.of())).isEqualTo(2);
        assertThat(ServeCommand.staleAfterIntervals(java.util.Map.of(key, "0"))).isZero();
        assertThat(ServeCommand.staleAfterIntervals(java.util.Map.of(key, " 5 "))).isEqualTo(5);
        for (String bad : new String[] {"-1", "2.5", "two"}) {
            assertThatThrownBy(() -> ServeCommand.staleAfterIntervals(java.util.Map.of(key, bad)))
                    .as(bad)
                    .hasMessageContaining("[Quiver/BAD_CONFIG] " + key);
        }
    }
}
