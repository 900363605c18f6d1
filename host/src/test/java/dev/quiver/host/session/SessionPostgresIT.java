package dev.quiver.host.session;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.market.Bar;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.session.ServeProcess.Answer;
import dev.quiver.host.store.FillRow;
import dev.quiver.host.store.LocalPostgres;
import dev.quiver.host.store.StateStore;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live sessions on the real PostgreSQL server the build starts ({@code quiver.postgres.url}; a
 * database of its own): {@code bin/quiver serve} on it and another on a SQLite file are fed the
 * same requests and answer them the same; the Postgres one is killed with SIGKILL and restarted on
 * the same database, finds the same sessions and accounts, and goes on answering as the SQLite one
 * that was never interrupted.
 */
class SessionPostgresIT {

    static final Instant T = Instant.parse("2022-05-05T04:00:00Z");
    static final Duration INTERVAL = Duration.ofHours(4);
    static final int BARS = 12;

    BarData btc;
    int first;

    @Test
    void aSessionOnPostgresSurvivesSigkillAndAnswersAsAnUninterruptedOneOnSqlite(@TempDir Path work)
            throws Exception {
        btc = BundledData.BTC_USD_4H.load();
        while (!btc.bar(first).start().isAfter(T)) {
            first++;
        }
        String database = "quiver_sessions_" + ProcessHandle.current().pid();
        String pgUrl = LocalPostgres.createDatabase(database);
        try (ServeProcess lite =
                ServeProcess.start("jdbc:sqlite:" + work.resolve("lite.db"), work, "lite")) {
            Map<String, JsonNode> before = new LinkedHashMap<>();
            List<String> fillIds = new ArrayList<>();
            ServeProcess pg = ServeProcess.start(pgUrl, work, "pg-1");
            try {
                for (ServeProcess s : List.of(pg, lite)) {
                    open(s, "P", "pg-ext", "external");
                    open(s, "Q", "pg-paper", "paper");
                }
                for (int i = 0; i < BARS; i++) {
                    Bar b = btc.bar(first + i);
                    same(pg, lite, s -> s.bars("P", List.of(b)));
                    same(pg, lite, s -> s.bars("Q", List.of(b)));
                    if (i == 0 || i == 3 || i == 6) {
                        ObjectNode f =
                                fill(
                                        "f" + i,
                                        i == 6 ? "sell" : "buy",
                                        i == 0 ? 0.1 : i == 3 ? 0.05 : 0.08,
                                        b);
                        fillIds.add("f" + i);
                        same(pg, lite, s -> s.post("/v1/accounts/pg-ext/fills", f));
                    }
                    if (i == 7) {
                        // the store's idempotency on Postgres: the same fill again, then other
                        // content
                        ObjectNode retry = fill("f6", "sell", 0.08, btc.bar(first + 6));
                        Answer dup =
                                same(pg, lite, s -> s.post("/v1/accounts/pg-ext/fills", retry));
                        assertThat(dup.body().get("duplicate").asBoolean()).isTrue();
                        ObjectNode other = retry.deepCopy().put("quantity", 0.09);
                        Answer conflict = pg.post("/v1/accounts/pg-ext/fills", other);
                        assertThat(conflict.status()).as(conflict.toString()).isEqualTo(409);
                        assertThat(conflict.body().get("field").asText()).isEqualTo("quantity");
                    }
                }
                for (String path :
                        List.of(
                                "/v1/sessions/P",
                                "/v1/sessions/Q",
                                "/v1/accounts/pg-ext",
                                "/v1/accounts/pg-paper")) {
                    before.put(path, same(pg, lite, s -> s.get(path)).body());
                }
                assertThat(before.get("/v1/accounts/pg-ext").get("position_units").asDouble())
                        .isCloseTo(0.07, org.assertj.core.data.Offset.offset(1e-12));
                pg.kill();
            } finally {
                pg.close();
            }

            try (StateStore store = StateStore.open(Optional.of(pgUrl), work)) {
                assertThat(store.bars("P")).hasSize(first + BARS);
                assertThat(store.bars("Q")).hasSize(first + BARS);
                assertThat(store.fills("pg-ext"))
                        .extracting(FillRow::clientFillId)
                        .containsExactlyElementsOf(fillIds);
                assertThat(
                                store.events("pg-ext").stream()
                                        .filter(e -> e.event().kind().equals("fill")))
                        .hasSize(fillIds.size());
            }

            try (ServeProcess again = ServeProcess.start(pgUrl, work, "pg-2")) {
                for (Map.Entry<String, JsonNode> e : before.entrySet()) {
                    Answer a = again.get(e.getKey());
                    assertThat(a.status()).as(a.toString()).isEqualTo(200);
                    assertThat(a.body())
                            .as(e.getKey() + " after SIGKILL and restart")
                            .isEqualTo(e.getValue());
                }
                Bar next = btc.bar(first + BARS);
                same(again, lite, s -> s.bars("P", List.of(next)));
                same(again, lite, s -> s.bars("Q", List.of(next)));
                ObjectNode f = fill("after", "buy", 0.02, next);
                same(again, lite, s -> s.post("/v1/accounts/pg-ext/fills", f));
            }
        } finally {
            LocalPostgres.dropDatabase(database);
        }
    }

    @FunctionalInterface
    interface Call {
        Answer on(ServeProcess s) throws Exception;
    }

    /** The request to both services: 200 from each, the same body. */
    static Answer same(ServeProcess a, ServeProcess b, Call call) throws Exception {
        Answer x = call.on(a);
        Answer y = call.on(b);
        assertThat(x.status()).as(x.toString()).isEqualTo(200);
        assertThat(x.body()).as("postgres vs sqlite").isEqualTo(y.body());
        return x;
    }

    void open(ServeProcess s, String symbol, String account, String mode) throws Exception {
        ObjectNode body = ServeProcess.JSON.createObjectNode();
        body.put("account", account);
        body.put("mode", mode);
        body.put("starting_equity", 10_000.0);
        body.putObject("warmup").put("dataset", "btc-usd-4h").put("until", T.toString());
        Answer a = s.put("/v1/sessions/" + symbol, body);
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        assertThat(a.body().get("bars").asInt()).isEqualTo(first);
    }

    static ObjectNode fill(String id, String side, double quantity, Bar after) {
        ObjectNode f = ServeProcess.JSON.createObjectNode();
        f.put("client_fill_id", id);
        f.put("symbol", "P");
        f.put("side", side);
        f.put("quantity", quantity);
        f.put("price", after.close());
        f.put("fee", 1.25);
        f.put("time", after.start().plus(INTERVAL).toString());
        return f;
    }
}
