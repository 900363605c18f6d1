package dev.quiver.host.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The backoff ceilings every alias poller uses while the registry is unreachable (RELIABILITY.md
 * P8).
 */
class AliasPollStateTest {

    @Test
    void ceilingsDoubleFromAQuarterOfTheIntervalToTheCap() {
        Duration poll = Duration.ofSeconds(5);
        Duration max = dev.quiver.host.live.LiveModels.Settings.every(poll).maxBackoff();
        assertThat(max).isEqualTo(Duration.ofSeconds(10));
        long[] expected = {1_250, 2_500, 5_000, 10_000, 10_000, 10_000};
        for (int n = 1; n <= expected.length; n++) {
            assertThat(AliasPollState.ceiling(poll, max, n).toMillis())
                    .as("failure %d in a row", n)
                    .isEqualTo(expected[n - 1]);
        }
        // A registry that is back is asked again within two poll intervals, however long it was
        // gone.
        assertThat(AliasPollState.ceiling(poll, max, 1_000)).isEqualTo(poll.multipliedBy(2));
    }

    @Test
    void aVeryShortIntervalStillBacksOffByAtLeastAMillisecond() {
        assertThat(AliasPollState.ceiling(Duration.ofMillis(2), Duration.ofMillis(4), 1).toMillis())
                .isEqualTo(1);
    }

    @Test
    void aFreshStateIsOkAndNotStale() {
        AliasPollState s = AliasPollState.every(Duration.ofSeconds(1));
        assertThat(s.registryState()).isEqualTo("ok");
        assertThat(s.staleSince()).isEmpty();
        s.startedStale(java.time.Instant.EPOCH, "unavailable");
        assertThat(s.staleSince()).contains(java.time.Instant.EPOCH);
        assertThat(s.status()).containsEntry("registry", "unavailable");
        s.answered();
        assertThat(s.staleSince()).isEmpty();
        assertThat(s.status()).containsEntry("stale_since", null);
    }

    @Test
    void aNonPositiveIntervalIsRefusedNamingIt() {
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> new AliasPollState(Duration.ZERO, Duration.ofSeconds(1)))
                .hasMessageContaining("poll interval must be positive, was PT0S");
    }
}
