package dev.quiver.host.feature;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.quiver.engine.feature.Bollinger;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.ta4j.core.BarSeries;
import org.ta4j.core.indicators.SMAIndicator;
import org.ta4j.core.indicators.bollinger.BollingerBandWidthIndicator;
import org.ta4j.core.indicators.bollinger.BollingerBandsLowerIndicator;
import org.ta4j.core.indicators.bollinger.BollingerBandsMiddleIndicator;
import org.ta4j.core.indicators.bollinger.BollingerBandsUpperIndicator;
import org.ta4j.core.indicators.bollinger.PercentBIndicator;
import org.ta4j.core.indicators.helpers.ClosePriceIndicator;
import org.ta4j.core.indicators.statistics.StandardDeviationIndicator;

class BollingerTest {

    @Test
    void bandsPercentBAndWidthByHand() {
        // closes 2, 4, 4, 4, 5, 5, 7, 9 with n = 8, k = 2: middle 5, population std 2,
        // upper 9, lower 1; %B of the last close 9 = (9 - 1) / 8 = 1; width = 8 / 5 = 1.6.
        Bollinger bb = new Bollinger(8, 2.0);
        for (double c : new double[] {2, 4, 4, 4, 5, 5, 7, 9}) {
            bb.update(c);
        }
        assertThat(bb.middle()).isEqualTo(5.0);
        assertThat(bb.upper()).isCloseTo(9.0, within(1e-14));
        assertThat(bb.lower()).isCloseTo(1.0, within(1e-14));
        assertThat(bb.percentB()).isCloseTo(1.0, within(1e-14));
        assertThat(bb.width()).isCloseTo(1.6, within(1e-14));
    }

    @Test
    void percentBIsUndefinedWhenTheBandsCoincide() {
        Bollinger bb = new Bollinger(3, 2.0);
        bb.update(7);
        bb.update(7);
        assertThat(bb.percentB()).isNaN();
        assertThat(bb.width()).isEqualTo(0.0);
    }

    @ParameterizedTest
    @EnumSource(
            value = BundledData.class,
            names = {"BTC_USD_4H", "SP500_DAILY"})
    void equalsTa4jOnEveryBar(BundledData data) {
        BarData bars = Parity.bars(data);
        BarSeries series = Parity.doubleSeries(data);
        Bollinger bb = new Bollinger(20, 2.0);
        int n = bars.size();
        double[] middle = new double[n];
        double[] upper = new double[n];
        double[] lower = new double[n];
        double[] percentB = new double[n];
        double[] widthTimes100 = new double[n];
        for (int i = 0; i < n; i++) {
            bb.update(bars.close[i]);
            middle[i] = bb.middle();
            upper[i] = bb.upper();
            lower[i] = bb.lower();
            percentB[i] = bb.percentB();
            widthTimes100[i] = bb.width() * 100;
        }
        ClosePriceIndicator close = new ClosePriceIndicator(series);
        var bbm = new BollingerBandsMiddleIndicator(new SMAIndicator(close, 20));
        var sd = new StandardDeviationIndicator(close, 20);
        var bbu = new BollingerBandsUpperIndicator(bbm, sd, series.numOf(2));
        var bbl = new BollingerBandsLowerIndicator(bbm, sd, series.numOf(2));
        Parity.assertEqualsTa4j("BB middle", middle, bbm);
        Parity.assertEqualsTa4j("BB upper", upper, bbu);
        Parity.assertEqualsTa4j("BB lower", lower, bbl);
        // ta4j's band width is in percent: ours times 100.
        Parity.assertEqualsTa4j(
                "BB width x100", widthTimes100, new BollingerBandWidthIndicator(bbu, bbm, bbl));
        int defined =
                Parity.assertEqualsTa4j("BB %B", percentB, new PercentBIndicator(close, 20, 2.0));
        // ta4j's %B is NaN only where the bands coincide (bar 0 at least: a one-value window).
        assertThat(defined).isBetween(n - 50, n - 1);
    }
}
