package dev.quiver.host.backtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.sizing.PortfolioSizingCapability;
import dev.quiver.api.sizing.PortfolioSizingContext;
import dev.quiver.api.sizing.PortfolioSizingDecision;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.fusion.WeightedFusion;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.portfolio.PortfolioLimits;
import dev.quiver.engine.risk.RiskGuard;
import dev.quiver.host.data.BundledData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The portfolio pass on real bundled bars: the first 1,500 daily bars of the S&amp;P 500 and the
 * NASDAQ Composite (1999-2004), each walk-forward with the test capabilities (momentum, RSI
 * reversion, quarter-Kelly), then one account.
 */
class PortfolioBacktestTest {

    private static final WalkForwardBacktest.Config CONFIG =
            WalkForwardBacktest.Config.defaults().withWindows(500, 5, 250);

    private static List<PortfolioBacktest.SymbolRun> runs;

    @BeforeAll
    static void walkForwards() {
        runs = new ArrayList<>();
        for (BundledData d : List.of(BundledData.SP500_DAILY, BundledData.NASDAQ_DAILY)) {
            BarData bars = d.load().truncate(1_500);
            List<SizingContext> contexts = new ArrayList<>();
            BacktestResult single =
                    new WalkForwardBacktest(CONFIG)
                            .withThreads(1)
                            .withStepListener(PortfolioBacktest.collecting("kelly", contexts))
                            .run(
                                    FeaturePipeline.compute(bars),
                                    List.of(
                                            TestCapabilities.momentum(10, 20),
                                            TestCapabilities.rsiReversion()),
                                    new WeightedFusion(),
                                    List.of(TestCapabilities.quarterKelly()),
                                    new RiskGuard(),
                                    Progress.NONE);
            runs.add(
                    new PortfolioBacktest.SymbolRun(
                            bars, single, contexts.toArray(SizingContext[]::new)));
        }
    }

    /** Proposes {@code fraction} for every member whatever the inputs: the host's caps must act. */
    private static PortfolioSizingCapability greedy(double fraction) {
        return new PortfolioSizingCapability() {
            @Override
            public CapabilityDescriptor descriptor() {
                return CapabilityDescriptor.of("greedy", "1.0.0");
            }

            @Override
            public PortfolioSizingDecision size(PortfolioSizingContext ctx) {
                return new PortfolioSizingDecision(
                        Collections.nCopies(
                                ctx.members().size(),
                                new SizingDecision(fraction, "greedy", Map.of())));
            }
        };
    }

    private static PortfolioBacktest.Result run(PortfolioSizingCapability policy) {
        return new PortfolioBacktest(
                        CONFIG,
                        new PortfolioBacktest.Settings(PortfolioLimits.DEFAULTS, 60, "kelly"))
                .run(runs, policy, Progress.NONE);
    }

    @Test
    void theStepListenerSawEveryTestBar() {
        for (PortfolioBacktest.SymbolRun r : runs) {
            assertThat(r.contexts()).hasSize(r.single().testTimes().length);
            assertThat(r.contexts()).filteredOn(c -> c != null).isNotEmpty();
        }
    }

    @Test
    void profitAndLossIsAttributedToTheSymbolsExactly() {
        PortfolioBacktest.Result r = run(greedy(1.0));
        double[] equity = r.curves().get(PortfolioBacktest.PORTFOLIO);
        double sum = 0;
        for (PortfolioBacktest.SymbolFigures s : r.perSymbol()) {
            sum += s.contribution();
        }
        // both series end inside the run and are sold at their last close: all cash at the end
        double initial = CONFIG.initialEquity();
        assertThat(equity[equity.length - 1]).isCloseTo(initial * (1 + sum), within(1e-6));
        assertThat(r.decisions()).isPositive();
    }

    @Test
    void correlatedIndicesAreOneBetUnderTheClusterCap() {
        // The S&P 500 and the NASDAQ are correlated far above 0.7 in 2001-2004: one cluster,
        // so a policy asking 1.0 of each is held to 0.6 together, and the guard says so.
        PortfolioBacktest.Result r = run(greedy(1.0));
        assertThat(r.guardChanges()).isPositive();
        PortfolioBacktest.Decision last = r.lastDecision();
        assertThat(last.symbols()).containsExactly("sp500-daily", "nasdaq-daily");
        double total = 0;
        for (double f : last.allocation()) {
            total += f;
        }
        boolean flattened = last.notes().stream().anyMatch(n -> n.contains("breaker"));
        if (!flattened) {
            assertThat(total).isCloseTo(0.6, within(1e-12));
            assertThat(last.notes()).anyMatch(n -> n.startsWith("cluster [0, 1] scaled"));
        } else {
            assertThat(total).isZero();
        }
        double c01 = last.covariance()[0][1];
        double rho = c01 / Math.sqrt(last.covariance()[0][0] * last.covariance()[1][1]);
        assertThat(rho).isGreaterThan(0.7);
    }

    @Test
    void theReportHasTheThreeCurvesAndTheFiles(@TempDir Path dir) throws Exception {
        PortfolioBacktest.Result r = run(greedy(0.2));
        assertThat(PortfolioReport.curveNames(r))
                .containsExactly(
                        PortfolioBacktest.PORTFOLIO,
                        PortfolioBacktest.SUM_OF_SINGLES,
                        PortfolioBacktest.EQUAL_WEIGHT_HOLD);
        PortfolioReport.write(r, dir);
        JsonNode json = new ObjectMapper().readTree(dir.resolve("report.json").toFile());
        JsonNode portfolio = json.get("curves").get("portfolio");
        for (String ci : new String[] {"cagr_ci95", "sharpe_ci95", "sortino_ci95"}) {
            assertThat(portfolio.get(ci)).as(ci).hasSize(2);
            assertThat(portfolio.get(ci).get(0).asDouble())
                    .as(ci + " low <= high")
                    .isLessThanOrEqualTo(portfolio.get(ci).get(1).asDouble());
        }
        // the point estimate of CAGR lies inside its bootstrap interval
        assertThat(portfolio.get("cagr").asDouble())
                .isBetween(
                        portfolio.get("cagr_ci95").get(0).asDouble(),
                        portfolio.get("cagr_ci95").get(1).asDouble());
        assertThat(json.get("per_symbol")).hasSize(2);
        assertThat(json.get("last_decision").get("covariance_per_day")).hasSize(2);
        assertThat(Files.size(dir.resolve("equity.png"))).isGreaterThan(1_000);
        assertThat(PortfolioReport.render(r)).contains("sum_of_single_runs", "sp500-daily");
    }
}
