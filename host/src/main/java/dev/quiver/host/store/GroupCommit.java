package dev.quiver.host.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * Group commit: the store's transactions from concurrent threads share one database transaction and
 * one commit (one {@code fsync} of SQLite's WAL, one WAL flush of PostgreSQL's), and each caller
 * returns only after the commit that holds its work. The same code path for both databases.
 *
 * <p>How: a fair lock orders the callers. The first caller to find no batch open acquires a
 * connection and begins a transaction (the batch); every caller runs its work inside a {@code
 * SAVEPOINT} of the open batch (so a caller whose work throws rolls back only its own part, {@code
 * ROLLBACK TO SAVEPOINT}), leaves the lock, then queues for it again to commit (a caller whose work
 * threw too, so that a batch it opened ends). The first member of a batch to come back commits the
 * batch for everyone in it; the others find it committed. Because the lock is fair, whoever queued
 * while a commit ran does its work before any of them commits again, so batches grow with the load
 * by themselves and no caller waits for a timer. With one caller at a time this is one transaction
 * and one commit per call, as before.
 *
 * <p>Failures: work that throws is rolled back to its savepoint and rethrown as is; the batch goes
 * on. If the database cannot roll back to the savepoint or release it (the connection is lost, or
 * SQLite rolled the whole transaction back after an I/O, full-disk or out-of-memory error), the
 * batch is broken: it is rolled back and every member fails with a {@link StoreException}. A failed
 * commit fails every member of the batch (nothing of it is stored on SQLite; on PostgreSQL a lost
 * connection leaves the outcome unknown, as for any commit).
 *
 * <p>Cost: every caller waits for the commit of its batch (as before, for its own); reads join
 * batches too (what they read may be other members' uncommitted writes, so they return only once
 * those are committed).
 */
final class GroupCommit {

    private final Database database;
    private final ReentrantLock lock = new ReentrantLock(true);
    // Guarded by lock.
    private Batch open;
    private long batches;
    private long members;

    GroupCommit(Database database) {
        this.database = database;
    }

    /** One database transaction shared by its members. */
    private static final class Batch {
        final Connection connection;
        boolean done;
        StoreException failure;

        Batch(Connection connection) {
            this.connection = connection;
        }
    }

    /**
     * Runs {@code work} in the open batch (opening one if none is) and returns once the batch that
     * holds it is committed.
     *
     * @param operation the store operation, for messages
     * @param work the caller's work, given the batch's operations
     * @param onTransaction told the caller's {@link JdbcOperations} for the time {@code work} runs
     *     (the store's guard against nested use), and null after
     * @throws StoreException if the database fails (begin, savepoint, commit)
     */
    <T> T run(
            String operation,
            Function<StateOperations, T> work,
            java.util.function.Consumer<JdbcOperations> onTransaction) {
        Batch mine;
        T result = null;
        Throwable own = null;
        lock.lock();
        try {
            mine = joinOrBegin(operation);
            exec(mine, operation, "SAVEPOINT quiver_member", "cannot start its savepoint");
            JdbcOperations tx = new JdbcOperations(mine.connection);
            onTransaction.accept(tx);
            try {
                result = work.apply(tx);
            } catch (RuntimeException | Error e) {
                own = e;
                try {
                    exec(mine, "ROLLBACK TO SAVEPOINT quiver_member");
                    exec(mine, "RELEASE SAVEPOINT quiver_member");
                } catch (SQLException r) {
                    e.addSuppressed(r);
                    breakBatch(mine, operation, "cannot roll back its part of the batch", r);
                }
            } finally {
                tx.end();
                onTransaction.accept(null);
            }
            if (own == null) {
                exec(
                        mine,
                        operation,
                        "RELEASE SAVEPOINT quiver_member",
                        "cannot release its savepoint");
                members++;
            }
        } finally {
            lock.unlock();
        }
        // Queue again: whoever queued meanwhile joins this batch before it is committed. A call
        // whose work threw comes too: it may have opened the batch, which must end.
        lock.lock();
        try {
            if (!mine.done) {
                commit(mine, operation);
            }
        } finally {
            lock.unlock();
        }
        if (own instanceof RuntimeException e) {
            throw e;
        }
        if (own instanceof Error e) {
            throw e;
        }
        if (mine.failure != null) {
            throw new StoreException(operation, mine.failure.getMessage(), mine.failure);
        }
        return result;
    }

    /** Batches committed or failed so far, and the calls that joined them, for tests. */
    long[] counts() {
        lock.lock();
        try {
            return new long[] {batches, members};
        } finally {
            lock.unlock();
        }
    }

    /** Threads waiting for the lock now, for tests. */
    int queued() {
        return lock.getQueueLength();
    }

    private Batch joinOrBegin(String operation) {
        if (open != null) {
            return open;
        }
        Connection c;
        try {
            c = database.acquire();
        } catch (SQLException e) {
            throw new StoreException(operation, "no connection to " + database.displayUrl(), e);
        }
        try {
            database.begin(c);
        } catch (SQLException e) {
            StoreException failure =
                    new StoreException(
                            operation, "cannot start a transaction on " + database.displayUrl(), e);
            release(c, failure);
            throw failure;
        }
        open = new Batch(c);
        return open;
    }

    private void commit(Batch b, String operation) {
        try {
            database.commit(b.connection);
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
            rollback(b, failure);
            b.failure = failure;
        }
        end(b);
    }

    /** The batch cannot go on: rolled back, every member fails. */
    private void breakBatch(Batch b, String operation, String what, SQLException e) {
        StoreException failure =
                new StoreException(
                        operation,
                        what
                                + "; the batch of concurrent transactions it was in is rolled back"
                                + " (nothing of it is stored)",
                        e);
        rollback(b, failure);
        b.failure = failure;
        end(b);
    }

    private void end(Batch b) {
        b.done = true;
        batches++;
        if (open == b) {
            open = null;
        }
        if (b.failure != null) {
            release(b.connection, b.failure);
        } else {
            try {
                database.release(b.connection);
            } catch (SQLException e) {
                b.failure = new StoreException("commit", "cannot release the connection", e);
            }
        }
    }

    private void rollback(Batch b, StoreException failure) {
        try {
            database.rollback(b.connection);
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

    private void exec(Batch b, String operation, String sql, String what) {
        try {
            exec(b, sql);
        } catch (SQLException e) {
            breakBatch(b, operation, what, e);
            throw b.failure;
        }
    }

    private static void exec(Batch b, String sql) throws SQLException {
        try (Statement s = b.connection.createStatement()) {
            s.execute(sql);
        }
    }
}
