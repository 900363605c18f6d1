package dev.quiver.host.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.host.data.BundledData;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training export equals what plugins see at serving time, bar for bar, bit for bit. */
class FeaturesCommandTest {

    @TempDir Path dir;

    @Test
    void exportEqualsTheServingFramesOfEveryWarmBarWithTheNextBarLabel() throws IOException {
        Path csv = dir.resolve("sub/btc.csv");
        var out = new StringWriter();
        var err = new StringWriter();
        int code =
                Cli.execute(
                        new PrintWriter(out),
                        new PrintWriter(err),
                        "features",
                        "--dataset",
                        "btc-usd-4h",
                        "--out",
                        csv.toString());
        assertThat(code).as("stderr: %s", err).isZero();

        var bars = BundledData.BTC_USD_4H.load();
        FeatureMatrix matrix = FeaturePipeline.compute(bars);
        var schema = FeaturePipeline.SCHEMA;
        List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        assertThat(lines.get(0)).isEqualTo("# schema quiver-core 1 sha256=" + schema.hash());
        assertThat(lines.get(2))
                .isEqualTo(
                        "bar_index,timestamp,"
                                + String.join(",", schema.names())
                                + ",forward_log_return_1,up");
        int first = matrix.firstWarmIndex();
        assertThat(lines).hasSize(3 + bars.size() - first);
        assertThat(out.toString()).contains(String.format("%,d warm bars", bars.size() - first));

        for (int k = 3; k < lines.size(); k++) {
            String[] cells = lines.get(k).split(",", -1);
            int i = Integer.parseInt(cells[0]);
            assertThat(i).isEqualTo(first + k - 3);
            FeatureFrame frame = matrix.frame(i);
            assertThat(Instant.parse(cells[1])).isEqualTo(frame.bar().start());
            double[] served = frame.toArray();
            for (int j = 0; j < served.length; j++) {
                // bit-identical: the export is what the plugin sees for that bar
                assertThat(Double.parseDouble(cells[2 + j]))
                        .as("bar %s feature %s", i, schema.names().get(j))
                        .isEqualTo(served[j]);
            }
            if (i + 1 < bars.size()) {
                double r = Math.log(bars.close[i + 1] / bars.close[i]);
                assertThat(Double.parseDouble(cells[2 + served.length])).isEqualTo(r);
                assertThat(cells[3 + served.length])
                        .isEqualTo(bars.close[i + 1] > bars.close[i] ? "1" : "0");
            } else {
                assertThat(cells[2 + served.length]).isEmpty();
                assertThat(cells[3 + served.length]).isEmpty();
            }
        }
    }

    @Test
    void unknownDatasetIsABadOption() {
        var err = new StringWriter();
        int code =
                Cli.execute(
                        new PrintWriter(new StringWriter()),
                        new PrintWriter(err),
                        "features",
                        "--dataset",
                        "nope",
                        "--out",
                        dir.resolve("x.csv").toString());
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("[Quiver/BAD_OPTION]").contains("nope");
    }
}
