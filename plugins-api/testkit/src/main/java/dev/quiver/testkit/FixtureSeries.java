package dev.quiver.testkit;

import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.api.market.Bar;
import dev.quiver.api.market.BarSeries;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Real bars with the host's features, for contract tests: 600 Coinbase BTC-USD 4-hour bars (2020-01
 * onwards, from the host's bundled series) and their {@code quiver-core} features, written by the
 * host's feature pipeline (the host's {@code TestkitFixtureTest} regenerates and checks this file,
 * so it cannot drift from the pipeline).
 *
 * <p>File {@code /dev/quiver/testkit/btc-usd-4h-features.csv}: a {@code # schema NAME VERSION}
 * line, then a header {@code timestamp,open,high,low,close,volume,<features...>}, then one row per
 * bar.
 */
public final class FixtureSeries {

    /** Classpath resource of the fixture. */
    public static final String RESOURCE = "/dev/quiver/testkit/btc-usd-4h-features.csv";

    private final FeatureSchema schema;
    private final List<Bar> bars;
    private final List<double[]> features;

    private FixtureSeries(FeatureSchema schema, List<Bar> bars, List<double[]> features) {
        this.schema = schema;
        this.bars = bars;
        this.features = features;
    }

    /**
     * Loads the bundled fixture.
     *
     * @return the fixture series
     * @throws IllegalStateException if the resource is missing or malformed
     */
    public static FixtureSeries btcUsd4h() {
        try (InputStream in = FixtureSeries.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("test kit fixture missing: " + RESOURCE);
            }
            var reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String[] schemaLine = reader.readLine().split(" ");
            String[] header = reader.readLine().split(",");
            var names = Arrays.asList(header).subList(6, header.length);
            var schema = new FeatureSchema(schemaLine[2], schemaLine[3], names);
            var bars = new ArrayList<Bar>();
            var features = new ArrayList<double[]>();
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                String[] f = line.split(",");
                bars.add(
                        new Bar(
                                Instant.parse(f[0]),
                                Double.parseDouble(f[1]),
                                Double.parseDouble(f[2]),
                                Double.parseDouble(f[3]),
                                Double.parseDouble(f[4]),
                                Double.parseDouble(f[5])));
                double[] v = new double[names.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = Double.parseDouble(f[6 + i]);
                }
                features.add(v);
            }
            return new FixtureSeries(schema, List.copyOf(bars), List.copyOf(features));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Feature layout of the fixture. */
    public FeatureSchema schema() {
        return schema;
    }

    /** Number of bars. */
    public int size() {
        return bars.size();
    }

    /**
     * The frame of bar {@code t}, whose history is the series truncated right after {@code t}.
     *
     * @param t bar index in {@code [0, size())}
     * @return a point-in-time frame
     */
    public FeatureFrame frame(int t) {
        // Chained to the previous bar's frame, as the host chains them: frame(t).window(k) works
        // for k <= t + 1. Built iteratively (no deep recursion), a new chain on every call.
        FeatureFrame f = null;
        for (int i = 0; i <= t; i++) {
            f = new FeatureFrame(schema, view(i + 1), features.get(i), f);
        }
        return f;
    }

    /**
     * A frame of bar {@code t} whose schema lacks every feature: for testing that a plugin names
     * the feature it is missing.
     *
     * @param t bar index
     * @return a frame with an empty schema
     */
    public FeatureFrame frameWithoutFeatures(int t) {
        return new FeatureFrame(
                new FeatureSchema("empty", "0", List.of()), view(t + 1), new double[0]);
    }

    private BarSeries view(int size) {
        return new BarSeries() {
            @Override
            public String symbol() {
                return "BTC-USD";
            }

            @Override
            public Duration period() {
                return Duration.ofHours(4);
            }

            @Override
            public int size() {
                return size;
            }

            @Override
            public Bar get(int index) {
                if (index < 0 || index >= size) {
                    throw new IndexOutOfBoundsException(
                            "bar " + index + " outside the point-in-time view [0, " + size + ")");
                }
                return bars.get(index);
            }
        };
    }
}
