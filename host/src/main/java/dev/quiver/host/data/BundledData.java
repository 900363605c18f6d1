package dev.quiver.host.data;

import dev.quiver.engine.market.BarData;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The real market series shipped inside the host (see {@code data/PROVENANCE.md} among the host's
 * resources for source, licence and span of each).
 */
public enum BundledData {
    /** Coinbase BTC-USD 4-hour bars, 2016-05-18 to 2025-10-28 (20,695 bars). The default. */
    BTC_USD_4H("btc-usd-4h", "coinbase-btc-usd-4h-2016-2025.csv"),
    /**
     * S&amp;P 500 index daily bars, 1999-01-04 to 2018-12-31 (5,031 bars), from PyPI {@code arch}.
     */
    SP500_DAILY("sp500-daily", "sp500-daily-1999-2018.csv"),
    /**
     * NASDAQ Composite daily bars, 1999-01-04 to 2018-12-31 (5,031 bars), from PyPI {@code arch}.
     */
    NASDAQ_DAILY("nasdaq-daily", "nasdaq-composite-daily-1999-2018.csv");

    private final String id;
    private final String resource;

    BundledData(String id, String resource) {
        this.id = id;
        this.resource = resource;
    }

    public String id() {
        return id;
    }

    public String fileName() {
        return resource;
    }

    public static List<String> ids() {
        return Arrays.stream(values()).map(BundledData::id).toList();
    }

    public static Optional<BundledData> byId(String id) {
        return Arrays.stream(values()).filter(d -> d.id.equals(id)).findFirst();
    }

    /**
     * Reads and validates the bundled file (always strictly: the bundled data has no bad bars).
     *
     * @return the bars
     */
    public BarData load() {
        try (InputStream in = BundledData.class.getResourceAsStream("/data/" + resource)) {
            if (in == null) {
                throw new IllegalStateException(
                        "bundled data file missing from the host jar: data/" + resource);
            }
            return new BarCsvReader(BadBarPolicy.FAIL)
                    .read(new InputStreamReader(in, StandardCharsets.UTF_8), resource, id)
                    .data();
        } catch (java.io.IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
