package dev.quiver.host.session;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.market.Bar;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.session.ServeProcess.Answer;
import dev.quiver.host.store.BarRow;
import dev.quiver.host.store.FillRow;
import dev.quiver.host.store.Side;
import dev.quiver.host.store.StateStore;
import dev.quiver.host.store.StoredEvent;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety of live sessions, end to end: {@code bin/quiver serve} as a child JVM on a SQLite
 * file; four sessions on the bundled BTC bars from 5 May 2022 (BTC fell 20% in the next five days),
 * A and B paper, C and D external, D set 95% long so that its daily-loss breaker trips on the
 * second bar and an operator re-arms it while the load runs; eight clients, four posting the next
 * real bar of their session one request at a time, four posting buys and sells to the external
 * accounts at the last close they saw acknowledged; SIGKILL mid-load; restart on the same file.
 *
 * <p>Then: the store holds every acknowledged bar and fill, and of the requests without an answer
 * at most the one each client had in flight; the restarted service's sessions and accounts equal,
 * field for field, those of another service on a new database fed the same requests one at a time
 * in the order the first one committed them; and the next bar and fill after the restart are
 * answered exactly as that uninterrupted service answers them.
 */
class SessionCrashIT {

    /** Warm-up: the bundled BTC bars up to this time (inclusive); the clients post the next. */
    static final Instant T = Instant.parse("2022-05-05T04:00:00Z");

    static final Duration INTERVAL = Duration.ofHours(4);

    /** Load before the kill: at least this many acknowledged bars per session ... */
    static final int MIN_BARS = 30;

    /** ... and fills per external account (and D's re-arm). */
    static final int MIN_FILLS = 10;

    static final List<String> SYMBOLS = List.of("A", "B", "C", "D");

    static boolean external(String symbol) {
        return symbol.equals("C") || symbol.equals("D");
    }

    static String account(String symbol) {
        return "crash-" + symbol;
    }

    /** A fill as the client sent it, and the start of the last bar it had seen acknowledged. */
    record SentFill(
            String id,
            Side side,
            double quantity,
            double price,
            double fee,
            Instant time,
            Instant seenBar) {

        static SentFill of(FillRow r) {
            return new SentFill(
                    r.clientFillId(),
                    r.side(),
                    r.quantity(),
                    r.price(),
                    r.fee(),
                    Instant.ofEpochMilli(r.timeMs()),
                    Instant.EPOCH);
        }

        ObjectNode json(String symbol) {
            ObjectNode f = ServeProcess.JSON.createObjectNode();
            f.put("client_fill_id", id);
            f.put("symbol", symbol);
            f.put("side", side == Side.BUY ? "buy" : "sell");
            f.put("quantity", quantity);
            f.put("price", price);
            f.put("fee", fee);
            f.put("time", time.toString());
            return f;
        }

        boolean sameAs(FillRow r) {
            return r.clientFillId().equals(id)
                    && r.side() == side
                    && r.quantity() == quantity
                    && r.price() == price
                    && r.fee() == fee
                    && r.timeMs() == time.toEpochMilli();
        }
    }

    /** What one client saw: acknowledged requests in order, refused ones, the one unanswered. */
    static final class Client<T> {
        final List<T> acked = new CopyOnWriteArrayList<>();
        final List<T> refused = new CopyOnWriteArrayList<>();
        volatile T unanswered;
    }

    BarData btc;
    int first;
    final List<String> errors = new CopyOnWriteArrayList<>();

    @Test
    void everyAcknowledgedBarAndFillSurvivesSigkillAndTheStateEqualsAnUninterruptedReplay(
            @TempDir Path work) throws Exception {
        long t0 = System.nanoTime();
        btc = BundledData.BTC_USD_4H.load();
        while (!btc.bar(first).start().isAfter(T)) {
            first++;
        }
        String url = "jdbc:sqlite:" + work.resolve("state.db");

        // ---- load, then SIGKILL ----------------------------------------------------------------
        Map<String, Client<Bar>> bars = new LinkedHashMap<>();
        Map<String, Client<SentFill>> fills = new LinkedHashMap<>();
        AtomicBoolean rearmed = new AtomicBoolean();
        long loadStart;
        ServeProcess serve = ServeProcess.start(url, work, "serve-1");
        try {
            openAll(serve);
            // D: 95% long from the start, so the fall of 5 May trips its daily-loss breaker
            Bar warmEnd = btc.bar(first - 1);
            SentFill setup =
                    new SentFill(
                            "D-setup",
                            Side.BUY,
                            0.24,
                            warmEnd.close(),
                            9.5,
                            warmEnd.start().plus(INTERVAL),
                            warmEnd.start());
            body(serve.post("/v1/accounts/" + account("D") + "/fills", setup.json("D")));
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> threads = new ArrayList<>();
            Map<String, AtomicReference<Bar>> seen = new HashMap<>();
            for (String symbol : SYMBOLS) {
                Client<Bar> c = new Client<>();
                bars.put(symbol, c);
                AtomicReference<Bar> last = new AtomicReference<>();
                seen.put(symbol, last);
                threads.add(thread("bars-" + symbol, () -> postBars(serve, symbol, c, last, stop)));
            }
            for (String symbol : SYMBOLS) {
                if (external(symbol)) {
                    Client<SentFill> c = new Client<>();
                    if (symbol.equals("D")) {
                        c.acked.add(setup);
                    }
                    fills.put(symbol, c);
                    AtomicReference<Bar> last = seen.get(symbol);
                    threads.add(
                            thread(
                                    "fills-" + symbol,
                                    () -> postFills(serve, symbol, c, last, stop)));
                }
            }
            loadStart = System.nanoTime();
            threads.forEach(Thread::start);
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (!enoughLoad(bars, fills) || !rearmed.get()) {
                assertThat(errors).as("client errors").isEmpty();
                assertThat(System.nanoTime())
                        .as("load before the kill within 120 s; stderr:\n" + serve.stderr())
                        .isLessThan(deadline);
                if (!rearmed.get()) {
                    rearmed.set(rearmWhenArmed(serve));
                }
                Thread.sleep(20);
            }
            serve.kill(); // SIGKILL, mid-request for most clients
            stop.set(true);
            for (Thread t : threads) {
                t.join(30_000);
                assertThat(t.isAlive()).as(t.getName() + " stopped").isFalse();
            }
        } finally {
            serve.close();
        }
        assertThat(errors).as("client errors").isEmpty();
        long killed = System.nanoTime();

        // ---- the store: every acknowledged bar and fill, nothing else ---------------------------
        int warmup = first;
        Map<String, List<Bar>> committedBars = new LinkedHashMap<>();
        Map<String, Map<String, FillRow>> committedFills = new HashMap<>();
        Map<String, Map<Long, List<StoredEvent>>> commandsAfterBar = new HashMap<>();
        try (StateStore store = StateStore.open(Optional.of(url), work)) {
            for (String symbol : SYMBOLS) {
                List<BarRow> rows = store.bars(symbol);
                List<Bar> stepped = new ArrayList<>();
                for (BarRow r : rows.subList(warmup, rows.size())) {
                    stepped.add(
                            new Bar(
                                    Instant.ofEpochMilli(r.startMs()),
                                    r.open(),
                                    r.high(),
                                    r.low(),
                                    r.close(),
                                    r.volume()));
                }
                Client<Bar> c = bars.get(symbol);
                List<Bar> expected = new ArrayList<>(c.acked);
                if (stepped.size() == expected.size() + 1 && c.unanswered != null) {
                    expected.add(c.unanswered); // committed, the answer lost in the kill
                }
                assertThat(stepped).as(symbol + " stored bars").isEqualTo(expected);
                committedBars.put(symbol, stepped);
            }
            for (String symbol : fills.keySet()) {
                List<FillRow> rows = store.fills(account(symbol));
                Client<SentFill> c = fills.get(symbol);
                List<SentFill> expected = new ArrayList<>(c.acked);
                if (rows.size() == expected.size() + 1 && c.unanswered != null) {
                    expected.add(c.unanswered);
                }
                assertThat(rows).as(symbol + " stored fills").hasSameSizeAs(expected);
                Map<String, FillRow> byId = new HashMap<>();
                for (int i = 0; i < rows.size(); i++) {
                    assertThat(expected.get(i).sameAs(rows.get(i)))
                            .as(
                                    symbol
                                            + " fill "
                                            + i
                                            + ": "
                                            + rows.get(i)
                                            + " vs "
                                            + expected.get(i))
                            .isTrue();
                    byId.put(rows.get(i).clientFillId(), rows.get(i));
                }
                committedFills.put(symbol, byId);
            }
            // The commands (fills, re-arms) in the order the service committed them, by the bar
            // each followed: a fill after the bar its client had seen, or the one in flight beside.
            for (String symbol : SYMBOLS) {
                Map<Long, List<StoredEvent>> after = new HashMap<>();
                int fillEvents = 0;
                int rearms = 0;
                for (StoredEvent e : store.events(account(symbol))) {
                    String kind = e.event().kind();
                    if (!kind.equals("fill") && !kind.equals("rearm_command")) {
                        continue;
                    }
                    JsonNode d = ServeProcess.JSON.readTree(e.event().detailJson());
                    long afterBar = d.get("after_bar_ms").asLong();
                    after.computeIfAbsent(afterBar, k -> new ArrayList<>()).add(e);
                    if (kind.equals("rearm_command")) {
                        rearms++;
                        continue;
                    }
                    fillEvents++;
                    String id = d.get("client_fill_id").asText();
                    long seenBar =
                            fills.get(symbol).acked.stream()
                                    .filter(f -> f.id().equals(id))
                                    .findFirst()
                                    .orElse(fills.get(symbol).unanswered)
                                    .seenBar()
                                    .toEpochMilli();
                    assertThat(afterBar)
                            .as(symbol + " fill " + id + " follows the bar its client had seen")
                            .isBetween(seenBar, seenBar + INTERVAL.toMillis());
                }
                assertThat(fillEvents)
                        .isEqualTo(committedFills.getOrDefault(symbol, Map.of()).size());
                assertThat(rearms).as(symbol + " re-arms").isEqualTo(symbol.equals("D") ? 1 : 0);
                commandsAfterBar.put(symbol, after);
            }
        }

        long storeChecked = System.nanoTime();

        // ---- restart on the same file ----------------------------------------------------------
        try (ServeProcess restarted = ServeProcess.start(url, work, "serve-2")) {
            long restartedAt = System.nanoTime();
            Map<String, JsonNode> sessionsAfter = new HashMap<>();
            Map<String, JsonNode> accountsAfter = new HashMap<>();
            assertThat(body(restarted.get("/v1/sessions")).get("sessions")).hasSize(SYMBOLS.size());
            for (String symbol : SYMBOLS) {
                JsonNode session = body(restarted.get("/v1/sessions/" + symbol));
                assertThat(session.get("bars").asInt())
                        .as(symbol + " bars after restart")
                        .isEqualTo(warmup + committedBars.get(symbol).size());
                assertThat(session.get("state").asText()).isEqualTo("ready");
                sessionsAfter.put(symbol, session);
                JsonNode acct = body(restarted.get("/v1/accounts/" + account(symbol)));
                accountsAfter.put(symbol, acct);
                if (external(symbol)) {
                    assertThat(acct.get("recent_fills").size())
                            .isEqualTo(Math.min(20, committedFills.get(symbol).size()));
                }
            }

            // ---- an uninterrupted service fed the same requests -----------------------------
            try (ServeProcess replay =
                    ServeProcess.start(
                            "jdbc:sqlite:" + work.resolve("replay.db"), work, "replay")) {
                long replayStart = System.nanoTime();
                openAll(replay);
                for (String symbol : SYMBOLS) {
                    Map<Long, List<StoredEvent>> after = commandsAfterBar.get(symbol);
                    Map<String, FillRow> byId = committedFills.getOrDefault(symbol, Map.of());
                    long warmEnd = btc.bar(first - 1).start().toEpochMilli();
                    postCommands(replay, symbol, after.remove(warmEnd), byId);
                    for (Bar b : committedBars.get(symbol)) {
                        Answer a = replay.bars(symbol, List.of(b));
                        assertThat(a.status())
                                .as("replay " + symbol + " " + b.start() + ": " + a)
                                .isEqualTo(200);
                        postCommands(replay, symbol, after.remove(b.start().toEpochMilli()), byId);
                    }
                    assertThat(after).as(symbol + " commands after no stored bar").isEmpty();
                }
                long replayed = System.nanoTime();

                double worstDrawdown = 0;
                for (String symbol : SYMBOLS) {
                    assertThat(sessionsAfter.get(symbol))
                            .as(symbol + " session after restart vs uninterrupted")
                            .isEqualTo(body(replay.get("/v1/sessions/" + symbol)));
                    JsonNode acct = accountsAfter.get(symbol);
                    assertThat(acct)
                            .as(symbol + " account after restart vs uninterrupted")
                            .isEqualTo(body(replay.get("/v1/accounts/" + account(symbol))));
                    worstDrawdown = Math.max(worstDrawdown, acct.get("drawdown").asDouble());
                    System.out.printf(
                            "SessionCrashIT %s: %d bars, %d fills acknowledged, %d fills refused"
                                    + " (stale time), committed unanswered: %d bar(s), %d fill(s);"
                                    + " equity %s, drawdown %s, breakers %s%n",
                            symbol,
                            bars.get(symbol).acked.size(),
                            external(symbol) ? fills.get(symbol).acked.size() : 0,
                            external(symbol) ? fills.get(symbol).refused.size() : 0,
                            committedBars.get(symbol).size() - bars.get(symbol).acked.size(),
                            external(symbol)
                                    ? committedFills.get(symbol).size()
                                            - fills.get(symbol).acked.size()
                                    : 0,
                            acct.get("equity"),
                            acct.get("drawdown"),
                            acct.get("breakers"));
                }
                // the load moved the accounts, and D's daily-loss breaker tripped and was re-armed
                assertThat(worstDrawdown).as("some account is in drawdown").isGreaterThan(0.05);
                assertThat(accountsAfter.get("D").get("breaker_events").toString())
                        .contains("\"breaker\":\"daily_loss\",\"event\":\"armed\"")
                        .contains("\"breaker\":\"daily_loss\",\"event\":\"re-armed\"");

                // ---- sessions resume: the next bar and a fill, answered as uninterrupted
                // ----------
                for (String symbol : SYMBOLS) {
                    Bar next = btc.bar(first + committedBars.get(symbol).size());
                    Answer mine = restarted.bars(symbol, List.of(next));
                    Answer theirs = replay.bars(symbol, List.of(next));
                    assertThat(mine.status()).as(mine.toString()).isEqualTo(200);
                    assertThat(mine.body())
                            .as(symbol + " next decision after restart vs uninterrupted")
                            .isEqualTo(theirs.body());
                    if (external(symbol)) {
                        SentFill f =
                                new SentFill(
                                        symbol + "-after",
                                        Side.BUY,
                                        0.01,
                                        next.close(),
                                        0.25,
                                        next.start().plus(INTERVAL),
                                        next.start());
                        String path = "/v1/accounts/" + account(symbol) + "/fills";
                        Answer fm = restarted.post(path, f.json(symbol));
                        assertThat(fm.status()).as(fm.toString()).isEqualTo(200);
                        assertThat(fm.body()).isEqualTo(replay.post(path, f.json(symbol)).body());
                    }
                }
                System.out.printf(
                        "SessionCrashIT: start+open %.1f s, load %.1f s, store check %.1f s,"
                                + " restart %.1f s, replay %.1f s, compare %.1f s%n",
                        (loadStart - t0) / 1e9,
                        (killed - loadStart) / 1e9,
                        (storeChecked - killed) / 1e9,
                        (restartedAt - storeChecked) / 1e9,
                        (replayed - replayStart) / 1e9,
                        (System.nanoTime() - replayed) / 1e9);
            }
        }
    }

    // ---- clients
    // ---------------------------------------------------------------------------------

    void postBars(
            ServeProcess serve,
            String symbol,
            Client<Bar> c,
            AtomicReference<Bar> seen,
            AtomicBoolean stop) {
        for (int i = 0; !stop.get() && first + i < btc.size(); i++) {
            Bar b = btc.bar(first + i);
            c.unanswered = b;
            Answer a;
            try {
                a = serve.bars(symbol, List.of(b));
            } catch (IOException e) {
                return; // the kill: b may or may not have been committed
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (a.status() != 200) {
                errors.add("bars " + symbol + " " + b.start() + ": " + a);
                return;
            }
            c.acked.add(b);
            c.unanswered = null;
            seen.set(b);
        }
    }

    void postFills(
            ServeProcess serve,
            String symbol,
            Client<SentFill> c,
            AtomicReference<Bar> seen,
            AtomicBoolean stop) {
        Random random = new Random(symbol.hashCode());
        boolean heavy = symbol.equals("D"); // stays ~95% long: small trades around 0.24
        double units = 0;
        for (SentFill f : c.acked) {
            units += f.side() == Side.BUY ? f.quantity() : -f.quantity();
        }
        int n = 0;
        while (!stop.get()) {
            Bar last = seen.get();
            if (last == null) {
                pause(2);
                continue;
            }
            boolean buy;
            double q;
            if (heavy) {
                buy = units < 0.23 || (units < 0.245 && random.nextBoolean());
                q = round(0.001 + 0.004 * random.nextDouble(), 4);
            } else if (units <= 0 || (units < 0.22 && random.nextDouble() < 0.6)) {
                buy = true;
                q = round(0.01 + 0.07 * random.nextDouble(), 4);
            } else {
                buy = false; // sometimes the whole position (long only: never more)
                q =
                        random.nextDouble() < 0.25
                                ? units
                                : round(units * (0.2 + 0.6 * random.nextDouble()), 6);
            }
            double price = round(last.close() * (1 + 0.002 * (random.nextDouble() - 0.5)), 2);
            SentFill f =
                    new SentFill(
                            symbol + "-" + n++,
                            buy ? Side.BUY : Side.SELL,
                            q,
                            price,
                            round(price * q * 0.001, 4),
                            last.start().plus(INTERVAL), // the bar's close
                            last.start());
            c.unanswered = f;
            Answer a;
            try {
                a = serve.post("/v1/accounts/" + account(symbol) + "/fills", f.json(symbol));
            } catch (IOException e) {
                return; // the kill: f may or may not have been committed
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            c.unanswered = null;
            if (a.status() == 400 && a.body().get("field").asText().equals("time")) {
                // The client's view was stale: a bar after its fill time was taken meanwhile.
                // Refused, so not acknowledged (the store check finds it absent).
                c.refused.add(f);
                continue;
            }
            if (a.status() != 200 || a.body().get("duplicate").asBoolean()) {
                errors.add("fill " + f + ": " + a);
                return;
            }
            c.acked.add(f);
            units += buy ? q : -q;
            assertThat(a.body().at("/account/position_units").asDouble()).isEqualTo(units);
            pause(3);
        }
    }

    /** Re-arms D's daily-loss breaker when it is armed; answers whether a re-arm was recorded. */
    static boolean rearmWhenArmed(ServeProcess serve) throws Exception {
        JsonNode d = body(serve.get("/v1/accounts/" + account("D")));
        if (!d.at("/breakers/daily_loss").asText().equals("armed")) {
            return false;
        }
        ObjectNode command = ServeProcess.JSON.createObjectNode();
        command.put("actor", "crash-test");
        command.put("reason", "re-armed under load");
        JsonNode r =
                body(
                        serve.post(
                                "/v1/accounts/" + account("D") + "/breakers/daily_loss/rearm",
                                command));
        // False when the breaker cleared itself between the two requests (a bar of a new day
        // arrived meanwhile): nothing was re-armed or recorded, and the caller tries again.
        return r.get("rearmed").asBoolean();
    }

    /** Replays fills and re-arms in the order the first service committed them. */
    static void postCommands(
            ServeProcess serve, String symbol, List<StoredEvent> events, Map<String, FillRow> byId)
            throws Exception {
        if (events == null) {
            return;
        }
        for (StoredEvent e : events) {
            JsonNode d = ServeProcess.JSON.readTree(e.event().detailJson());
            if (e.event().kind().equals("rearm_command")) {
                ObjectNode command = ServeProcess.JSON.createObjectNode();
                command.put("actor", e.event().actor());
                command.put("reason", e.event().reason().orElseThrow());
                String path =
                        "/v1/accounts/"
                                + account(symbol)
                                + "/breakers/"
                                + d.get("breaker").asText()
                                + "/rearm";
                assertThat(body(serve.post(path, command)).get("rearmed").asBoolean())
                        .as("replay " + e)
                        .isTrue();
                continue;
            }
            FillRow r = byId.get(d.get("client_fill_id").asText());
            Answer a =
                    serve.post(
                            "/v1/accounts/" + account(symbol) + "/fills",
                            SentFill.of(r).json(symbol));
            assertThat(a.status()).as("replay fill " + r + ": " + a).isEqualTo(200);
            assertThat(a.body().get("duplicate").asBoolean()).isFalse();
        }
    }

    // ---- helpers
    // ---------------------------------------------------------------------------------

    /** Opens the four sessions, warmed up on the bundled bars through {@link #T}. */
    void openAll(ServeProcess serve) throws Exception {
        for (String symbol : SYMBOLS) {
            ObjectNode body = ServeProcess.JSON.createObjectNode();
            body.put("account", account(symbol));
            body.put("currency", "USD");
            body.put("starting_equity", 10_000.0);
            body.put("mode", external(symbol) ? "external" : "paper");
            body.put("interval", "PT4H");
            body.put("max_gap_bars", 3);
            body.putObject("warmup").put("dataset", "btc-usd-4h").put("until", T.toString());
            JsonNode s = body(serve.put("/v1/sessions/" + symbol, body));
            assertThat(s.get("state").asText()).isEqualTo("ready");
            assertThat(s.get("bars").asInt()).isEqualTo(first);
        }
    }

    static boolean enoughLoad(Map<String, Client<Bar>> bars, Map<String, Client<SentFill>> fills) {
        return bars.values().stream().allMatch(c -> c.acked.size() >= MIN_BARS)
                && fills.values().stream().allMatch(c -> c.acked.size() >= MIN_FILLS);
    }

    Thread thread(String name, Runnable work) {
        Thread t =
                new Thread(
                        () -> {
                            try {
                                work.run();
                            } catch (RuntimeException | AssertionError e) {
                                errors.add(name + ": " + e);
                            }
                        },
                        name);
        t.setDaemon(true);
        return t;
    }

    static JsonNode body(Answer a) {
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        return a.body();
    }

    static double round(double v, int decimals) {
        double f = Math.pow(10, decimals);
        return Math.round(v * f) / f;
    }

    static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
