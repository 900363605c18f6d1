package dev.quiver.engine.portfolio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class LedoitWolfTest {

    /** Reference: scikit-learn's ledoit_wolf, by mlflow/fixtures/ledoit_wolf_reference.py. */
    @Test
    void matchesScikitLearnsLedoitWolf() throws IOException {
        List<double[]> x = new ArrayList<>();
        List<double[]> cov = new ArrayList<>();
        double shrinkage = Double.NaN;
        try (InputStream in =
                getClass().getResourceAsStream("testdata/ledoit-wolf-reference.txt")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String[] t = line.split(" ");
                if (!List.of("x", "cov", "shrinkage").contains(t[0])) {
                    continue;
                }
                double[] v = Arrays.stream(t).skip(1).mapToDouble(Double::parseDouble).toArray();
                switch (t[0]) {
                    case "x" -> x.add(v);
                    case "cov" -> cov.add(v);
                    case "shrinkage" -> shrinkage = v[0];
                    default -> {}
                }
            }
        }
        assertThat(x).hasSize(60);
        LedoitWolf.Estimate e = LedoitWolf.estimate(x.toArray(double[][]::new));
        assertThat(e.shrinkage()).isCloseTo(shrinkage, within(1e-12));
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 4; j++) {
                assertThat(e.covariance()[i][j]).isCloseTo(cov.get(i)[j], within(1e-15));
            }
        }
        assertThat(e.shrinkage()).isStrictlyBetween(0.0, 1.0);
    }

    @Test
    void oneAssetIsItsSampleVariance() {
        // p = 1: S is already the target m I, d^2 = 0, nothing to shrink.
        double[][] r = {{0.01}, {-0.02}, {0.03}, {0.0}};
        double mean = 0.005;
        double var = 0;
        for (double[] v : r) {
            var += (v[0] - mean) * (v[0] - mean) / 4;
        }
        LedoitWolf.Estimate e = LedoitWolf.estimate(r);
        assertThat(e.shrinkage()).isZero();
        assertThat(e.covariance()[0][0]).isCloseTo(var, within(1e-18));
    }

    @Test
    void badInputIsNamed() {
        assertThatThrownBy(() -> LedoitWolf.estimate(new double[][] {{0.01, 0.02}}))
                .hasMessage("Ledoit-Wolf covariance: needs at least 2 observations, got 1");
        assertThatThrownBy(
                        () -> LedoitWolf.estimate(new double[][] {{0.01, 0.02}, {0.0, Double.NaN}}))
                .hasMessage("Ledoit-Wolf covariance: return at row 1, column 1 is NaN");
    }
}
