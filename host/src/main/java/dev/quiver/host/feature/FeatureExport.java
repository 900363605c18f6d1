package dev.quiver.host.feature;

import dev.quiver.api.feature.FeatureSchema;
import dev.quiver.engine.feature.FeatureMatrix;
import java.io.IOException;
import java.io.Writer;
import java.time.Instant;

/**
 * Writes a {@link FeatureMatrix} as the training table the Python side reads: one CSV row per warm
 * bar, the point-in-time features exactly as plugins see them at serving time ({@link
 * FeatureMatrix#frame(int)}), and the label of the next bar.
 *
 * <p>Layout:
 *
 * <pre>
 * # schema quiver-core 1 sha256=&lt;64 hex&gt;
 * # label horizon_bars=1 forward_log_return_1=ln(close[t+1]/close[t]) up=1 if close[t+1] &gt; close[t]
 * bar_index,timestamp,&lt;features in schema order&gt;,forward_log_return_1,up
 * 64,2016-05-29T00:00:00Z,0.0012,...,-0.0031,0
 * </pre>
 *
 * <p>Numbers are written with {@link Double#toString(double)}, the shortest decimal that parses
 * back to the same double, so Python reads bit-identical float64 values. The last bar has no next
 * bar: its label cells are empty.
 */
public final class FeatureExport {

    /** Forecast horizon of the label, in bars. */
    public static final int HORIZON_BARS = 1;

    private FeatureExport() {}

    /**
     * Writes the table.
     *
     * @param features the series' feature matrix
     * @param out destination; not closed
     * @return number of bar rows written
     * @throws IOException if writing fails
     */
    public static int write(FeatureMatrix features, Writer out) throws IOException {
        FeatureSchema schema = features.schema();
        var bars = features.bars();
        int n = bars.size();
        int f = schema.size();
        out.write(
                "# schema "
                        + schema.name()
                        + " "
                        + schema.version()
                        + " sha256="
                        + schema.hash()
                        + "\n");
        out.write(
                "# label horizon_bars="
                        + HORIZON_BARS
                        + " forward_log_return_1=ln(close[t+1]/close[t]) up=1 if close[t+1] >"
                        + " close[t]; series "
                        + bars.symbol()
                        + " period "
                        + bars.period()
                        + "\n");
        StringBuilder line = new StringBuilder(256);
        line.append("bar_index,timestamp");
        for (String name : schema.names()) {
            line.append(',').append(name);
        }
        line.append(",forward_log_return_1,up\n");
        out.write(line.toString());
        int rows = 0;
        for (int i = features.firstWarmIndex(); i < n; i++) {
            line.setLength(0);
            line.append(i).append(',').append(Instant.ofEpochMilli(bars.startMillis[i]));
            for (int j = 0; j < f; j++) {
                line.append(',').append(features.get(i, j));
            }
            if (i + HORIZON_BARS < n) {
                double r = Math.log(bars.close[i + HORIZON_BARS] / bars.close[i]);
                boolean up = bars.close[i + HORIZON_BARS] > bars.close[i];
                line.append(',').append(r).append(',').append(up ? '1' : '0');
            } else {
                line.append(",,");
            }
            line.append('\n');
            out.write(line.toString());
            rows++;
        }
        return rows;
    }
}
