package dev.quiver.engine.gate;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The gate's deviant-feature text ({@link Dissimilarity#zText}) is the text {@code
 * String.format(Locale.ROOT, "%s z=%+.2f", ...)} gave, on values where rounding is delicate (ties
 * at the third decimal, signed zeros, tiny and huge values, non-finite) and on random ones.
 */
class DissimilarityTextTest {

    static void same(double z) {
        assertThat(Dissimilarity.zText("atr_pct_14", z))
                .as("z = %s", z)
                .isEqualTo(String.format(Locale.ROOT, "%s z=%+.2f", "atr_pct_14", z));
    }

    @Test
    void edgeValues() {
        double[] edges = {
            0.0,
            -0.0,
            0.005,
            -0.005,
            0.015,
            0.125,
            -0.125,
            1.005,
            2.675,
            1.115,
            0.995,
            -0.995,
            9.995,
            99.995,
            1e-4,
            -1e-4,
            4.9e-324,
            1e-3,
            0.0049999999,
            41.2,
            -9.8,
            1e7,
            1.5e15,
            1e22,
            -3.4e38,
            Double.MAX_VALUE,
            Double.NaN,
            Double.POSITIVE_INFINITY,
            Double.NEGATIVE_INFINITY
        };
        for (double z : edges) {
            same(z);
        }
    }

    @Test
    void randomValues() {
        SplittableRandom r = new SplittableRandom(20261207);
        for (int i = 0; i < 40_000; i++) {
            double scale = Math.pow(10, r.nextInt(-4, 6));
            same((r.nextDouble() * 2 - 1) * scale);
            // Values on a 0.005 grid: every one is a rounding tie in decimal.
            same(r.nextInt(-100_000, 100_000) * 0.005);
        }
    }
}
