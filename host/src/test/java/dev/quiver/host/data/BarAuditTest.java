package dev.quiver.host.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.market.Bar;
import dev.quiver.engine.market.BarData;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RELIABILITY.md P13: 10,000 rows of the bundled real BTC 4h series with 100 injected defects, 10
 * of each of the 10 bar defects of bad input 9 (high &lt; low; close outside [low, high]; zero or
 * negative price; NaN close; duplicate timestamp with identical values; duplicate timestamp with
 * other values; out-of-order timestamp; gap of 5 bars; zero volume; stale feed): every defect
 * flagged with its reason code, every row counted once, quarantined rows written with the reason,
 * gaps filled only by the declared rule and counted.
 */
class BarAuditTest {

    static final int ROWS = 10_000;
    static final int PER_KIND = 10;
    static final Duration H4 = Duration.ofHours(4);

    /** The row-level injections; the 10th kind, a stale feed, is checked on prefixes below. */
    enum Kind {
        HIGH_BELOW_LOW,
        CLOSE_OUTSIDE_RANGE,
        NON_POSITIVE_PRICE,
        NAN_CLOSE,
        DUPLICATE_SAME,
        DUPLICATE_CONFLICT,
        OUT_OF_ORDER,
        GAP_OF_5,
        ZERO_VOLUME
    }

    static final Map<Kind, BarAudit.Reason> EXPECTED =
            Map.of(
                    Kind.HIGH_BELOW_LOW, BarAudit.Reason.HIGH_BELOW_LOW,
                    Kind.CLOSE_OUTSIDE_RANGE, BarAudit.Reason.PRICE_OUTSIDE_RANGE,
                    Kind.NON_POSITIVE_PRICE, BarAudit.Reason.NON_POSITIVE_PRICE,
                    Kind.NAN_CLOSE, BarAudit.Reason.NOT_FINITE,
                    Kind.DUPLICATE_SAME, BarAudit.Reason.DUPLICATE_SAME,
                    Kind.DUPLICATE_CONFLICT, BarAudit.Reason.DUPLICATE_CONFLICT,
                    Kind.OUT_OF_ORDER, BarAudit.Reason.OUT_OF_ORDER,
                    Kind.GAP_OF_5, BarAudit.Reason.GAP,
                    Kind.ZERO_VOLUME, BarAudit.Reason.ZERO_VOLUME);

    /** The bundled real series, read once. */
    static final BarData BTC = BundledData.BTC_USD_4H.load();

    @TempDir Path dir;

    @Test
    void tenThousandRealRowsWithAHundredDefectsAreAllFlaggedCountedAndQuarantined()
            throws IOException {
        // Inserted rows: 10 + 10 + 10; removed: 10 gaps x 5 bars. So 10,020 real bars give 10,000.
        BarData real = BTC.truncate(ROWS - 3 * PER_KIND + 5 * PER_KIND);
        // The real series' own findings under the same rules, to tell them from the injected ones.
        BarAudit.Rules rules = new BarAudit.Rules(BarAudit.GapFill.PREVIOUS_CLOSE, 2, H4, null, 2);
        Path clean = dir.resolve("btc-clean.csv");
        List<String> cleanRows = new ArrayList<>();
        for (int i = 0; i < real.size(); i++) {
            cleanRows.add(row(real.bar(i)));
        }
        write(clean, cleanRows);
        BarAudit.Result natural = BarCsvReader.audit(clean, "btc", rules);
        System.out.println(
                "BarAuditTest: the real series' own findings: " + natural.countByReason());

        // 90 sites, 100 rows apart (far from each other and from the real findings), by kind.
        Map<Integer, Kind> sites = new HashMap<>();
        List<Kind> kinds = new ArrayList<>();
        for (Kind k : Kind.values()) {
            kinds.addAll(Collections.nCopies(PER_KIND, k));
        }
        Collections.shuffle(kinds, new Random(0x13_2026L));
        for (int s = 0; s < kinds.size(); s++) {
            sites.put(100 + 100 * s, kinds.get(s));
        }
        List<String> rows = new ArrayList<>();
        Map<Integer, BarAudit.Reason> expected = new HashMap<>(); // CSV line -> reason
        for (int i = 0; i < real.size(); i++) {
            Bar b = real.bar(i);
            Kind k = sites.get(i);
            if (k == null) {
                rows.add(row(b));
                continue;
            }
            int line = rows.size() + 2; // header is line 1
            switch (k) {
                case HIGH_BELOW_LOW -> {
                    rows.add(
                            row(
                                    b.start(),
                                    b.open(),
                                    b.low() * 0.99,
                                    b.low(),
                                    b.close(),
                                    b.volume()));
                    expected.put(line, EXPECTED.get(k));
                }
                case CLOSE_OUTSIDE_RANGE -> {
                    rows.add(
                            row(
                                    b.start(),
                                    b.open(),
                                    b.high(),
                                    b.low(),
                                    b.high() * 1.01,
                                    b.volume()));
                    expected.put(line, EXPECTED.get(k));
                }
                case NON_POSITIVE_PRICE -> {
                    double price = expected.size() % 2 == 0 ? 0 : -b.low();
                    rows.add(row(b.start(), b.open(), b.high(), price, b.close(), b.volume()));
                    expected.put(line, EXPECTED.get(k));
                }
                case NAN_CLOSE -> {
                    rows.add(
                            b.start()
                                    + ","
                                    + b.open()
                                    + ","
                                    + b.high()
                                    + ","
                                    + b.low()
                                    + ",NaN,"
                                    + b.volume());
                    expected.put(line, EXPECTED.get(k));
                }
                case DUPLICATE_SAME -> {
                    rows.add(row(b));
                    rows.add(row(b));
                    expected.put(line + 1, EXPECTED.get(k));
                }
                case DUPLICATE_CONFLICT -> {
                    rows.add(row(b));
                    rows.add(
                            row(
                                    b.start(),
                                    b.open(),
                                    b.high(),
                                    b.low(),
                                    (b.low() + b.high()) / 2 == b.close()
                                            ? b.low()
                                            : (b.low() + b.high()) / 2,
                                    b.volume() + 1));
                    expected.put(line + 1, EXPECTED.get(k));
                }
                case OUT_OF_ORDER -> {
                    rows.add(row(b));
                    Bar earlier = real.bar(i - 3);
                    rows.add(
                            row(
                                    earlier.start().plus(Duration.ofMinutes(30)),
                                    earlier.open(),
                                    earlier.high(),
                                    earlier.low(),
                                    earlier.close(),
                                    earlier.volume()));
                    expected.put(line + 1, EXPECTED.get(k));
                }
                case GAP_OF_5 -> {
                    rows.add(row(b));
                    i += 5; // the next 5 bars are missing; the bar after them is flagged
                    rows.add(row(real.bar(++i)));
                    expected.put(line + 1, EXPECTED.get(k));
                }
                case ZERO_VOLUME -> {
                    rows.add(row(b.start(), b.open(), b.high(), b.low(), b.close(), 0));
                    expected.put(line, EXPECTED.get(k));
                }
            }
        }
        assertThat(rows).hasSize(ROWS);
        assertThat(expected).hasSize(9 * PER_KIND);
        Path file = dir.resolve("btc-defects.csv");
        write(file, rows);

        BarAudit.Result r = BarCsvReader.audit(file, "btc", rules);

        // Every injected defect flagged with its reason code, at its line.
        Map<Integer, List<BarAudit.Reason>> byLine = new HashMap<>();
        for (BarAudit.Finding f : r.findings()) {
            int line = Integer.parseInt(f.where().substring(f.where().lastIndexOf(' ') + 1));
            byLine.computeIfAbsent(line, x -> new ArrayList<>()).add(f.reason());
        }
        var flaggedRight = new EnumMap<BarAudit.Reason, Integer>(BarAudit.Reason.class);
        for (var e : expected.entrySet()) {
            assertThat(byLine.get(e.getKey()))
                    .as("line %d (%s)", e.getKey(), rows.get(e.getKey() - 2))
                    .contains(e.getValue());
            flaggedRight.merge(e.getValue(), 1, Integer::sum);
        }
        for (BarAudit.Reason reason : EXPECTED.values()) {
            assertThat(flaggedRight.get(reason)).as(reason.name()).isEqualTo(PER_KIND);
        }
        // Nothing else flagged but what the real series has of its own.
        Map<BarAudit.Reason, Integer> extra = new EnumMap<>(r.countByReason());
        flaggedRight.forEach((k, v) -> extra.merge(k, -v, Integer::sum));
        extra.values().removeIf(v -> v == 0);
        assertThat(extra).isEqualTo(natural.countByReason());

        // Nothing lost: every row accepted, repaired or quarantined, once.
        assertThat(r.rows()).isEqualTo(ROWS);
        assertThat(r.accepted() + r.repaired() + r.quarantined()).isEqualTo(ROWS);
        assertThat(r.repaired()).isEqualTo(PER_KIND + natural.repaired());
        // Quarantined: high < low, close outside, price <= 0, NaN, conflicting and late rows.
        assertThat(r.quarantined()).isEqualTo(6 * PER_KIND + natural.quarantined());
        // Gaps filled only by the declared rule (previous close, volume 0) and counted: 5 per gap.
        assertThat(r.filled()).isEqualTo(5 * PER_KIND + natural.filled());
        assertThat(r.bars().size()).isEqualTo(r.accepted() + r.filled());
        int flat = 0;
        for (int i = 1; i < r.bars().size(); i++) {
            assertThat(r.bars().startMillis[i] - r.bars().startMillis[i - 1])
                    .as("spacing after filling, bar %d", i)
                    .isLessThanOrEqualTo(2 * H4.toMillis());
            if (r.bars().volume[i] == 0
                    && r.bars().open[i] == r.bars().close[i - 1]
                    && r.bars().high[i] == r.bars().close[i - 1]
                    && r.bars().low[i] == r.bars().close[i - 1]
                    && r.bars().close[i] == r.bars().close[i - 1]) {
                flat++;
            }
        }
        assertThat(flat).isGreaterThanOrEqualTo(r.filled());
        // Under the rule "none" the same file loses no row and gains no bar.
        BarAudit.Result unfilled =
                BarCsvReader.audit(
                        file, "btc", new BarAudit.Rules(BarAudit.GapFill.NONE, 2, H4, null, 2));
        assertThat(unfilled.filled()).isZero();
        assertThat(unfilled.bars().size()).isEqualTo(unfilled.accepted());
        assertThat(unfilled.countByReason()).isEqualTo(r.countByReason());

        // Quarantined rows written with the reason and the row as it was.
        Path quarantine = dir.resolve("btc-defects.quarantine.csv");
        assertThat(r.writeQuarantine(quarantine)).isEqualTo(r.quarantined());
        List<CSVRecord> written;
        try (Reader in = Files.newBufferedReader(quarantine, StandardCharsets.UTF_8)) {
            written =
                    CSVFormat.DEFAULT
                            .builder()
                            .setHeader()
                            .setSkipHeaderRecord(true)
                            .get()
                            .parse(in)
                            .getRecords();
        }
        assertThat(written).hasSize(r.quarantined());
        int injectedWritten = 0;
        for (CSVRecord q : written) {
            int line =
                    Integer.parseInt(q.get("where").substring(q.get("where").lastIndexOf(' ') + 1));
            assertThat(q.get("row")).isEqualTo(rows.get(line - 2));
            assertThat(q.get("message")).isNotBlank();
            if (expected.containsKey(line)) {
                assertThat(q.get("reason")).isEqualTo(expected.get(line).name());
                injectedWritten++;
            }
        }
        assertThat(injectedWritten).isEqualTo(6 * PER_KIND);
        System.out.printf(
                Locale.ROOT,
                "BarAuditTest: %d rows = %d accepted + %d repaired + %d quarantined; %d bars filled;"
                        + " flagged %s%n",
                r.rows(),
                r.accepted(),
                r.repaired(),
                r.quarantined(),
                r.filled(),
                r.countByReason());
    }

    /**
     * The 10th defect, a stale feed: at 10 cut points of the real series the audit with a clock
     * more than 2 intervals after the last bar says STALE (and the series is not fresh); at exactly
     * 2 intervals it is fresh.
     */
    @Test
    void aFeedWhoseLastBarIsOlderThanTwoIntervalsIsStaleAtTenCutPoints() {
        BarData real = BTC.truncate(3_000);
        Random random = new Random(0x57A1EL);
        int stale = 0;
        for (int k = 0; k < PER_KIND; k++) {
            int cut = 100 + random.nextInt(2_800);
            String csv = csv(real, cut);
            Instant last = real.bar(cut - 1).start();
            BarAudit.Result fresh =
                    BarCsvReader.audit(
                            new StringReader(csv),
                            "btc.csv",
                            "btc",
                            new BarAudit.Rules(
                                    BarAudit.GapFill.NONE,
                                    2,
                                    H4,
                                    last.plus(H4.multipliedBy(2)),
                                    2));
            assertThat(fresh.fresh()).as("cut %d at exactly 2 intervals", cut).isTrue();
            BarAudit.Result old =
                    BarCsvReader.audit(
                            new StringReader(csv),
                            "btc.csv",
                            "btc",
                            new BarAudit.Rules(
                                    BarAudit.GapFill.NONE,
                                    2,
                                    H4,
                                    last.plus(H4.multipliedBy(2)).plusMillis(1),
                                    2));
            assertThat(old.fresh()).as("cut %d at 2 intervals + 1 ms", cut).isFalse();
            assertThat(old.findings())
                    .filteredOn(f -> f.reason() == BarAudit.Reason.STALE)
                    .singleElement()
                    .satisfies(f -> assertThat(f.where()).isEqualTo("btc.csv line " + (cut + 1)));
            stale++;
        }
        assertThat(stale).isEqualTo(PER_KIND);
    }

    /** A bar dated after the clock is quarantined as FUTURE; the rows before it are kept. */
    @Test
    void aFutureDatedBarIsQuarantined() {
        BarData real = BTC.truncate(50);
        Instant now = real.bar(48).start().plus(Duration.ofHours(1));
        BarAudit.Result r =
                BarCsvReader.audit(
                        new StringReader(csv(real, 50)),
                        "btc.csv",
                        "btc",
                        new BarAudit.Rules(BarAudit.GapFill.NONE, 2, H4, now, 2));
        assertThat(r.quarantined()).isOne();
        assertThat(r.findings())
                .singleElement()
                .satisfies(
                        f -> {
                            assertThat(f.reason()).isEqualTo(BarAudit.Reason.FUTURE);
                            assertThat(f.where()).isEqualTo("btc.csv line 51");
                        });
        assertThat(r.bars().size()).isEqualTo(49);
    }

    private static String csv(BarData bars, int n) {
        var sb = new StringBuilder("timestamp,open,high,low,close,volume\n");
        for (int i = 0; i < n; i++) {
            sb.append(row(bars.bar(i))).append('\n');
        }
        return sb.toString();
    }

    private static void write(Path file, List<String> rows) throws IOException {
        var sb = new StringBuilder("timestamp,open,high,low,close,volume\n");
        rows.forEach(r -> sb.append(r).append('\n'));
        Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
    }

    private static String row(Bar b) {
        return row(b.start(), b.open(), b.high(), b.low(), b.close(), b.volume());
    }

    private static String row(Instant t, double o, double h, double l, double c, double v) {
        return t + "," + o + "," + h + "," + l + "," + c + "," + v;
    }
}
