package dev.quiver.plugins.gbm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.LabeledForecasts;
import dev.quiver.api.prediction.Forecast;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StackEnsembleTest {

    /**
     * A deliberately miscalibrated toy source: it says p uniform in [0.05, 0.95] but the truth is a
     * step, P(up) = 0.35 below 0.5 and 0.65 above. Logistic regression alone cannot bend a sigmoid
     * into a step; the isotonic calibrator fitted out-of-fold can. Scored on held-out bars.
     */
    @Test
    void isotonicCalibrationCorrectsAMiscalibratedSourceOnHeldOutBars() {
        List<LabeledForecasts> train = toy(20_000, 1);
        List<LabeledForecasts> test = toy(20_000, 2);
        double raw = ece(null, test);
        double uncalibrated = ece(stack("none", train), test);
        double calibrated = ece(stack("isotonic", train), test);
        System.out.printf(
                "toy source ECE: raw %.4f, stack without calibrator %.4f, with isotonic %.4f%n",
                raw, uncalibrated, calibrated);
        assertThat(raw).isGreaterThan(0.1);
        // Without the calibrator the fused signal stays visibly miscalibrated ...
        assertThat(uncalibrated).isGreaterThan(0.04);
        // ... with it, it is calibrated on bars it never saw.
        assertThat(calibrated).isLessThan(0.03);
    }

    @Test
    void keepsItsPriorWithTooFewOutOfFoldRowsAndSaysSo() {
        StackEnsemble s = stack("isotonic", List.of());
        assertThat(s.state().meta()).isNull();
        assertThat(s.toString()).contains("prior").contains("0 out-of-fold training rows");
        FusedSignal f =
                s.fuse(
                        List.of(forecast("a", 0.7, 0), forecast("b", 0.6, 0)),
                        RealRows.BTC.get(0).frame());
        assertThat(f.probabilityUp()).isBetween(0.6, 0.7);
        assertThat(f.agreement()).isEqualTo(1.0);
        assertThat(f.contributions()).hasSize(2);
    }

    private static StackEnsemble stack(String calibration, List<LabeledForecasts> train) {
        StackEnsemble s =
                new StackEnsemble(RealRows.context(Map.of("stack.calibration", calibration)));
        s.fit(train);
        return s;
    }

    private static Forecast forecast(String source, double p, int i) {
        return new Forecast(source, Instant.ofEpochSecond(i * 3600L), 1, p, Map.of());
    }

    private static List<LabeledForecasts> toy(int n, long seed) {
        Random r = new Random(seed);
        List<LabeledForecasts> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            double p = 0.05 + 0.9 * r.nextDouble();
            boolean up = r.nextDouble() < (p > 0.5 ? 0.65 : 0.35);
            out.add(
                    new LabeledForecasts(
                            Instant.ofEpochSecond(i * 3600L), List.of(forecast("toy", p, i)), up));
        }
        return out;
    }

    /** Expected calibration error, 10 equal-width bins (Naeini et al. 2015). */
    private static double ece(StackEnsemble s, List<LabeledForecasts> rows) {
        double[] sumP = new double[10];
        double[] sumY = new double[10];
        int[] n = new int[10];
        for (LabeledForecasts row : rows) {
            double p =
                    s == null
                            ? row.forecasts().get(0).probabilityUp()
                            : s.fuse(row.forecasts(), RealRows.BTC.get(0).frame()).probabilityUp();
            int b = Math.min(9, (int) (p * 10));
            sumP[b] += p;
            sumY[b] += row.up() ? 1 : 0;
            n[b]++;
        }
        double e = 0;
        for (int b = 0; b < 10; b++) {
            if (n[b] > 0) {
                e += n[b] * Math.abs(sumP[b] / n[b] - sumY[b] / n[b]);
            }
        }
        return e / rows.size();
    }
}
