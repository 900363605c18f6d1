package dev.quiver.host.backtest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.market.Bar;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.trading.CostModel;
import dev.quiver.host.data.BundledData;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CostCheckTest {

    /** Closes 100, 101, 100, 100.5: moves 100, 99.0099..., 50 bps; the median 99.0099... bps. */
    private static BarData series() {
        double[] closes = {100, 101, 100, 100.5};
        List<Bar> bars = new ArrayList<>();
        Instant t = Instant.parse("2024-01-01T00:00:00Z");
        for (int i = 0; i < closes.length; i++) {
            double c = closes[i];
            bars.add(new Bar(t.plus(Duration.ofHours(i)), c, c, c, c, 1));
        }
        return new BarData("fx-1h", Duration.ofHours(1), bars);
    }

    @Test
    void theRoundTripIsComparedWithTheMedianOneBarMove() {
        CostCheck check = CostCheck.of(series(), new CostModel(10, 5));
        assertThat(check.roundTripBps()).isEqualTo(30.0);
        assertThat(check.medianAbsReturnBps()).isCloseTo(1e4 / 101, within());
        assertThat(check.returns()).isEqualTo(3);
        assertThat(check.ratio()).isCloseTo(30.0 / (1e4 / 101), within());
        assertThat(check.suspicious()).isFalse();
    }

    @Test
    void itWarnsFromTheThresholdOn() {
        // Round trip 2 * (25 + 25) = 100 bps >= the 99.01 bps median move; 2 * (24 + 25) = 98 not.
        assertThat(CostCheck.of(series(), new CostModel(25, 25)).suspicious()).isTrue();
        assertThat(CostCheck.of(series(), new CostModel(24, 25)).suspicious()).isFalse();
        assertThat(CostCheck.of(series(), CostModel.NONE).suspicious()).isFalse();
        String message = CostCheck.of(series(), new CostModel(25, 25)).message();
        assertThat(message)
                .startsWith("warning: costs look wrong for fx-1h: a round trip costs 100.0 bps")
                .contains("1.0x the median one-bar move of 99.0 bps over 3 bars")
                .contains("--fee-bps", "--slippage-bps");
    }

    @Test
    void theDefaultsFitTheBundledSeries() {
        for (BundledData d : BundledData.values()) {
            CostCheck check = CostCheck.of(d.load(), CostModel.DEFAULT);
            System.out.printf(
                    "CostCheckTest: %s: round trip %.1f bps, median move %.1f bps, ratio %.2f%n",
                    check.dataset(),
                    check.roundTripBps(),
                    check.medianAbsReturnBps(),
                    check.ratio());
            assertThat(check.suspicious()).as(check.message()).isFalse();
        }
    }

    @Test
    void aSeriesTooShortToMoveIsNotJudged() {
        BarData one = new BarData("one", Duration.ofHours(1), List.of(series().bar(0)));
        CostCheck check = CostCheck.of(one, CostModel.DEFAULT);
        assertThat(check.returns()).isZero();
        assertThat(check.suspicious()).isFalse();
    }

    private static org.assertj.core.data.Offset<Double> within() {
        return org.assertj.core.data.Offset.offset(1e-9);
    }
}
