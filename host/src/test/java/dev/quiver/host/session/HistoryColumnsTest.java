package dev.quiver.host.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.market.Bar;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.store.AccountMode;
import dev.quiver.host.store.StateStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The history as columns (the dashboard's Live and Account charts) against the same history as
 * entries, on a real session stepping real BTC bars: every column holds every bar, index by index
 * the entry's figure (probabilities rounded to 4 decimals, prices and equity as floats); {@code
 * fields} and the acting policy alone leave out exactly what was not asked for; an unknown field is
 * refused naming it.
 */
class HistoryColumnsTest {

    static final BarData BTC = BundledData.BTC_USD_4H.load();
    static final int FIRST = 2_000;
    static final int STEPPED = 60;
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path home;

    @Test
    void columnsHoldTheEntriesFiguresAndOnlyWhatWasAskedFor(@TempDir Path bundleDir)
            throws Exception {
        try (StateStore store =
                        StateStore.open(
                                Optional.of("jdbc:sqlite:" + home.resolve("state.db")), home);
                var m =
                        new SessionManager(
                                store,
                                TestStrategies.catalog(
                                        TestStrategies.bundle(bundleDir.resolve("b"))),
                                Clock.systemUTC())) {
            List<Bar> warmup = new ArrayList<>();
            for (int i = FIRST - 300; i < FIRST; i++) {
                warmup.add(BTC.bar(i));
            }
            m.open(
                    new SessionManager.OpenRequest(
                            "BTC",
                            "btc-acct",
                            "USD",
                            10_000,
                            AccountMode.PAPER,
                            Duration.ofHours(4),
                            3,
                            "fixed",
                            warmup));
            List<Bar> bars = new ArrayList<>();
            for (int i = FIRST; i < FIRST + STEPPED; i++) {
                bars.add(BTC.bar(i));
            }
            m.bars("BTC", bars);

            JsonNode entries = JSON.valueToTree(m.history("BTC", 1_000)).get("entries");
            JsonNode all =
                    JSON.valueToTree(
                            m.historyColumns(
                                    "BTC",
                                    1_000,
                                    EnumSet.allOf(HistoryColumns.Field.class),
                                    false));
            assertThat(entries).hasSize(STEPPED);
            assertThat(all.get("count").asInt()).isEqualTo(STEPPED);
            JsonNode cols = all.get("columns");
            List<String> policies = new ArrayList<>();
            cols.get("policies").fieldNames().forEachRemaining(policies::add);
            assertThat(policies).hasSizeGreaterThan(1).contains("fixed");
            int withSignal = 0;
            for (int i = 0; i < STEPPED; i++) {
                JsonNode e = entries.get(i);
                assertThat(cols.get("time").get(i).asLong())
                        .isEqualTo(Instant.parse(e.get("bar_time").asText()).getEpochSecond());
                assertThat(cols.get("close").get(i).floatValue())
                        .isEqualTo((float) e.get("close").asDouble());
                if (e.get("p_up").isNull()) {
                    assertThat(cols.get("p_up").get(i).isNull()).isTrue();
                } else {
                    withSignal++;
                    assertThat(cols.get("p_up").get(i).asDouble())
                            .isEqualTo(round4(e.get("p_up").asDouble()));
                    assertThat(cols.get("agreement").get(i).asDouble())
                            .isEqualTo(round4(e.get("agreement").asDouble()));
                    for (JsonNode c : e.get("contributions")) {
                        assertThat(
                                        cols.at("/sources/" + c.get("source").asText())
                                                .get(i)
                                                .asDouble())
                                .isEqualTo(round4(c.get("p_up").asDouble()));
                    }
                }
                for (String p : policies) {
                    JsonNode d = e.at("/policies/" + p);
                    assertThat(cols.at("/policies/" + p + "/ordered").get(i).asInt())
                            .isEqualTo(d.get("ordered").asBoolean() ? 1 : 0);
                    assertThat(cols.at("/policies/" + p + "/equity").get(i).floatValue())
                            .isEqualTo((float) d.get("equity").asDouble());
                    assertThat(cols.at("/policies/" + p + "/drawdown").get(i).asDouble())
                            .isEqualTo(round4(d.get("drawdown").asDouble()));
                }
            }
            assertThat(withSignal).isPositive();
            assertThat(all.get("recent")).hasSize(HistoryColumns.RECENT);
            assertThat(all.get("recent").get(HistoryColumns.RECENT - 1))
                    .isEqualTo(entries.get(STEPPED - 1));

            // What the Live page asks for: no equity or drawdown, the acting policy only.
            JsonNode live =
                    JSON.valueToTree(
                                    m.historyColumns(
                                            "BTC",
                                            20,
                                            HistoryColumns.Field.parse(
                                                    "close,p_up,agreement,sources,ordered"),
                                            true))
                            .get("columns");
            assertThat(names(live))
                    .containsExactly("time", "close", "p_up", "agreement", "sources", "policies");
            assertThat(names(live.get("policies"))).containsExactly("fixed");
            assertThat(names(live.get("policies").get("fixed"))).containsExactly("ordered");
            assertThat(live.get("time")).hasSize(20);
            assertThat(live.get("time").get(19)).isEqualTo(cols.get("time").get(STEPPED - 1));
            assertThat(live.get("sources").size()).isEqualTo(cols.get("sources").size());
            // The Account page's: the acting policy's book only.
            JsonNode account =
                    JSON.valueToTree(
                                    m.historyColumns(
                                            "BTC",
                                            1_000,
                                            HistoryColumns.Field.parse("equity,drawdown"),
                                            true))
                            .get("columns");
            assertThat(names(account)).containsExactly("time", "policies");
            assertThat(account.at("/policies/fixed/equity"))
                    .isEqualTo(cols.at("/policies/fixed/equity"));
            assertThat(account.at("/policies/fixed/ordered").isMissingNode()).isTrue();
        }
    }

    @Test
    void anUnknownFieldIsRefusedNamingIt() {
        assertThatThrownBy(() -> HistoryColumns.Field.parse("close,volume"))
                .isInstanceOfSatisfying(
                        QuiverInputException.class,
                        e -> {
                            assertThat(e.code()).isEqualTo("BAD_REQUEST");
                            assertThat(e.field()).isEqualTo("fields");
                        })
                .hasMessageContaining("'volume'")
                .hasMessageContaining("p_up");
        assertThat(HistoryColumns.Field.parse(null))
                .isEqualTo(EnumSet.allOf(HistoryColumns.Field.class));
    }

    @Test
    void fractionsAreWrittenToFourDecimalsInPlainNotation() {
        char[] out = new char[24];
        Object[][] cases = {
            {0.5172883f, "0.5173"},
            {0.5f, "0.5"},
            {1f, "1"},
            {0f, "0"},
            {-0.00123f, "-0.0012"},
            {0.99996f, "1"},
            {0.0101f, "0.0101"},
            {1.5e-6f, "0"},
            {12.34567f, "12.3457"},
        };
        for (Object[] c : cases) {
            int n = HistoryColumns.Column.fixed((Float) c[0], 4, out);
            assertThat(new String(out, 0, n)).as("%s", c[0]).isEqualTo(c[1]);
        }
    }

    private static double round4(double v) {
        return Math.round((double) (float) v * 1e4) / 1e4;
    }

    private static List<String> names(JsonNode n) {
        List<String> out = new ArrayList<>();
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            out.add(it.next());
        }
        return out;
    }
}
