package dev.quiver.host.store;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The child JVM of {@link SqliteSigkillTest}: writes to the store in a loop and prints each write
 * it was acknowledged ({@code ack fill f-N end}, {@code ack bar N end}) only after the store's
 * method returned. Each round goes on from what the store holds. Stops by itself after 60 s so it
 * never outlives a failed test.
 */
final class SigkillWriter {

    static final String ACCOUNT_ID = "acct-kill";
    static final String SYMBOL = "KILL-USD";

    private SigkillWriter() {}

    /**
     * Runs the loop.
     *
     * @param args the store's JDBC URL, the Quiver home folder
     */
    public static void main(String[] args) {
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        long deadline = System.nanoTime() + 60_000_000_000L;
        try (StateStore store = StateStore.open(Optional.of(args[0]), Path.of(args[1]))) {
            store.createAccount(new AccountRow(ACCOUNT_ID, "USD", 1_000.0, AccountMode.PAPER, 1L));
            store.openSession(SessionRow.open(SYMBOL, ACCOUNT_ID, "{}", 1L));
            int fill = store.fills(ACCOUNT_ID).size();
            long bar = store.lastBar(SYMBOL).map(b -> b.startMs() + 1).orElse(0L);
            out.println("ready " + fill + " " + bar);
            out.flush();
            while (System.nanoTime() < deadline) {
                String id = "f-" + fill;
                store.recordFill(
                        new FillRow(
                                ACCOUNT_ID,
                                id,
                                SYMBOL,
                                Side.BUY,
                                0.1 + fill,
                                1.0 / 3 + fill,
                                0.01,
                                fill));
                out.println("ack fill " + id + " end");
                out.flush();
                fill++;
                long at = bar;
                store.inTransaction(
                        tx -> {
                            tx.appendBars(SYMBOL, List.of(new BarRow(at, 1, 2, 0.5, 1.5, 10)));
                            return tx.appendEvent(
                                    new EventRow(
                                            ACCOUNT_ID,
                                            Optional.of(SYMBOL),
                                            "bar_seen",
                                            Optional.empty(),
                                            "{\"start_ms\":" + at + "}",
                                            at,
                                            "engine",
                                            Optional.empty()));
                        });
                out.println("ack bar " + at + " end");
                out.flush();
                bar++;
            }
        }
        System.exit(3);
    }
}
