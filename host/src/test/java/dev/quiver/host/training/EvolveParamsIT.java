package dev.quiver.host.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.backtest.PerformanceMetrics;
import dev.quiver.host.backtest.Progress;
import dev.quiver.host.backtest.WalkForwardBacktest;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.mlflow.LocalMlflow;
import dev.quiver.host.mlflow.MlflowClient;
import dev.quiver.host.mlflow.MlflowException;
import dev.quiver.host.mlflow.MlflowHttp;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.strategy.BundleRegistrar;
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
        assertThat(p.get("policy").asText()).isEqualTo("kelly");

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
        assertThat(a.get("search_span").asText())
                .isEqualTo(
                        "sp500-daily "
                                + Instant.ofEpochMilli(sp500.startMillis[0])
                                + ".."
                                + until
                                + " (1750 bars)");
        assertThat(a.get("history")).hasSize(3);

        // The reported figures: the walk-forward Sharpe of the search span alone, and of the
        // held-out walk-forward whose first test bar is the first bar after the span.
        BarData span = sp500.truncate(1750);
        TradeParams best = TradeParams.fromJson(a.get("best"), "best");
        WalkForwardBacktest.Config config =
                WalkForwardBacktest.Config.defaults().withWindows(750, 5, 250);
        try (PluginRuntime runtime =
                PluginRuntime.start(PLUGINS, Map.of("quiver.plugin.isolation", "same-thread"))) {
            var predictors =
                    runtime.predictions().stream()
                            .filter(c -> c.descriptor().name().equals("traditional"))
                            .toList();
            var kelly =
                    runtime.sizings().stream()
                            .filter(c -> c.descriptor().name().equals("kelly"))
                            .findFirst()
                            .orElseThrow();
            PerformanceMetrics m =
                    EvolveParamsJob.evaluate(
                            FeaturePipeline.compute(span),
                            config,
                            predictors,
                            StrategyFitter.ensembleOf(runtime),
                            kelly,
                            best,
                            Progress.NONE);
            assertThat(a.at("/best_search/sharpe").asDouble()).isEqualTo(m.sharpe());
            assertThat(a.at("/history/2/best_sharpe").asDouble()).isEqualTo(m.sharpe());
            var held = EvolveParamsJob.heldOut(sp500, 1750, config);
            // Its first test bar is the first held-out bar: nothing of the search span is scored.
            var folds =
                    dev.quiver.host.backtest.WalkForwardBacktest.layout(
                            held.bars(), held.firstWarmIndex(), config);
            assertThat(held.bars().startMillis[folds.get(0).testFirst()])
                    .isEqualTo(sp500.startMillis[1750]);
            PerformanceMetrics h =
                    EvolveParamsJob.evaluate(
                            held,
                            config,
                            predictors,
                            StrategyFitter.ensembleOf(runtime),
                            kelly,
                            best,
                            Progress.NONE);
            assertThat(a.at("/best_held_out/sharpe").asDouble()).isEqualTo(h.sharpe());
        }
    }

    /**
     * On real data (NASDAQ Composite daily, search span 1999-01-04..2005-12-30), a set that wins on
     * the search span only is refused on the held-out span (2006..2018): the search's best beats
     * the champion there (a set an earlier S&amp;P 500 search found) but not on the held-out bars,
     * so nothing is registered, and every trial is in MLflow (a parent run, a child run per
     * generation) on the real server.
     */
    @Test
    void aSetThatWinsOnlyOnTheSearchSpanIsRefusedOnTheHeldOutSpanAndEveryTrialIsLogged()
            throws Exception {
        String uri = LocalMlflow.uri();
        MlflowClient mlflow = new MlflowClient(new MlflowHttp(uri, MlflowHttp.Settings.defaults()));
        String name = "it-evolve-refused-" + System.nanoTime();
        EvolveParamsJob kind =
                new EvolveParamsJob(
                        () ->
                                PluginRuntime.start(
                                        PLUGINS, Map.of("quiver.plugin.isolation", "same-thread")),
                        Optional.of(() -> new BundleRegistrar(mlflow)),
                        Optional.of(() -> mlflow),
                        work);
        ObjectNode asked = JSON.createObjectNode();
        asked.put("dataset", "nasdaq-daily");
        asked.put("until", "2005-12-30T00:00:00Z");
        asked.put("population", 4);
        asked.put("generations", 2);
        asked.put("seed", 11);
        asked.put("train_bars", 750);
        asked.put("test_bars", 250);
        asked.set(
                "champion",
                JSON.readTree(
                        "{\"stop_loss_atr\": 5.25, \"take_profit_atr\": 5.75, \"trailing_atr\":"
                                + " 7.75, \"max_position\": 0.5, \"kelly_fraction\": 0.35,"
                                + " \"leverage_max\": 3.75, \"leverage_atr_pct\": 6.5}"));
        asked.put("register", name);
        long t0 = System.nanoTime();
        ObjectNode r = kind.run(kind.validate(asked), new Recording());
        System.out.printf(
                "EvolveParamsIT: refused search %.1f s: %s%n",
                (System.nanoTime() - t0) / 1e9, r.toPrettyString());

        // It wins on the search span ...
        assertThat(r.at("/best_search/sharpe").asDouble())
                .isGreaterThan(r.at("/champion/search/sharpe").asDouble());
        // ... and not on the held-out span: refused, saying why, nothing registered.
        assertThat(r.at("/best_held_out/sharpe").asDouble())
                .isLessThanOrEqualTo(r.at("/champion/held_out/sharpe").asDouble());
        assertThat(r.get("better_than_champion").asBoolean()).isFalse();
        assertThat(r.get("registered").asBoolean()).isFalse();
        assertThat(r.get("refused").asText())
                .startsWith("not registered: held-out Sharpe")
                .contains("is not above the champion's")
                .contains("given (parameter champion)");
        assertThat(r.get("held_out_span").asText()).startsWith("nasdaq-daily 2006-01-03T");
        assertThatThrownBy(() -> mlflow.versionByAlias(name, "challenger"))
                .isInstanceOf(MlflowException.class)
                .matches(e -> ((MlflowException) e).notFound());

        // MLflow: the parent run with both figures, one finished child run per generation holding
        // every trial as a step of trial.<parameter> (and trial.sharpe where it is defined).
        JsonNode parent = mlflow.getRun(r.get("mlflow_run_id").asText());
        assertThat(parent.at("/info/status").asText()).isEqualTo("FINISHED");
        Map<String, JsonNode> metrics = MlflowClient.byKey(parent.at("/data/metrics"));
        assertThat(metrics.get("best_held_out_sharpe").asDouble())
                .isEqualTo(r.at("/best_held_out/sharpe").asDouble());
        assertThat(metrics.get("champion_held_out_sharpe").asDouble())
                .isEqualTo(r.at("/champion/held_out/sharpe").asDouble());
        assertThat(MlflowClient.byKey(parent.at("/data/params")).get("refused").asText())
                .isEqualTo(r.get("refused").asText());
        ObjectNode search = JSON.createObjectNode();
        search.putArray("experiment_ids").add(parent.at("/info/experiment_id").asText());
        search.put("filter", "tags.mlflow.parentRunId = '" + r.get("mlflow_run_id").asText() + "'");
        search.put("max_results", 100);
        JsonNode children = mlflow.http().post("runs/search", search).path("runs");
        assertThat(children).hasSize(2);
        int trials = 0;
        for (JsonNode c : children) {
            assertThat(c.at("/info/status").asText()).isEqualTo("FINISHED");
            JsonNode steps =
                    mlflow.http()
                            .get(
                                    "metrics/get-history",
                                    Map.of(
                                            "run_id",
                                            c.at("/info/run_id").asText(),
                                            "metric_key",
                                            "trial.stop_loss_atr",
                                            "max_results",
                                            "1000"))
                            .path("metrics");
            trials += steps.size();
        }
        assertThat(trials).isEqualTo(r.get("evaluations").asInt());
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
