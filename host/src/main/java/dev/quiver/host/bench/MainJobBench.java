package dev.quiver.host.bench;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.ensemble.EnsembleCapability;
import dev.quiver.api.ensemble.FusedSignal;
import dev.quiver.api.ensemble.LabeledForecasts;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.LabeledFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.api.sizing.OnlineCalibration;
import dev.quiver.api.sizing.ScoredOutcome;
import dev.quiver.api.sizing.SizingCapability;
import dev.quiver.api.sizing.SizingContext;
import dev.quiver.api.sizing.SizingDecision;
import dev.quiver.api.sizing.SizingOutcome;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.risk.RiskGuard;
import dev.quiver.host.backtest.BacktestResult;
import dev.quiver.host.backtest.Progress;
import dev.quiver.host.backtest.WalkForwardBacktest;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code quiver bench --main-job}: the main job (features and the walk-forward backtest with its
 * intervals, as {@code quiver backtest} runs it, report writing aside) timed on a bundled series,
 * and in the same run the bare library calls it made: every fit, forecast, fuse and size call (and
 * the online recalibration's {@code reset}, {@code observe} and {@code calibrate} of a policy that
 * implements {@link OnlineCalibration}), of the ensemble that trades and of the compared ones, with
 * the arguments the main job passed, called again directly on the same capability instances, one
 * after the other on one thread, each timed alone and summed. Each instance gets exactly the
 * sequence of calls it had in the main job, so it computes the same things. The recording wrappers
 * expose what the instances implement (a recalibrating policy stays one), so the job is {@code
 * quiver backtest}'s, figure for figure ({@code MainJobIT} compares the two reports).
 *
 * <p>{@code ratio = wall_s / (bare_calls_s / threads)}: how far the main job is from its library
 * calls spread perfectly over the threads it used (1.0); what is above it is Quiver's own work
 * (features, engine, accounts, bootstrap, the JIT and GC of a cold JVM) and the sequential part
 * (the account pass: the policies' fits and every decision).
 *
 * <p>That ratio assumes the threads get a core each. On a shared machine they do not: with the
 * scheduler's per-session fairness (Linux autogroup) a busy machine gives this process about the
 * same CPU rate with one thread or two, and the wall-clock ratio then approaches {@code threads *
 * cpu_ratio}. So the run also reports the process's CPU time (every thread, the JIT's and the GC's
 * included) during the job and during the replay: {@code cpu_ratio = cpu_s / bare_cpu_s}, how much
 * more the job computes than its calls, which the load does not move.
 */
public final class MainJobBench {

    /**
     * Figures of one main-job run.
     *
     * @param dataset the series
     * @param bars bars in it
     * @param folds walk-forward folds
     * @param testBars out-of-sample bars stepped
     * @param threads threads the backtest used
     * @param wallSeconds the main job's wall time
     * @param bareCallsSeconds the sum of the bare calls' times
     * @param bareCalls per capability and call ({@code xgboost.fit}): seconds, calls, and calls
     *     that failed (threw, as the same call had in the main job; their time counts)
     * @param result the main job's result
     * @param cpuSeconds the process's CPU time (all threads) during the main job
     * @param bareCpuSeconds the process's CPU time during the bare calls' replay
     * @param loadAverage the system load average (1 min) when the main job started, or negative if
     *     unavailable
     * @param threadCpu where the job's CPU went, seconds per group of threads ({@code
     *     account_pass}: the calling thread, which runs the account pass; {@code workers}: the
     *     walk-forward's and the bootstrap's workers; {@code jit}; {@code gc}; {@code other}), and
     *     {@code account_pass_wait}, the seconds the account pass was runnable but waiting for a
     *     core (the machine's load); empty where Linux's per-thread scheduler statistics are not
     *     readable
     * @param timeline the same, per {@value ThreadTimes#PERIOD_MS} ms interval of the job
     */
    public record Result(
            String dataset,
            int bars,
            int folds,
            int testBars,
            int threads,
            double wallSeconds,
            double bareCallsSeconds,
            Map<String, double[]> bareCalls,
            BacktestResult result,
            double cpuSeconds,
            double bareCpuSeconds,
            double loadAverage,
            Map<String, Double> threadCpu,
            List<Interval> timeline) {

        /**
         * The account pass's wall time split: on a CPU, runnable but waiting for one (the machine's
         * load), and neither (blocked: waiting for a fold's forecasts or a worker's result, or in
         * I/O).
         *
         * @return {@code [cpu_s, runqueue_s, blocked_s]}, or {@code null} without thread figures
         */
        public double[] accountPassSplit() {
            if (threadCpu.isEmpty()) {
                return null;
            }
            double cpu = threadCpu.get("account_pass");
            double wait = threadCpu.get("account_pass_wait");
            return new double[] {cpu, wait, Math.max(0, wallSeconds - cpu - wait)};
        }

        /**
         * CPU time of the main job over the CPU time of its bare calls' replay: how much more the
         * job computes than its library calls, whatever the machine's load (which the wall-clock
         * ratio is exposed to on a shared machine: the job's threads wait for a core as long as the
         * other jobs keep them busy).
         *
         * @return {@code cpu_s / bare_cpu_s}, the process's CPU time (every thread: JIT and GC
         *     included) during each
         */
        public double cpuRatio() {
            return cpuSeconds / bareCpuSeconds;
        }

        /**
         * Wall time over the bare calls' time per thread.
         *
         * @return {@code wall_s / (bare_calls_s / threads)}
         */
        public double ratio() {
            return wallSeconds / (bareCallsSeconds / threads);
        }

        /**
         * Test bars per second of wall time.
         *
         * @return {@code testBars / wall_s}
         */
        public double testBarsPerSecond() {
            return testBars / wallSeconds;
        }
    }

    /**
     * One interval of the job's timeline.
     *
     * @param endSeconds seconds since the job started, at the interval's end
     * @param cpuSeconds per group of threads (as {@link Result#threadCpu}), CPU seconds in the
     *     interval
     * @param accountWaitSeconds the account pass's run-queue wait in the interval
     */
    public record Interval(
            double endSeconds, Map<String, Double> cpuSeconds, double accountWaitSeconds) {}

    private MainJobBench() {}

    /**
     * Runs the main job, then its calls again bare.
     *
     * @param bars the series
     * @param sources the sources
     * @param ensemble the ensemble that trades
     * @param compared the other ensembles, scored beside it as {@code quiver backtest} does ({@code
     *     StrategyFitter.comparedEnsembles}); never size or trade
     * @param policies the sizing policies
     * @param config the walk-forward configuration
     * @param threads threads for the backtest, {@code >= 1}
     * @param progress told after each fold of the main job
     * @return the figures
     */
    public static Result run(
            BarData bars,
            List<PredictionCapability> sources,
            EnsembleCapability ensemble,
            List<EnsembleCapability> compared,
            List<SizingCapability> policies,
            WalkForwardBacktest.Config config,
            int threads,
            Progress progress) {
        List<RecordedPrediction> recordedSources = new ArrayList<>();
        for (PredictionCapability s : sources) {
            recordedSources.add(new RecordedPrediction(s));
        }
        RecordedEnsemble recordedEnsemble = new RecordedEnsemble(ensemble);
        List<RecordedEnsemble> recordedCompared = new ArrayList<>();
        for (EnsembleCapability e : compared) {
            recordedCompared.add(new RecordedEnsemble(e));
        }
        List<RecordedSizing> recordedPolicies = new ArrayList<>();
        for (SizingCapability p : policies) {
            recordedPolicies.add(
                    p instanceof OnlineCalibration
                            ? new RecordedCalibratingSizing(p)
                            : new RecordedSizing(p));
        }

        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        ThreadTimes times = ThreadTimes.start();
        long c0 = processCpuNanos();
        long t0 = System.nanoTime();
        BacktestResult result;
        try {
            FeatureMatrix features = FeaturePipeline.compute(bars);
            result =
                    new WalkForwardBacktest(config)
                            .withThreads(threads)
                            .withComparedEnsembles(List.copyOf(recordedCompared))
                            .run(
                                    features,
                                    List.copyOf(recordedSources),
                                    recordedEnsemble,
                                    List.copyOf(recordedPolicies),
                                    new RiskGuard(),
                                    progress);
        } catch (RuntimeException | Error e) {
            if (times != null) {
                times.close(); // its sampler thread stops with the failed job
            }
            throw e;
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        long c1 = processCpuNanos();
        Map<String, Double> threadCpu = Map.of();
        List<Interval> timeline = List.of();
        if (times != null) {
            threadCpu = times.totals();
            times.close();
            timeline = times.timeline();
        }

        Map<String, double[]> calls = new LinkedHashMap<>();
        double bare = 0;
        for (RecordedPrediction s : recordedSources) {
            bare += s.replay(calls);
        }
        bare += recordedEnsemble.replay(calls);
        for (RecordedEnsemble e : recordedCompared) {
            bare += e.replay(calls);
        }
        for (RecordedSizing p : recordedPolicies) {
            bare += p.replay(calls);
        }
        long c2 = processCpuNanos();
        return new Result(
                bars.symbol(),
                bars.size(),
                result.folds().size(),
                result.testTimes().length,
                threads,
                wall,
                bare,
                calls,
                result,
                (c1 - c0) / 1e9,
                (c2 - c1) / 1e9,
                load,
                threadCpu,
                timeline);
    }

    /** The process's CPU time, nanoseconds; -1 when the JVM does not report it. */
    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    /**
     * Times one bare call into {@code calls} under {@code key}: {@code [seconds, calls, failed]}. A
     * call that throws is timed and counted as failed, not rethrown: the main job made the same
     * call on the same instance state, and the run isolated the same failure (a fold sized flat, a
     * bar left out of a source), so replaying it is part of the same work.
     */
    private static double time(Map<String, double[]> calls, String key, Runnable call) {
        double[] v = calls.computeIfAbsent(key, k -> new double[3]);
        long t0 = System.nanoTime();
        try {
            call.run();
        } catch (RuntimeException | LinkageError e) {
            v[2]++;
        }
        double s = (System.nanoTime() - t0) / 1e9;
        v[0] += s;
        v[1]++;
        return s;
    }

    /** A source that remembers its calls, in order (called by one thread at a time). */
    private static final class RecordedPrediction implements PredictionCapability {
        private final PredictionCapability delegate;
        private final List<Object> calls = new ArrayList<>();

        RecordedPrediction(PredictionCapability delegate) {
            this.delegate = delegate;
        }

        @Override
        public CapabilityDescriptor descriptor() {
            return delegate.descriptor();
        }

        @Override
        public void fit(List<LabeledFrame> trainingWindow) {
            calls.add(trainingWindow);
            delegate.fit(trainingWindow);
        }

        @Override
        public Forecast forecast(FeatureFrame frame) {
            calls.add(frame);
            return delegate.forecast(frame);
        }

        @Override
        public int forecastBatchSize() {
            return delegate.forecastBatchSize();
        }

        @Override
        public List<Forecast> forecastBatch(List<FeatureFrame> frames) {
            calls.add(new Batch(frames));
            return delegate.forecastBatch(frames);
        }

        @SuppressWarnings("unchecked")
        double replay(Map<String, double[]> out) {
            String name = delegate.descriptor().name();
            double sum = 0;
            for (Object c : calls) {
                if (c instanceof FeatureFrame f) {
                    sum += time(out, name + ".forecast", () -> delegate.forecast(f));
                } else if (c instanceof Batch b) {
                    sum +=
                            time(
                                    out,
                                    name + ".forecastBatch",
                                    () -> delegate.forecastBatch(b.frames()));
                } else {
                    List<LabeledFrame> w = (List<LabeledFrame>) c;
                    sum += time(out, name + ".fit", () -> delegate.fit(w));
                }
            }
            return sum;
        }
    }

    private record Fuse(List<Forecast> forecasts, FeatureFrame frame) {}

    /** One batch forecast call: its frames. */
    private record Batch(List<FeatureFrame> frames) {}

    /** The ensemble, remembering its calls. */
    private static final class RecordedEnsemble implements EnsembleCapability {
        private final EnsembleCapability delegate;
        private final List<Object> calls = new ArrayList<>();

        RecordedEnsemble(EnsembleCapability delegate) {
            this.delegate = delegate;
        }

        @Override
        public CapabilityDescriptor descriptor() {
            return delegate.descriptor();
        }

        @Override
        public void fit(List<LabeledForecasts> trainingWindow) {
            calls.add(trainingWindow);
            delegate.fit(trainingWindow);
        }

        @Override
        public FusedSignal fuse(List<Forecast> forecasts, FeatureFrame frame) {
            calls.add(new Fuse(forecasts, frame));
            return delegate.fuse(forecasts, frame);
        }

        @SuppressWarnings("unchecked")
        double replay(Map<String, double[]> out) {
            String name = delegate.descriptor().name();
            double sum = 0;
            for (Object c : calls) {
                if (c instanceof Fuse f) {
                    sum += time(out, name + ".fuse", () -> delegate.fuse(f.forecasts(), f.frame()));
                } else {
                    List<LabeledForecasts> w = (List<LabeledForecasts>) c;
                    sum += time(out, name + ".fit", () -> delegate.fit(w));
                }
            }
            return sum;
        }
    }

    /** A policy, remembering its calls. */
    private static class RecordedSizing implements SizingCapability {
        final SizingCapability delegate;
        final List<Object> calls = new ArrayList<>();

        RecordedSizing(SizingCapability delegate) {
            this.delegate = delegate;
        }

        @Override
        public CapabilityDescriptor descriptor() {
            return delegate.descriptor();
        }

        @Override
        public void fit(List<SizingOutcome> history) {
            calls.add(history);
            delegate.fit(history);
        }

        @Override
        public SizingDecision size(SizingContext context) {
            calls.add(context);
            return delegate.size(context);
        }

        @SuppressWarnings("unchecked")
        double replay(Map<String, double[]> out) {
            String name = delegate.descriptor().name();
            double sum = 0;
            for (Object c : calls) {
                if (c instanceof SizingContext ctx) {
                    sum += time(out, name + ".size", () -> delegate.size(ctx));
                } else if (c instanceof ScoredOutcome o) {
                    OnlineCalibration cal = (OnlineCalibration) delegate;
                    sum += time(out, name + ".observe", () -> cal.observe(o));
                } else if (c instanceof Calibrate q) {
                    OnlineCalibration cal = (OnlineCalibration) delegate;
                    sum += time(out, name + ".calibrate", () -> cal.calibrate(q.probabilityUp()));
                } else if (c == RESET) {
                    OnlineCalibration cal = (OnlineCalibration) delegate;
                    sum += time(out, name + ".reset", cal::reset);
                } else {
                    List<SizingOutcome> h = (List<SizingOutcome>) c;
                    sum += time(out, name + ".fit", () -> delegate.fit(h));
                }
            }
            return sum;
        }
    }

    /** A {@code calibrate} call: its argument. */
    private record Calibrate(double probabilityUp) {}

    /** A {@code reset} call. */
    private static final Object RESET = new Object();

    /**
     * A policy that recalibrates online, remembering its {@code reset}, {@code observe} and {@code
     * calibrate} calls among its others, in order: it stays an {@link OnlineCalibration}, so the
     * walk-forward calls and scores it as it does the policy itself.
     */
    private static final class RecordedCalibratingSizing extends RecordedSizing
            implements OnlineCalibration {
        private final OnlineCalibration calibration;

        RecordedCalibratingSizing(SizingCapability delegate) {
            super(delegate);
            this.calibration = (OnlineCalibration) delegate;
        }

        @Override
        public void reset() {
            calls.add(RESET);
            calibration.reset();
        }

        @Override
        public void observe(ScoredOutcome outcome) {
            calls.add(outcome);
            calibration.observe(outcome);
        }

        @Override
        public double calibrate(double probabilityUp) {
            calls.add(new Calibrate(probabilityUp));
            return calibration.calibrate(probabilityUp);
        }
    }
}
