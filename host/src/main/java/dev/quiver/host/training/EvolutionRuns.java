package dev.quiver.host.training;

import dev.quiver.host.mlflow.MlflowClient;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The MLflow runs of one {@code evolve-params} job: a parent run (the job's parameters, the
 * searched ranges, the figures of the best set and of the champion on the search and held-out
 * spans, the verdict), and a child run per generation (tag {@code mlflow.parentRunId}) holding
 * every trial evaluated in it as a metric series: step {@code k} of {@code trial.sharpe} and {@code
 * trial.<parameter>} is the generation's k-th new parameter set.
 */
final class EvolutionRuns {

    /** The experiment the runs go to. */
    static final String EXPERIMENT = "quiver-evolve-params";

    /** One evaluated parameter set. */
    record Trial(double[] values, double sharpe) {}

    private final MlflowClient client;
    private final String experimentId;
    private final String parentId;
    private final String jobId;

    private EvolutionRuns(MlflowClient client, String experimentId, String parentId, String jobId) {
        this.client = client;
        this.experimentId = experimentId;
        this.parentId = parentId;
        this.jobId = jobId;
    }

    /**
     * Creates the parent run.
     *
     * @param client the tracking server
     * @param jobId the job
     * @param params the job's parameters, as run parameters
     * @return the runs
     */
    static EvolutionRuns start(MlflowClient client, String jobId, Map<String, String> params) {
        String exp = client.experimentId(EXPERIMENT);
        Map<String, String> tags = new LinkedHashMap<>();
        tags.put("mlflow.source.name", "quiver training evolve-params");
        tags.put("mlflow.source.type", "LOCAL");
        tags.put("quiver.kind", "evolve-params");
        tags.put("quiver.training_job", jobId);
        long now = System.currentTimeMillis();
        MlflowClient.Run run = client.createRun(exp, "evolve-params " + jobId, now, tags);
        client.logBatch(run.runId(), params, Map.of(), now);
        return new EvolutionRuns(client, exp, run.runId(), jobId);
    }

    /**
     * The parent run's id.
     *
     * @return the id
     */
    String parentRunId() {
        return parentId;
    }

    /**
     * Logs one generation as a child run (created and ended here).
     *
     * @param g the generation's summary
     * @param names the searched parameters, in the order of a trial's values
     * @param trials the parameter sets first evaluated in this generation
     */
    void generation(ParamSearch.Generation g, List<String> names, List<Trial> trials) {
        long now = System.currentTimeMillis();
        Map<String, String> tags = new LinkedHashMap<>();
        tags.put("mlflow.parentRunId", parentId);
        tags.put("quiver.kind", "evolve-params-generation");
        tags.put("quiver.training_job", jobId);
        MlflowClient.Run run =
                client.createRun(
                        experimentId, "generation " + g.generation() + " of " + jobId, now, tags);
        boolean ok = false;
        try {
            Map<String, String> params = new LinkedHashMap<>();
            params.put("generation", Integer.toString(g.generation()));
            params.put("new_trials", Integer.toString(trials.size()));
            for (int i = 0; i < names.size(); i++) {
                params.put("best." + names.get(i), Double.toString(g.bestValues()[i]));
            }
            Map<String, Double> figures = new LinkedHashMap<>();
            figures.put("best_sharpe", g.best());
            if (Double.isFinite(g.mean())) {
                figures.put("mean_sharpe", g.mean());
            }
            figures.put("evaluations", (double) g.evaluations());
            figures.values().removeIf(v -> !Double.isFinite(v));
            client.logBatch(run.runId(), params, figures, now);
            List<MlflowClient.Metric> series = new ArrayList<>();
            for (int k = 0; k < trials.size(); k++) {
                Trial t = trials.get(k);
                series.add(new MlflowClient.Metric("trial.sharpe", t.sharpe(), k));
                for (int i = 0; i < names.size(); i++) {
                    series.add(new MlflowClient.Metric("trial." + names.get(i), t.values()[i], k));
                }
            }
            client.logMetrics(run.runId(), series, now);
            client.logMetrics(
                    parentId,
                    List.of(
                            new MlflowClient.Metric(
                                    "generation_best_sharpe", g.best(), g.generation())),
                    now);
            ok = true;
        } finally {
            client.endRun(run.runId(), ok ? "FINISHED" : "FAILED", System.currentTimeMillis());
        }
    }

    /**
     * Logs the outcome on the parent run and ends it.
     *
     * @param params more parameters (the best set, the verdict)
     * @param figures the figures (finite ones are logged)
     * @param status {@code FINISHED}, {@code FAILED} or {@code KILLED}
     */
    void end(Map<String, String> params, Map<String, Double> figures, String status) {
        long now = System.currentTimeMillis();
        try {
            Map<String, Double> finite = new LinkedHashMap<>(figures);
            finite.values().removeIf(v -> v == null || !Double.isFinite(v));
            client.logBatch(parentId, params, finite, now);
        } finally {
            client.endRun(parentId, status, System.currentTimeMillis());
        }
    }
}
