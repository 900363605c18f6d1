package dev.quiver.plugins.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.testkit.FixtureSeries;
import dev.quiver.testkit.PredictionCapabilityContract;
import org.junit.jupiter.api.Test;

class MomentumForecasterTest implements PredictionCapabilityContract {

    @Override
    public PredictionCapability newPrediction() {
        return new MomentumForecaster(20);
    }

    @Test
    void formulaByHand() {
        // r = ln(110/100) = 0.0953102; z = r / (0.01 * sqrt(4)) = 4.765509; p = 1/(1+e^-0.4765509)
        // = 0.6169331
        double r = Math.log(1.1);
        assertThat(MomentumForecaster.probabilityUp(r, 0.01, 4)).isCloseTo(0.6169331, within(1e-6));
        assertThat(MomentumForecaster.probabilityUp(0, 0.01, 4)).isEqualTo(0.5);
        assertThat(MomentumForecaster.probabilityUp(-r, 0.01, 4))
                .isCloseTo(1 - 0.6169331, within(1e-6));
    }

    @Test
    void upTrendOnRealBarsLeansUp() {
        var fx = FixtureSeries.btcUsd4h();
        try (var m = new MomentumForecaster(20)) {
            for (int t = 30; t < fx.size(); t++) {
                var bars = fx.frame(t).history();
                double r = Math.log(bars.last().close() / bars.get(bars.size() - 21).close());
                double p = m.forecast(fx.frame(t)).probabilityUp();
                assertThat(Math.signum(p - 0.5)).as("bar %s", t).isEqualTo(Math.signum(r));
            }
        }
    }

    @Test
    void tooShortHistoryIsNamed() {
        var fx = FixtureSeries.btcUsd4h();
        assertThatThrownBy(() -> new MomentumForecaster(20).forecast(fx.frame(5)))
                .isInstanceOf(QuiverInputException.class)
                .hasMessageStartingWith("[Quiver/SHORT_HISTORY] momentum at bar ")
                .hasMessageEndingWith(
                        ": field 'history' has fewer than lookback + 1 = 21 bars (value: 6)");
    }

    @Test
    void lookbackIsValidated() {
        assertThatThrownBy(() -> new MomentumForecaster(1))
                .isInstanceOf(QuiverInputException.class)
                .hasMessage(
                        "[Quiver/BAD_CONFIG] plugin momentum: field 'lookback' is not in [2, 1000]"
                                + " (value: 1)");
    }
}
