package dev.quiver.gbmtrees;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * The ports of glibc's {@code logf} and {@code expf} stay within one float ulp of the correctly
 * rounded values everywhere sampled, and give glibc's own result where it is not the correctly
 * rounded one (a value XGBoost returned in {@code sizing-kelly}'s real-data test).
 */
class XgbMathTest {

    @Test
    void logfIsWithinOneUlpOfTheTrueLogarithm() {
        int differ = 0;
        int sampled = 0;
        for (float x = 1e-30f; x < 1e30f; x = Math.nextUp(x * 1.0001f)) {
            float expected = (float) Math.log(x);
            float actual = XgbMath.logf(x);
            assertThat(Math.abs(actual - expected))
                    .as("logf(%s)", x)
                    .isLessThanOrEqualTo(Math.ulp(expected));
            differ += actual != expected ? 1 : 0;
            sampled++;
        }
        assertThat(XgbMath.logf(1f)).isZero();
        // logf is not correctly rounded: a port that were only (float) Math.log would differ
        // nowhere
        assertThat(differ).as("of %d sampled", sampled).isPositive();
        assertThatThrownBy(() -> XgbMath.logf(0f)).hasMessageContaining("positive normal");
    }

    @Test
    void expfIsWithinOneUlpAndGivesGlibcsResultWhereThatIsNotCorrectlyRounded() {
        for (float x = -103f; x <= 88.7f; x += 0.001f) {
            float expected = (float) Math.exp(x);
            assertThat(Math.abs(XgbMath.expf(x) - expected))
                    .as("expf(%s)", x)
                    .isLessThanOrEqualTo(Math.ulp(expected));
        }
        // XGBoost 2.1.4 (glibc 2.36) gave 0.43196633f for the margin -0.27383295f, i.e.
        // 1 / (expf(0.27383295f) + 1): expf = 1.3149952f; correct rounding is 1.314995f
        assertThat((float) Math.exp(0.27383295f)).isEqualTo(1.314995f);
        assertThat(XgbMath.expf(0.27383295f)).isEqualTo(1.3149952f);
        assertThat(XgbMath.sigmoid(-0.27383295f)).isEqualTo(0.43196633f);
        assertThat(XgbMath.expf(-200f)).isZero();
        assertThat(XgbMath.sigmoid(0f)).isEqualTo(0.5f);
    }

    @Test
    void baseMarginIsMinusLogfOfTheOdds() {
        assertThat(XgbMath.baseMargin(0.5f)).isZero();
        // base_score 0.25: odds 1 / 0.25 - 1 = 3, margin -log(3) = -1.0986123
        assertThat(XgbMath.baseMargin(0.25f)).isEqualTo(-XgbMath.logf(3f));
        assertThat((double) XgbMath.baseMargin(0.25f))
                .isCloseTo(-Math.log(3), org.assertj.core.api.Assertions.within(1e-7));
    }
}
