package dev.quiver.host.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quiver.api.error.QuiverInputException;
import java.io.StringReader;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BarCsvReaderTest {

    static final String HEADER = "timestamp,open,high,low,close,volume\n";
    static final String GOOD1 = "2020-01-01T00:00:00Z,10,11,9,10.5,100\n";
    static final String GOOD2 = "2020-01-02T00:00:00Z,10.5,12,10,11,120\n";

    static BarCsvReader.Result read(BadBarPolicy policy, String csv) {
        return new BarCsvReader(policy).read(new StringReader(csv), "t.csv", "t");
    }

    /** Line 3 holds the bad row: header is line 1, a good bar line 2. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "unparsable number | 2020-01-02T00:00:00Z,10.5,12,10,abc,120"
                        + " | [Quiver/BAD_BAR] t.csv line 3: field 'close' is not a number (value: 'abc')",
                "NaN close | 2020-01-02T00:00:00Z,10.5,12,10,NaN,120"
                        + " | [Quiver/BAD_BAR] t.csv line 3: field 'close' is not a finite number (value: NaN)",
                "infinite high | 2020-01-02T00:00:00Z,10.5,Infinity,10,11,120"
                        + " | [Quiver/BAD_BAR] t.csv line 3: field 'high' is not a finite number (value: Infinity)",
                "high below low | 2020-01-02T00:00:00Z,10.5,9,10,9.5,120"
                        + " | [Quiver/BAD_BAR] t.csv line 3: field 'high' is below low 10.0 (value: 9.0)",
                "close above high | 2020-01-02T00:00:00Z,10.5,12,10,12.5,120"
                        + " | [Quiver/BAD_BAR] t.csv line 3: field 'close' is outside [low, high] = [10.0, 12.0] (value: 12.5)",
                "close below low | 2020-01-02T00:00:00Z,10.5,12,10,9.9,120"
                        + " | [Quiver/BAD_BAR] t.csv line 3: field 'close' is outside [low, high] = [10.0, 12.0] (value: 9.9)",
                "open outside range | 2020-01-02T00:00:00Z,13,12,10,11,120"
                        + " | [Quiver/BAD_BAR] t.csv line 3: field 'open' is outside [low, high] = [10.0, 12.0] (value: 13.0)",
                "zero price | 2020-01-02T00:00:00Z,10.5,12,0,11,120"
                        + " | [Quiver/BAD_BAR] t.csv line 3: field 'low' must be a finite price > 0 (value: 0.0)",
                "negative price | 2020-01-02T00:00:00Z,-1,12,10,11,120"
                        + " | [Quiver/BAD_BAR] t.csv line 3: field 'open' must be a finite price > 0 (value: -1.0)",
                "negative volume | 2020-01-02T00:00:00Z,10.5,12,10,11,-5"
                        + " | [Quiver/BAD_BAR] t.csv line 3: field 'volume' must be finite and >= 0 (value: -5.0)",
                "duplicate timestamp | 2020-01-01T00:00:00Z,10.5,12,10,11,120"
                        + " | [Quiver/BAD_BAR] t.csv line 3: field 'timestamp' duplicates the previous bar's time (value: 2020-01-01T00:00:00Z)",
                "out-of-order timestamp | 2019-12-31T00:00:00Z,10.5,12,10,11,120"
                        + " | [Quiver/BAD_BAR] t.csv line 3: field 'timestamp' is before the previous bar's time 2020-01-01T00:00:00Z (value: 2019-12-31T00:00:00Z)",
                "unparsable time | 2020-13-45,10.5,12,10,11,120"
                        + " | [Quiver/BAD_BAR] t.csv line 3: field 'timestamp' is not a time (ISO-8601, M/d/yyyy or epoch milliseconds) (value: '2020-13-45')",
                "missing column | 2020-01-02T00:00:00Z,10.5,12,10,11"
                        + " | [Quiver/BAD_BAR] t.csv line 3: field 'row' has a different number of columns from the header (6) (value: 5 columns)",
            })
    void everyKindOfMalformedBarIsRejectedWithFileLineFieldAndValue(
            String kind, String row, String message) {
        assertThatThrownBy(() -> read(BadBarPolicy.FAIL, HEADER + GOOD1 + row + "\n" + GOOD2))
                .isInstanceOf(QuiverInputException.class)
                .hasMessage(message);
    }

    @Test
    void skipLeavesBadRowsOutCountsThemAndRepairsNothing() {
        String csv =
                HEADER
                        + GOOD1
                        + "2020-01-01T12:00:00Z,10.5,9,10,9.5,120\n" // high < low
                        + "2020-01-01T00:00:00Z,10.5,12,10,11,120\n" // duplicate of line 2
                        + GOOD2
                        + "2020-01-03T00:00:00Z,11,12,10,NaN,1\n";
        var result = read(BadBarPolicy.SKIP, csv);
        assertThat(result.data().size()).isEqualTo(2);
        assertThat(result.data().close).containsExactly(10.5, 11);
        assertThat(result.skipped())
                .extracting(QuiverInputException::where, QuiverInputException::field)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("t.csv line 3", "high"),
                        org.assertj.core.groups.Tuple.tuple("t.csv line 4", "timestamp"),
                        org.assertj.core.groups.Tuple.tuple("t.csv line 6", "close"));
    }

    @Test
    void yahooStyleHeaderWithUsDatesAndAdjCloseIgnored() {
        String csv =
                "Date,Open,High,Low,Close,Adj Close,Volume\n"
                        + "1/4/1999,1229.22998,1248.810059,1219.099976,1228.099976,1228.099976,877000000\n"
                        + "1/5/1999,1228.099976,1246.109985,1228.099976,1244.780029,1.0,775000000\n";
        var data = read(BadBarPolicy.FAIL, csv).data();
        assertThat(data.bar(0).start()).isEqualTo(Instant.parse("1999-01-04T00:00:00Z"));
        assertThat(data.close[1]).isEqualTo(1244.780029); // Close, not Adj Close
        assertThat(data.period()).isEqualTo(Duration.ofDays(1));
    }

    @Test
    void epochMillisecondsAndAnyColumnOrderCaseInsensitive() {
        String csv =
                "VOLUME,Close,low,HIGH,open,Timestamp\n"
                        + "100,10.5,9,11,10,1577836800000\n"
                        + "120,11,10,12,10.5,1577851200000\n";
        var data = read(BadBarPolicy.FAIL, csv).data();
        assertThat(data.bar(1).start()).isEqualTo(Instant.parse("2020-01-01T04:00:00Z"));
        assertThat(data.bar(1).open()).isEqualTo(10.5);
        assertThat(data.period()).isEqualTo(Duration.ofHours(4));
    }

    @Test
    void aHeaderWithoutCloseIsNamed() {
        assertThatThrownBy(() -> read(BadBarPolicy.FAIL, "date,open,high,low,volume\n"))
                .isInstanceOf(QuiverInputException.class)
                .hasMessage(
                        "[Quiver/BAD_CSV] t.csv line 1: field 'header' has no 'close' column"
                                + " (value: date,open,high,low,volume)");
    }

    @Test
    void theBadTimeColumnIsNamedAsInTheHeader() {
        assertThatThrownBy(
                        () ->
                                read(
                                        BadBarPolicy.FAIL,
                                        "Date,Open,High,Low,Close,Volume\nyesterday,1,1,1,1,1\n"))
                .hasMessageContaining("field 'Date' is not a time");
    }

    @Test
    void bundledSeriesAreRealAndClean() {
        var btc = BundledData.BTC_USD_4H.load();
        assertThat(btc.size()).isEqualTo(20_695);
        assertThat(btc.period()).isEqualTo(Duration.ofHours(4));
        assertThat(btc.bar(0).start()).isEqualTo(Instant.parse("2016-05-18T04:00:00Z"));
        for (BundledData d :
                new BundledData[] {BundledData.SP500_DAILY, BundledData.NASDAQ_DAILY}) {
            var data = d.load();
            assertThat(data.size()).as(d.id()).isEqualTo(5_031);
            assertThat(data.period()).isEqualTo(Duration.ofDays(1));
            assertThat(data.bar(data.size() - 1).start())
                    .isEqualTo(Instant.parse("2018-12-31T00:00:00Z"));
        }
    }
}
