package dev.quiver.plugins.gbm;

import dev.quiver.api.PluginContext;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.api.feature.LabeledFrame;
import dev.quiver.api.market.Bar;
import dev.quiver.api.market.BarSeries;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

/**
 * Real rows: the scale-free columns of {@code bin/quiver features --dataset btc-usd-4h} (20,630
 * labelled bars, 2016-05-28..2025-10-27), as labelled frames.
 */
final class RealRows {

    static final FeatureSchema SCHEMA = new FeatureSchema("gbm-test", "1", GbmFeatures.NAMES);
    static final List<LabeledFrame> BTC = load();

    private RealRows() {}

    static PluginContext context(Map<String, String> config) {
        return new PluginContext() {
            @Override
            public String pluginId() {
                return "ensemble-gbm";
            }

            @Override
            public Optional<String> config(String key) {
                return Optional.ofNullable(config.get(key));
            }
        };
    }

    private static List<LabeledFrame> load() {
        List<LabeledFrame> out = new ArrayList<>();
        try (var in =
                new BufferedReader(
                        new InputStreamReader(
                                new GZIPInputStream(
                                        RealRows.class.getResourceAsStream(
                                                "btc-usd-4h-features.csv.gz")),
                                StandardCharsets.UTF_8))) {
            String line;
            boolean header = true;
            while ((line = in.readLine()) != null) {
                if (line.startsWith("#")) {
                    continue;
                }
                if (header) {
                    header = false;
                    continue;
                }
                String[] f = line.split(",");
                Instant t = Instant.parse(f[1]);
                double[] x = new double[GbmFeatures.NAMES.size()];
                for (int i = 0; i < x.length; i++) {
                    x[i] = Double.parseDouble(f[2 + i]);
                }
                Bar bar = new Bar(t, 1, 1, 1, 1, 1);
                BarSeries one =
                        new BarSeries() {
                            @Override
                            public String symbol() {
                                return "btc-usd-4h";
                            }

                            @Override
                            public Duration period() {
                                return Duration.ofHours(4);
                            }

                            @Override
                            public int size() {
                                return 1;
                            }

                            @Override
                            public Bar get(int index) {
                                return bar;
                            }
                        };
                out.add(
                        new LabeledFrame(
                                new FeatureFrame(SCHEMA, one, x),
                                1,
                                Double.parseDouble(f[2 + x.length])));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return List.copyOf(out);
    }
}
