package dev.quiver.host.live;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds the service's current {@link Pipeline} and changes it while decisions flow, without
 * dropping or mixing any: snapshot and drain.
 *
 * <ul>
 *   <li>A decision takes a {@link Lease} on the current pipeline and uses only that pipeline until
 *       it closes the lease, so a decision never mixes two generations.
 *   <li>{@link #swap} installs the next pipeline atomically: new decisions get it at once. The old
 *       one is retired; when its last lease is released, the swap's {@code onDrained} action runs
 *       exactly once on the holder's drain thread. That is where the instances the swap replaced
 *       are closed (native sessions freed), never while a decision may still call them.
 * </ul>
 *
 * <p>Lock-free on the decision path: an acquire is two atomic operations (retried only if a swap
 * lands in between). Swaps are serialised. Each pipeline is reference counted: the holder holds one
 * reference while it is current and each lease one more; it drains at 0.
 */
public final class PipelineHolder implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PipelineHolder.class);

    /**
     * A pipeline with its reference count: one reference held by the holder while the slot is
     * current, plus one per open lease. A swap gives up the holder's reference; the slot drains
     * when the count reaches 0, which can only happen after that.
     *
     * <p>The holder's own reference is what makes this safe: with a bare lease count and a separate
     * "retired" flag, a lease released while the slot was still current could see the count at 0,
     * then (after a swap and a new lease) the flag set, and drain a slot with a lease open. The
     * concurrency test caught exactly that.
     */
    private static final class Slot {
        final Pipeline pipeline;
        final AtomicInteger references = new AtomicInteger(1);
        final AtomicBoolean drained = new AtomicBoolean();
        final AtomicLong leases = new AtomicLong();
        final AtomicInteger openLeases = new AtomicInteger();
        volatile Runnable onDrained;

        Slot(Pipeline pipeline) {
            this.pipeline = pipeline;
        }
    }

    private volatile Slot current;
    private final Object swapLock = new Object();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger retiredPending = new AtomicInteger();
    private final AtomicLong drainFailures = new AtomicLong();
    private final java.util.Deque<Retirement> retirements = new java.util.ArrayDeque<>();

    /** How many retirements {@link #retirements()} keeps (the most recent). */
    public static final int RETIREMENTS_KEPT = 256;

    /**
     * A retired pipeline whose {@code onDrained} action ran (what the swap replaced was closed).
     *
     * @param generation the retired pipeline's generation
     * @param leases decisions that held it, over its whole life
     * @param inFlightAtClose leases on it still open when its {@code onDrained} action started (0
     *     unless the holder is broken: the action runs only once the reference count is 0)
     * @param closedAt when the action finished
     * @param failed whether the action threw
     */
    public record Retirement(
            long generation,
            long leases,
            int inFlightAtClose,
            java.time.Instant closedAt,
            boolean failed) {}

    private final ExecutorService drainer =
            Executors.newSingleThreadExecutor(
                    r -> {
                        Thread t = new Thread(r, "quiver-pipeline-drain");
                        t.setDaemon(true);
                        return t;
                    });

    /**
     * @param initial the pipeline the service starts with
     */
    public PipelineHolder(Pipeline initial) {
        this.current = new Slot(Objects.requireNonNull(initial, "initial"));
    }

    /** The pipeline new decisions get now (for reporting; decisions use {@link #acquire()}). */
    public Pipeline current() {
        return current.pipeline;
    }

    /**
     * Takes a lease on the current pipeline; close it when the decision is done (try with
     * resources). Never blocks.
     */
    public Lease acquire() {
        while (true) {
            Slot s = current;
            s.references.incrementAndGet();
            if (s == current) {
                inFlight.incrementAndGet();
                s.leases.incrementAndGet();
                s.openLeases.incrementAndGet();
                return new Lease(s);
            }
            // A swap landed between the read and the increment: hand it back and take the new one.
            release(s);
        }
    }

    /**
     * Installs {@code change.apply(current())} atomically. Swaps are serialised, so concurrent
     * changers (model poller, plugin watcher, rollout controller) never lose each other's change.
     *
     * @param change computes the next pipeline from the current one, usually via {@link
     *     Pipeline#toBuilder()}; must not return the current pipeline or null
     * @param onDrained runs once, on the drain thread, after every decision that started on the old
     *     pipeline has finished: close the instances the change replaced here. A failure is logged
     *     and counted in {@link #drainFailures()}.
     * @return the pipeline now current
     * @throws IllegalArgumentException if {@code change} returned null or the current pipeline
     * @throws IllegalStateException if the holder is closed
     */
    public Pipeline swap(UnaryOperator<Pipeline> change, Runnable onDrained) {
        Objects.requireNonNull(onDrained, "onDrained");
        synchronized (swapLock) {
            if (drainer.isShutdown()) {
                throw new IllegalStateException("[Quiver/CLOSED] the pipeline holder is closed");
            }
            Slot old = current;
            Pipeline next = change.apply(old.pipeline);
            if (next == null || next == old.pipeline) {
                throw new IllegalArgumentException(
                        "[Quiver/BAD_SWAP] a swap must produce a new pipeline (got "
                                + (next == null ? "null" : "the current one")
                                + ")");
            }
            old.onDrained = onDrained;
            retiredPending.incrementAndGet();
            current = new Slot(next);
            release(old); // the holder's own reference: drains now if no lease is open
            LOG.info(
                    "pipeline generation {} -> {}: {}",
                    old.pipeline.generation(),
                    next.generation(),
                    next);
            return next;
        }
    }

    /** Decisions holding a lease right now, on any generation. */
    public int inFlight() {
        return inFlight.get();
    }

    /** How many {@code onDrained} actions threw. */
    public long drainFailures() {
        return drainFailures.get();
    }

    /**
     * The most recent retired pipelines whose replaced instances were closed, oldest first (at most
     * {@value #RETIREMENTS_KEPT}).
     *
     * @return a copy
     */
    public List<Retirement> retirements() {
        synchronized (retirements) {
            return List.copyOf(retirements);
        }
    }

    /**
     * Waits until every retired pipeline has drained and its {@code onDrained} action has run.
     *
     * @param timeout how long to wait at most
     * @return true if everything drained in time
     * @throws InterruptedException if interrupted while waiting
     */
    public boolean awaitDrained(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (retiredPending) {
            while (retiredPending.get() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(retiredPending, left);
            }
        }
        return true;
    }

    private void release(Slot s) {
        if (s.references.decrementAndGet() == 0) {
            drain(s);
        }
    }

    private void drain(Slot s) {
        if (!s.drained.compareAndSet(false, true)) {
            return;
        }
        Runnable action = s.onDrained;
        drainer.execute(
                () -> {
                    // Decisions still holding this generation (0 unless the counting is broken).
                    int open = s.openLeases.get();
                    boolean failed = false;
                    try {
                        action.run();
                    } catch (RuntimeException | Error e) {
                        failed = true;
                        drainFailures.incrementAndGet();
                        LOG.error(
                                "[Quiver/DRAIN_FAILED] closing what generation {} replaced failed",
                                s.pipeline.generation(),
                                e);
                    } finally {
                        synchronized (retirements) {
                            retirements.addLast(
                                    new Retirement(
                                            s.pipeline.generation(),
                                            s.leases.get(),
                                            open,
                                            java.time.Instant.now(),
                                            failed));
                            while (retirements.size() > RETIREMENTS_KEPT) {
                                retirements.removeFirst();
                            }
                        }
                        synchronized (retiredPending) {
                            retiredPending.decrementAndGet();
                            retiredPending.notifyAll();
                        }
                    }
                });
    }

    /**
     * Stops accepting swaps and waits (up to 30 s) for pending drain actions. The current
     * pipeline's instances are not closed here: they belong to whoever created them (the plugin
     * runtime closes its own).
     */
    @Override
    public void close() {
        List<Runnable> dropped = new ArrayList<>();
        synchronized (swapLock) {
            if (drainer.isShutdown()) {
                return;
            }
            drainer.shutdown();
        }
        try {
            if (!drainer.awaitTermination(30, TimeUnit.SECONDS)) {
                dropped.addAll(drainer.shutdownNow());
                LOG.warn(
                        "[Quiver/DRAIN_TIMEOUT] {} drain actions did not finish within 30 s",
                        dropped.size());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A decision's hold on one pipeline generation; close it exactly when the decision is done. */
    public final class Lease implements AutoCloseable {
        private final Slot slot;
        private final AtomicBoolean closed = new AtomicBoolean();

        private Lease(Slot slot) {
            this.slot = slot;
        }

        /** The pipeline this decision uses throughout. */
        public Pipeline pipeline() {
            return slot.pipeline;
        }

        /** Releases the lease; idempotent. */
        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                inFlight.decrementAndGet();
                slot.openLeases.decrementAndGet();
                release(slot);
            }
        }
    }
}
