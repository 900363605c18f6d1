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
import dev.quiver.host.store.StateStore;
import dev.quiver.host.store.StoredEvent;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input to the live session API of a real {@code bin/quiver serve} child on a SQLite file: each
 * refusal has the right 4xx with the field named, and the store (read from the same file by the
 * state store API) holds nothing of it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SessionBadInputIT {

    /** Warm-up: the 300 real BTC bars up to and including this one; the next ones are posted. */
    static final Instant T = Instant.parse("2024-03-01T00:00:00Z");

    static final int WARMUP = 300;

    Path work;
    BarData btc;
    int first; // index of the first bar after the warm-up
    String url;
    ServeProcess serve;
    StateStore store;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        work = dir;
        btc = BundledData.BTC_USD_4H.load();
        first = 0;
        while (!btc.bar(first).start().isAfter(T)) {
            first++;
        }
        url = "jdbc:sqlite:" + work.resolve("state.db");
        serve = ServeProcess.start(url, work, "serve");
        store = StateStore.open(Optional.of(url), work);
    }

    @AfterAll
    void stop() throws Exception {
        if (store != null) {
            store.close();
        }
        if (serve != null) {
            serve.close();
        }
    }

    // ---- fills ---------------------------------------------------------------------------------

    @Test
    void fillsForAnUnknownAccountAnotherSymbolOrAPaperAccountAreRefused() throws Exception {
        open("F1", "f1-acct", "external");
        step("F1", 0);
        open("F1P", "f1p-acct", "paper");
        step("F1P", 0);
        Stored before = stored("F1", "f1-acct");

        Answer unknown = serve.post("/v1/accounts/nobody/fills", fill("x1", "F1", "buy", 0.1));
        assertRefused(unknown, 404, "UNKNOWN_ACCOUNT", "account", "nobody");

        Answer other = serve.post("/v1/accounts/f1-acct/fills", fill("x2", "F1P", "buy", 0.1));
        assertRefused(other, 400, "BAD_FILL", "symbol", "F1P");
        assertThat(other.body().get("message").asText()).contains("session symbol F1");

        Answer paper = serve.post("/v1/accounts/f1p-acct/fills", fill("x3", "F1P", "buy", 0.1));
        assertRefused(paper, 409, "ACCOUNT_IS_PAPER", "account", "paper account");

        assertThat(stored("F1", "f1-acct")).isEqualTo(before);
        assertThat(store.fills("f1p-acct")).isEmpty();
        assertThat(account("f1-acct").get("position_units").asDouble()).isZero();
    }

    @Test
    void negativeZeroNanOrHugeQuantitiesAndPricesAreRefusedNamingTheField() throws Exception {
        open("F2", "f2-acct", "external");
        step("F2", 0);
        Stored before = stored("F2", "f2-acct");
        JsonNode figures = account("f2-acct");
        for (String field : List.of("quantity", "price")) {
            List<Object> values = List.of(-1.0, 0.0, "NaN", "1e999", -0.0);
            for (Object v : values) {
                ObjectNode f = fill("bad-" + field + "-" + v, "F2", "buy", 0.1);
                String body;
                if ("1e999".equals(v)) {
                    // a JSON number too large for a double: Jackson reads +Infinity
                    body =
                            f.put(field, 1.0)
                                    .toString()
                                    .replace(field + "\":1.0", field + "\":1e999");
                } else {
                    if (v instanceof String s) {
                        f.put(field, s); // JSON has no NaN: a string is what a client can send
                    } else {
                        f.put(field, (Double) v);
                    }
                    body = f.toString();
                }
                Answer a = serve.post("/v1/accounts/f2-acct/fills", body);
                assertThat(a.status()).as(field + "=" + v + ": " + a).isEqualTo(400);
                assertThat(a.body().get("field").asText()).as(field + "=" + v).isEqualTo(field);
                String message = a.body().get("message").asText();
                if ("NaN".equals(v)) {
                    assertThat(message).contains("must be a number");
                } else if ("1e999".equals(v)) {
                    assertThat(message).contains("finite").contains("Infinity");
                } else {
                    assertThat(message).contains("> 0");
                }
            }
            Answer missing =
                    serve.post(
                            "/v1/accounts/f2-acct/fills",
                            fill("m-" + field, "F2", "buy", 0.1).without(field));
            assertRefused(missing, 400, "BAD_REQUEST", field, "is missing");
        }
        Answer fee =
                serve.post(
                        "/v1/accounts/f2-acct/fills",
                        fill("neg-fee", "F2", "buy", 0.1).put("fee", -0.01));
        assertRefused(fee, 400, "BAD_FILL", "fee", ">= 0");
        Answer side =
                serve.post(
                        "/v1/accounts/f2-acct/fills",
                        fill("short", "F2", "sell", 0.1)); // long only: nothing to sell
        assertRefused(side, 400, "BAD_FILL", "quantity", "sells more than the position");
        Answer noId =
                serve.post(
                        "/v1/accounts/f2-acct/fills",
                        fill("x", "F2", "buy", 0.1).put("client_fill_id", " "));
        assertRefused(noId, 400, "BAD_FILL", "client_fill_id", "blank");

        assertThat(stored("F2", "f2-acct")).isEqualTo(before);
        assertThat(account("f2-acct")).isEqualTo(figures);
    }

    @Test
    void fillTimesBeforeTheLastBarOrInTheFutureAreRefused() throws Exception {
        open("F3", "f3-acct", "external");
        step("F3", 0);
        step("F3", 1);
        Stored before = stored("F3", "f3-acct");
        Instant lastBar = bar(1).start();

        ObjectNode early = fill("early", "F3", "buy", 0.1);
        early.put("time", lastBar.minusSeconds(1).toString());
        assertRefused(
                serve.post("/v1/accounts/f3-acct/fills", early),
                400,
                "BAD_FILL",
                "time",
                "before the session's last bar " + lastBar);

        ObjectNode future = fill("future", "F3", "buy", 0.1);
        future.put("time", Instant.now().plus(Duration.ofHours(1)).toString());
        assertRefused(
                serve.post("/v1/accounts/f3-acct/fills", future),
                400,
                "BAD_FILL",
                "time",
                "in the future");

        ObjectNode garbled = fill("garbled", "F3", "buy", 0.1);
        garbled.put("time", "yesterday");
        assertRefused(
                serve.post("/v1/accounts/f3-acct/fills", garbled),
                400,
                "BAD_REQUEST",
                "time",
                "ISO-8601");

        assertThat(stored("F3", "f3-acct")).isEqualTo(before);
    }

    @Test
    void aFillIdReusedWithOtherContentIsAConflictTheSameContentADuplicateCountedOnce()
            throws Exception {
        open("F4", "f4-acct", "external");
        step("F4", 0);
        ObjectNode buy = fill("b-1", "F4", "buy", 0.25);
        Answer first = serve.post("/v1/accounts/f4-acct/fills", buy);
        assertThat(first.status()).as(first.toString()).isEqualTo(200);
        assertThat(first.body().get("duplicate").asBoolean()).isFalse();
        Stored once = stored("F4", "f4-acct");
        assertThat(once.fills()).hasSize(1);

        for (String field : List.of("quantity", "price", "fee", "side", "time")) {
            ObjectNode other = buy.deepCopy();
            switch (field) {
                case "quantity" -> other.put("quantity", 0.26);
                case "price" -> other.put("price", buy.get("price").asDouble() + 1);
                case "fee" -> other.put("fee", 0.0);
                case "side" -> other.put("side", "sell");
                default ->
                        other.put(
                                "time",
                                Instant.parse(buy.get("time").asText()).plusSeconds(1).toString());
            }
            Answer conflict = serve.post("/v1/accounts/f4-acct/fills", other);
            assertThat(conflict.status()).as(field + ": " + conflict).isEqualTo(409);
            assertThat(conflict.body().get("error").asText()).isEqualTo("STATE_CONFLICT");
            assertThat(conflict.body().get("field").asText())
                    .as(field)
                    .isEqualTo(field.equals("time") ? "time_ms" : field);
        }

        Answer again = serve.post("/v1/accounts/f4-acct/fills", buy);
        assertThat(again.status()).as(again.toString()).isEqualTo(200);
        assertThat(again.body().get("duplicate").asBoolean()).isTrue();
        assertThat(again.body().get("account")).isEqualTo(first.body().get("account"));
        assertThat(stored("F4", "f4-acct")).isEqualTo(once);

        // A retry that arrives after the next bar is still the same fill (not a fill "before the
        // last bar"), and a retried sale of the whole position is not a sale beyond it.
        step("F4", 1);
        step("F4", 2);
        Answer late = serve.post("/v1/accounts/f4-acct/fills", buy);
        assertThat(late.status()).as(late.toString()).isEqualTo(200);
        assertThat(late.body().get("duplicate").asBoolean()).isTrue();
        ObjectNode sell = fill("s-1", "F4", "sell", 0.25);
        sell.put("time", bar(2).start().toString());
        Answer sold = serve.post("/v1/accounts/f4-acct/fills", sell);
        assertThat(sold.status()).as(sold.toString()).isEqualTo(200);
        assertThat(sold.body().at("/account/position_units").asDouble()).isZero();
        Answer resold = serve.post("/v1/accounts/f4-acct/fills", sell);
        assertThat(resold.status()).as(resold.toString()).isEqualTo(200);
        assertThat(resold.body().get("duplicate").asBoolean()).isTrue();
        assertThat(resold.body().get("account")).isEqualTo(sold.body().get("account"));

        assertThat(store.fills("f4-acct"))
                .extracting(FillRow::clientFillId)
                .containsExactly("b-1", "s-1");
        assertThat(fillEvents("f4-acct")).isEqualTo(2);
        JsonNode acct = account("f4-acct");
        assertThat(acct.get("recent_fills")).hasSize(2);
        assertThat(acct.get("position_units").asDouble()).isZero();
    }

    // ---- sessions and bars ---------------------------------------------------------------------

    @Test
    void barsForAClosedSessionAreRefusedAndItsSymbolReopensAsTheNextGeneration() throws Exception {
        open("S1", "s1-acct", "external");
        step("S1", 0);
        Answer closed = serve.delete("/v1/sessions/S1");
        assertThat(closed.status()).as(closed.toString()).isEqualTo(200);
        assertThat(closed.body().get("state").asText()).isEqualTo("closed");
        Stored before = stored("S1", "s1-acct");

        assertRefused(
                serve.bars("S1", List.of(bar(1))),
                410,
                "SESSION_CLOSED",
                "symbol",
                "PUT /v1/sessions/S1 opens generation 2");
        JsonNode shown = session("S1");
        assertThat(shown.get("state").asText()).isEqualTo("closed");
        assertThat(shown.get("generation").asInt()).isEqualTo(1);
        assertRefused(
                serve.post("/v1/accounts/s1-acct/fills", fill("c1", "S1", "buy", 0.1)),
                410,
                "SESSION_CLOSED",
                "account",
                "closed session");

        // Its account keeps that session's fills: it does not start a second life (which a
        // restart would replay differently), neither for S1 nor for another symbol.
        Answer reuse = serve.put("/v1/sessions/S1", openBody("s1-acct", "external"));
        assertRefused(reuse, 409, "SESSION_CONFLICT", "account", "closed session");
        Answer other = serve.put("/v1/sessions/S1B", openBody("s1-acct", "external"));
        assertRefused(other, 409, "SESSION_CONFLICT", "account", "closed session");
        assertThat(store.session("S1B")).isEmpty();
        assertThat(stored("S1", "s1-acct")).isEqualTo(before);
        assertThat(store.session("S1").orElseThrow().closedMs()).isPresent();

        // A new account opens generation 2 with fresh state; generation 1 stays stored.
        Answer reopened = serve.put("/v1/sessions/S1", openBody("s1-acct-2", "external"));
        assertThat(reopened.status()).as(reopened.toString()).isEqualTo(200);
        assertThat(reopened.body().get("generation").asInt()).isEqualTo(2);
        assertThat(reopened.body().at("/account/position_units").asDouble()).isZero();
        step("S1", 0);
        assertThat(store.generationBars("S1", 1)).isEqualTo(before.bars());
        JsonNode generations = serve.ok("GET", "/v1/sessions/S1/generations", null);
        assertThat(generations.at("/generations/0/state").asText()).isEqualTo("closed");
        assertThat(generations.at("/generations/1/state").asText()).isEqualTo("open");
        assertThat(generations.at("/generations/1/account").asText()).isEqualTo("s1-acct-2");
    }

    @Test
    void aSessionOpenedTwiceWithOtherSettingsIsAConflictWithTheSameSettingsTheSameSession()
            throws Exception {
        Answer opened = serve.put("/v1/sessions/S2", openBody("s2-acct", "external"));
        assertThat(opened.status()).as(opened.toString()).isEqualTo(200);
        Answer same = serve.put("/v1/sessions/S2", openBody("s2-acct", "external"));
        assertThat(same.status()).as(same.toString()).isEqualTo(200);
        assertThat(same.body()).isEqualTo(opened.body());
        Answer sameWithoutWarmup =
                serve.put("/v1/sessions/S2", openBody("s2-acct", "external").without("warmup"));
        assertThat(sameWithoutWarmup.body()).isEqualTo(opened.body());
        Stored before = stored("S2", "s2-acct");
        String settings = store.session("S2").orElseThrow().settingsJson();

        Map<String, java.util.function.Consumer<ObjectNode>> changes = new LinkedHashMap<>();
        changes.put("account", b -> b.put("account", "s2-other"));
        changes.put("interval", b -> b.put("interval", "PT1H"));
        changes.put("max_gap_bars", b -> b.put("max_gap_bars", 5));
        changes.put("policy", b -> b.put("policy", "fixed"));
        changes.put("mode", b -> b.put("mode", "paper"));
        changes.put("currency", b -> b.put("currency", "EUR"));
        changes.put("starting_equity", b -> b.put("starting_equity", 20_000.0));
        for (var c : changes.entrySet()) {
            ObjectNode body = openBody("s2-acct", "external");
            c.getValue().accept(body);
            Answer a = serve.put("/v1/sessions/S2", body);
            assertThat(a.status()).as(c.getKey() + ": " + a).isEqualTo(409);
            assertThat(a.body().get("error").asText()).isEqualTo("SESSION_CONFLICT");
            assertThat(a.body().get("field").asText()).isEqualTo(c.getKey());
        }
        assertThat(stored("S2", "s2-acct")).isEqualTo(before);
        assertThat(store.session("S2").orElseThrow().settingsJson()).isEqualTo(settings);
        assertThat(store.account("s2-other")).isEmpty();
        assertThat(store.account("s2-acct").orElseThrow().startingEquity()).isEqualTo(10_000.0);

        // the open request's own fields
        assertRefused(
                serve.put("/v1/sessions/S2X", openBody("s2x", "live")),
                400,
                "BAD_REQUEST",
                "mode",
                "paper or external");
        assertRefused(
                serve.put("/v1/sessions/S2X", openBody("s2x", "paper").put("starting_equity", -5)),
                400,
                "BAD_REQUEST",
                "starting_equity",
                "> 0");
        assertRefused(
                serve.put("/v1/sessions/S2X", openBody("s2x", "paper").put("max_gap_bars", 0)),
                400,
                "BAD_REQUEST",
                "max_gap_bars",
                ">= 1");
        for (String gap : List.of("2.5", "1e12", "\"3\"")) {
            String body = openBody("s2x", "paper").put("max_gap_bars", 9).toString();
            assertRefused(
                    serve.put(
                            "/v1/sessions/S2X",
                            body.replace("\"max_gap_bars\":9", "\"max_gap_bars\":" + gap)),
                    400,
                    "BAD_REQUEST",
                    "max_gap_bars",
                    "whole number");
        }
        ObjectNode unknownData = openBody("s2x", "paper");
        unknownData.putObject("warmup").put("dataset", "nope");
        assertRefused(
                serve.put("/v1/sessions/S2X", unknownData),
                400,
                "BAD_REQUEST",
                "warmup.dataset",
                "btc-usd-4h");
        assertRefused(
                serve.put("/v1/sessions/S2X", openBody("s2x", "paper").put("policy", "yolo")),
                400,
                "BAD_SESSION",
                "policy",
                "kelly_ml");
        assertThat(store.session("S2X")).isEmpty();
        assertThat(store.account("s2x")).isEmpty();
    }

    @Test
    void changedOutOfOrderAndGappedBarsAreConflictsTheLastBarResentIsTheSameAnswer()
            throws Exception {
        open("S3", "s3-acct", "paper");
        Answer d0 = step("S3", 0);
        Answer d1 = step("S3", 1);
        Stored before = stored("S3", "s3-acct");
        int bars = session("S3").get("bars").asInt();
        assertThat(bars).isEqualTo(WARMUP + 2);

        Answer again = serve.bars("S3", List.of(bar(1)));
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.body()).isEqualTo(d1.body());
        assertThat(session("S3").get("bars").asInt()).isEqualTo(bars);

        Bar last = bar(1);
        Bar changed =
                new Bar(
                        last.start(),
                        last.open(),
                        last.high(),
                        last.low(),
                        last.close(),
                        last.volume() + 1);
        assertRefused(
                serve.bars("S3", List.of(changed)),
                409,
                "BAR_CONFLICT",
                "bars[0].timestamp",
                "never changed");
        assertRefused(
                serve.bars("S3", List.of(bar(0))),
                409,
                "BAR_OUT_OF_ORDER",
                "bars[0].timestamp",
                "before the session's last bar");
        // a batch is taken whole or not at all: a good bar before a refused one is not kept
        assertRefused(
                serve.bars("S3", List.of(bar(2), bar(2 + 5))),
                409,
                "BAR_GAP",
                "bars[1].timestamp",
                "max_gap_bars 3");
        Answer malformed =
                serve.post(
                        "/v1/sessions/S3/bars",
                        "{\"bars\":[" + ServeProcess.bar(bar(2)).put("close", -1.0) + "]}");
        assertThat(malformed.status()).isEqualTo(400);
        assertThat(malformed.body().get("field").asText()).isEqualTo("bars[0].close");
        assertThat(stored("S3", "s3-acct")).isEqualTo(before);
        assertThat(session("S3").get("state").asText()).isEqualTo("ready");
        assertThat(d0.body().get("bar_time").asText()).isEqualTo(bar(0).start().toString());

        // a gap after the session's last bar: refused, and the session waits for a re-warm
        Answer gap = serve.bars("S3", List.of(bar(1 + 4)));
        assertRefused(gap, 409, "BAR_GAP", "bars[0].timestamp", "max_gap_bars 3");
        JsonNode state = session("S3");
        assertThat(state.get("state").asText()).isEqualTo("rewarm_required");
        assertThat(state.get("rewarm_reason").asText()).contains("PT16H after the last bar");
        assertRefused(serve.bars("S3", List.of(bar(2))), 409, "SESSION_REWARM", "bars", "PT16H");
        assertThat(session("S3").get("bars").asInt()).isEqualTo(bars);
        assertThat(store.bars("S3")).hasSize(bars);

        // it still does after a restart (the state is the store's, not the process's)
        serve.close();
        serve = ServeProcess.start(url, work, "serve");
        JsonNode recovered = session("S3");
        assertThat(recovered.get("state").asText()).isEqualTo("rewarm_required");
        assertThat(recovered.get("rewarm_reason").asText())
                .isEqualTo(state.get("rewarm_reason").asText());
        assertRefused(serve.bars("S3", List.of(bar(2))), 409, "SESSION_REWARM", "bars", "PT16H");
        assertThat(store.bars("S3")).hasSize(bars);

        // A re-warm is the way out: refused when it brings nothing after the last bar (and
        // nothing stored), then from the bundled series up to bar 70 (the 300 bars before the
        // session's last one are skipped).
        ObjectNode nothing = ServeProcess.JSON.createObjectNode();
        nothing.putObject("warmup")
                .put("dataset", "btc-usd-4h")
                .put("until", bar(1).start().toString());
        assertRefused(
                serve.post("/v1/sessions/S3/rewarm", nothing),
                400,
                "BAD_REWARM",
                "warmup",
                "no bar after the session's last bar");
        assertThat(store.bars("S3")).hasSize(bars);
        ObjectNode body = ServeProcess.JSON.createObjectNode();
        body.putObject("warmup")
                .put("dataset", "btc-usd-4h")
                .put("until", bar(70).start().toString());
        body.put("actor", "ops").put("reason", "feed back");
        Answer rewarmed = serve.post("/v1/sessions/S3/rewarm", body);
        assertThat(rewarmed.status()).as(rewarmed.toString()).isEqualTo(200);
        assertThat(rewarmed.body().get("state").asText()).isEqualTo("ready");
        assertThat(rewarmed.body().at("/rewarm/bars").asInt()).isEqualTo(69);
        assertThat(store.bars("S3")).hasSize(bars + 69);
        assertRefused(
                serve.post("/v1/sessions/S3/rewarm", body),
                409,
                "SESSION_NOT_REWARM_REQUIRED",
                "state",
                "rewarm_required");
        JsonNode decided = step("S3", 71).body();
        assertThat(decided.get("bar_time").asText()).isEqualTo(bar(71).start().toString());
        JsonNode live = session("S3");
        serve.close();
        serve = ServeProcess.start(url, work, "serve");
        assertThat(session("S3")).isEqualTo(live);
    }

    @Test
    void aSessionWhoseStoredRowIsDamagedIsQuarantinedAndTheOthersServe() throws Exception {
        open("Q1", "q1-acct", "external");
        open("Q2", "q2-acct", "external");
        step("Q1", 0);
        step("Q2", 0);
        int readyBefore = serve.get("/health/ready").status();
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(url);
                java.sql.PreparedStatement ps =
                        c.prepareStatement(
                                "UPDATE sessions SET settings_json = ? WHERE symbol = 'Q1'")) {
            ps.setString(1, "{\"symbol\":\"Q1\",\"interval\":\"soon\"}");
            assertThat(ps.executeUpdate()).isEqualTo(1);
        }
        serve.close();
        serve = ServeProcess.start(url, work, "serve");
        assertThat(serve.stderr()).contains("session Q1 could not be replayed and is quarantined");

        JsonNode list = serve.ok("GET", "/v1/sessions", null);
        JsonNode q1 = null;
        for (JsonNode s : list.get("sessions")) {
            if (s.get("symbol").asText().equals("Q1")) {
                q1 = s;
            }
        }
        assertThat(q1).as(list.toString()).isNotNull();
        assertThat(q1.get("state").asText()).isEqualTo("failed_recovery");
        assertThat(q1.get("reason").asText()).contains("'soon' is not an ISO-8601 duration");
        Answer ready = serve.get("/health/ready");
        assertThat(ready.status()).as(ready.toString()).isEqualTo(503);
        if (readyBefore == 200) {
            assertThat(ready.body().get("status").asText()).isEqualTo("degraded");
            assertThat(ready.body().get("reason").asText()).contains("failed recovery");
        }
        assertThat(ready.body().at("/failed_sessions/Q1").asText()).contains("soon");
        int stored = store.bars("Q1").size();
        assertRefused(
                serve.bars("Q1", List.of(bar(1))),
                409,
                "SESSION_FAILED_RECOVERY",
                "symbol",
                "'soon' is not an ISO-8601 duration");
        assertThat(store.bars("Q1")).hasSize(stored);
        step("Q2", 1);

        // Closed, it stops degrading the service.
        assertThat(serve.delete("/v1/sessions/Q1").status()).isEqualTo(200);
        Answer after = serve.get("/health/ready");
        assertThat(after.status()).as(after.toString()).isEqualTo(readyBefore);
        assertThat(after.body().has("failed_sessions")).isFalse();
    }

    // ---- helpers -------------------------------------------------------------------------------

    /** What the store holds for a session and its account. */
    record Stored(List<BarRow> bars, List<FillRow> fills, List<StoredEvent> events) {}

    Stored stored(String symbol, String account) {
        return new Stored(store.bars(symbol), store.fills(account), store.events(account));
    }

    long fillEvents(String account) {
        return store.events(account).stream().filter(e -> e.event().kind().equals("fill")).count();
    }

    Bar bar(int i) {
        return btc.bar(first + i);
    }

    ObjectNode openBody(String account, String mode) {
        ObjectNode b = ServeProcess.JSON.createObjectNode();
        b.put("account", account);
        b.put("currency", "USD");
        b.put("starting_equity", 10_000.0);
        b.put("mode", mode);
        b.put("interval", "PT4H");
        b.put("max_gap_bars", 3);
        List<Bar> warm = new ArrayList<>();
        for (int i = first - WARMUP; i < first; i++) {
            warm.add(btc.bar(i));
        }
        b.putObject("warmup").set("bars", ServeProcess.barsBody(warm).get("bars"));
        return b;
    }

    // ---- the input gate (issue 14 item 7) -------------------------------------------------------

    /** {@code POST /v1/decisions} on the 300 bars up to the warm-up's end, then {@code last}. */
    Answer decide(Bar last) throws Exception {
        List<Bar> window = new ArrayList<>();
        for (int i = first - 300; i < first; i++) {
            window.add(btc.bar(i));
        }
        window.add(last);
        ObjectNode body = ServeProcess.barsBody(window);
        body.put("symbol", "BTC-USD");
        return serve.post("/v1/decisions", body);
    }

    static void assertAbstained(Answer a, String check) {
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        JsonNode gate = a.body().get("gate");
        assertThat(gate.get("abstain").asBoolean()).as(a.toString()).isTrue();
        String reason = gate.get("reason").asText();
        assertThat(reason).startsWith("input gate: ").contains(check).endsWith("-> flat (abstain)");
        assertThat(a.body().get("decisions").size()).isGreaterThan(0);
        a.body()
                .get("decisions")
                .forEach(
                        d -> {
                            assertThat(d.get("fraction").asDouble()).as(a.toString()).isZero();
                            assertThat(d.get("reason").asText()).as(a.toString()).isEqualTo(reason);
                        });
    }

    @Test
    void aTenYearGapAndA1e308PriceAbstainWithTheirReasonsOverPostDecisions() throws Exception {
        Bar b = btc.bar(first);
        Answer ordinary = decide(b);
        assertThat(ordinary.status()).as(ordinary.toString()).isEqualTo(200);
        JsonNode g = ordinary.body().get("gate");
        assertThat(g.get("gap_bars").asDouble()).isEqualTo(1.0);
        assertThat(g.get("move_atr").asDouble()).isLessThan(20);
        // the served bundle was fitted with the gate: its distribution check is on
        assertThat(g.get("distribution").asText()).isEqualTo("on");
        assertThat(g.get("abstain").asBoolean())
                .as(ordinary.toString())
                .isEqualTo(g.get("distance").asDouble() > g.get("threshold").asDouble());
        System.out.println("gate on an ordinary BTC bar (2024-03-01T04:00Z): " + g);

        Answer gap =
                decide(
                        new Bar(
                                b.start().plus(Duration.ofDays(3652)),
                                b.open(),
                                b.high(),
                                b.low(),
                                b.close(),
                                b.volume()));
        assertAbstained(gap, "gap: ");
        assertThat(gap.body().at("/gate/reason").asText()).contains("> max_gap_bars 7");
        assertThat(gap.body().at("/gate/gap_bars").asDouble()).isGreaterThan(21_000);

        Answer huge = decide(new Bar(b.start(), b.open(), 1e308, b.low(), 1e308, b.volume()));
        assertAbstained(huge, "move: true range");
        assertThat(huge.body().at("/gate/reason").asText())
                .contains("> max_move_atr 20")
                .contains("out of distribution")
                .contains("log_return_1");
    }

    @Test
    void aSessionBarAt1e308AbstainsWithItsReasonAndATenYearGapIsStillRefused() throws Exception {
        open("G1", "g1-acct", "paper");
        JsonNode ordinary = step("G1", 0).body();
        assertThat(ordinary.at("/gate/distribution").asText()).isEqualTo("on");
        Bar b = bar(1);
        Answer huge =
                serve.bars(
                        "G1",
                        List.of(new Bar(b.start(), b.open(), 1e308, b.low(), 1e308, b.volume())));
        assertAbstained(huge, "move: true range");
        // counted per session: the 1e308 bar, and the first one if the distance check refused it
        assertThat(session("G1").findValue("gate_abstentions").asInt())
                .isEqualTo(1 + (ordinary.at("/gate/abstain").asBoolean() ? 1 : 0));

        open("G2", "g2-acct", "paper");
        step("G2", 0);
        Answer gap =
                serve.bars(
                        "G2",
                        List.of(
                                new Bar(
                                        b.start().plus(Duration.ofDays(3652)),
                                        b.open(),
                                        b.high(),
                                        b.low(),
                                        b.close(),
                                        b.volume())));
        assertThat(gap.status()).as(gap.toString()).isEqualTo(409);
        assertThat(gap.body().get("error").asText()).isEqualTo("BAR_GAP");
    }

    void open(String symbol, String account, String mode) throws Exception {
        Answer a = serve.put("/v1/sessions/" + symbol, openBody(account, mode));
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
    }

    Answer step(String symbol, int i) throws Exception {
        Answer a = serve.bars(symbol, List.of(bar(i)));
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        return a;
    }

    /** A valid fill at the close of the bar after the warm-up. */
    ObjectNode fill(String id, String symbol, String side, double quantity) {
        ObjectNode f = ServeProcess.JSON.createObjectNode();
        f.put("client_fill_id", id);
        f.put("symbol", symbol);
        f.put("side", side);
        f.put("quantity", quantity);
        f.put("price", bar(0).close());
        f.put("fee", 0.5);
        f.put("time", bar(0).start().plus(Duration.ofHours(4)).toString());
        return f;
    }

    JsonNode account(String id) throws Exception {
        Answer a = serve.get("/v1/accounts/" + id);
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        return a.body();
    }

    JsonNode session(String symbol) throws Exception {
        Answer a = serve.get("/v1/sessions/" + symbol);
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        return a.body();
    }

    static void assertRefused(Answer a, int status, String code, String field, String says) {
        assertThat(a.status()).as(a.toString()).isEqualTo(status);
        assertThat(a.body().get("error").asText()).as(a.toString()).isEqualTo(code);
        assertThat(a.body().get("field").asText()).as(a.toString()).isEqualTo(field);
        assertThat(a.body().get("message").asText()).as(a.toString()).contains(says);
    }
}
