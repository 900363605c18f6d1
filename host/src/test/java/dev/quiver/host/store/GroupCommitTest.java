package dev.quiver.host.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Concurrent transactions share one commit, and one that throws takes only its own writes with it
 * (on SQLite; the same class serves PostgreSQL, whose contract run covers its savepoints).
 * Transactions queued while a batch runs are the next batch, run by one of them.
 */
class GroupCommitTest {

    @TempDir Path dir;

    StateStore open() {
        return StateStore.open(Optional.of("jdbc:sqlite:" + dir.resolve("state.db")), dir);
    }

    static BarRow bar(long startMs) {
        return new BarRow(startMs, 100, 101, 99, 100, 1);
    }

    @Test
    void transactionsQueuedWhileOneRunsShareTheNextBatchAndAFailingOneTakesOnlyItsOwnWrites()
            throws Exception {
        try (StateStore s = open()) {
            s.createAccount(StateStoreContract.ACCOUNT);
            for (String sym : List.of("A", "B", "C")) {
                s.openSession(SessionRow.open(sym, "acct-1", "{}", 1L));
            }
            long[] before = s.commits().counts();
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                // A holds its batch open until B and C wait behind it.
                var aInside = new java.util.concurrent.CountDownLatch(1);
                Future<?> a =
                        pool.submit(
                                () ->
                                        s.inTransaction(
                                                tx -> {
                                                    tx.appendBars("A", List.of(bar(1_000)));
                                                    aInside.countDown();
                                                    long until =
                                                            System.nanoTime()
                                                                    + TimeUnit.SECONDS.toNanos(10);
                                                    while (s.commits().queued() < 2
                                                            && System.nanoTime() < until) {
                                                        Thread.onSpinWait();
                                                    }
                                                    return null;
                                                }));
                assertThat(aInside.await(10, TimeUnit.SECONDS)).isTrue();
                Future<?> b =
                        pool.submit(
                                () ->
                                        s.inTransaction(
                                                tx -> {
                                                    tx.appendBars("B", List.of(bar(1_000)));
                                                    throw new IllegalStateException("B refused");
                                                }));
                Future<?> c = pool.submit(() -> s.appendBars("C", List.of(bar(1_000))));
                a.get(20, TimeUnit.SECONDS);
                c.get(20, TimeUnit.SECONDS);
                try {
                    b.get(20, TimeUnit.SECONDS);
                    throw new AssertionError("B's work threw; its transaction must fail");
                } catch (java.util.concurrent.ExecutionException e) {
                    assertThat(e.getCause()).hasMessage("B refused");
                }
            } finally {
                pool.shutdownNow();
            }
            long[] after = s.commits().counts();
            // A's batch alone, then B and C in one batch, one commit; B rolled back to its
            // savepoint only.
            assertThat(after[0] - before[0]).isEqualTo(2);
            assertThat(after[1] - before[1]).isEqualTo(2);
            assertThat(s.bars("A")).containsExactly(bar(1_000));
            assertThat(s.bars("B")).isEmpty();
            assertThat(s.bars("C")).containsExactly(bar(1_000));
        }
        // And it was committed: a new connection sees it.
        try (StateStore s = open()) {
            assertThat(s.bars("A")).containsExactly(bar(1_000));
            assertThat(s.bars("C")).containsExactly(bar(1_000));
        }
    }

    @Test
    void sixteenThreadsShareCommitsAndLoseNothing() throws Exception {
        int threads = 16;
        int perThread = 50;
        try (StateStore s = open()) {
            s.createAccount(StateStoreContract.ACCOUNT);
            for (int t = 0; t < threads; t++) {
                s.openSession(SessionRow.open("S" + t, "acct-1", "{}", 1L));
            }
            long[] before = s.commits().counts();
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            List<Future<?>> done = new ArrayList<>();
            try {
                for (int t = 0; t < threads; t++) {
                    String sym = "S" + t;
                    done.add(
                            pool.submit(
                                    () -> {
                                        for (int k = 0; k < perThread; k++) {
                                            s.appendBars(sym, List.of(bar(k * 60_000L)));
                                        }
                                        return null;
                                    }));
                }
                for (Future<?> f : done) {
                    f.get(120, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            long[] after = s.commits().counts();
            long members = after[1] - before[1];
            long batches = after[0] - before[0];
            assertThat(members).isEqualTo((long) threads * perThread);
            // Shared: fewer commits than calls (each call alone would be one commit each).
            assertThat(batches).isLessThan(members);
            for (int t = 0; t < threads; t++) {
                assertThat(s.bars("S" + t)).hasSize(perThread);
            }
        }
    }
}
