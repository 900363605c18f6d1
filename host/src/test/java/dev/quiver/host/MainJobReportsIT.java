package dev.quiver.host;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.host.cli.Cli;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code quiver backtest --dataset all} with the real plugins gives the same reports whatever
 * {@code --threads}, and the same figures as the reports recorded before the walk-forward ran its
 * folds in parallel (issue 17: kelly_ml's batch scoring, analogs' partial selection, the parallel
 * folds): every figure of {@code report.json} but the throughput, and, between thread counts, the
 * HTML report and the equity, drawdown and reliability charts byte for byte.
 *
 * <p>The recorded reports are {@code src/test/resources/main-job-reports/<dataset>/report.json},
 * written by {@code quiver backtest --dataset all --out DIR} on the code before that change. A
 * change that is meant to move the figures records them anew the same way (and says so).
 */
class MainJobReportsIT {

    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));
    static final Path CONFIG = DISTRIBUTION.resolve("config/quiver.properties");
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir static Path dir;
    static Path sequential;
    static Path parallel;

    @BeforeAll
    static void runTheMainJobOnOneAndOnTwoThreads() throws IOException {
        Path plugins = Files.createDirectory(dir.resolve("plugins"));
        MainJobIT.copyZips(DISTRIBUTION.resolve("plugins"), plugins);
        sequential = backtest(plugins, 1);
        parallel = backtest(plugins, 2);
    }

    private static Path backtest(Path plugins, int threads) {
        Path out = dir.resolve("out-" + threads);
        StringWriter stdout = new StringWriter();
        StringWriter stderr = new StringWriter();
        int code =
                Cli.execute(
                        new PrintWriter(stdout),
                        new PrintWriter(stderr),
                        "backtest",
                        "--dataset",
                        "all",
                        "--threads",
                        Integer.toString(threads),
                        "--out",
                        out.toString(),
                        "--plugins-dir",
                        plugins.toString(),
                        "--config",
                        CONFIG.toString());
        assertThat(code).as("exit code; stderr: " + stderr).isZero();
        assertThat(stderr.toString())
                .contains(", " + threads + (threads == 1 ? " thread\n" : " threads\n"));
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"btc-usd-4h", "sp500-daily", "nasdaq-daily"})
    void reportsEqualTheRecordedOnesAndEachOtherWhateverTheThreads(String dataset)
            throws IOException {
        JsonNode recorded;
        try (InputStream in =
                MainJobReportsIT.class.getResourceAsStream(
                        "/main-job-reports/" + dataset + "/report.json")) {
            assertThat(in).as("recorded report of " + dataset).isNotNull();
            recorded = withoutThroughput(JSON.readTree(in));
        }
        JsonNode one =
                withoutThroughput(
                        JSON.readTree(sequential.resolve(dataset + "/report.json").toFile()));
        JsonNode two =
                withoutThroughput(
                        JSON.readTree(parallel.resolve(dataset + "/report.json").toFile()));
        assertThat(one).as(dataset + " --threads 1 vs recorded").isEqualTo(recorded);
        assertThat(two).as(dataset + " --threads 2 vs recorded").isEqualTo(recorded);
        // not a comparison of empty reports: every policy traded
        for (String policy : List.of("fixed", "kelly", "kelly_ml", "kelly_ts", "buy_and_hold")) {
            assertThat(one.get("policies").get(policy).get("trades").asInt())
                    .as(dataset + " " + policy + " trades")
                    .isPositive();
        }
        for (String file :
                List.of("report.html", "equity.png", "drawdown.png", "reliability.png")) {
            assertThat(Files.readAllBytes(parallel.resolve(dataset).resolve(file)))
                    .as(dataset + " " + file + ": --threads 2 vs 1")
                    .isEqualTo(Files.readAllBytes(sequential.resolve(dataset).resolve(file)));
        }
    }

    private static JsonNode withoutThroughput(JsonNode report) {
        ((ObjectNode) report).remove("throughput_bars_per_s");
        return report;
    }
}
