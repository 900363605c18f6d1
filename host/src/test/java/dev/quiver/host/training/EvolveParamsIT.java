package dev.quiver.host.training;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.trading.Stops;
import dev.quiver.host.backtest.PerformanceMetrics;
import dev.quiver.host.backtest.WalkForwardBacktest;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.strategy.StrategyFitter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Job kind {@code evolve-params} on real data (the first 1,750 bars of S&amp;P 500 daily) with the
 * built plugins: the same seed gives the same search and result, and the figure it reports is the
 * walk-forward Sharpe of the training span alone (recomputed here on the series cut at {@code
 * until}, with nothing after it).
 */
class EvolveParamsIT {

    static final Path PLUGINS =
            Path.of(System.getProperty("quiver.distribution")).resolve("plugins");

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path work;

    /** Records the progress notes; never cancelled. */
    private static final class Recording implements JobContext {
        final List<String> notes = new ArrayList<>();

        @Override
        public String jobId() {
            return "job-evolve-it";
        }

        @Override
        public void progress(double fraction, String note) {
            assertThat(fraction).isBetween(0.0, 1.0);
            notes.add(note);
        }
    }

    private EvolveParamsJob kind() {
        return new EvolveParamsJob(
                () ->
                        PluginRuntime.start(
                                PLUGINS, Map.of("quiver.plugin.isolation", "same-thread")),
                Optional.empty(),
                work);
    }

    @Test
    void theSameSeedGivesTheSameResultJudgedOnTheTrainingSpanOnly() throws Exception {
        BarData sp500 = BundledData.SP500_DAILY.load();
        // The span: the first 1,750 of 5,031 bars; the rest is never read.
        String until = Instant.ofEpochMilli(sp500.startMillis[1749]).toString();
        ObjectNode asked = JSON.createObjectNode();
        asked.put("dataset", "sp500-daily");
        asked.put("until", until);
        asked.put("population", 4);
        asked.put("generations", 3);
        asked.put("seed", 11);
        asked.put("train_bars", 750);
        asked.put("test_bars", 250);
        EvolveParamsJob kind = kind();
        ObjectNode p = kind.validate(asked.deepCopy());
        assertThat(p.get("policy").asText()).isEqualTo("fixed");

        long t0 = System.nanoTime();
        Recording first = new Recording();
        ObjectNode a = kind.run(p.deepCopy(), first);
        double seconds = (System.nanoTime() - t0) / 1e9;
        ObjectNode b = kind.run(p.deepCopy(), new Recording());
        System.out.printf(
                "EvolveParamsIT: one search %.1f s (%d evaluations): %s%n",
                seconds, a.get("evaluations").asInt(), a.toPrettyString());

        assertThat(b).isEqualTo(a);
        assertThat(first.notes).anyMatch(n -> n.startsWith("generation 3/3: best Sharpe"));
        assertThat(a.get("training_span").asText())
                .isEqualTo(
                        "sp500-daily "
                                + Instant.ofEpochMilli(sp500.startMillis[0])
                                + ".."
                                + until
                                + " (1750 bars)");
        assertThat(a.get("history")).hasSize(3);

        // The reported figure is the walk-forward Sharpe of the span alone.
        BarData span = sp500.truncate(1750);
        Stops best =
                new Stops(
                        a.at("/best/stop_loss_atr").asDouble(),
                        a.at("/best/take_profit_atr").asDouble(),
                        a.at("/best/trailing_atr").asDouble());
        try (PluginRuntime runtime =
                PluginRuntime.start(PLUGINS, Map.of("quiver.plugin.isolation", "same-thread"))) {
            PerformanceMetrics m =
                    EvolveParamsJob.evaluate(
                            FeaturePipeline.compute(span),
                            WalkForwardBacktest.Config.defaults().withWindows(750, 5, 250),
                            runtime.predictions().stream()
                                    .filter(c -> c.descriptor().name().equals("traditional"))
                                    .toList(),
                            StrategyFitter.ensembleOf(runtime),
                            runtime.sizings().stream()
                                    .filter(c -> c.descriptor().name().equals("fixed"))
                                    .findFirst()
                                    .orElseThrow(),
                            best);
            assertThat(a.at("/best_metrics/sharpe").asDouble()).isEqualTo(m.sharpe());
            assertThat(a.at("/history/2/best_sharpe").asDouble()).isEqualTo(m.sharpe());
        }
    }

    @Test
    void badParametersNameTheirField() {
        EvolveParamsJob kind = kind();
        for (var bad :
                List.of(
                        Map.<String, Object>of("population", -3),
                        Map.<String, Object>of("generations", 0),
                        Map.<String, Object>of("until", "yesterday"),
                        Map.<String, Object>of("dataset", "nasdaq-weekly"),
                        Map.<String, Object>of("register", "quiver-strategy"))) {
            String field = bad.keySet().iterator().next();
            ObjectNode p = JSON.valueToTree(bad);
            try {
                kind.validate(p);
                throw new AssertionError(field + " was accepted: " + p);
            } catch (dev.quiver.api.error.QuiverInputException e) {
                assertThat(e.field()).isEqualTo(field);
            }
        }
    }
}
