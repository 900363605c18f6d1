package dev.quiver.host.feature;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.quiver.engine.feature.Atr;
import dev.quiver.engine.feature.Ema;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.ta4j.core.indicators.ATRIndicator;

class AtrTest {

    // Hand-derived example, period 3 (no published ATR table was available offline; every number
    // below can be checked with pencil and paper, following Wilder 1978's definitions):
    //
    // bar  high  low   close | H-L  |H-Cp|  |Cp-L|  TR
    //  0   10    8     9     | 2    -       -       2      (first bar: H-L)
    //  1   11    9     10.5  | 2    2       0       2
    //  2   12    10    10    | 2    1.5     0.5     2
    //  3   14    13    13.5  | 1    4       3       4      (gap up: |H - Cp| wins)
    //  4   11    10    10.5  | 1    2.5     3.5     3.5    (gap down: |Cp - L| wins)
    //
    // Wilder seed (simple mean of the first 3 TRs): -, -, 2, (2*2 + 4)/3 = 8/3,
    // (2 * 8/3 + 3.5)/3 = 53/18.
    // ta4j seed (ATR_0 = TR_0 = 2): 2, (2 - 2)/3 + 2 = 2, 2, 8/3, 53/18 (same here: flat start).
    private static final double[][] BARS = {
        {10, 8, 9}, {11, 9, 10.5}, {12, 10, 10}, {14, 13, 13.5}, {11, 10, 10.5},
    };
    private static final double[] TRUE_RANGES = {2, 2, 2, 4, 3.5};

    @Test
    void wilderSeededAtrMatchesHandDerivedValues() {
        Atr atr = new Atr(3, Ema.Seed.SIMPLE_MEAN);
        double[] expected = {Double.NaN, Double.NaN, 2, 8.0 / 3, 53.0 / 18};
        for (int i = 0; i < BARS.length; i++) {
            double value = atr.update(BARS[i][0], BARS[i][1], BARS[i][2]);
            assertThat(atr.trueRange()).as("TR at bar %d", i).isEqualTo(TRUE_RANGES[i]);
            if (Double.isNaN(expected[i])) {
                assertThat(value).as("ATR at bar %d", i).isNaN();
            } else {
                assertThat(value).as("ATR at bar %d", i).isCloseTo(expected[i], within(1e-12));
            }
        }
    }

    @Test
    void ta4jSeededAtrStartsWithTheFirstTrueRange() {
        // TR_0 = 12 - 10 = 2; TR_1 = max(1, |15 - 11|, |11 - 14|) = 4; ATR_1 = (4 - 2)/3 + 2.
        Atr atr = new Atr(3, Ema.Seed.FIRST_VALUE);
        assertThat(atr.update(12, 10, 11)).isEqualTo(2.0);
        assertThat(atr.update(15, 14, 14.5)).isCloseTo(8.0 / 3, within(1e-12));
    }

    @ParameterizedTest
    @EnumSource(
            value = BundledData.class,
            names = {"BTC_USD_4H", "SP500_DAILY"})
    void equalsTa4jOnEveryBar(BundledData data) {
        BarData bars = Parity.bars(data);
        Atr atr = new Atr(14, Ema.Seed.FIRST_VALUE);
        double[] ours = new double[bars.size()];
        for (int i = 0; i < bars.size(); i++) {
            ours[i] = atr.update(bars.high[i], bars.low[i], bars.close[i]);
        }
        var reference = new ATRIndicator(Parity.doubleSeries(data), 14);
        assertThat(Parity.assertEqualsTa4j("ATR14", ours, reference)).isEqualTo(bars.size());
    }
}
