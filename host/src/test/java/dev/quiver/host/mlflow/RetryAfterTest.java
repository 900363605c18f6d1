package dev.quiver.host.mlflow;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.Test;

/** {@code Retry-After} (RFC 9110 section 10.2.3) as {@link MlflowHttp} reads it. */
class RetryAfterTest {

    @Test
    void delaySecondsAreRead() {
        assertThat(MlflowHttp.retryAfter("2")).contains(Duration.ofSeconds(2));
        assertThat(MlflowHttp.retryAfter(" 120 ")).contains(Duration.ofSeconds(120));
        assertThat(MlflowHttp.retryAfter("0")).contains(Duration.ZERO);
    }

    @Test
    void anHttpDateIsTheWaitFromNowAndAPastDateIsNoWait() {
        String inAMinute =
                DateTimeFormatter.RFC_1123_DATE_TIME.format(
                        ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(60));
        Duration d = MlflowHttp.retryAfter(inAMinute).orElseThrow();
        assertThat(d).isPositive().isLessThanOrEqualTo(Duration.ofSeconds(60));
        assertThat(MlflowHttp.retryAfter("Wed, 21 Oct 2015 07:28:00 GMT")).contains(Duration.ZERO);
    }

    @Test
    void anythingElseIsNotARetryAfter() {
        assertThat(MlflowHttp.retryAfter("soon")).isEmpty();
        assertThat(MlflowHttp.retryAfter("-5")).isEmpty();
        assertThat(MlflowHttp.retryAfter("1.5")).isEmpty();
    }
}
