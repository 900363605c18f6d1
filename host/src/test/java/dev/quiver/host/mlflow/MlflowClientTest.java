package dev.quiver.host.mlflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Metric names as {@link MlflowClient} logs them. That a refused name reaches the real server in
 * its legal form is {@code BacktestTrackingIT}'s check.
 */
class MlflowClientTest {

    @Test
    void namesKeepMlflowsCharactersAndReplaceTheRest() {
        assertThat(MlflowClient.metricName("forecasts.fused@kelly_ts.log_loss"))
                .isEqualTo("forecasts.fused_kelly_ts.log_loss");
        assertThat(MlflowClient.metricName("forecasts.fused/selector.brier-x: 1"))
                .isEqualTo("forecasts.fused/selector.brier-x: 1");
    }

    @Test
    void twoNamesThatBecomeOneAreRefusedBeforeAnythingIsSent() {
        // port 9 (discard): nothing listens; the check comes before the first request
        var client =
                new MlflowClient(
                        new MlflowHttp("http://127.0.0.1:9", MlflowHttp.Settings.defaults()));
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("fused@kelly_ts", 1.0);
        metrics.put("fused_kelly_ts", 2.0);
        assertThatThrownBy(() -> client.logBatch("run", Map.of(), metrics, 0L))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(
                        "metrics 'fused@kelly_ts' and 'fused_kelly_ts' would both be logged to"
                                + " MLflow as 'fused_kelly_ts'");
    }
}
