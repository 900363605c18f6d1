package dev.quiver.host.feature;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.market.Bar;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.host.data.BundledData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The plugin test kit ships real bars with this pipeline's features ({@code
 * dev.quiver.testkit.FixtureSeries}). This test regenerates them and fails if the committed file
 * differs, so the kit can never drift from the pipeline. To update it after a deliberate feature
 * change: {@code ./mvnw -pl host test -Dtest=TestkitFixtureTest -Dquiver.regenerateFixtures=true}.
 */
class TestkitFixtureTest {

    static final Path FIXTURE =
            Path.of(
                    "../plugins-api/testkit/src/main/resources/dev/quiver/testkit/btc-usd-4h-features.csv");
    static final Instant FIRST_BAR = Instant.parse("2020-01-01T00:00:00Z");
    static final int BARS = 600;

    @Test
    void testkitFixtureEqualsThePipelineOutput() throws IOException {
        String expected = render();
        if (Boolean.getBoolean("quiver.regenerateFixtures")) {
            Files.createDirectories(FIXTURE.getParent());
            Files.writeString(FIXTURE, expected, StandardCharsets.UTF_8);
        }
        assertThat(Files.readString(FIXTURE, StandardCharsets.UTF_8))
                .as(
                        "%s is out of date with FeaturePipeline; regenerate with -Dtest=TestkitFixtureTest"
                                + " -Dquiver.regenerateFixtures=true",
                        FIXTURE)
                .isEqualTo(expected);
    }

    static String render() {
        var bars = BundledData.BTC_USD_4H.load();
        FeatureMatrix features = FeaturePipeline.compute(bars);
        int first = 0;
        while (bars.bar(first).start().isBefore(FIRST_BAR)) {
            first++;
        }
        var out = new StringBuilder();
        var schema = FeaturePipeline.SCHEMA;
        out.append("# schema ")
                .append(schema.name())
                .append(' ')
                .append(schema.version())
                .append('\n');
        out.append("timestamp,open,high,low,close,volume,")
                .append(String.join(",", schema.names()))
                .append('\n');
        for (int i = first; i < first + BARS; i++) {
            Bar b = bars.bar(i);
            out.append(b.start())
                    .append(',')
                    .append(b.open())
                    .append(',')
                    .append(b.high())
                    .append(',')
                    .append(b.low())
                    .append(',')
                    .append(b.close())
                    .append(',')
                    .append(b.volume());
            for (int f = 0; f < schema.size(); f++) {
                out.append(',').append(features.get(i, f));
            }
            out.append('\n');
        }
        return out.toString();
    }
}
