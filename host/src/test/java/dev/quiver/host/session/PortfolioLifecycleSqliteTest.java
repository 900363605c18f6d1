package dev.quiver.host.session;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.host.store.StoredEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The {@link PortfolioLifecycleContract} on SQLite files, and the portfolio account's behaviour
 * that does not depend on the database.
 */
class PortfolioLifecycleSqliteTest extends PortfolioLifecycleContract {

    @Override
    String freshDatabaseUrl() throws Exception {
        Path dir = Files.createTempDirectory(home, "db");
        return "jdbc:sqlite:" + dir.resolve("state.db");
    }

    @Override
    List<String> failingTrigger(String name, String table, String event) {
        return List.of(
                "CREATE TRIGGER "
                        + name
                        + " BEFORE "
                        + event
                        + " ON "
                        + table
                        + " BEGIN SELECT RAISE(ABORT, 'injected: "
                        + table
                        + " "
                        + event
                        + " fails'); END",
                "DROP TRIGGER " + name);
    }

    @Test
    void aQuarantinedMemberIsFrozenCountsAgainstTheCapsAndItsCloseSellsItOutOfTheBook()
            throws Exception {
        List<Pending> stream = stream(List.of(BTC_USD, SPX_D));
        SessionManager m = start();
        open(m, "pf", BTC_USD);
        open(m, "pf", SPX_D);
        int next =
                stepUntil(
                        m,
                        stream,
                        0,
                        x -> member(account(x, "pf"), "SPX").path("weight").asDouble() > 0.1);
        double spxUnits = member(account(m, "pf"), "SPX").path("units").asDouble();
        // SPX's stored settings are damaged: its replay fails and it is quarantined at restart
        sql(
                "UPDATE sessions SET settings_json = '{\"symbol\":\"SPX\",\"account\":\"pf\","
                        + "\"interval\":\"one day\"}' WHERE symbol = 'SPX'");

        SessionManager again = start();
        assertThat(again.failedRecoveries()).containsOnlyKeys("SPX");
        JsonNode spx = member(account(again, "pf"), "SPX");
        assertThat(spx.path("units").asDouble()).isEqualTo(spxUnits);
        assertThat(spx.path("left").asBoolean()).isFalse();
        assertThat(spx.path("frozen").asText())
                .startsWith("session quarantined (failed_recovery): ")
                .contains("one day");
        // BTC alone is sized in the room SPX's frozen position leaves under the gross cap.
        int decisions = 0;
        for (int k = next; decisions < 12; k++) {
            Pending p = stream.get(k);
            if (!p.symbol().equals("BTC-USD")) {
                continue;
            }
            JsonNode answer = JSON.valueToTree(again.bars("BTC-USD", List.of(p.bar())));
            JsonNode d = answer.path("portfolio").path("decision");
            if (d.isNull() || d.isMissingNode()) {
                continue;
            }
            decisions++;
            assertThat(d.path("allocations")).hasSize(1);
            assertThat(d.path("frozen").get(0).asText()).startsWith("SPX frozen at weight ");
            double btc = d.path("allocations").get(0).path("allocation").asDouble();
            JsonNode acct = account(again, "pf");
            assertThat(member(acct, "SPX").path("units").asDouble()).isEqualTo(spxUnits);
            assertThat(member(acct, "SPX").path("pending_target").isNull()).isTrue();
            double frozenWeight =
                    Double.parseDouble(
                            d.path("frozen")
                                    .get(0)
                                    .asText()
                                    .replaceAll("^SPX frozen at weight ([^:]+):.*$", "$1"));
            assertThat(btc + frozenWeight)
                    .as("BTC's allocation plus SPX's frozen weight")
                    .isLessThanOrEqualTo(GROSS_CAP + 1e-12);
        }

        // The operator closes the quarantined session: SPX is sold at its last price, for good.
        double cashBefore = account(again, "pf").path("cash").asDouble();
        assertThat(again.close("SPX").get("state")).isEqualTo("closed");
        JsonNode after = account(again, "pf");
        assertThat(member(after, "SPX").path("left").asBoolean()).isTrue();
        assertThat(member(after, "SPX").path("units").asDouble()).isZero();
        assertThat(after.path("cash").asDouble()).isGreaterThan(cashBefore);
        List<StoredEvent> events = portfolioEvents("pf");
        assertThat(events.get(events.size() - 1).event().reason())
                .hasValueSatisfying(r -> assertThat(r).startsWith("quarantined session closed"));

        SessionManager third = start();
        assertThat(third.failedRecoveries()).isEmpty();
        JsonNode restarted = member(account(third, "pf"), "SPX");
        assertThat(restarted.path("left").asBoolean()).isTrue();
        assertThat(restarted.path("units").asDouble()).isZero();
        assertThat(restarted.path("frozen").isNull()).isTrue();
    }

    @Test
    void aRestartAfterTheBundleChangedKeepsTheRulesStoredWithTheBook() throws Exception {
        List<Pending> stream = stream(List.of(BTC_USD, SPX_D));
        SessionManager m = start();
        open(m, "pf", BTC_USD);
        open(m, "pf", SPX_D);
        int next = stepUntil(m, stream, 0, x -> account(x, "pf").path("decisions").asInt() > 5);
        double inForce = dev.quiver.host.strategy.BundleLoader.rules(bundle).costs().rate();
        // the served bundle now charges other costs (as a swapped bundle may)
        SessionManager again =
                start(
                        TestStrategies.portfolioCatalog(
                                bundle,
                                new TestStrategies.EqualPortfolio(),
                                r ->
                                        new dev.quiver.engine.TradingRules(
                                                new dev.quiver.engine.trading.CostModel(100, 100),
                                                r.maxFraction(),
                                                r.rebalanceBand(),
                                                r.payoffWindowBars(),
                                                r.stops(),
                                                r.breakers())));
        assertThat(again.failedRecoveries()).isEmpty();
        int fills = 0;
        for (int k = next; k < next + 120 && fills < 5; k++) {
            Pending p = stream.get(k);
            JsonNode before = member(account(again, "pf"), p.symbol());
            again.bars(p.symbol(), List.of(p.bar()));
            JsonNode after = member(account(again, "pf"), p.symbol());
            double traded =
                    Math.abs(after.path("units").asDouble() - before.path("units").asDouble())
                            * p.bar().open();
            if (traded > 0) {
                fills++;
                double rate =
                        (after.path("costs").asDouble() - before.path("costs").asDouble()) / traded;
                assertThat(rate)
                        .as("cost rate of a fill of %s at %s", p.symbol(), p.bar().start())
                        .isCloseTo(inForce, org.assertj.core.api.Assertions.within(1e-9));
            }
        }
        assertThat(fills).as("fills after the restart").isPositive();
    }

    @Test
    void eachPortfolioAccountHasItsOwnPolicyInstanceEvenUnderConcurrentBars() throws Exception {
        Member btc2 = new Member("BTC-2", BTC, Duration.ofHours(4));
        Member ndx = new Member("NDX", NDX, Duration.ofDays(1));
        SessionManager m = start();
        open(m, "pf-a", BTC_USD);
        open(m, "pf-a", SPX_D);
        open(m, "pf-b", btc2);
        open(m, "pf-b", ndx);
        List<Pending> a = stream(List.of(BTC_USD, SPX_D)).subList(0, 100);
        List<Pending> b = stream(List.of(btc2, ndx)).subList(0, 100);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<List<JsonNode>> fa = pool.submit(() -> decisions(m, a));
            Future<List<JsonNode>> fb = pool.submit(() -> decisions(m, b));
            for (List<JsonNode> ds : List.of(fa.get(), fb.get())) {
                assertThat(ds).hasSizeGreaterThan(40);
                // the k-th call of this account's policy instance decided its k-th decision
                for (int k = 0; k < ds.size(); k++) {
                    for (JsonNode x : ds.get(k).path("allocations")) {
                        assertThat(x.path("reason").asText())
                                .as("decision %d", k + 1)
                                .isEqualTo("equal call " + (k + 1));
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static List<JsonNode> decisions(SessionManager m, List<Pending> stream) {
        List<JsonNode> out = new ArrayList<>();
        for (Pending p : stream) {
            Map<String, Object> answer = m.bars(p.symbol(), List.of(p.bar()));
            JsonNode d = JSON.valueToTree(answer).path("portfolio").path("decision");
            if (!d.isNull() && !d.isMissingNode()) {
                out.add(d);
            }
        }
        return out;
    }
}
