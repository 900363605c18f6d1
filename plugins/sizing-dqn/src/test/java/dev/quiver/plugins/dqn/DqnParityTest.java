package dev.quiver.plugins.dqn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.SourceContribution;
import dev.quiver.api.sizing.SizingContext;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Java ONNX Runtime equals Python onnxruntime to 1e-5 on the golden states that {@code
 * mlflow/train/dqn.py} recorded (raw states of the greedy agent on out-of-sample bars, normalised
 * here by the plugin's own code), and the agent takes the action Python took on each.
 */
class DqnParityTest {

    @Test
    void javaQValuesAndActionsEqualPythonsOnTheGoldenStates() throws IOException {
        JsonNode golden;
        try (InputStream in = DqnParityTest.class.getResourceAsStream("dqn-golden.json")) {
            golden = new ObjectMapper().readTree(in);
        }
        double[] actions = {0, 0.5, 1};
        double worst = 0;
        int rows = 0;
        int[] taken = new int[3];
        try (DqnModel model = DqnModel.bundled();
                DqnSizer sizer = new DqnSizer(DqnModel.bundled(), true)) {
            for (int k = 0; k < golden.get("raw_states").size(); k++) {
                JsonNode s = golden.get("raw_states").get(k);
                double[] raw = new double[4];
                for (int j = 0; j < 4; j++) {
                    raw[j] = s.get(j).asDouble();
                }
                float[] q = model.q(raw);
                for (int a = 0; a < 3; a++) {
                    double want = golden.get("q").get(k).get(a).asDouble();
                    assertThat((double) q[a])
                            .as("row %s action %s", k, a)
                            .isCloseTo(want, within(1e-5));
                    worst = Math.max(worst, Math.abs(q[a] - want));
                }
                int action = golden.get("action").get(k).asInt();
                double p = raw[0];
                FusedSignal signal =
                        new FusedSignal(
                                Instant.parse("2024-01-01T00:00:00Z"),
                                p,
                                Math.abs(2 * p - 1),
                                1,
                                List.of(new SourceContribution("x", p, 1)));
                var d = sizer.size(new SizingContext(signal, 10_000, raw[2], 1.0, raw[1], raw[3]));
                assertThat(d.fraction()).as("row %s: %s", k, d.reason()).isEqualTo(actions[action]);
                taken[action]++;
                rows++;
            }
        }
        assertThat(rows).isEqualTo(200);
        System.out.printf(
                "dqn parity: %d states, max |java - python| Q = %.3g, actions flat/half/full %d/%d/%d%n",
                rows, worst, taken[0], taken[1], taken[2]);
    }
}
