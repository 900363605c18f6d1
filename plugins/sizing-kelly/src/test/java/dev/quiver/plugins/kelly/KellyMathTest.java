package dev.quiver.plugins.kelly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class KellyMathTest {

    @ParameterizedTest
    @CsvSource({
        // n, mean correlation, expected = 1 / (1 + (n - 1) rho), by hand
        "1, 0.9, 1.0",
        "2, 0.0, 1.0",
        "2, 1.0, 0.5",
        "5, 0.5, 0.3333333333333333", // 1 / (1 + 4 * 0.5) = 1/3
        "11, 0.1, 0.5", // 1 / (1 + 10 * 0.1)
        "3, -0.25, 2.0", // 1 / (1 - 0.5)
        "3, -0.5, 3.0", // denominator 0: capped at n
        "4, NaN, 0.25", // unknown: worst case 1/n
    })
    void correlationAdjustment(int n, double rho, double expected) {
        assertThat(KellyMath.correlationAdjustment(n, rho)).isCloseTo(expected, within(1e-12));
    }

    @ParameterizedTest
    @CsvSource({
        "0.6, 2, 0.4", // 0.6 - 0.4 / 2
        "0.5, 1, 0.0",
        "0.3333333333333333, 2, 0.0", // p = 1 / (1 + b): no edge
    })
    void fullKelly(double p, double b, double expected) {
        assertThat(KellyMath.fullKelly(p, b)).isCloseTo(expected, within(1e-12));
    }

    @ParameterizedTest
    @CsvSource({
        "0.02, 0.01, 2, 0.5",
        "0.005, 0.01, 2, 2.0", // 2x capped at maxScale
        "0.0, 0.01, 2, 2.0",
        "NaN, 0.01, 2, 0.0",
        "1e308, 0.01, 2, 0.0",
    })
    void volatilityScale(double vol, double target, double max, double expected) {
        assertThat(KellyMath.volatilityScale(vol, target, max)).isCloseTo(expected, within(1e-9));
    }

    @ParameterizedTest
    @CsvSource({
        "0.0, 0.3, 1.0",
        "0.15, 0.3, 0.5",
        "0.3, 0.3, 0.0",
        "0.6, 0.3, 0.0",
        "NaN, 0.3, 0.0"
    })
    void drawdownScale(double dd, double zeroAt, double expected) {
        assertThat(KellyMath.drawdownScale(dd, zeroAt)).isCloseTo(expected, within(1e-12));
    }
}
