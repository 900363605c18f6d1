package dev.quiver.host.live;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/** Placeholder of main's live core (same API), replaced when main is merged. */
public final class PipelineHolder implements AutoCloseable {

    private final class Slot {
        final Pipeline pipeline;
        final AtomicInteger leases = new AtomicInteger();
        volatile boolean retired;
        volatile Runnable onDrained;

        Slot(Pipeline pipeline) {
            this.pipeline = pipeline;
        }

        synchronized void maybeDrain() {
            if (retired && leases.get() == 0 && onDrained != null) {
                Runnable r = onDrained;
                onDrained = null;
                Thread t = new Thread(r, "quiver-pipeline-drained");
                t.setDaemon(true);
                t.start();
            }
        }
    }

    /** A lease on one pipeline. */
    public final class Lease implements AutoCloseable {
        private final Slot slot;
        private boolean released;

        Lease(Slot slot) {
            this.slot = slot;
        }

        public Pipeline pipeline() {
            return slot.pipeline;
        }

        @Override
        public void close() {
            if (!released) {
                released = true;
                slot.leases.decrementAndGet();
                inFlight.decrementAndGet();
                slot.maybeDrain();
            }
        }
    }

    private volatile Slot current;
    private final AtomicInteger inFlight = new AtomicInteger();

    public PipelineHolder(Pipeline initial) {
        this.current = new Slot(initial);
    }

    public Lease acquire() {
        while (true) {
            Slot s = current;
            s.leases.incrementAndGet();
            if (s == current) {
                inFlight.incrementAndGet();
                return new Lease(s);
            }
            s.leases.decrementAndGet();
            s.maybeDrain();
        }
    }

    public Pipeline current() {
        return current.pipeline;
    }

    public synchronized Pipeline swap(UnaryOperator<Pipeline> change, Runnable onDrained) {
        Slot old = current;
        Slot next = new Slot(change.apply(old.pipeline));
        current = next;
        old.onDrained = onDrained;
        old.retired = true;
        old.maybeDrain();
        return next.pipeline;
    }

    public int inFlight() {
        return inFlight.get();
    }

    @Override
    public void close() {}
}
