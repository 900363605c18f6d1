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
}
