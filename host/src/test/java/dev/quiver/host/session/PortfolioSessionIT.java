package dev.quiver.host.session;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.market.Bar;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.session.ServeProcess.Answer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15 step 4, live joint sizing end to end: {@code bin/quiver serve} as a child JVM on a
 * SQLite file; three paper sessions on ONE portfolio account ({@code kelly_portfolio}, caps tighter
 * than the defaults so they bind): BTC-USD on the bundled 4-hour bars, SPX and NDX on the bundled
 * daily S&amp;P 500 and NASDAQ bars, each warmed up to 2018-06-01; then the three series' next bars
 * posted in the order they close, through the HTTP API. Every answer's joint decision holds the
 * per-symbol, gross, net and correlation-cluster caps (allocation by allocation, cluster by
 * cluster, and the pending targets of every member), names its covariance (symbols, window,
 * shrinkage); a bar of one symbol re-sizes the others (their targets change on bars that are not
 * theirs); {@code GET /v1/accounts/{id}} shows the one account. Then SIGKILL and a restart: the
 * account and each session's last decision are the acknowledged ones, and the next bar is decided.
 */
class PortfolioSessionIT {

    /** Warm-up through this bar; the sessions are stepped from the next one. */
    static final Instant T = Instant.parse("2018-06-01T00:00:00Z");

    /** Bars stepped (all symbols together, in close order) before the kill. */
    static final int STEPS = 240;

    static final String ACCOUNT = "pf-it";
    // Tight enough to bind on these forecasts (kelly_portfolio asks 0.05..0.3 of the indices).
    static final double SYMBOL_CAP = 0.1;
    static final double GROSS_CAP = 0.12;
    static final double NET_CAP = 0.12;
    static final double CLUSTER_CAP = 0.15;
    static final double CLUSTER_CORRELATION = 0.5;
    static final double TOL = 1e-12;

    record Member(String symbol, BundledData data, String interval, int maxGap) {}

    static final List<Member> MEMBERS =
            List.of(
                    new Member("BTC-USD", BundledData.BTC_USD_4H, "PT4H", 6),
                    new Member("SPX", BundledData.SP500_DAILY, "P1D", 5),
                    new Member("NDX", BundledData.NASDAQ_DAILY, "P1D", 5));

    record Pending(String symbol, Bar bar, Instant close) {}

    @Test
    void aBarOfOneSymbolResizesEveryMemberWithinTheCapsAndSurvivesAKill(@TempDir Path work)
            throws Exception {
        long t0 = System.nanoTime();
        List<Pending> stream = new ArrayList<>();
        for (Member m : MEMBERS) {
            BarData d = m.data().load();
            Duration period = Duration.parse(m.interval());
            for (int i = 0; i < d.size(); i++) {
                Bar b = d.bar(i);
                if (b.start().isAfter(T)) {
                    stream.add(new Pending(m.symbol(), b, b.start().plus(period)));
                }
            }
        }
        stream.sort(
                Comparator.comparing(Pending::close)
                        .thenComparing(p -> MEMBERS.indexOf(memberOf(p.symbol()))));
        String url = "jdbc:sqlite:" + work.resolve("state.db");
        JsonNode accountBeforeKill;
        Map<String, JsonNode> lastBeforeKill = new LinkedHashMap<>();
        int next = 0;
        int resizedOthers = 0;
        int decided = 0;
        Map<String, Integer> bindingSeen = new HashMap<>();
        ServeProcess serve = ServeProcess.start(url, work, "serve-1");
        try {
            for (Member m : MEMBERS) {
                Answer a = serve.put("/v1/sessions/" + m.symbol(), open(m, portfolio()));
                assertThat(a.status()).as(a.toString()).isEqualTo(200);
                assertThat(a.body().get("settings").get("portfolio").get("policy").asText())
                        .isEqualTo("kelly_portfolio");
            }
            // One account, so other settings on it are refused naming the field, and a portfolio
            // session without an account is a bad request.
            ObjectNode other = portfolio();
            other.put("gross_cap", 0.7); // not the account's 0.12
            Answer conflict =
                    serve.put("/v1/sessions/ETH", open(new Member("ETH", null, "PT4H", 6), other));
            assertThat(conflict.status()).as(conflict.toString()).isEqualTo(409);
            assertThat(conflict.body().get("field").asText()).isEqualTo("portfolio.gross_cap");
            ObjectNode noAccount = open(new Member("ETH", null, "PT4H", 6), portfolio());
            noAccount.remove("account");
            Answer bad = serve.put("/v1/sessions/ETH", noAccount);
            assertThat(bad.status()).as(bad.toString()).isEqualTo(400);
            assertThat(bad.body().get("field").asText()).isEqualTo("account");

            Map<String, Double> lastAllocation = new HashMap<>();
            for (; next < STEPS; next++) {
                Pending p = stream.get(next);
                Answer a = serve.bars(p.symbol(), List.of(p.bar()));
                assertThat(a.status()).as(p + " " + a).isEqualTo(200);
                JsonNode d = a.body();
                assertThat(d.get("account").get("id").asText()).isEqualTo(ACCOUNT);
                JsonNode portfolio = d.get("portfolio");
                assertThat(portfolio.get("account").asText()).isEqualTo(ACCOUNT);
                assertTargetsWithinCaps(portfolio.get("targets"), p);
                JsonNode decision = portfolio.get("decision");
                if (decision == null || decision.isNull()) {
                    continue;
                }
                decided++;
                assertThat(decision.get("trigger").asText()).isEqualTo(p.symbol());
                assertWithinCaps(decision, p);
                JsonNode cov = decision.get("covariance");
                assertThat(cov.get("window_days").asInt()).isEqualTo(120);
                assertThat(cov.get("shrinkage").asDouble()).isBetween(0.0, 1.0);
                assertThat(cov.get("matrix_per_day")).hasSize(cov.get("symbols").size());
                for (JsonNode b : decision.get("binding")) {
                    bindingSeen.merge(b.asText().split(" ")[0], 1, Integer::sum);
                }
                for (JsonNode x : decision.get("allocations")) {
                    String symbol = x.get("symbol").asText();
                    double now = x.get("allocation").asDouble();
                    Double before = lastAllocation.put(symbol, now);
                    if (!symbol.equals(p.symbol()) && before != null && before != now) {
                        resizedOthers++; // another member's bar moved this one
                    }
                }
            }
            accountBeforeKill = serve.ok("GET", "/v1/accounts/" + ACCOUNT, null);
            for (Member m : MEMBERS) {
                lastBeforeKill.put(
                        m.symbol(),
                        serve.ok("GET", "/v1/sessions/" + m.symbol(), null).get("last_decision"));
            }
            serve.kill();
        } finally {
            serve.close();
        }
        assertThat(decided).as("joint decisions").isGreaterThan(STEPS / 2);
        assertThat(resizedOthers).as("allocations changed by another member's bar").isPositive();
        assertThat(bindingSeen)
                .as("limits binding in the joint decisions (the caps were met, not just unused)")
                .containsKey("per_symbol");
        assertThat(accountBeforeKill.get("members")).hasSize(MEMBERS.size());
        assertThat(accountBeforeKill.get("last_decision").get("allocations").size())
                .as("the last decision sized every member together")
                .isGreaterThanOrEqualTo(2);
        assertThat(accountBeforeKill.get("equity").asDouble()).isPositive();
        assertThat(accountBeforeKill.get("gross_exposure").asDouble())
                .isLessThanOrEqualTo(GROSS_CAP + 1e-9);

        serve = ServeProcess.start(url, work, "serve-2");
        try {
            // The restart puts back the acknowledged account and decisions.
            assertThat(serve.ok("GET", "/v1/accounts/" + ACCOUNT, null))
                    .isEqualTo(accountBeforeKill);
            for (Member m : MEMBERS) {
                JsonNode replayed =
                        serve.ok("GET", "/v1/sessions/" + m.symbol(), null).get("last_decision");
                assertThat(replayed.get("portfolio"))
                        .as(m.symbol())
                        .isEqualTo(lastBeforeKill.get(m.symbol()).get("portfolio"));
                assertThat(replayed.get("account"))
                        .as(m.symbol())
                        .isEqualTo(lastBeforeKill.get(m.symbol()).get("account"));
            }
            // and it goes on deciding jointly
            for (int k = 0; k < 12; k++, next++) {
                Pending p = stream.get(next);
                Answer a = serve.bars(p.symbol(), List.of(p.bar()));
                assertThat(a.status()).as(p + " " + a).isEqualTo(200);
                assertTargetsWithinCaps(a.body().get("portfolio").get("targets"), p);
                JsonNode decision = a.body().get("portfolio").get("decision");
                if (decision != null && !decision.isNull()) {
                    assertWithinCaps(decision, p);
                }
            }
        } finally {
            serve.close();
        }
        System.out.printf(
                "PortfolioSessionIT: %d bars (%d joint decisions, %d allocations moved by another"
                        + " member's bar, limits binding %s), restart equal; %.1f s%n",
                next, decided, resizedOthers, bindingSeen, (System.nanoTime() - t0) / 1e9);
    }

    static Member memberOf(String symbol) {
        return MEMBERS.stream().filter(m -> m.symbol().equals(symbol)).findFirst().orElseThrow();
    }

    static ObjectNode portfolio() {
        ObjectNode p = ServeProcess.JSON.createObjectNode();
        p.put("policy", "kelly_portfolio");
        p.put("symbol_cap", SYMBOL_CAP);
        p.put("gross_cap", GROSS_CAP);
        p.put("net_cap", NET_CAP);
        p.put("cluster_cap", CLUSTER_CAP);
        p.put("cluster_correlation", CLUSTER_CORRELATION);
        p.put("covariance_days", 120);
        return p;
    }

    static ObjectNode open(Member m, ObjectNode portfolio) {
        ObjectNode body = ServeProcess.JSON.createObjectNode();
        body.put("account", ACCOUNT);
        body.put("currency", "USD");
        body.put("starting_equity", 10_000.0);
        body.put("mode", "paper");
        body.put("interval", m.interval());
        body.put("max_gap_bars", m.maxGap());
        body.put("stale_after_intervals", 0);
        if (m.data() != null) {
            body.putObject("warmup").put("dataset", m.data().id()).put("until", T.toString());
        }
        body.set("portfolio", portfolio);
        return body;
    }

    /** Every allocation of one decision within the per-symbol, cluster, gross and net caps. */
    static void assertWithinCaps(JsonNode decision, Pending p) {
        double gross = 0;
        double net = 0;
        Map<String, Double> clusters = new HashMap<>();
        for (JsonNode x : decision.get("allocations")) {
            double f = x.get("allocation").asDouble();
            assertThat(f).as("%s allocation at %s", x.get("symbol"), p).isBetween(0.0, SYMBOL_CAP);
            gross += Math.abs(f);
            net += f;
            clusters.merge(x.get("cluster").asText(), f, Double::sum);
            assertThat(x.get("reason").asText()).isNotBlank();
        }
        assertThat(gross).as("gross at %s", p).isLessThanOrEqualTo(GROSS_CAP + TOL);
        assertThat(Math.abs(net)).as("net at %s", p).isLessThanOrEqualTo(NET_CAP + TOL);
        for (Map.Entry<String, Double> c : clusters.entrySet()) {
            assertThat(c.getValue())
                    .as("cluster %s at %s", c.getKey(), p)
                    .isLessThanOrEqualTo(CLUSTER_CAP + TOL);
        }
    }

    /** Every member's pending target within the per-symbol cap, their sum within gross and net. */
    static void assertTargetsWithinCaps(JsonNode targets, Pending p) {
        assertThat(targets).hasSize(MEMBERS.size());
        double sum = 0;
        for (JsonNode t : targets) {
            JsonNode pending = t.get("pending_target");
            if (pending != null && !pending.isNull()) {
                assertThat(pending.asDouble()).as("target at %s", p).isBetween(0.0, SYMBOL_CAP);
                sum += pending.asDouble();
            }
        }
        assertThat(sum).as("sum of pending targets at %s", p).isLessThanOrEqualTo(GROSS_CAP + TOL);
    }
}
