package dev.quiver.host.cli;

import dev.quiver.api.error.QuiverInputException;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BadBarPolicy;
import dev.quiver.host.data.BarCsvReader;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.feature.FeatureExport;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code quiver features}: the training table for the Python side. */
@Command(
        name = "features",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Export the point-in-time feature matrix (schema name, version and hash in the first"
                    + " line) with the next-bar label (direction and forward log return) for every"
                    + " warm bar, as CSV. The values are the ones plugins see at serving time."
        })
final class FeaturesCommand implements Callable<Integer> {

    @Option(
            names = "--data",
            paramLabel = "FILE",
            description = "OHLCV CSV to read (default: the bundled --dataset).")
    Path data;

    @Option(
            names = "--dataset",
            paramLabel = "ID",
            defaultValue = "btc-usd-4h",
            description =
                    "Bundled real series: btc-usd-4h, sp500-daily, nasdaq-daily (default: ${DEFAULT-VALUE}).")
    String dataset;

    @Option(
            names = "--out",
            paramLabel = "FILE",
            required = true,
            description = "CSV file to write (parent folders are created).")
    Path out;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        BarData bars;
        if (data != null) {
            bars = new BarCsvReader(BadBarPolicy.FAIL).read(data, stem(data)).data();
        } else {
            bars =
                    BundledData.byId(dataset)
                            .orElseThrow(
                                    () ->
                                            new QuiverInputException(
                                                    "BAD_OPTION",
                                                    "--dataset",
                                                    "command line",
                                                    dataset,
                                                    "is not one of " + BundledData.ids()))
                            .load();
        }
        FeatureMatrix features = FeaturePipeline.compute(bars);
        int rows;
        try {
            Path parent = out.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
                rows = FeatureExport.write(features, w);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the feature export " + out, e);
        }
        PrintWriter stdout = spec.commandLine().getOut();
        stdout.printf(
                Locale.ROOT,
                "features %s: %,d warm bars of %,d, schema %s v%s sha256=%s -> %s%n",
                bars.symbol(),
                rows,
                bars.size(),
                features.schema().name(),
                features.schema().version(),
                features.schema().hash(),
                out.toAbsolutePath());
        stdout.flush();
        return 0;
    }

    private static String stem(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }
}
