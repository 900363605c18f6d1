package dev.quiver.engine.fusion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.LabeledForecasts;
import dev.quiver.api.ensemble.SourceContribution;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.api.market.Bar;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.engine.market.BarData;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class WeightedFusionTest {

    private static final Instant T = Instant.parse("2024-01-01T00:00:00Z");
    private static final FeatureFrame FRAME =
            new FeatureFrame(
                    new FeatureSchema("t", "1", List.of("x")),
                    new BarData("t", Duration.ofHours(4), List.of(new Bar(T, 1, 1, 1, 1, 0)))
                            .viewThrough(0),
                    new double[] {0});

    private static Forecast f(String source, double p) {
        return new Forecast(source, T, 1, p, Map.of());
    }

    @Test
    void plattFitRecoversKnownParameters() {
        // outcomes drawn from P(up) = sigmoid(0.6 * logit(p) - 0.3), logit(p) ~ N(0, 1.5^2)
        Random rng = new Random(42);
        int n = 50_000;
        double[] p = new double[n];
        boolean[] up = new boolean[n];
        for (int i = 0; i < n; i++) {
            double x = 1.5 * rng.nextGaussian();
            p[i] = PlattScaling.sigmoid(x);
            up[i] = rng.nextDouble() < PlattScaling.sigmoid(0.6 * x - 0.3);
        }
        PlattScaling fit = PlattScaling.fit(p, up, PlattScaling.DEFAULT_RIDGE);
        assertThat(fit.a()).isCloseTo(0.6, within(0.03));
        assertThat(fit.b()).isCloseTo(-0.3, within(0.03));
    }

    @Test
    void equalWeightsAndIdentityBeforeFit() {
        WeightedFusion fusion = new WeightedFusion();
        FusedSignal s = fusion.fuse(List.of(f("a", 0.7), f("b", 0.4)), FRAME);
        assertThat(s.probabilityUp()).isCloseTo(0.55, within(1e-12));
        assertThat(s.confidence()).isCloseTo(0.1, within(1e-12));
        assertThat(s.agreement()).isCloseTo(0.5, within(1e-12));
        assertThat(s.contributions())
                .extracting(SourceContribution::weight)
                .containsExactly(0.5, 0.5);
        assertThat(s.contributions().get(0).probabilityUp()).isCloseTo(0.7, within(1e-9));
        assertThat(fusion.toString()).contains("not fitted");
        assertThat(fusion.descriptor().name()).isEqualTo("fused");
        assertThat(fusion.descriptor().version()).isEqualTo("1.0.0");
    }

    @Test
    void fewerThan200RowsKeepIdentityAndEqualWeights() {
        WeightedFusion fusion = new WeightedFusion();
        fusion.fit(rows(199, new Random(1)));
        assertThat(fusion.fitted()).isFalse();
        assertThat(fusion.calibration("good")).isEqualTo(PlattScaling.IDENTITY);
        assertThat(fusion.toString())
                .contains("identity calibration and equal weights: 199 training rows < 200");
        FusedSignal s = fusion.fuse(List.of(f("good", 0.8), f("noise", 0.4)), FRAME);
        assertThat(s.probabilityUp()).isCloseTo(0.6, within(1e-12));
    }

    @Test
    void skillfulSourceGetsMoreWeightAfterFit() {
        WeightedFusion fusion = new WeightedFusion();
        fusion.fit(rows(2_000, new Random(7)));
        assertThat(fusion.fitted()).isTrue();
        Map<String, Double> w = fusion.weights();
        assertThat(w.get("good") + w.get("noise")).isCloseTo(1.0, within(1e-12));
        assertThat(w.get("good")).isGreaterThan(w.get("noise"));
        assertThat(fusion.toString()).contains("fitted on 2000 training rows");
    }

    @Test
    void aMissingSourceStillFusesWithRenormalisedWeights() {
        WeightedFusion fusion = new WeightedFusion();
        fusion.fit(rows(2_000, new Random(7)));
        FusedSignal both = fusion.fuse(List.of(f("good", 0.7), f("noise", 0.3)), FRAME);
        assertThat(both.contributions()).hasSize(2);
        FusedSignal only = fusion.fuse(List.of(f("good", 0.7)), FRAME);
        assertThat(only.contributions()).hasSize(1);
        assertThat(only.contributions().get(0).weight()).isCloseTo(1.0, within(1e-12));
        assertThat(only.probabilityUp())
                .isCloseTo(fusion.calibration("good").apply(0.7), within(1e-12));
        assertThat(only.agreement()).isEqualTo(1.0);
        // fused p is the weighted mean of the calibrated contributions
        double mean =
                both.contributions().stream()
                        .mapToDouble(c -> c.weight() * c.probabilityUp())
                        .sum();
        assertThat(both.probabilityUp()).isCloseTo(mean, within(1e-12));
    }

    /** "good" is informative (p = 0.7 on up, 0.3 on down, 80% of the time); "noise" is random. */
    private static List<LabeledForecasts> rows(int n, Random rng) {
        List<LabeledForecasts> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            boolean up = rng.nextBoolean();
            boolean right = rng.nextDouble() < 0.8;
            double good = (up == right) ? 0.7 : 0.3;
            rows.add(
                    new LabeledForecasts(
                            T.plusSeconds(i),
                            List.of(f("good", good), f("noise", rng.nextDouble())),
                            up));
        }
        return rows;
    }
}
