package dev.quiver.host.feature;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.engine.feature.Ema;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.ta4j.core.BarSeries;
import org.ta4j.core.indicators.EMAIndicator;
import org.ta4j.core.indicators.MMAIndicator;
import org.ta4j.core.indicators.helpers.ClosePriceIndicator;

class EmaTest {

    @Test
    void standardEmaIsSeededWithTheFirstValueAndSmoothsWithTwoOverNPlusOne() {
        // n = 3: alpha = 2 / 4 = 0.5. e0 = 1; e1 = (2 - 1) * .5 + 1 = 1.5;
        // e2 = (3 - 1.5) * .5 + 1.5 = 2.25; e3 = (4 - 2.25) * .5 + 2.25 = 3.125.
        Ema ema = Ema.standard(3);
        assertThat(ema.value()).isNaN();
        assertThat(ema.update(1)).isEqualTo(1.0);
        assertThat(ema.update(2)).isEqualTo(1.5);
        assertThat(ema.update(3)).isEqualTo(2.25);
        assertThat(ema.update(4)).isEqualTo(3.125);
        assertThat(ema.count()).isEqualTo(4);
    }

    @Test
    void wilderAverageWithSimpleMeanSeedStartsAtTheNthValue() {
        // n = 3, alpha = 1/3: undefined, undefined, mean(3, 6, 9) = 6, then (12 - 6) / 3 + 6 = 8.
        Ema mma = Ema.wilder(3, Ema.Seed.SIMPLE_MEAN);
        assertThat(mma.update(3)).isNaN();
        assertThat(mma.update(6)).isNaN();
        assertThat(mma.update(9)).isEqualTo(6.0);
        assertThat(mma.update(12)).isEqualTo(8.0);
    }

    @Test
    void wilderAverageWithFirstValueSeedMatchesTa4jConvention() {
        // n = 2, alpha = 1/2: 10, (20 - 10) / 2 + 10 = 15, (5 - 15) / 2 + 15 = 10.
        Ema mma = Ema.wilder(2, Ema.Seed.FIRST_VALUE);
        assertThat(mma.update(10)).isEqualTo(10.0);
        assertThat(mma.update(20)).isEqualTo(15.0);
        assertThat(mma.update(5)).isEqualTo(10.0);
    }

    @Test
    void rejectsNonPositivePeriod() {
        assertThatThrownBy(() -> Ema.standard(0)).hasMessageContaining("barCount must be >= 1");
    }

    @ParameterizedTest
    @EnumSource(
            value = BundledData.class,
            names = {"BTC_USD_4H", "SP500_DAILY"})
    void equalsTa4jEmaAndMmaOnEveryBar(BundledData data) {
        BarData bars = Parity.bars(data);
        BarSeries series = Parity.doubleSeries(data);
        ClosePriceIndicator close = new ClosePriceIndicator(series);
        for (int n : new int[] {9, 12, 26}) {
            Ema ema = Ema.standard(n);
            double[] ours = new double[bars.size()];
            for (int i = 0; i < bars.size(); i++) {
                ours[i] = ema.update(bars.close[i]);
            }
            assertThat(Parity.assertEqualsTa4j("EMA" + n, ours, new EMAIndicator(close, n)))
                    .isEqualTo(bars.size());
        }
        Ema mma = Ema.wilder(14, Ema.Seed.FIRST_VALUE);
        double[] ours = new double[bars.size()];
        for (int i = 0; i < bars.size(); i++) {
            ours[i] = mma.update(bars.close[i]);
        }
        assertThat(Parity.assertEqualsTa4j("MMA14", ours, new MMAIndicator(close, 14)))
                .isEqualTo(bars.size());
    }
}
