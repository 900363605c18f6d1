package dev.quiver.plugins.kelly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class IsotonicRegressionTest {

    @Test
    void poolAdjacentViolatorsByHand() {
        // y in score order: 1, 3, 2, 4, 3, 5. PAV: (3, 2) violate -> 2.5, 2.5; (4, 3) -> 3.5, 3.5.
        // Fitted: 1, 2.5, 2.5, 3.5, 3.5, 5 (Barlow et al. 1972, the textbook example shape).
        double[] x = {1, 2, 3, 4, 5, 6};
        double[] y = {1, 3, 2, 4, 3, 5};
        IsotonicRegression iso = IsotonicRegression.fit(x, y);
        assertThat(iso.blockValues()).containsExactly(1, 2.5, 3.5, 5);
        double[] fitted = new double[6];
        for (int i = 0; i < 6; i++) {
            fitted[i] = iso.predict(x[i]);
        }
        assertThat(fitted).containsExactly(1, 2.5, 2.5, 3.5, 3.5, 5);
    }

    @Test
    void binaryOutcomesPoolBackwardsAcrossSeveralBlocks() {
        // 0, 1, 0, 0, 1, 1: (1, 0) -> 0.5; then 0.5 > 0 -> pool (1, 0, 0) -> 1/3.
        // Fitted: 0, 1/3, 1/3, 1/3, 1, 1.
        double[] x = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
        double[] y = {0, 1, 0, 0, 1, 1};
        IsotonicRegression iso = IsotonicRegression.fit(x, y);
        // equal adjacent blocks (the two 1s) are not violators and stay apart
        assertThat(iso.blockValues()).containsExactly(0, 1.0 / 3, 1, 1);
        assertThat(iso.predict(0.1)).isZero();
        assertThat(iso.predict(0.3)).isCloseTo(1.0 / 3, within(1e-15));
        assertThat(iso.predict(0.45)).isCloseTo(1.0 / 3, within(1e-15)); // between scores: step
        assertThat(iso.predict(0.6)).isEqualTo(1);
        assertThat(iso.predict(-5)).isZero(); // below the first score: first block
        assertThat(iso.predict(5)).isEqualTo(1);
    }

    @Test
    void unsortedInputAndTiedScoresShareOneValue() {
        double[] x = {0.5, 0.1, 0.5, 0.9};
        double[] y = {1, 0, 0, 1};
        IsotonicRegression iso = IsotonicRegression.fit(x, y);
        assertThat(iso.predict(0.5)).isEqualTo(0.5);
        assertThat(iso.blockValues()).containsExactly(0, 0.5, 1);
    }
}
