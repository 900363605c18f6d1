package dev.quiver.host.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.feature.StreamingFeatures;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.ta4j.core.num.DecimalNum;
import org.ta4j.core.num.DoubleNum;
import org.ta4j.core.num.Num;

class Ta4jReferenceTest {

    private static final Function<Number, Num> DOUBLE = DoubleNum::valueOf;

    /** The same rule applied to the pipeline's own features. */
    private static double[] pipelineProbabilities(FeatureMatrix m) {
        double[] rsi = m.column("rsi_14");
        double[] hist = m.column("macd_hist_pct");
        double[] percentB = m.column("bb_percent_b_20_2");
        double[] atr = m.column("atr_pct_14");
        double[] p = new double[rsi.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = Ta4jReference.probabilityUp(rsi[i], hist[i], percentB[i], atr[i]);
        }
        return p;
    }

    @Test
    void ta4jDoubleNumTradesEqualThePipelineTradesOnRealBtc() {
        BarData bars = BundledData.BTC_USD_4H.load();
        FeatureMatrix m = FeaturePipeline.compute(bars);
        List<Integer> fromPipeline =
                Ta4jReference.signalChanges(pipelineProbabilities(m), m.firstWarmIndex());
        List<Integer> fromTa4j = Ta4jReference.of(bars, DOUBLE).signalChanges();
        assertThat(fromPipeline).hasSizeGreaterThan(100); // the rule really trades
        assertThat(fromPipeline.get(0)).isGreaterThanOrEqualTo(StreamingFeatures.FIRST_WARM_INDEX);
        assertThat(fromTa4j).isEqualTo(fromPipeline);
    }

    @Test
    void ta4jProbabilitiesEqualThePipelinesBarByBar() {
        BarData bars = BundledData.SP500_DAILY.load();
        double[] ours = pipelineProbabilities(FeaturePipeline.compute(bars));
        double[] reference = Ta4jReference.of(bars, DOUBLE).probabilities();
        for (int i = 0; i < bars.size(); i++) {
            if (i < StreamingFeatures.FIRST_WARM_INDEX) {
                assertThat(reference[i]).isNaN();
                assertThat(ours[i]).isNaN();
            } else {
                assertThat(ours[i]).as("bar %d", i).isCloseTo(reference[i], within(1e-12));
            }
        }
    }

    @Test
    void decimalNumReferenceTradesTheSameOnSp500() {
        BarData bars = BundledData.SP500_DAILY.load();
        Function<Number, Num> decimal = DecimalNum::valueOf;
        assertThat(Ta4jReference.of(bars, decimal).signalChanges())
                .isEqualTo(Ta4jReference.of(bars, DOUBLE).signalChanges());
    }

    @Test
    void signalChangesAlternateEntriesAndExitsFromTheFirstWarmBar() {
        double[] p = {0.9, 0.9, 0.4, 0.6, 0.6, 0.5, 0.2, 0.51};
        // Flat before bar 2 (even though p > 0.5); 0.5 is not > 0.5, so bar 5 is an exit.
        assertThat(Ta4jReference.signalChanges(p, 2)).containsExactly(3, 5, 7);
        assertThat(Ta4jReference.signalChanges(p, 0)).containsExactly(0, 2, 3, 5, 7);
    }

    // Hand-derived, identical to the plugin's TraditionalForecasterTest cases:
    // s = clamp(h / a, -3, 3) + clamp((50 - rsi) / 50, -1, 1) + clamp(0.5 - %B, -1, 1).
    @ParameterizedTest
    @CsvSource({
        "50, 0, 0.5, 0.01, 0",
        "0, 0, 0.5, 0.01, 1",
        "100, 0, 1.0, 0.01, -1.5",
        "30, 0.005, 0.0, 0.01, 1.4",
        "50, 0.1, 0.5, 0.01, 3",
        "50, 0, 4.0, 0.01, -1",
        "50, 0.02, 0.5, 0, 0",
        "0, 1, -10, 0.01, 5",
    })
    void probabilityUpMatchesThePluginsDocumentedRule(
            double rsi, double hist, double percentB, double atr, double score) {
        assertThat(Ta4jReference.probabilityUp(rsi, hist, percentB, atr))
                .isCloseTo(1.0 / (1.0 + Math.exp(-score)), within(1e-15));
    }

    @Test
    void seriesConversionKeepsEveryBar() {
        BarData bars = BundledData.NASDAQ_DAILY.load();
        var series = Ta4jReference.toSeries(bars, DOUBLE);
        assertThat(series.getBarCount()).isEqualTo(bars.size());
        int last = bars.size() - 1;
        assertThat(series.getBar(last).getClosePrice().doubleValue()).isEqualTo(bars.close[last]);
        assertThat(series.getBar(last).getEndTime().toInstant().toEpochMilli())
                .isEqualTo(bars.startMillis[last] + bars.period().toMillis());
    }

    @Test
    @Tag("benchmark")
    void printsBarsPerSecond() {
        BarData bars = BundledData.BTC_USD_4H.load();
        var timing = Ta4jReference.of(bars, DOUBLE).time(3, 5);
        long best = Long.MAX_VALUE;
        for (int run = 0; run < 8; run++) {
            long start = System.nanoTime();
            FeaturePipeline.compute(bars);
            best = Math.min(best, System.nanoTime() - start);
        }
        System.out.printf(
                "ta4j DoubleNum rule: %,.0f bars/s; Quiver FeaturePipeline.compute: %,.0f bars/s%n",
                timing.barsPerSecond(), bars.size() / (best / 1e9));
        assertThat(timing.bars()).isEqualTo(bars.size());
    }
}
