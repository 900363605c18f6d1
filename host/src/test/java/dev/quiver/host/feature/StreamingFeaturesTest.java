package dev.quiver.host.feature;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.feature.StreamingFeatures;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

class StreamingFeaturesTest {

    @Test
    void warmExactlyFromFirstWarmIndexAndNanBefore() {
        BarData bars = Parity.bars(BundledData.SP500_DAILY);
        StreamingFeatures features = new StreamingFeatures();
        double[] out = new double[FeaturePipeline.SCHEMA.size()];
        for (int i = 0; i < 100; i++) {
            boolean warm = features.update(bars.bar(i));
            assertThat(warm).as("bar %d", i).isEqualTo(i >= StreamingFeatures.FIRST_WARM_INDEX);
            assertThat(features.isWarm()).isEqualTo(warm);
            features.copyValues(out);
            if (warm) {
                assertThat(out).as("bar %d", i).doesNotContain(Double.NaN);
            } else {
                assertThat(out).as("bar %d", i).containsOnly(Double.NaN);
            }
        }
        assertThat(features.barCount()).isEqualTo(100);
    }

    @Test
    void barAndPrimitiveUpdatesAgree() {
        BarData bars = Parity.bars(BundledData.NASDAQ_DAILY);
        StreamingFeatures byBar = new StreamingFeatures();
        StreamingFeatures byDoubles = new StreamingFeatures();
        double[] a = new double[FeaturePipeline.SCHEMA.size()];
        double[] b = new double[FeaturePipeline.SCHEMA.size()];
        for (int i = 0; i < bars.size(); i++) {
            byBar.update(bars.bar(i));
            byDoubles.update(
                    bars.open[i], bars.high[i], bars.low[i], bars.close[i], bars.volume[i]);
            byBar.copyValues(a);
            byDoubles.copyValues(b);
            assertThat(a).isEqualTo(b);
        }
    }

    @Test
    void copyValuesRejectsAShortArray() {
        StreamingFeatures features = new StreamingFeatures();
        assertThatThrownBy(() -> features.copyValues(new double[10]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("the schema needs 11");
    }

    @Test
    void hotPathAllocatesNothingPerBar() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        BarData bars = Parity.bars(BundledData.BTC_USD_4H);
        double[] out = new double[FeaturePipeline.SCHEMA.size()];
        run(bars, new StreamingFeatures(), out); // warm the JIT
        long thread = Thread.currentThread().getId();
        long least = Long.MAX_VALUE;
        for (int attempt = 0; attempt < 3; attempt++) { // least of 3: ignores JIT/deopt noise
            StreamingFeatures features = new StreamingFeatures();
            long before = threads.getThreadAllocatedBytes(thread);
            assertThat(before).as("allocation accounting supported by this JVM").isPositive();
            run(bars, features, out);
            least = Math.min(least, threads.getThreadAllocatedBytes(thread) - before);
        }
        // One 16-byte object per bar would be 16 * 20,695 = 331 KB; allow under 1 byte per bar.
        assertThat(least).as("bytes allocated over %d bars", bars.size()).isLessThan(bars.size());
    }

    private static void run(BarData bars, StreamingFeatures features, double[] out) {
        for (int i = 0; i < bars.size(); i++) {
            features.update(bars.open[i], bars.high[i], bars.low[i], bars.close[i], bars.volume[i]);
            features.copyValues(out);
        }
    }
}
