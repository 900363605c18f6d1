package dev.quiver.engine.portfolio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.quiver.api.market.Bar;
import dev.quiver.engine.market.BarData;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PointInTimeTest {

    private static final Instant MON = Instant.parse("2024-03-04T00:00:00Z");

    /** Daily bars on weekdays only (a stock calendar), Mon 2024-03-04 .. Fri 03-15. */
    private static BarData daily() {
        List<Bar> bars = new ArrayList<>();
        for (int d = 0; d < 12; d++) {
            Instant start = MON.plus(Duration.ofDays(d));
            int dow = (d % 7);
            if (dow == 5 || dow == 6) {
                continue; // Saturday, Sunday
            }
            double c = 100 + d;
            bars.add(new Bar(start, c, c + 1, c - 1, c, 1000));
        }
        return new BarData("sp500-daily", Duration.ofDays(1), bars);
    }

    /** 4-hour bars every day, around the clock. */
    private static BarData fourHour() {
        List<Bar> bars = new ArrayList<>();
        for (int k = 0; k < 12 * 6; k++) {
            double c = 50_000 + k;
            bars.add(new Bar(MON.plus(Duration.ofHours(4L * k)), c, c + 1, c - 1, c, 10));
        }
        return new BarData("btc-usd-4h", Duration.ofHours(4), bars);
    }

    @Test
    void aDailyBarIsNotVisibleToAFourHourDecisionBeforeItsClose() {
        BarData daily = daily();
        // BTC decision at the close of the 16:00-20:00 bar of Tuesday 03-05
        long t = Instant.parse("2024-03-05T20:00:00Z").toEpochMilli();
        int i = PointInTime.CLOSED_BY.visibleIndex(daily, t);
        assertThat(daily.bar(i).start()).isEqualTo(Instant.parse("2024-03-04T00:00:00Z"));
        // at Wednesday 00:00 Tuesday's bar has closed
        long midnight = Instant.parse("2024-03-06T00:00:00Z").toEpochMilli();
        assertThat(daily.bar(PointInTime.CLOSED_BY.visibleIndex(daily, midnight)).start())
                .isEqualTo(Instant.parse("2024-03-05T00:00:00Z"));
        // over the weekend Friday's bar stays the last
        long sunday = Instant.parse("2024-03-10T12:00:00Z").toEpochMilli();
        assertThat(daily.bar(PointInTime.CLOSED_BY.visibleIndex(daily, sunday)).start())
                .isEqualTo(Instant.parse("2024-03-08T00:00:00Z"));
        // before the first close nothing is visible
        assertThat(PointInTime.CLOSED_BY.visibleIndex(daily, MON.toEpochMilli() + 1)).isEqualTo(-1);
    }

    @Test
    void theAuditPassesQuiversAlignmentOnEveryFourHourDecision() {
        BarData daily = daily();
        BarData btc = fourHour();
        long[] decisions = new long[btc.size()];
        for (int k = 0; k < btc.size(); k++) {
            decisions[k] = PointInTime.closeMillis(btc, k);
        }
        PointInTime.audit(PointInTime.CLOSED_BY, daily, decisions);
        PointInTime.audit(PointInTime.CLOSED_BY, btc, decisions);
    }

    @Test
    void aLeakyAlignmentIsCaught() {
        // The classic mistake: align on the bar's start time (a daily bar is "there" at 00:00).
        Alignment byStart =
                (data, t) -> {
                    int found = -1;
                    for (int i = 0; i < data.size(); i++) {
                        if (data.startMillis[i] <= t) {
                            found = i;
                        }
                    }
                    return found;
                };
        BarData daily = daily();
        BarData btc = fourHour();
        long[] decisions = new long[btc.size()];
        for (int k = 0; k < btc.size(); k++) {
            decisions[k] = PointInTime.closeMillis(btc, k);
        }
        assertThatThrownBy(() -> PointInTime.audit(byStart, daily, decisions))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage(
                        "look-ahead in the alignment of sp500-daily: the decision at"
                                + " 2024-03-04T04:00:00Z sees the bar starting 2024-03-04T00:00:00Z,"
                                + " which closes at 2024-03-05T00:00:00Z");
        // a stale one (one bar late) is caught too
        Alignment late = (data, t) -> PointInTime.CLOSED_BY.visibleIndex(data, t) - 1;
        assertThatThrownBy(() -> PointInTime.audit(late, daily, decisions))
                .hasMessageStartingWith("stale alignment of sp500-daily");
    }

    @Test
    void gridReturnsUseOnlyClosedBarsAndAreZeroOnTheWeekend() {
        BarData[] series = {daily(), fourHour()};
        long[] grid = new long[8];
        for (int k = 0; k < grid.length; k++) {
            grid[k] = Instant.parse("2024-03-06T00:00:00Z").plus(Duration.ofDays(k)).toEpochMilli();
        }
        double[][] r = PointInTime.gridReturns(series, grid, PointInTime.CLOSED_BY);
        assertThat(r).hasNumberOfRows(7);
        // 03-06 sees Tue's close 101, 03-07 sees Wed's 102
        assertThat(r[0][0]).isCloseTo(Math.log(102.0 / 101.0), within(1e-15));
        // 03-10 (Sun) and 03-11 (Mon) both see Fri 03-08's close: 0 return on row 3 (03-10 vs
        // 03-09)
        assertThat(r[3][0]).isZero();
        // BTC at 03-07 00:00 sees the bar 03-06 20:00 (k = 2*6 + 5 = 17, close 50017)
        assertThat(r[0][1]).isCloseTo(Math.log(50017.0 / 50011.0), within(1e-15));
    }
}
