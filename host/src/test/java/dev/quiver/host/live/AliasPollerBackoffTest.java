package dev.quiver.host.live;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The poller's backoff ceilings while the registry is unreachable (RELIABILITY.md P8). */
class AliasPollerBackoffTest {

    @Test
    void ceilingsDoubleFromAQuarterOfTheIntervalToTheCap() {
        Duration poll = Duration.ofSeconds(5);
        LiveModels.Settings s = LiveModels.Settings.every(poll);
        assertThat(s.maxBackoff()).isEqualTo(Duration.ofSeconds(10));
        long[] expected = {1_250, 2_500, 5_000, 10_000, 10_000, 10_000};
        for (int n = 1; n <= expected.length; n++) {
            assertThat(AliasPoller.backoff(poll, s.maxBackoff(), n).toMillis())
                    .as("failure %d in a row", n)
                    .isEqualTo(expected[n - 1]);
        }
        // A registry that is back is asked again within two poll intervals, however long it was
        // gone.
        assertThat(AliasPoller.backoff(poll, s.maxBackoff(), 1_000))
                .isEqualTo(poll.multipliedBy(2));
    }

    @Test
    void aVeryShortIntervalStillBacksOffByAtLeastAMillisecond() {
        assertThat(AliasPoller.backoff(Duration.ofMillis(2), Duration.ofMillis(4), 1).toMillis())
                .isEqualTo(1);
    }
}
