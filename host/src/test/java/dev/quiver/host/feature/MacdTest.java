package dev.quiver.host.feature;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.quiver.engine.feature.Macd;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.ta4j.core.indicators.MACDIndicator;
import org.ta4j.core.indicators.helpers.ClosePriceIndicator;

class MacdTest {

    @Test
    void smallPeriodsByHand() {
        // fast 1 (alpha 1: the close itself), slow 3 (alpha 1/2), signal 1 (alpha 1).
        // closes 10, 14: slow = 10, then (14 - 10)/2 + 10 = 12; line = 0, then 14 - 12 = 2;
        // signal = line; histogram = 0.
        Macd macd = new Macd(1, 3, 1);
        macd.update(10);
        assertThat(macd.line()).isEqualTo(0.0);
        macd.update(14);
        assertThat(macd.line()).isEqualTo(2.0);
        assertThat(macd.signal()).isEqualTo(2.0);
        assertThat(macd.histogram()).isEqualTo(0.0);
    }

    @Test
    void signalLagsTheLine() {
        // fast 1, slow 3, signal 3 (alpha 1/2): line 0 then 2; signal 0 then (2 - 0)/2 + 0 = 1.
        Macd macd = new Macd(1, 3, 3);
        macd.update(10);
        macd.update(14);
        assertThat(macd.signal()).isCloseTo(1.0, within(1e-15));
        assertThat(macd.histogram()).isCloseTo(1.0, within(1e-15));
    }

    @Test
    void rejectsFastSlowerThanSlow() {
        assertThatThrownBy(() -> new Macd(26, 12, 9)).hasMessageContaining("fast period 26");
    }

    @ParameterizedTest
    @EnumSource(
            value = BundledData.class,
            names = {"BTC_USD_4H", "SP500_DAILY"})
    void equalsTa4jLineSignalAndHistogramOnEveryBar(BundledData data) {
        BarData bars = Parity.bars(data);
        Macd macd = new Macd(12, 26, 9);
        double[] line = new double[bars.size()];
        double[] signal = new double[bars.size()];
        double[] hist = new double[bars.size()];
        for (int i = 0; i < bars.size(); i++) {
            macd.update(bars.close[i]);
            line[i] = macd.line();
            signal[i] = macd.signal();
            hist[i] = macd.histogram();
        }
        var reference =
                new MACDIndicator(new ClosePriceIndicator(Parity.doubleSeries(data)), 12, 26);
        Parity.assertEqualsTa4j("MACD line", line, reference);
        Parity.assertEqualsTa4j("MACD signal", signal, reference.getSignalLine(9));
        assertThat(Parity.assertEqualsTa4j("MACD histogram", hist, reference.getHistogram(9)))
                .isEqualTo(bars.size());
    }
}
