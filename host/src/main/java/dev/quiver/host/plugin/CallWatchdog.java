package dev.quiver.host.plugin;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One daemon thread for the whole JVM that watches the plugin calls running on their callers'
 * threads ({@code quiver.plugin.isolation=watchdog}): each call registers its thread and deadline
 * here before it enters the plugin and leaves when it returns; a call still inside its plugin past
 * its deadline is reported to its {@link PluginGuard} once ({@link PluginGuard#overdue}), which
 * counts the miss, may quarantine the plugin and interrupts the caller.
 *
 * <p>Cost per call: an add and a remove in a concurrent set; no thread hand-off. While calls are in
 * flight the watchdog wakes at the nearest deadline or after {@link #TICK_NANOS}, whichever comes
 * first (a call registered meanwhile with a shorter deadline waits at most that tick), and parks
 * when none are.
 *
 * <p>Thread-safe.
 */
final class CallWatchdog {

    /**
     * How often the watchdog looks at the calls in flight, nanoseconds (10 ms: deadlines are
     * hundreds of milliseconds or more, and under load some call is always in flight, so the tick
     * is paid 100 times a second, not 1,000).
     */
    static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    /**
     * How long before the nearest deadline the watchdog stops sleeping and spins, nanoseconds: a
     * thread woken by its timer on a loaded machine reaches a CPU milliseconds late, so it wakes
     * this much early and is already running when the deadline passes (a 50 ms deadline in a 60 ms
     * budget). Costs at most this much CPU per call that runs into its deadline; none for calls
     * that return earlier than that. System property {@value #SPIN_KEY} (microseconds, default
     * 2,000, at most half a {@link #TICK_NANOS tick}; 0: no spinning, the watchdog wakes at the
     * deadline).
     */
    static final long SPIN_NANOS =
            Math.min(
                    TICK_NANOS / 2,
                    TimeUnit.MICROSECONDS.toNanos(
                            Math.max(0, Long.getLong(CallWatchdog.SPIN_KEY, 2_000))));

    /** System property: {@link #SPIN_NANOS} in microseconds. */
    static final String SPIN_KEY = "quiver.plugin.watchdog-spin-us";

    private static final CallWatchdog INSTANCE = new CallWatchdog();

    private final Set<Call> inFlight = ConcurrentHashMap.newKeySet();
    private final Thread thread;
    private volatile boolean parked;

    private CallWatchdog() {
        thread = new Thread(this::watch, "quiver-plugin-watchdog");
        thread.setDaemon(true);
        thread.start();
    }

    static CallWatchdog get() {
        return INSTANCE;
    }

    /**
     * A call in flight on its caller's thread. {@link #finish} and the watchdog's {@link #expire}
     * are exclusive: whichever comes first decides whether the call was late.
     */
    static final class Call {
        final PluginGuard guard;
        final String capability;
        final String operation;
        final Thread caller;
        final Duration deadline;
        final long sequence;
        final long startedNanos;
        final long deadlineNanos;
        private boolean finished;
        private boolean expired;

        Call(
                PluginGuard guard,
                String capability,
                String operation,
                Duration deadline,
                long sequence) {
            this.guard = guard;
            this.capability = capability;
            this.operation = operation;
            this.deadline = deadline;
            this.sequence = sequence;
            this.caller = Thread.currentThread();
            this.startedNanos = System.nanoTime();
            this.deadlineNanos = startedNanos + deadline.toNanos();
        }

        /** Marks the call overdue unless it finished; true if this call did. */
        synchronized boolean expire() {
            if (finished || expired) {
                return false;
            }
            expired = true;
            return true;
        }

        /**
         * Marks the call finished; true if the watchdog had already found it overdue (then the
         * caller's interrupt, set by the watchdog while it held this monitor, is cleared here).
         */
        boolean finish() {
            boolean late;
            synchronized (this) {
                finished = true;
                late = expired;
            }
            if (late) {
                // The watchdog's interrupt was for the plugin; the caller's own work goes on.
                Thread.interrupted();
            }
            return late;
        }

        /** Interrupts the caller if the call is still in the plugin. */
        synchronized void interruptIfRunning() {
            if (!finished) {
                caller.interrupt();
            }
        }
    }

    /**
     * Registers a call on the current thread; call {@link #leave} when it returns.
     *
     * @param sequence the call's number among its plugin's calls (1 = the first)
     */
    Call enter(
            PluginGuard guard,
            String capability,
            String operation,
            Duration deadline,
            long sequence) {
        Call c = new Call(guard, capability, operation, deadline, sequence);
        inFlight.add(c);
        if (parked) {
            LockSupport.unpark(thread);
        }
        return c;
    }

    /**
     * Unregisters a call.
     *
     * @return true if the watchdog reported it overdue (the miss is counted already)
     */
    boolean leave(Call c) {
        inFlight.remove(c);
        return c.finish();
    }

    private void watch() {
        while (true) {
            if (inFlight.isEmpty()) {
                parked = true;
                // Re-check after publishing "parked": an enter() in between unparks us.
                if (inFlight.isEmpty()) {
                    LockSupport.park(this);
                }
                parked = false;
                continue;
            }
            long sleep = expireOverdue(System.nanoTime());
            // Wake at the nearest deadline (at most a tick away): a call is cut off when its
            // deadline passes, not up to a tick later (a 50 ms deadline in a 60 ms budget); wake
            // SPIN_NANOS early and spin the rest, so as to be on a CPU when it passes.
            if (sleep > SPIN_NANOS) {
                LockSupport.parkNanos(this, sleep - SPIN_NANOS);
            } else {
                long until = System.nanoTime() + sleep;
                while (System.nanoTime() - until < 0) {
                    Thread.onSpinWait();
                }
            }
        }
    }

    /**
     * Reports every call past its deadline and answers how long to sleep, nanoseconds. A method of
     * its own so that no {@link Call} outlives it in the watchdog's long-lived frame: a dead local
     * of an interpreted frame is still a GC root, and the last call seen would keep its plugin's
     * class loader reachable after the plugin is unloaded, until the next call came by.
     */
    private long expireOverdue(long now) {
        long sleep = TICK_NANOS;
        for (Call c : inFlight) {
            long left = c.deadlineNanos - now;
            if (left > 0) {
                sleep = Math.min(sleep, left);
            } else if (c.expire()) {
                inFlight.remove(c);
                try {
                    c.guard.overdue(c);
                } catch (RuntimeException | Error e) {
                    // The watchdog must outlive a failing report; the call's own thread
                    // still fails the call when it returns.
                    Thread t = Thread.currentThread();
                    t.getUncaughtExceptionHandler().uncaughtException(t, e);
                }
                c.interruptIfRunning();
            }
        }
        return sleep;
    }
}
