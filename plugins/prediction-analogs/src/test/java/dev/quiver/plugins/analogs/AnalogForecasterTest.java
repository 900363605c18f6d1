package dev.quiver.plugins.analogs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.testkit.FixtureSeries;
import dev.quiver.testkit.PredictionCapabilityContract;
import org.junit.jupiter.api.Test;

class AnalogForecasterTest implements PredictionCapabilityContract {

    @Override
    public PredictionCapability newPrediction() {
        return new AnalogForecaster(25, 500);
    }

    @Test
    void laplaceSmoothedWinRateByHand() {
        // 0 of 25 up: 1/27; 25 of 25: 26/27; 12 of 25: 13/27.
        assertThat(AnalogForecaster.probabilityUp(0, 25)).isEqualTo(1.0 / 27);
        assertThat(AnalogForecaster.probabilityUp(25, 25)).isEqualTo(26.0 / 27);
        assertThat(AnalogForecaster.probabilityUp(12, 25)).isEqualTo(13.0 / 27);
    }

    @Test
    void winRateAndKAreInTheDetailsAndAgreeWithTheProbability() {
        var fx = FixtureSeries.btcUsd4h();
        try (var a = new AnalogForecaster(25, 500)) {
            var f = a.forecast(fx.frame(400));
            assertThat(f.details())
                    .containsEntry("k", 25.0)
                    .containsKeys("win_rate", "mean_distance");
            double ups = f.details().get("win_rate") * 25;
            assertThat(ups).isEqualTo(Math.rint(ups));
            assertThat(f.probabilityUp()).isEqualTo(AnalogForecaster.probabilityUp((int) ups, 25));
            assertThat(f.details().get("candidates")).isEqualTo(400.0);
        }
    }

    @Test
    void onlyOutcomesKnownAtTheDecisionBarAreUsed() {
        // With k = lookback = every past bar, the win rate is exactly the share of up bars among
        // bars 1..t (outcomes of bars 0..t-1), never including bar t+1's.
        var fx = FixtureSeries.btcUsd4h();
        int t = 100;
        try (var a = new AnalogForecaster(t, t)) {
            var bars = fx.frame(t).history();
            int up = 0;
            for (int j = 0; j < t; j++) {
                up += bars.get(j + 1).close() > bars.get(j).close() ? 1 : 0;
            }
            assertThat(a.forecast(fx.frame(t)).details().get("win_rate"))
                    .isEqualTo((double) up / t);
        }
    }

    @Test
    void tooFewPastSetupsAreNamed() {
        var fx = FixtureSeries.btcUsd4h();
        assertThatThrownBy(() -> new AnalogForecaster(25, 500).forecast(fx.frame(10)))
                .isInstanceOf(QuiverInputException.class)
                .hasMessageEndingWith(
                        ": field 'history' has fewer than k = 25 past setups with a known outcome (value: 10)");
    }

    @Test
    void configurationIsValidated() {
        assertThatThrownBy(() -> new AnalogForecaster(30, 20))
                .hasMessage(
                        "[Quiver/BAD_CONFIG] plugin analogs: field 'lookback' is not in [k, 5000] = [30, 5000] (value: 20)");
    }
}
