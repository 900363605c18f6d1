package dev.quiver.host.data;

import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.market.Bar;
import dev.quiver.engine.market.BarData;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * Reads OHLCV bars from CSV, validating every row.
 *
 * <p>Header (case-insensitive, any column order): a time column named {@code timestamp}, {@code
 * date}, {@code time} or {@code datetime}, and {@code open}, {@code high}, {@code low}, {@code
 * close}, {@code volume}. Other columns (e.g. Yahoo's {@code Adj Close}) are ignored: prices are
 * the raw traded OHLC.
 *
 * <p>Time values: ISO-8601 instant or offset date-time ({@code 2016-05-18T04:00:00Z}), ISO local
 * date-time or date (read as UTC), US {@code M/d/yyyy} dates (Yahoo, PyPI {@code arch}), or epoch
 * milliseconds (an integer). A bar's time is its open time.
 *
 * <p>Rejected, with {@code [Quiver/BAD_BAR] FILE line N: field 'F' PROBLEM (value: V)}: an
 * unparsable number or time, NaN or infinite values, a non-positive price, high below low, open or
 * close outside [low, high], negative volume, a duplicate or out-of-order timestamp, a row with the
 * wrong number of columns. Under {@link BadBarPolicy#SKIP} such rows are counted and left out;
 * nothing is ever repaired. {@link #audit} reads every row instead and hands it to {@link BarAudit}
 * (reason codes, quarantine, repairs and gap fills by declared rules; RELIABILITY.md P13).
 */
public final class BarCsvReader {

    private static final List<String> TIME_COLUMNS =
            List.of("timestamp", "date", "time", "datetime");
    private static final List<String> VALUE_COLUMNS =
            List.of("open", "high", "low", "close", "volume");
    private static final DateTimeFormatter US_DATE = DateTimeFormatter.ofPattern("M/d/yyyy");

    private final BadBarPolicy policy;

    public BarCsvReader(BadBarPolicy policy) {
        this.policy = policy;
    }

    /** Result of one read: the accepted bars and every rejected row's reason. */
    public record Result(BarData data, List<QuiverInputException> skipped) {
        public Result {
            skipped = List.copyOf(skipped);
        }
    }

    /**
     * Reads a file.
     *
     * @param file CSV file
     * @param symbol name for the series, e.g. the file name without extension
     * @return accepted bars and skipped rows
     * @throws QuiverInputException on the first malformed row under {@link BadBarPolicy#FAIL}, on a
     *     bad header, or when fewer than two bars remain
     * @throws UncheckedIOException if the file cannot be read
     */
    public Result read(Path file, String symbol) {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return read(reader, file.getFileName().toString(), symbol);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot read bars from " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads CSV text.
     *
     * @param reader CSV text, header first
     * @param fileName name used in error messages
     * @param symbol name for the series
     * @return accepted bars and skipped rows
     * @throws QuiverInputException as for {@link #read(Path, String)}
     */
    public Result read(Reader reader, String fileName, String symbol) {
        CSVFormat format =
                CSVFormat.DEFAULT.builder().setIgnoreSurroundingSpaces(true).setTrim(true).get();
        try (CSVParser parser = CSVParser.parse(reader, format)) {
            var bars = new ArrayList<Bar>();
            var skipped = new ArrayList<QuiverInputException>();
            int[] columns = null;
            int width = 0;
            String timeField = TIME_COLUMNS.get(0);
            Instant previous = null;
            for (CSVRecord record : parser) {
                long line = parser.getCurrentLineNumber();
                if (columns == null) {
                    columns = header(record, fileName);
                    width = record.size();
                    timeField = record.get(columns[0]).trim();
                    continue;
                }
                if (record.size() == 1 && record.get(0).isEmpty()) {
                    continue; // blank line
                }
                String where = fileName + " line " + line;
                try {
                    Bar bar = parse(record, columns, width, timeField, where);
                    if (previous != null && !bar.start().isAfter(previous)) {
                        throw new QuiverInputException(
                                "BAD_BAR",
                                timeField,
                                where,
                                bar.start(),
                                bar.start().equals(previous)
                                        ? "duplicates the previous bar's time"
                                        : "is before the previous bar's time " + previous);
                    }
                    bars.add(bar);
                    previous = bar.start();
                } catch (QuiverInputException e) {
                    if (policy == BadBarPolicy.FAIL) {
                        throw e;
                    }
                    skipped.add(e);
                }
            }
            if (columns == null) {
                throw new QuiverInputException(
                        "BAD_CSV",
                        "header",
                        fileName + " line 1",
                        "",
                        "is missing: the file is empty");
            }
            if (bars.size() < 2) {
                throw new QuiverInputException(
                        "BAD_CSV",
                        "rows",
                        fileName,
                        bars.size(),
                        "too few valid bars: at least 2 are needed");
            }
            return new Result(new BarData(symbol, medianSpacing(bars), bars), skipped);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot parse CSV " + fileName + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads a file leniently and audits every row ({@link BarAudit}): nothing stops the read but a
     * bad header or an unreadable file; each row is accepted, repaired or quarantined with a
     * reason.
     *
     * @param file CSV file
     * @param symbol name for the series
     * @param rules the declared rules
     * @return the audit
     * @throws QuiverInputException on a bad header
     * @throws UncheckedIOException if the file cannot be read
     */
    public static BarAudit.Result audit(Path file, String symbol, BarAudit.Rules rules) {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return audit(reader, file.getFileName().toString(), symbol, rules);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot read bars from " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads CSV text leniently and audits every row, as {@link #audit(Path, String,
     * BarAudit.Rules)}.
     *
     * @param reader CSV text, header first
     * @param fileName name used in the rows' places
     * @param symbol name for the series
     * @param rules the declared rules
     * @return the audit
     * @throws QuiverInputException on a bad header
     */
    public static BarAudit.Result audit(
            Reader reader, String fileName, String symbol, BarAudit.Rules rules) {
        CSVFormat format =
                CSVFormat.DEFAULT.builder().setIgnoreSurroundingSpaces(true).setTrim(true).get();
        try (CSVParser parser = CSVParser.parse(reader, format)) {
            var rows = new ArrayList<BarAudit.Row>();
            int[] columns = null;
            int width = 0;
            String timeField = TIME_COLUMNS.get(0);
            for (CSVRecord record : parser) {
                long line = parser.getCurrentLineNumber();
                if (columns == null) {
                    columns = header(record, fileName);
                    width = record.size();
                    timeField = record.get(columns[0]).trim();
                    continue;
                }
                if (record.size() == 1 && record.get(0).isEmpty()) {
                    continue; // blank line
                }
                String where = fileName + " line " + line;
                String text = String.join(",", record.toList());
                if (record.size() != width) {
                    rows.add(
                            new BarAudit.Row(
                                    where,
                                    text,
                                    null,
                                    null,
                                    "has " + record.size() + " columns, the header " + width));
                    continue;
                }
                try {
                    Instant start = parseTime(record.get(columns[0]), timeField, where);
                    double[] v = new double[5];
                    for (int c = 0; c < 5; c++) {
                        String value = record.get(columns[c + 1]);
                        try {
                            v[c] = Double.parseDouble(value);
                        } catch (NumberFormatException e) {
                            throw new QuiverInputException(
                                    "BAD_BAR",
                                    VALUE_COLUMNS.get(c),
                                    where,
                                    "'" + value + "'",
                                    "is not a number");
                        }
                    }
                    rows.add(new BarAudit.Row(where, text, start, v, null));
                } catch (QuiverInputException e) {
                    rows.add(new BarAudit.Row(where, text, null, null, e.getMessage()));
                }
            }
            if (columns == null) {
                throw new QuiverInputException(
                        "BAD_CSV",
                        "header",
                        fileName + " line 1",
                        "",
                        "is missing: the file is empty");
            }
            return BarAudit.audit(symbol, rows, rules);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot parse CSV " + fileName + ": " + e.getMessage(), e);
        }
    }

    /** Column positions: [time, open, high, low, close, volume]. */
    private static int[] header(CSVRecord record, String fileName) {
        Map<String, Integer> byName = new HashMap<>();
        for (int i = 0; i < record.size(); i++) {
            byName.putIfAbsent(record.get(i).trim().toLowerCase(Locale.ROOT), i);
        }
        int[] columns = new int[6];
        columns[0] =
                TIME_COLUMNS.stream()
                        .filter(byName::containsKey)
                        .map(byName::get)
                        .findFirst()
                        .orElse(-1);
        if (columns[0] < 0) {
            throw new QuiverInputException(
                    "BAD_CSV",
                    "header",
                    fileName + " line 1",
                    String.join(",", record.toList()),
                    "has no time column (one of " + TIME_COLUMNS + ")");
        }
        for (int c = 0; c < VALUE_COLUMNS.size(); c++) {
            Integer i = byName.get(VALUE_COLUMNS.get(c));
            if (i == null) {
                throw new QuiverInputException(
                        "BAD_CSV",
                        "header",
                        fileName + " line 1",
                        String.join(",", record.toList()),
                        "has no '" + VALUE_COLUMNS.get(c) + "' column");
            }
            columns[c + 1] = i;
        }
        return columns;
    }

    private static Bar parse(
            CSVRecord record, int[] columns, int width, String timeField, String where) {
        if (record.size() != width) {
            throw new QuiverInputException(
                    "BAD_BAR",
                    "row",
                    where,
                    record.size() + " columns",
                    "has a different number of columns from the header (" + width + ")");
        }
        Instant start = parseTime(record.get(columns[0]), timeField, where);
        double[] v = new double[5];
        for (int c = 0; c < 5; c++) {
            String field = VALUE_COLUMNS.get(c);
            String text = record.get(columns[c + 1]);
            double value;
            try {
                value = Double.parseDouble(text);
            } catch (NumberFormatException e) {
                throw new QuiverInputException(
                        "BAD_BAR", field, where, "'" + text + "'", "is not a number");
            }
            if (Double.isNaN(value) || Double.isInfinite(value)) {
                throw new QuiverInputException(
                        "BAD_BAR", field, where, text, "is not a finite number");
            }
            v[c] = value;
        }
        try {
            return new Bar(start, v[0], v[1], v[2], v[3], v[4]);
        } catch (QuiverInputException e) {
            // Same check, same wording, but located in the file rather than at the bar time.
            throw new QuiverInputException(e.code(), e.field(), where, e.value(), problemOf(e));
        }
    }

    private static String problemOf(QuiverInputException e) {
        String message = e.getMessage();
        int start = message.indexOf("' ", message.indexOf("field '")) + 2;
        int end = message.lastIndexOf(" (value: ");
        return message.substring(start, end);
    }

    static Instant parseTime(String text, String field, String where) {
        try {
            if (!text.isEmpty() && text.chars().allMatch(Character::isDigit)) {
                return Instant.ofEpochMilli(Long.parseLong(text));
            }
            if (text.contains("/")) {
                return LocalDate.parse(text, US_DATE).atStartOfDay(ZoneOffset.UTC).toInstant();
            }
            if (text.contains("T") || text.contains(" ")) {
                String iso = text.replace(' ', 'T');
                if (iso.endsWith("Z") || iso.matches(".*[+-]\\d\\d:?\\d\\d$")) {
                    return OffsetDateTime.parse(iso).toInstant();
                }
                return LocalDateTime.parse(iso).toInstant(ZoneOffset.UTC);
            }
            return LocalDate.parse(text).atStartOfDay(ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException | NumberFormatException e) {
            throw new QuiverInputException(
                    "BAD_BAR",
                    field,
                    where,
                    "'" + text + "'",
                    "is not a time (ISO-8601, M/d/yyyy or epoch milliseconds)");
        }
    }

    private static Duration medianSpacing(List<Bar> bars) {
        long[] gaps = new long[bars.size() - 1];
        for (int i = 1; i < bars.size(); i++) {
            gaps[i - 1] =
                    bars.get(i).start().toEpochMilli() - bars.get(i - 1).start().toEpochMilli();
        }
        Arrays.sort(gaps);
        return Duration.ofMillis(gaps[gaps.length / 2]);
    }
}
