package dev.quiver.plugins.traditional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.api.market.Bar;
import dev.quiver.api.market.BarSeries;
import dev.quiver.api.prediction.Forecast;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TraditionalForecasterTest {

    private static final FeatureSchema SCHEMA =
            new FeatureSchema(
                    "test",
                    "1",
                    List.of(
                            "log_return_1",
                            "rsi_14",
                            "macd_hist_pct",
                            "bb_percent_b_20_2",
                            "atr_pct_14"));

    private static final Instant T0 = Instant.parse("2024-03-01T08:00:00Z");

    /** A tiny point-in-time series of {@code n} bars, 4 hours apart. */
    private record TinySeries(int size) implements BarSeries {
        @Override
        public String symbol() {
            return "TEST";
        }

        @Override
        public Duration period() {
            return Duration.ofHours(4);
        }

        @Override
        public Bar get(int index) {
            if (index < 0 || index >= size) {
                throw new IndexOutOfBoundsException(index);
            }
            double c = 100 + index;
            return new Bar(T0.plus(Duration.ofHours(4L * index)), c, c + 1, c - 1, c, 10);
        }
    }

    private static FeatureFrame frame(double rsi, double macdHistPct, double percentB, double atr) {
        return new FeatureFrame(
                SCHEMA, new TinySeries(3), new double[] {0.001, rsi, macdHistPct, percentB, atr});
    }

    @Test
    void descriptorNamesTraditionalOneZeroZeroHorizonOneUncalibrated() {
        try (var f = new TraditionalForecaster()) {
            assertThat(f.descriptor().name()).isEqualTo("traditional");
            assertThat(f.descriptor().version()).isEqualTo("1.0.0");
            assertThat(f.descriptor().attributes())
                    .containsExactlyEntriesOf(Map.of("calibrated", "false", "horizon", "1"));
            assertThat(f.descriptor()).isSameAs(f.descriptor());
        }
    }

    // Hand-derived: s = m + r + b, m = clamp(h / a, -3, 3), r = clamp((50 - rsi) / 50, -1, 1),
    // b = clamp(0.5 - %B, -1, 1); p = 1 / (1 + e^-s).
    @ParameterizedTest(name = "rsi={0} hist={1} %B={2} atr={3} -> s={4}")
    @CsvSource({
        // neutral: all terms 0
        "50, 0, 0.5, 0.01, 0",
        // oversold RSI 0: r = 1
        "0, 0, 0.5, 0.01, 1",
        // overbought RSI 100 and close at the upper band: r = -1, b = -0.5
        "100, 0, 1.0, 0.01, -1.5",
        // histogram of half an ATR: m = 0.005 / 0.01 = 0.5; RSI 30: r = 0.4; lower band: b = 0.5
        "30, 0.005, 0.0, 0.01, 1.4",
        // momentum capped: 0.1 / 0.01 = 10 -> 3
        "50, 0.1, 0.5, 0.01, 3",
        // %B far outside the bands capped: 0.5 - 4 = -3.5 -> -1
        "50, 0, 4.0, 0.01, -1",
        // no volatility: momentum term 0 whatever the histogram
        "50, 0.02, 0.5, 0, 0",
        // every term at its bound: s = 3 + 1 + 1 = 5
        "0, 1, -10, 0.01, 5",
    })
    void probabilityIsTheLogisticOfTheDocumentedScore(
            double rsi, double hist, double percentB, double atr, double score) {
        double expected = 1.0 / (1.0 + Math.exp(-score));
        assertThat(TraditionalForecaster.probabilityUp(rsi, hist, percentB, atr))
                .isCloseTo(expected, within(1e-15));
    }

    @Test
    void neutralInputsGiveExactlyOneHalfAndExtremesStayInsideZeroOne() {
        assertThat(TraditionalForecaster.probabilityUp(50, 0, 0.5, 0.02)).isEqualTo(0.5);
        double high = TraditionalForecaster.probabilityUp(-1e9, 1e9, -1e9, 1e-9);
        double low = TraditionalForecaster.probabilityUp(1e9, -1e9, 1e9, 1e-9);
        // |s| <= 5: p in [1 / (1 + e^5), 1 / (1 + e^-5)] = [0.00669, 0.99331].
        assertThat(high).isCloseTo(1.0 / (1.0 + Math.exp(-5)), within(1e-15)).isLessThan(1.0);
        assertThat(low).isCloseTo(1.0 / (1.0 + Math.exp(5)), within(1e-15)).isGreaterThan(0.0);
    }

    @Test
    void mirrorImageInputsGiveComplementaryProbabilities() {
        double[][] cases = {
            {27, 0.003, 0.1, 0.015}, {81, -0.0004, 0.93, 0.03}, {50, 0.01, 0.7, 0.002}
        };
        for (double[] c : cases) {
            double p = TraditionalForecaster.probabilityUp(c[0], c[1], c[2], c[3]);
            double mirror = TraditionalForecaster.probabilityUp(100 - c[0], -c[1], 1 - c[2], c[3]);
            assertThat(p + mirror).isCloseTo(1.0, within(1e-12));
        }
    }

    @Test
    void forecastReadsFeaturesByNameAndReportsThemInDetails() {
        try (var f = new TraditionalForecaster()) {
            Forecast forecast = f.forecast(frame(30, 0.005, 0.0, 0.01));
            assertThat(forecast.source()).isEqualTo("traditional");
            assertThat(forecast.horizonBars()).isEqualTo(1);
            assertThat(forecast.barTime()).isEqualTo(T0.plus(Duration.ofHours(8))); // bar 2
            assertThat(forecast.probabilityUp())
                    .isEqualTo(TraditionalForecaster.probabilityUp(30, 0.005, 0.0, 0.01))
                    .isCloseTo(1.0 / (1.0 + Math.exp(-1.4)), within(1e-15));
            assertThat(forecast.details())
                    .containsEntry("rsi_14", 30.0)
                    .containsEntry("macd_hist_pct", 0.005)
                    .containsEntry("bb_percent_b_20_2", 0.0)
                    .containsEntry("atr_pct_14", 0.01)
                    .containsKey("score");
            assertThat(forecast.details().get("score")).isCloseTo(1.4, within(1e-15));
        }
    }

    @Test
    void featureOrderInTheSchemaDoesNotMatter() {
        var reordered =
                new FeatureSchema(
                        "other",
                        "1",
                        List.of("atr_pct_14", "bb_percent_b_20_2", "macd_hist_pct", "rsi_14"));
        var frame =
                new FeatureFrame(reordered, new TinySeries(1), new double[] {0.01, 0.0, 0.005, 30});
        try (var f = new TraditionalForecaster()) {
            assertThat(f.forecast(frame).probabilityUp())
                    .isEqualTo(f.forecast(frame(30, 0.005, 0.0, 0.01)).probabilityUp());
        }
    }

    @Test
    void deterministicForTheSameFrame() {
        try (var f = new TraditionalForecaster()) {
            FeatureFrame frame = frame(61, -0.002, 0.8, 0.012);
            assertThat(f.forecast(frame)).isEqualTo(f.forecast(frame));
        }
    }

    @Test
    void missingFeatureIsRejectedNamingIt() {
        var schema =
                new FeatureSchema(
                        "partial", "1", List.of("rsi_14", "macd_hist_pct", "bb_percent_b_20_2"));
        var frame = new FeatureFrame(schema, new TinySeries(2), new double[] {40, 0.001, 0.3});
        try (var f = new TraditionalForecaster()) {
            assertThatThrownBy(() -> f.forecast(frame))
                    .isInstanceOf(QuiverInputException.class)
                    .hasMessageContaining("UNKNOWN_FEATURE")
                    .hasMessageContaining("atr_pct_14")
                    .satisfies(
                            e ->
                                    assertThat(((QuiverInputException) e).value())
                                            .isEqualTo("atr_pct_14"));
        }
    }

    @Test
    void closeIsIdempotentAndForecastAfterCloseFails() {
        var f = new TraditionalForecaster();
        FeatureFrame frame = frame(50, 0, 0.5, 0.01);
        assertThat(f.forecast(frame).probabilityUp()).isEqualTo(0.5);
        f.close();
        f.close();
        assertThatThrownBy(() -> f.forecast(frame))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("'traditional' was closed");
    }

    @Test
    void pf4jExtensionIndexListsTheForecaster() throws Exception {
        // Written by PF4J's ExtensionAnnotationProcessor at compile time from @Extension, next to
        // the class (test-classes has its own, empty, index that shadows it on the class path).
        URL classes =
                TraditionalForecaster.class.getProtectionDomain().getCodeSource().getLocation();
        URL index = new URL(classes, "META-INF/extensions.idx");
        try (InputStream in = index.openStream()) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(text.lines())
                    .as(index.toString())
                    .contains(TraditionalForecaster.class.getName());
        }
    }
}
