package dev.quiver.host.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RELIABILITY.md P13, no decision on stale data: with {@code quiver.session.stale-after-intervals}
 * 2, a live session on a real state store refuses every bar that starts more than 2 intervals
 * before the service's clock ({@code BAR_STALE}): nothing stepped, stored or decided; at exactly 2
 * intervals it decides.
 */
class SessionStaleBarsTest {

    static final BarData BTC = BundledData.BTC_USD_4H.load();
    static final Duration H4 = Duration.ofHours(4);
    static final int FIRST = 2_000;

    @TempDir Path home;

    /** A clock the test moves. */
    static final class MovableClock extends Clock {
        volatile Instant now = Instant.EPOCH;

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    @Test
    void tenStaleBarsGiveNoDecisionAndAFreshOneDecides(@TempDir Path bundleDir) {
        var clock = new MovableClock();
        try (StateStore store =
                        StateStore.open(
                                Optional.of("jdbc:sqlite:" + home.resolve("state.db")), home);
                var m =
                        new SessionManager(
                                store,
                                TestStrategies.catalog(
                                        TestStrategies.bundle(bundleDir.resolve("b"))),
                                clock)) {
            List<Bar> warmup = new ArrayList<>();
            for (int i = FIRST - 300; i < FIRST; i++) {
                warmup.add(BTC.bar(i));
            }
            m.staleAfterIntervals(2);
            clock.now = BTC.bar(FIRST).start();
            m.open(
                    new SessionManager.OpenRequest(
                            "BTC",
                            "btc-acct",
                            "USD",
                            10_000,
                            AccountMode.PAPER,
                            H4,
                            3,
                            "fixed",
                            warmup));
            // Fresh: each bar arrives at its close.
            for (int i = FIRST; i < FIRST + 20; i++) {
                clock.now = BTC.bar(i).start().plus(H4);
                m.bars("BTC", List.of(BTC.bar(i)));
            }
            long stepped = stepped(m);
            Bar next = BTC.bar(FIRST + 20);
            long[] lateMillis = {
                1,
                1_000,
                60_000,
                3_600_000,
                4 * 3_600_000L,
                86_400_000L,
                7 * 86_400_000L,
                30 * 86_400_000L,
                365 * 86_400_000L,
                2 * 365 * 86_400_000L
            };
            int refused = 0;
            for (long late : lateMillis) {
                clock.now = next.start().plus(H4.multipliedBy(2)).plusMillis(late);
                assertThatThrownBy(() -> m.bars("BTC", List.of(next)))
                        .isInstanceOfSatisfying(
                                QuiverInputException.class,
                                e -> {
                                    assertThat(e.code()).isEqualTo("BAR_STALE");
                                    assertThat(e.field()).isEqualTo("bars[0].timestamp");
                                })
                        .hasMessageContaining("no decision on stale data");
                refused++;
                assertThat(stepped(m))
                        .as("decisions after stale bar %d", refused)
                        .isEqualTo(stepped);
                assertThat(m.state("BTC").get("last_bar_time"))
                        .isEqualTo(BTC.bar(FIRST + 19).start().toString());
            }
            assertThat(refused).isEqualTo(lateMillis.length);
            // At exactly 2 intervals old the bar is decided.
            clock.now = next.start().plus(H4.multipliedBy(2));
            Map<String, Object> decided = m.bars("BTC", List.of(next));
            assertThat(decided).isNotEmpty();
            assertThat(stepped(m)).isEqualTo(stepped + 1);
            // Off (0): an old bar is decided again (replays of history).
            m.staleAfterIntervals(0);
            clock.now = Instant.parse("2030-01-01T00:00:00Z");
            m.bars("BTC", List.of(BTC.bar(FIRST + 21)));
            assertThat(stepped(m)).isEqualTo(stepped + 2);
            System.out.printf(
                    "SessionStaleBarsTest: %d stale bars refused, 0 decisions on them%n", refused);
        }
    }

    @Test
    void aSessionOpenedAsAReplayKeepsItsOwnLimitAcrossARestart(@TempDir Path bundleDir) {
        var clock = new MovableClock();
        clock.now = Instant.parse("2030-01-01T00:00:00Z");
        var catalog = TestStrategies.catalog(TestStrategies.bundle(bundleDir.resolve("b")));
        List<Bar> warmup = new ArrayList<>();
        for (int i = FIRST - 300; i < FIRST; i++) {
            warmup.add(BTC.bar(i));
        }
        Path db = home.resolve("replay.db");
        try (StateStore store = StateStore.open(Optional.of("jdbc:sqlite:" + db), home);
                var m = new SessionManager(store, catalog, clock)) {
            m.staleAfterIntervals(2);
            // A replay: bars years before the clock are decided.
            m.open(
                    new SessionManager.OpenRequest(
                            "OLD",
                            "old-acct",
                            "USD",
                            10_000,
                            AccountMode.PAPER,
                            H4,
                            3,
                            "fixed",
                            warmup,
                            0));
            // A live session beside it keeps the service's limit.
            m.open(
                    new SessionManager.OpenRequest(
                            "LIVE",
                            "live-acct",
                            "USD",
                            10_000,
                            AccountMode.PAPER,
                            H4,
                            3,
                            "fixed",
                            warmup));
            m.bars("OLD", List.of(BTC.bar(FIRST)));
            assertThatThrownBy(() -> m.bars("LIVE", List.of(BTC.bar(FIRST))))
                    .isInstanceOfSatisfying(
                            QuiverInputException.class,
                            e -> assertThat(e.code()).isEqualTo("BAR_STALE"))
                    .hasMessageContaining("quiver.session.stale-after-intervals");
        }
        // After a restart the replay session still has its own limit (stored with its settings).
        try (StateStore store = StateStore.open(Optional.of("jdbc:sqlite:" + db), home);
                var m = new SessionManager(store, catalog, clock)) {
            m.staleAfterIntervals(2);
            m.recover();
            m.bars("OLD", List.of(BTC.bar(FIRST + 1)));
            assertThat(((Number) m.state("OLD").get("stepped_bars")).longValue()).isEqualTo(2);
            assertThatThrownBy(() -> m.bars("LIVE", List.of(BTC.bar(FIRST))))
                    .isInstanceOfSatisfying(
                            QuiverInputException.class,
                            e -> assertThat(e.code()).isEqualTo("BAR_STALE"));
        }
    }

    private static long stepped(SessionManager m) {
        return ((Number) m.state("BTC").get("stepped_bars")).longValue();
    }
}
