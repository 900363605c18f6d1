package dev.quiver.host.backtest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BootstrapTest {

    /** An AR(1)-volatility-free random walk of n returns, seeded. */
    private static double[] curve(int n, long seed, double drift) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[] e = new double[n + 1];
        e[0] = 100;
        for (int i = 1; i <= n; i++) {
            double z = rng.nextDouble() + rng.nextDouble() + rng.nextDouble() - 1.5;
            e[i] = e[i - 1] * (1 + drift + 0.02 * z);
        }
        return e;
    }

    private static Map<String, Bootstrap.Intervals> run(int n) {
        Map<String, double[]> curves = new LinkedHashMap<>();
        curves.put("fixed", curve(n, 1, 0.0005));
        curves.put("kelly", curve(n, 2, 0.0010));
        return Bootstrap.intervals(curves, "fixed", 252, 1000, 7);
    }

    @Test
    void intervalsContainThePointEstimates() {
        int n = 2000;
        Map<String, Bootstrap.Intervals> ci = run(n);
        for (String name : new String[] {"fixed", "kelly"}) {
            double[] eq =
                    curve(n, name.equals("fixed") ? 1 : 2, name.equals("fixed") ? 0.0005 : 0.001);
            double[] r = PerformanceMetrics.returns(eq);
            double sharpe = PerformanceMetrics.sharpe(r, 252);
            double dd = PerformanceMetrics.maxDrawdown(eq);
            assertThat(sharpe).isBetween(ci.get(name).sharpe()[0], ci.get(name).sharpe()[1]);
            assertThat(dd).isBetween(ci.get(name).maxDrawdown()[0], ci.get(name).maxDrawdown()[1]);
        }
        assertThat(ci.get("fixed").sharpeDiffVsBaseline()[0]).isNaN();
        double[] d = ci.get("kelly").sharpeDiffVsBaseline();
        double diff =
                PerformanceMetrics.sharpe(PerformanceMetrics.returns(curve(n, 2, 0.001)), 252)
                        - PerformanceMetrics.sharpe(
                                PerformanceMetrics.returns(curve(n, 1, 0.0005)), 252);
        assertThat(diff).isBetween(d[0], d[1]);
    }

    @Test
    void intervalsShrinkWithMoreData() {
        Bootstrap.Intervals small = run(500).get("kelly");
        Bootstrap.Intervals large = run(8000).get("kelly");
        double wSmall = small.sharpe()[1] - small.sharpe()[0];
        double wLarge = large.sharpe()[1] - large.sharpe()[0];
        // Sharpe's standard error falls like 1/sqrt(n): 16x the data, about a quarter the width
        assertThat(wLarge).isLessThan(wSmall * 0.5);
        double dSmall = small.sharpeDiffVsBaseline()[1] - small.sharpeDiffVsBaseline()[0];
        double dLarge = large.sharpeDiffVsBaseline()[1] - large.sharpeDiffVsBaseline()[0];
        assertThat(dLarge).isLessThan(dSmall * 0.5);
        // Max drawdown is path-length dependent (it grows with the horizon), so its interval is
        // not asserted to shrink.
    }

    @Test
    void seededAndReproducible() {
        assertThat(run(700).get("kelly").sharpe()).containsExactly(run(700).get("kelly").sharpe());
    }

    @Test
    void blockLengthIsTheCubeRoot() {
        assertThat(Bootstrap.blockLength(19_625)).isEqualTo(27);
        assertThat(Bootstrap.blockLength(3_961)).isEqualTo(16);
        assertThat(Bootstrap.blockLength(1)).isEqualTo(1);
    }
}
