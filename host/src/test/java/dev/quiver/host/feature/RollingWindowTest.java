package dev.quiver.host.feature;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.quiver.engine.feature.RollingWindow;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.ta4j.core.BarSeries;
import org.ta4j.core.indicators.SMAIndicator;
import org.ta4j.core.indicators.helpers.ClosePriceIndicator;
import org.ta4j.core.indicators.helpers.VolumeIndicator;
import org.ta4j.core.indicators.statistics.StandardDeviationIndicator;

class RollingWindowTest {

    @Test
    void populationStdOfTheClassicExampleIsTwo() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5; squared deviations 9+1+1+1+0+0+4+16 = 32;
        // population variance 32 / 8 = 4, std 2.
        RollingWindow w = new RollingWindow(8);
        for (double x : new double[] {2, 4, 4, 4, 5, 5, 7, 9}) {
            w.update(x);
        }
        assertThat(w.mean()).isEqualTo(5.0);
        assertThat(w.variance()).isCloseTo(4.0, within(1e-15));
        assertThat(w.std()).isCloseTo(2.0, within(1e-15));
    }

    @Test
    void partialWindowUsesTheValuesSoFarAndFullWindowDropsTheOldest() {
        RollingWindow w = new RollingWindow(3);
        w.update(1);
        assertThat(w.mean()).isEqualTo(1.0);
        assertThat(w.variance()).isEqualTo(0.0);
        w.update(3); // mean 2, variance (1 + 1) / 2 = 1
        assertThat(w.length()).isEqualTo(2);
        assertThat(w.mean()).isEqualTo(2.0);
        assertThat(w.variance()).isCloseTo(1.0, within(1e-15));
        w.update(5); // 1, 3, 5: mean 3, variance (4 + 0 + 4) / 3
        w.update(7); // 3, 5, 7: mean 5, variance 8 / 3
        assertThat(w.length()).isEqualTo(3);
        assertThat(w.mean()).isEqualTo(5.0);
        assertThat(w.variance()).isCloseTo(8.0 / 3, within(1e-15));
    }

    @Test
    void allZeroTracksTheWindowNotTheHistory() {
        RollingWindow w = new RollingWindow(2);
        assertThat(w.allZero()).isFalse();
        w.update(0);
        assertThat(w.allZero()).isTrue();
        w.update(5);
        assertThat(w.allZero()).isFalse();
        w.update(0);
        assertThat(w.allZero()).isFalse(); // window is 5, 0
        w.update(0);
        assertThat(w.allZero()).isTrue(); // window is 0, 0
    }

    @Test
    void constantWindowHasZeroVariance() {
        RollingWindow w = new RollingWindow(20);
        for (int i = 0; i < 100; i++) {
            w.update(i < 50 ? 417.3 * (1 + i % 7) : 1234.5678);
        }
        assertThat(w.variance()).isEqualTo(0.0);
    }

    @ParameterizedTest
    @EnumSource(
            value = BundledData.class,
            names = {"BTC_USD_4H", "SP500_DAILY"})
    void equalsTa4jSmaAndPopulationStdOnEveryBar(BundledData data) {
        BarData bars = Parity.bars(data);
        BarSeries series = Parity.doubleSeries(data);
        RollingWindow closes = new RollingWindow(20);
        RollingWindow volumes = new RollingWindow(20);
        double[] mean = new double[bars.size()];
        double[] std = new double[bars.size()];
        double[] volumeMean = new double[bars.size()];
        for (int i = 0; i < bars.size(); i++) {
            closes.update(bars.close[i]);
            volumes.update(bars.volume[i]);
            mean[i] = closes.mean();
            std[i] = closes.std();
            volumeMean[i] = volumes.mean();
        }
        ClosePriceIndicator close = new ClosePriceIndicator(series);
        Parity.assertEqualsTa4j("SMA20", mean, new SMAIndicator(close, 20));
        Parity.assertEqualsTa4j("STD20", std, new StandardDeviationIndicator(close, 20));
        // Same running total as ta4j's, same operation order: equal to the bit, even at S&P 500
        // volumes of ~1e9 shares.
        Parity.assertEqualsTa4j(
                "SMA20(volume)", volumeMean, new SMAIndicator(new VolumeIndicator(series), 20));
    }
}
