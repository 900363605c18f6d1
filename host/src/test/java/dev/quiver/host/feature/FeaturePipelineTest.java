package dev.quiver.host.feature;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.market.Bar;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.feature.StreamingFeatures;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.bench.Ta4jReference;
import dev.quiver.host.data.BundledData;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.ta4j.core.BarSeries;
import org.ta4j.core.Indicator;
import org.ta4j.core.indicators.ATRIndicator;
import org.ta4j.core.indicators.MACDIndicator;
import org.ta4j.core.indicators.RSIIndicator;
import org.ta4j.core.indicators.SMAIndicator;
import org.ta4j.core.indicators.bollinger.PercentBIndicator;
import org.ta4j.core.indicators.helpers.ClosePriceIndicator;
import org.ta4j.core.indicators.helpers.VolumeIndicator;
import org.ta4j.core.indicators.statistics.StandardDeviationIndicator;
import org.ta4j.core.num.DecimalNum;
import org.ta4j.core.num.Num;

class FeaturePipelineTest {

    @Test
    void schemaNamesAndOrderAreTheDeclaredOnes() {
        assertThat(FeaturePipeline.SCHEMA.names())
                .containsExactly(
                        "log_return_1",
                        "rsi_14",
                        "macd_12_26",
                        "macd_signal_9",
                        "macd_hist_12_26_9",
                        "macd_hist_pct",
                        "bb_percent_b_20_2",
                        "bb_width_20_2",
                        "atr_14",
                        "atr_pct_14",
                        "volume_ratio_20");
    }

    @Test
    void pointInTimeTruncatedSeriesGiveIdenticalRowsAtFiftyRandomCuts() {
        BarData bars = Parity.bars(BundledData.BTC_USD_4H);
        FeatureMatrix full = FeaturePipeline.compute(bars);
        Random random = new Random(20_251_127L); // fixed seed: the same cuts every run
        int features = FeaturePipeline.SCHEMA.size();
        for (int k = 0; k < 50; k++) {
            int cut = 1 + random.nextInt(bars.size()); // keep bars [0, cut)
            FeatureMatrix truncated = FeaturePipeline.compute(bars.truncate(cut));
            assertThat(truncated.firstWarmIndex()).isEqualTo(full.firstWarmIndex());
            for (int i = 0; i < cut; i++) {
                for (int f = 0; f < features; f++) {
                    // Bitwise equality (NaN equals NaN): nothing after the cut may matter.
                    if (Double.doubleToLongBits(truncated.get(i, f))
                            != Double.doubleToLongBits(full.get(i, f))) {
                        throw new AssertionError(
                                "cut "
                                        + cut
                                        + ", bar "
                                        + i
                                        + ", "
                                        + FeaturePipeline.SCHEMA.names().get(f)
                                        + ": truncated "
                                        + truncated.get(i, f)
                                        + " != full "
                                        + full.get(i, f));
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(BundledData.class)
    void nanBeforeWarmUpAndFiniteFromItOnEveryBundledSeries(BundledData data) {
        BarData bars = Parity.bars(data);
        FeatureMatrix m = FeaturePipeline.compute(bars);
        assertThat(m.firstWarmIndex()).isEqualTo(StreamingFeatures.FIRST_WARM_INDEX);
        for (int i = 0; i < bars.size(); i++) {
            for (int f = 0; f < m.schema().size(); f++) {
                String where = data + " bar " + i + " " + m.schema().names().get(f);
                if (i < m.firstWarmIndex()) {
                    assertThat(m.get(i, f)).as(where).isNaN();
                } else {
                    assertThat(Double.isFinite(m.get(i, f)))
                            .as(where + " = " + m.get(i, f))
                            .isTrue();
                }
            }
        }
        // A warm row is a valid frame for plugins (FeatureFrame rejects non-finite values).
        assertThat(m.frame(bars.size() - 1).get("rsi_14")).isBetween(0.0, 100.0);
    }

    @ParameterizedTest
    @EnumSource(
            value = BundledData.class,
            names = {"BTC_USD_4H", "SP500_DAILY"})
    void everyFeatureEqualsItsDefinitionOnTa4jDoubleNum(BundledData data) {
        assertFeaturesEqualTa4j(Parity.bars(data), Parity.doubleSeries(data));
    }

    @ParameterizedTest
    @EnumSource(
            value = BundledData.class,
            names = {"BTC_USD_4H", "SP500_DAILY"})
    void everyFeatureEqualsItsDefinitionOnTa4jDecimalNum(BundledData data) {
        // DecimalNum (32 significant digits) is nearly exact; our doubles carry their own
        // rounding, which on these prices (up to ~1.3e5) stays inside 1e-9.
        BarData bars = Parity.bars(data);
        Function<Number, Num> decimal = DecimalNum::valueOf;
        assertFeaturesEqualTa4j(bars, Ta4jReference.toSeries(bars, decimal));
    }

    private static void assertFeaturesEqualTa4j(BarData bars, BarSeries series) {
        FeatureMatrix m = FeaturePipeline.compute(bars);
        int warm = m.firstWarmIndex();
        ClosePriceIndicator close = new ClosePriceIndicator(series);
        MACDIndicator macd = new MACDIndicator(close, 12, 26);
        Indicator<Num> signal = macd.getSignalLine(9);
        Indicator<Num> hist = macd.getHistogram(9);
        RSIIndicator rsi = new RSIIndicator(close, 14);
        PercentBIndicator percentB = new PercentBIndicator(close, 20, 2.0);
        SMAIndicator middle = new SMAIndicator(close, 20);
        StandardDeviationIndicator std = new StandardDeviationIndicator(close, 20);
        ATRIndicator atr = new ATRIndicator(series, 14);
        SMAIndicator volumeSma = new SMAIndicator(new VolumeIndicator(series), 20);
        int n = bars.size();
        double[][] expected = new double[FeaturePipeline.SCHEMA.size()][n];
        for (int i = 0; i < n; i++) {
            double c = close.getValue(i).doubleValue();
            double h = hist.getValue(i).doubleValue();
            double a = atr.getValue(i).doubleValue();
            Num b = percentB.getValue(i);
            double sma = middle.getValue(i).doubleValue();
            double width = 4 * std.getValue(i).doubleValue() / sma;
            double vs = volumeSma.getValue(i).doubleValue();
            double[] row = {
                i == 0 ? Double.NaN : Math.log(c / bars.close[i - 1]),
                rsi.getValue(i).doubleValue(),
                macd.getValue(i).doubleValue(),
                signal.getValue(i).doubleValue(),
                h,
                h / c,
                b.isNaN() ? 0.5 : b.doubleValue(),
                width,
                a,
                a / c,
                vs == 0.0 ? 1.0 : bars.volume[i] / vs,
            };
            for (int f = 0; f < row.length; f++) {
                expected[f][i] = i < warm ? Double.NaN : row[f];
            }
        }
        for (int f = 0; f < FeaturePipeline.SCHEMA.size(); f++) {
            String name = FeaturePipeline.SCHEMA.names().get(f);
            double[] ours = m.column(name);
            double worst = 0;
            for (int i = warm; i < n; i++) {
                worst = Math.max(worst, Math.abs(ours[i] - expected[f][i]));
                assertThat(Double.isFinite(ours[i])).as(name + " at " + i).isTrue();
            }
            assertThat(worst)
                    .as(bars.symbol() + " " + name + " max |ours - ta4j|")
                    .isLessThanOrEqualTo(1e-9);
        }
    }

    @Test
    void declaredRulesForFlatPricesAndZeroVolume() {
        // 100 identical bars, no volume: bands coincide (%B declared 0.5), SMA20(volume) = 0
        // (ratio declared 1.0), no change at all (RSI 0 by ta4j's rule), no range (ATR 0).
        List<Bar> flat = new ArrayList<>();
        Instant t = Instant.parse("2020-01-01T00:00:00Z");
        for (int i = 0; i < 100; i++) {
            flat.add(new Bar(t.plus(Duration.ofHours(4L * i)), 100, 100, 100, 100, 0));
        }
        FeatureMatrix m = FeaturePipeline.compute(new BarData("flat", Duration.ofHours(4), flat));
        for (int i = m.firstWarmIndex(); i < 100; i++) {
            assertThat(m.frame(i).toArray())
                    .as("bar %d", i)
                    .containsExactly(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 1.0);
        }
    }

    @Test
    void seriesShorterThanTheWarmUpIsAllNan() {
        BarData bars =
                Parity.bars(BundledData.SP500_DAILY).truncate(StreamingFeatures.FIRST_WARM_INDEX);
        FeatureMatrix m = FeaturePipeline.compute(bars);
        for (int f = 0; f < m.schema().size(); f++) {
            assertThat(m.column(m.schema().names().get(f))).containsOnly(Double.NaN);
        }
    }
}
