package dev.quiver.host.backtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.quiver.engine.trading.Trade;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class PerformanceMetricsTest {

    private static final long YEAR_MS = (long) (365.25 * 86_400_000L);

    /**
     * Equity 100, 110, 99, 108.9 over exactly one year (bars a third of a year apart, so 3 bars per
     * year). Returns +0.1, -0.1, +0.1: mean 1/30, sample variance ((2/30)^2 * 2 + (4/30)^2) / 2 =
     * 1/75, so Sharpe = (1/30) / sqrt(1/75) * sqrt(3) = 0.5. Downside deviation sqrt(0.01 / 3), so
     * Sortino = (1/30) / sqrt(1/300) * sqrt(3) = 1.0. Max drawdown 1 - 99/110 = 0.1. CAGR over one
     * year = 108.9 / 100 - 1 = 0.089.
     */
    @Test
    void handComputedCurve() {
        long[] t = {0, YEAR_MS / 3, 2 * YEAR_MS / 3, YEAR_MS};
        double[] e = {100, 110, 99, 108.9};
        Trade win = new Trade(Instant.EPOCH, Instant.EPOCH, 10, 1, false);
        Trade loss = new Trade(Instant.EPOCH, Instant.EPOCH, 1, 2, false);
        PerformanceMetrics m = PerformanceMetrics.of(t, e, List.of(win, loss), 200, 2, 3);
        assertThat(m.barsPerYear()).isCloseTo(3.0, within(1e-9));
        assertThat(m.sharpe()).isCloseTo(0.5, within(1e-9));
        assertThat(m.sortino()).isCloseTo(1.0, within(1e-9));
        assertThat(m.maxDrawdown()).isCloseTo(0.1, within(1e-12));
        assertThat(m.cagr()).isCloseTo(0.089, within(1e-9));
        assertThat(m.hitRate()).isEqualTo(0.5); // net 9 > 0, net -1
        assertThat(m.trades()).isEqualTo(2);
        // 200 / mean(100, 110, 99, 108.9) = 200 / 104.475 per year
        assertThat(m.turnover()).isCloseTo(200 / 104.475, within(1e-9));
        assertThat(m.exposure()).isEqualTo(0.5);
        assertThat(m.finalEquity()).isEqualTo(108.9);
        assertThat(m.totalCosts()).isEqualTo(3);
    }

    /** 100 -> 121 over two years is 10% a year; 100 -> 50 over one year is -50%. */
    @Test
    void cagrFromCalendarTime() {
        assertThat(PerformanceMetrics.cagr(100, 121, 2)).isCloseTo(0.10, within(1e-12));
        assertThat(PerformanceMetrics.cagr(100, 50, 1)).isCloseTo(-0.5, within(1e-12));
        assertThat(PerformanceMetrics.years(0, 2 * YEAR_MS)).isCloseTo(2.0, within(1e-12));
    }

    /** Peak 120 then 60 is a 50% drawdown even after a later new high. */
    @Test
    void maxDrawdownIsTheDeepestFall() {
        assertThat(PerformanceMetrics.maxDrawdown(new double[] {100, 120, 90, 60, 130, 117}))
                .isCloseTo(0.5, within(1e-12));
        assertThat(PerformanceMetrics.maxDrawdown(new double[] {1, 2, 3})).isZero();
    }

    @Test
    void undefinedRatiosAreNaN() {
        double[] flat = PerformanceMetrics.returns(new double[] {100, 100, 100});
        assertThat(PerformanceMetrics.sharpe(flat, 252)).isNaN();
        assertThat(PerformanceMetrics.sortino(new double[] {0.01, 0.02}, 252)).isNaN();
        PerformanceMetrics m =
                PerformanceMetrics.of(
                        new long[] {0, YEAR_MS}, new double[] {100, 100}, List.of(), 0, 0, 0);
        assertThat(m.hitRate()).isNaN();
    }
}
