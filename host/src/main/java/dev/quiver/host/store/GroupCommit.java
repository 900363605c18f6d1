package dev.quiver.host.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Group commit: the store's transactions from concurrent threads share one database transaction and
 * one commit (one {@code fsync} of SQLite's WAL, one WAL flush of PostgreSQL's), and each caller
 * returns only after the commit that holds its work. The same code path for both databases.
 *
 * <p>How (leader and followers): a caller queues its work and, when no batch is running, becomes
 * the leader: it takes every work queued so far (its own included), acquires a connection, begins a
 * transaction (the batch), runs each work in turn inside a {@code SAVEPOINT} of it (so a work that
 * throws rolls back only its own part, {@code ROLLBACK TO SAVEPOINT}), commits once, and wakes the
 * members. Whoever queued while a batch ran is taken by the next one, whose leader is one of them:
 * batches grow with the load by themselves, no caller waits for a timer, and the works of a batch
 * run one after the other on one thread with no hand-off of a lock between them (with a lock per
 * member, each of a batch's members had to be woken and scheduled twice, one after the other, while
 * the others waited: on a loaded machine those wake-ups, not the work, set the pace). With one
 * caller at a time this is one transaction and one commit per call, on the caller's thread, as
 * before.
 *
 * <p>A work therefore may run on another caller's thread (the batch's leader). It gets its {@link
 * StateOperations} there and must use only them; it must not wait for anything its own caller holds
 * (a lock, a monitor): its caller is blocked until the batch is committed. The store's works
 * (single writes and reads) and {@link StateStore#inTransaction} callers only build rows from
 * values they captured and call the operations.
 *
 * <p>Failures: work that throws is rolled back to its savepoint and rethrown as is to its caller;
 * the batch goes on. If the database cannot roll back to the savepoint or release it (the
 * connection is lost, or SQLite rolled the whole transaction back after an I/O, full-disk or
 * out-of-memory error), the batch is broken: it is rolled back and every member fails with a {@link
 * StoreException}. A failed commit fails every member of the batch (nothing of it is stored on
 * SQLite; on PostgreSQL a lost connection leaves the outcome unknown, as for any commit).
 *
 * <p>Cost: every caller waits for the commit of its batch (as before, for its own); reads join
 * batches too (what they read may be other members' uncommitted writes, so they return only once
 * those are committed).
 */
final class GroupCommit {

    private final Database database;
    // Guards queue, leading, the members' outcomes (done) and the counts; never held while the
    // database works.
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ended = lock.newCondition();
    private List<Member<?>> queue = new ArrayList<>();
    private boolean leading;
    private int waiting;
    private long batches;
    private long members;
    private long commitNanos;
    private long batchNanos;
    // Written by the leader, read under the lock after the batch.
    private long lastCommitNanos;
    private long lastBatchNanos;

    GroupCommit(Database database) {
        this.database = database;
    }

    /** One caller's work and, once its batch has ended, the outcome. */
    private static final class Member<T> {
        final String operation;
        final Function<StateOperations, T> work;
        final Consumer<JdbcOperations> onTransaction;
        T result;
        Throwable own;
        StoreException failure;
        boolean done; // guarded by the lock

        Member(
                String operation,
                Function<StateOperations, T> work,
                Consumer<JdbcOperations> onTransaction) {
            this.operation = operation;
            this.work = work;
            this.onTransaction = onTransaction;
        }

        void apply(JdbcOperations tx) {
            result = work.apply(tx);
        }
    }

    /**
     * Runs {@code work} in a batch (led by this thread, or by another caller's) and returns once
     * the batch that holds it is committed.
     *
     * @param operation the store operation, for messages
     * @param work the caller's work, given the batch's operations
     * @param onTransaction told the work's {@link JdbcOperations} for the time {@code work} runs,
     *     on the thread that runs it (the store's guard against nested use), and null after
     * @throws StoreException if the database fails (begin, savepoint, commit)
     */
    <T> T run(
            String operation,
            Function<StateOperations, T> work,
            Consumer<JdbcOperations> onTransaction) {
        Member<T> mine = new Member<>(operation, work, onTransaction);
        lock.lock();
        try {
            queue.add(mine);
            while (!mine.done) {
                if (!leading) {
                    lead();
                } else {
                    waiting++;
                    try {
                        ended.awaitUninterruptibly();
                    } finally {
                        waiting--;
                    }
                }
            }
        } finally {
            lock.unlock();
        }
        if (mine.own instanceof RuntimeException e) {
            throw e;
        }
        if (mine.own instanceof Error e) {
            throw e;
        }
        if (mine.failure != null) {
            throw new StoreException(operation, mine.failure.getMessage(), mine.failure);
        }
        return mine.result;
    }

    /** Runs every queued work as one batch; called and returns with the lock held. */
    private void lead() {
        List<Member<?>> batch = queue;
        queue = new ArrayList<>();
        leading = true;
        lock.unlock();
        StoreException failure = null;
        try {
            failure = runBatch(batch);
        } catch (RuntimeException | Error e) {
            // Not the members' works (runBatch hands those to their members): the batch's own
            // code failed; every member without an outcome fails with it.
            failure = new StoreException(batch.get(0).operation, "the batch failed: " + e, e);
        } finally {
            lock.lock();
            for (Member<?> m : batch) {
                if (failure != null && m.own == null) {
                    m.failure = failure;
                } else if (m.own == null) {
                    members++;
                }
                m.done = true;
            }
            batches++;
            commitNanos += lastCommitNanos;
            batchNanos += lastBatchNanos;
            leading = false;
            ended.signalAll();
        }
    }

    /**
     * The batch: begin, each work in its savepoint, commit. Answers the failure every member
     * without an outcome of its own gets, or null when the batch committed.
     */
    private StoreException runBatch(List<Member<?>> batch) {
        String operation = batch.get(0).operation;
        lastCommitNanos = 0;
        lastBatchNanos = 0;
        long t0 = System.nanoTime();
        Connection c;
        try {
            c = database.acquire();
        } catch (SQLException e) {
            return new StoreException(operation, "no connection to " + database.displayUrl(), e);
        }
        try {
            database.begin(c);
        } catch (SQLException e) {
            StoreException failure =
                    new StoreException(
                            operation, "cannot start a transaction on " + database.displayUrl(), e);
            release(c, failure);
            return failure;
        }
        for (Member<?> m : batch) {
            StoreException broken = member(c, m);
            if (broken != null) {
                return broken;
            }
        }
        long t1 = System.nanoTime();
        StoreException failure = commit(c, operation);
        long t2 = System.nanoTime();
        lastCommitNanos = t2 - t1;
        lastBatchNanos = t2 - t0;
        return failure;
    }

    /** One member's work in its savepoint; answers the batch's failure when it broke the batch. */
    private StoreException member(Connection c, Member<?> m) {
        try {
            exec(c, "SAVEPOINT quiver_member");
        } catch (SQLException e) {
            return breakBatch(c, m.operation, "cannot start its savepoint", e);
        }
        JdbcOperations tx = new JdbcOperations(c);
        m.onTransaction.accept(tx);
        try {
            m.apply(tx);
        } catch (RuntimeException | Error e) {
            m.own = e;
            try {
                exec(c, "ROLLBACK TO SAVEPOINT quiver_member");
                exec(c, "RELEASE SAVEPOINT quiver_member");
            } catch (SQLException r) {
                e.addSuppressed(r);
                return breakBatch(c, m.operation, "cannot roll back its part of the batch", r);
            }
            return null;
        } finally {
            tx.end();
            m.onTransaction.accept(null);
        }
        try {
            exec(c, "RELEASE SAVEPOINT quiver_member");
        } catch (SQLException e) {
            return breakBatch(c, m.operation, "cannot release its savepoint", e);
        }
        return null;
    }

    /**
     * Batches committed or failed so far, the calls that joined them, the nanoseconds spent in the
     * commits and in the batches (begin to commit).
     */
    long[] counts() {
        lock.lock();
        try {
            return new long[] {batches, members, commitNanos, batchNanos};
        } finally {
            lock.unlock();
        }
    }

    /** Callers waiting for a running batch to end, for tests. */
    int queued() {
        lock.lock();
        try {
            return waiting;
        } finally {
            lock.unlock();
        }
    }

    private StoreException commit(Connection c, String operation) {
        try {
            database.commit(c);
        } catch (SQLException e) {
            StoreException failure =
                    new StoreException(
                            operation,
                            "commit failed"
                                    + (database.kind() == Database.Kind.SQLITE
                                            ? "; nothing of this transaction is stored"
                                            : "; if the connection was lost the transaction"
                                                    + " may or may not be stored: read it back"),
                            e);
            rollback(c, failure);
            release(c, failure);
            return failure;
        }
        try {
            database.release(c);
        } catch (SQLException e) {
            return new StoreException("commit", "cannot release the connection", e);
        }
        return null;
    }

    /** The batch cannot go on: rolled back, every member fails. */
    private StoreException breakBatch(Connection c, String operation, String what, SQLException e) {
        StoreException failure =
                new StoreException(
                        operation,
                        what
                                + "; the batch of concurrent transactions it was in is rolled back"
                                + " (nothing of it is stored)",
                        e);
        rollback(c, failure);
        release(c, failure);
        return failure;
    }

    private void rollback(Connection c, StoreException failure) {
        try {
            database.rollback(c);
        } catch (SQLException r) {
            failure.addSuppressed(r);
        }
    }

    private void release(Connection c, StoreException failure) {
        try {
            database.release(c);
        } catch (SQLException r) {
            failure.addSuppressed(r);
        }
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
