package dev.quiver.host.backtest;

import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.LabeledFrame;
import dev.quiver.api.prediction.Forecast;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.engine.Forecasts;
import dev.quiver.engine.feature.FeatureMatrix;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * The sources' side of the walk-forward: each source fitted on each fold's training window and its
 * forecast of each of the fold's test bars, stored per bar for the account pass and for later
 * folds' ensemble fits (out-of-fold forecasts). None of it depends on the accounts, so with {@code
 * threads > 1} it runs ahead of the account pass, on several threads.
 *
 * <p><b>Why it stays deterministic.</b> A capability instance is called from one thread at a time
 * ({@code PredictionCapability}'s contract; plugins need not be thread-safe), and what it returns
 * may depend on what it was called with before. So each source is a <i>lane</i>: its fold {@code k}
 * (fit on the window, then the fold's test bars in time order) starts only after its fold {@code k
 * - 1} has finished, exactly the sequence of calls the sequential run makes on that instance.
 * Different sources are different instances and run concurrently. Every result lands in a slot
 * owned by its source and bar, and the account pass reads a fold only once every lane has finished
 * it, so the results, and the report, are the same whatever the number of threads or the order the
 * lanes happened to run in. One thing is shared between lanes: the plugin guard of a plugin that
 * provides several sources (or a source and the ensemble) counts consecutive failed calls across
 * them; when a plugin is quarantined mid-run, the bar at which that happens can depend on the
 * interleaving. A run in which no plugin is quarantined is unaffected.
 *
 * <p><b>Threads.</b> {@code threads - 1} worker threads plus the account pass's own thread, which
 * runs lane work itself while it waits for a fold, so at most {@code threads} threads work at once.
 * The earliest fold is run first. With {@code threads == 1} nothing runs ahead: before each fold
 * the sources are fitted in order and each bar's forecasts are asked when the account pass reaches
 * it (the exact order of calls of the sequential backtest), except from sources with a batch path.
 *
 * <p><b>Batches.</b> A source whose {@code forecastBatchSize()} is above 1 (plugins-api 1.4.0: it
 * keeps no state between forecasts) is asked for a fold's test bars in {@code forecastBatch} calls
 * of that many bars, right after its fit on the fold, in either mode; a chunk whose batch call
 * fails is asked again bar by bar, so the stored forecasts and the counted failures are the
 * bar-by-bar run's.
 *
 * <p>A lane stops at a failure other than a capability's {@code RuntimeException} or {@code
 * LinkageError} (which are counted, as in the sequential run): the account pass rethrows it when it
 * reaches that fold.
 */
final class FoldForecasts implements Forecasts, AutoCloseable {

    private final FeatureMatrix features;
    private final List<PredictionCapability> sources;
    private final List<Fold> folds;
    private final IntFunction<List<LabeledFrame>> trainingWindow;
    private final int threads;

    /** Per source and bar, its forecast, or null (failed, not asked, or not a test bar yet). */
    private final Forecast[][] forecasts;

    /** Per bar, the forecasts of the bar in source order, assembled once. */
    private final List<Forecast>[] byBar;

    /** Per source, its {@code forecastBatchSize()}, read once: above 1, it is asked in batches. */
    private final int[] batchSize;

    /** Per source and fold, whether its fit succeeded (it is asked for that fold's bars). */
    private final boolean[][] active;

    /** Per source: forecasts that failed or returned nothing, fits that failed, the first why. */
    final int[] forecastFailures;

    final int[] fitFailures;
    final String[] firstFitFailure;

    // Lane scheduling (threads > 1): guarded by lock.
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final PriorityQueue<int[]> ready =
            new PriorityQueue<>((a, b) -> a[1] != b[1] ? a[1] - b[1] : a[0] - b[0]);
    private final int[] foldsLeft; // per fold, lanes that have not finished it
    private final ArrayDeque<Side<?>> urgent = new ArrayDeque<>();
    private final ArrayDeque<Side<?>> idle = new ArrayDeque<>();
    private Throwable laneFailure;
    private volatile boolean closed;
    private final List<Thread> workers = new ArrayList<>();

    /** Sequential mode: the last fold whose sources were fitted. */
    private int fittedFold = -1;

    /**
     * @param features the series' features
     * @param sources the sources, in report order
     * @param folds the folds
     * @param trainingWindow a fold's labelled training frames, by fold index
     * @param lastBar the last bar whose forecasts are kept (test bars and the final fit's window)
     * @param threads threads that may work at once, {@code >= 1}
     */
    @SuppressWarnings("unchecked")
    FoldForecasts(
            FeatureMatrix features,
            List<PredictionCapability> sources,
            List<Fold> folds,
            IntFunction<List<LabeledFrame>> trainingWindow,
            int lastBar,
            int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, was " + threads);
        }
        this.features = features;
        this.sources = List.copyOf(sources);
        this.folds = List.copyOf(folds);
        this.trainingWindow = trainingWindow;
        this.threads = threads;
        int p = sources.size();
        this.forecasts = new Forecast[p][lastBar + 1];
        this.byBar = (List<Forecast>[]) new List<?>[lastBar + 1];
        this.active = new boolean[p][folds.size()];
        this.batchSize = new int[p];
        for (int q = 0; q < p; q++) {
            this.batchSize[q] = sources.get(q).forecastBatchSize();
        }
        this.forecastFailures = new int[p];
        this.fitFailures = new int[p];
        this.firstFitFailure = new String[p];
        this.foldsLeft = new int[folds.size()];
        Arrays.fill(foldsLeft, p);
    }

    /** Starts the lanes: the worker threads and every source's first fold. */
    void start() {
        if (threads == 1 || folds.isEmpty()) {
            return;
        }
        lock.lock();
        try {
            for (int p = 0; p < sources.size(); p++) {
                ready.add(new int[] {p, 0});
            }
        } finally {
            lock.unlock();
        }
        for (int w = 0; w < threads - 1; w++) {
            Thread t = new Thread(this::work, "quiver-walk-forward-" + (w + 1));
            t.setDaemon(true);
            workers.add(t);
            t.start();
        }
    }

    /**
     * Waits until every source has finished fold {@code k} (fitted, and in parallel mode its test
     * bars forecast), running lane work on this thread meanwhile.
     *
     * @throws RuntimeException or {@link Error} a lane stopped with
     */
    void await(int k) {
        if (threads == 1) {
            fitSequentially(k);
            return;
        }
        lock.lock();
        try {
            while (foldsLeft[k] > 0) {
                rethrowLaneFailure();
                // Only fold k's own lane work: a later fold's task could still be running here
                // when fold k is ready, delaying the account pass (the critical path) while the
                // workers would have done it anyway.
                int[] head = ready.peek();
                if (head == null || head[1] > k) {
                    changed.awaitUninterruptibly();
                    continue;
                }
                int[] task = ready.poll();
                lock.unlock();
                try {
                    runLane(task);
                } finally {
                    lock.lock();
                }
            }
            rethrowLaneFailure();
        } finally {
            lock.unlock();
        }
    }

    private void rethrowLaneFailure() {
        Throwable t = laneFailure;
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        if (t != null) {
            throw new IllegalStateException("a walk-forward lane failed", t);
        }
    }

    private void work() {
        while (true) {
            int[] task = null;
            Side<?> side = null;
            lock.lock();
            try {
                while (!closed
                        && (side = urgent.poll()) == null
                        && (task = ready.poll()) == null
                        && (side = idle.poll()) == null) {
                    changed.awaitUninterruptibly();
                }
                if (closed) {
                    return;
                }
                if (side != null) {
                    side.state = Side.RUNNING;
                }
            } finally {
                lock.unlock();
            }
            if (side != null) {
                side.run();
            } else {
                runLane(task);
            }
        }
    }

    /**
     * Work beside the lanes that calls capabilities other than the sources (the ensemble's fit) or
     * none (the bootstrap's draws): queued for the workers, run by whoever gets to it first, the
     * waiting thread included ({@link #join}), so it never waits for a busy worker.
     *
     * @param <T> the result
     */
    final class Side<T> {
        static final int QUEUED = 0;
        static final int RUNNING = 1;
        static final int DONE = 2;

        private final Supplier<T> body;
        private int state; // guarded by lock
        private T value;
        private Throwable failure;

        private Side(Supplier<T> body) {
            this.body = body;
        }

        private void run() {
            T v = null;
            Throwable f = null;
            try {
                v = body.get();
            } catch (RuntimeException | Error e) {
                f = e;
            }
            lock.lock();
            try {
                value = v;
                failure = f;
                state = DONE;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Queues {@code body} for the workers: {@code urgent} before any lane work (the account pass
     * will wait for it soon), otherwise only when no lane work is left (the second core is idle
     * then, while the account pass finishes). With {@code threads == 1} it runs at {@link #join}.
     * The caller must not touch what {@code body} touches until {@link #join} returns.
     *
     * @param body the work
     * @param urgent before lane work, or after it
     * @param <T> its result
     * @return the handle to {@link #join}
     */
    <T> Side<T> beside(Supplier<T> body, boolean urgent) {
        Side<T> side = new Side<>(body);
        if (threads == 1) {
            return side;
        }
        lock.lock();
        try {
            if (!closed) {
                (urgent ? this.urgent : this.idle).add(side);
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
        return side;
    }

    /**
     * Waits for {@code side}, running it on this thread if no worker has started it.
     *
     * @param side from {@link #beside}
     * @param <T> its result
     * @return its result
     * @throws RuntimeException or {@link Error} what it threw
     */
    <T> T join(Side<T> side) {
        boolean runHere = false;
        lock.lock();
        try {
            if (side.state == Side.QUEUED) {
                urgent.remove(side);
                idle.remove(side);
                side.state = Side.RUNNING;
                runHere = true;
            }
        } finally {
            lock.unlock();
        }
        if (runHere) {
            side.run();
        }
        lock.lock();
        try {
            while (side.state != Side.DONE) {
                changed.awaitUninterruptibly();
            }
        } finally {
            lock.unlock();
        }
        if (side.failure instanceof RuntimeException r) {
            throw r;
        }
        if (side.failure instanceof Error e) {
            throw e;
        }
        return side.value;
    }

    /** Source {@code task[0]}'s fold {@code task[1]}; queues its next fold when done. */
    private void runLane(int[] task) {
        int p = task[0];
        int k = task[1];
        Throwable failure = null;
        try {
            if (!closed) {
                fit(p, k);
                if (active[p][k]) {
                    forecastFold(p, folds.get(k));
                }
            }
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        lock.lock();
        try {
            if (failure != null) {
                if (laneFailure == null) {
                    laneFailure = failure;
                }
            } else {
                foldsLeft[k]--;
                if (k + 1 < folds.size()) {
                    ready.add(new int[] {p, k + 1});
                }
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Sequential mode: every source fitted on fold {@code k}, in order; a source with a batch path
     * forecasts the fold's test bars right after its fit (it keeps no state between forecasts, so
     * when it does so does not change what it returns).
     */
    private void fitSequentially(int k) {
        for (int p = 0; p < sources.size(); p++) {
            fit(p, k);
            if (batchSize[p] > 1 && active[p][k]) {
                forecastFold(p, folds.get(k));
            }
        }
        fittedFold = k;
    }

    /**
     * Source {@code p}'s forecasts of the fold's test bars, in time order: frame by frame, or for a
     * source with a batch path ({@code forecastBatchSize() > 1}) one {@code forecastBatch} call per
     * chunk of that many bars. A chunk whose batch call fails (a refused bar in it, or any other
     * failure) is asked again frame by frame, so each bar gets the forecast, or the counted
     * failure, that the frame-by-frame run gives it.
     */
    private void forecastFold(int p, Fold fold) {
        int size = batchSize[p];
        if (size <= 1) {
            for (int t = fold.testFirst(); t <= fold.testLast() && !closed; t++) {
                forecasts[p][t] = forecast(p, features.frame(t));
            }
            return;
        }
        for (int first = fold.testFirst(); first <= fold.testLast() && !closed; first += size) {
            int last = Math.min(fold.testLast(), first + size - 1);
            List<FeatureFrame> frames = new ArrayList<>(last - first + 1);
            for (int t = first; t <= last; t++) {
                frames.add(features.frame(t));
            }
            List<Forecast> batch;
            try {
                batch = sources.get(p).forecastBatch(frames);
            } catch (RuntimeException | LinkageError | StackOverflowError e) {
                batch = null; // asked again frame by frame below, which counts the failures
            }
            if (batch != null && batch.size() == frames.size() && !batch.contains(null)) {
                for (int t = first; t <= last; t++) {
                    forecasts[p][t] = batch.get(t - first);
                }
            } else {
                for (int t = first; t <= last && !closed; t++) {
                    forecasts[p][t] = forecast(p, frames.get(t - first));
                }
            }
        }
    }

    /** Fits source {@code p} on fold {@code k}; one that throws is out of the fold (counted). */
    private void fit(int p, int k) {
        WalkForwardBacktest.stopIfInterrupted();
        List<LabeledFrame> window = trainingWindow.apply(k); // a look-ahead here fails the run
        try {
            sources.get(p).fit(window);
            active[p][k] = true;
        } catch (RuntimeException | LinkageError e) {
            active[p][k] = false;
            fitFailures[p]++;
            if (firstFitFailure[p] == null) {
                firstFitFailure[p] = "fold " + folds.get(k).index() + ": " + e.getMessage();
            }
        }
    }

    /** Source {@code p}'s forecast, or null (counted as a failure) if it fails. */
    private Forecast forecast(int p, FeatureFrame frame) {
        try {
            Forecast f = sources.get(p).forecast(frame);
            if (f == null) {
                forecastFailures[p]++;
            }
            return f;
        } catch (RuntimeException | LinkageError | StackOverflowError e) {
            forecastFailures[p]++;
            return null;
        }
    }

    /** The bar after the last one {@link #at(FeatureFrame, Map)} was asked for: its next guess. */
    private int nextBar;

    @Override
    public List<Forecast> at(FeatureFrame frame, Map<String, String> failuresOfBar) {
        long[] starts = features.bars().startMillis;
        long millis = frame.bar().start().toEpochMilli();
        // The account pass asks bar after bar: try the next one before searching.
        int i =
                nextBar >= 0 && nextBar < starts.length && starts[nextBar] == millis
                        ? nextBar
                        : Arrays.binarySearch(starts, millis);
        nextBar = i + 1;
        return at(i, frame);
    }

    /**
     * The forecasts of test bar {@code i}, in source order; in sequential mode asked now (from
     * {@code frame}) when the account pass reaches the bar.
     */
    List<Forecast> at(int i, FeatureFrame frame) {
        List<Forecast> list = byBar[i];
        if (list != null) {
            return list;
        }
        if (threads == 1) {
            WalkForwardBacktest.stopIfInterrupted();
            for (int p = 0; p < sources.size(); p++) {
                if (active[p][fittedFold] && batchSize[p] <= 1) {
                    forecasts[p][i] = forecast(p, frame);
                }
            }
        }
        if (sources.size() == 1) {
            Forecast only = forecasts[0][i];
            list = only == null ? List.of() : List.of(only);
        } else {
            List<Forecast> out = new ArrayList<>(sources.size());
            for (int p = 0; p < sources.size(); p++) {
                if (forecasts[p][i] != null) {
                    out.add(forecasts[p][i]);
                }
            }
            list = List.copyOf(out);
        }
        byBar[i] = list;
        return list;
    }

    /** The forecasts stored when bar {@code i} was a test bar, or null if it has not been one. */
    List<Forecast> stored(int i) {
        return i < byBar.length ? byBar[i] : null;
    }

    /**
     * Fits every source on one more window (the final fit), concurrently when there are threads;
     * after {@link #await} of the last fold.
     *
     * @return per source, null or why its fit failed
     */
    String[] fitAll(List<LabeledFrame> frames) {
        String[] failed = new String[sources.size()];
        Runnable[] fits = new Runnable[sources.size()];
        for (int p = 0; p < fits.length; p++) {
            int q = p;
            fits[p] =
                    () -> {
                        try {
                            sources.get(q).fit(frames);
                        } catch (RuntimeException | LinkageError e) {
                            failed[q] = "final fit failed: " + e.getMessage();
                        }
                    };
        }
        if (threads == 1) {
            for (Runnable r : fits) {
                WalkForwardBacktest.stopIfInterrupted();
                r.run();
            }
            return failed;
        }
        List<Thread> helpers = new ArrayList<>();
        int next = 0;
        Throwable[] error = new Throwable[1];
        // one thread per source up to the thread budget; this thread takes the last share
        for (int w = 0; w < Math.min(threads, fits.length) - 1; w++) {
            int lane = w;
            Thread t =
                    new Thread(
                            () -> {
                                try {
                                    for (int p = lane; p < fits.length; p += threads) {
                                        fits[p].run();
                                    }
                                } catch (RuntimeException | Error e) {
                                    synchronized (error) {
                                        error[0] = error[0] == null ? e : error[0];
                                    }
                                }
                            },
                            "quiver-final-fit-" + (w + 1));
            t.setDaemon(true);
            helpers.add(t);
            t.start();
            next++;
        }
        for (int p = next; p < fits.length; p += threads) {
            fits[p].run();
        }
        for (Thread t : helpers) {
            join(t);
        }
        synchronized (error) {
            if (error[0] instanceof RuntimeException r) {
                throw r;
            }
            if (error[0] instanceof Error e) {
                throw e;
            }
        }
        return failed;
    }

    private static void join(Thread t) {
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops the lanes: no new fold or bar starts, and returns once no capability call is running on
     * a worker any more (so the caller may close the capabilities). Idempotent.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            ready.clear();
            urgent.clear();
            idle.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        for (Thread t : workers) {
            join(t);
        }
        workers.clear();
    }
}
