package dev.quiver.host.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.host.cli.Cli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rollout replay with a source that is trained per walk-forward fold (the installed XGBoost)
 * against a registered, pinned version of it ({@code quiver models train} on S&P 500 daily): the
 * champion is fitted in every fold and forecasts every bar; the challenger is never refitted and
 * declines exactly the S&P bars up to the last bar it was trained on (counted as declined, not
 * failed), while it forecasts NASDAQ, a series it never saw.
 */
class RolloutGbmBacktestIT {

    static final Path PLUGINS =
            Path.of(System.getProperty("quiver.distribution")).resolve("plugins");
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path work;

    @Test
    void aPerFoldChampionAgainstAPinnedChallenger() throws Exception {
        Path model = work.resolve("model");
        run(
                "models",
                "train",
                "--source",
                "xgboost",
                "--dataset",
                "sp500-daily",
                "--train-bars",
                "800",
                "--out",
                model.toString(),
                "--plugins-dir",
                PLUGINS.toString());
        Path sidecar = model.resolve("xgboost-sidecar.json");
        Instant trainedThrough =
                Instant.parse(
                        JSON.readTree(sidecar.toFile()).path("training").path("last_bar").asText());

        Path spec = work.resolve("spec.json");
        Files.writeString(
                spec,
                """
                {"id": "xgb-pinned",
                 "capability": {"kind": "prediction", "name": "xgboost", "plugin": "ensemble-gbm"},
                 "champion": {},
                 "challenger": {"config": {"xgboost.model": "%s"}},
                 "mode": "shadow",
                 "routing": {"key": "symbol", "canary_percent": 10},
                 "rules": {"metric": "log_loss", "min_samples": 300, "alpha": 0.05}}
                """
                        .formatted(sidecar));
        Path out = work.resolve("out");
        run(
                "backtest",
                "--rollout",
                spec.toString(),
                "--dataset",
                "sp500-daily,nasdaq-daily",
                "--rollout-key",
                "bar",
                "--out",
                out.toString(),
                "--plugins-dir",
                PLUGINS.toString());

        Path dir = out.resolve("rollout-xgb-pinned");
        JsonNode variants =
                JSON.readTree(dir.resolve("report.json").toFile()).at("/rollout/variants");
        long spInSpan = 0;
        long nasdaqDeclined = 0;
        List<String> rows = Files.readAllLines(dir.resolve("rollout-bars.csv"));
        for (String row : rows.subList(1, rows.size())) {
            String[] f = row.split(",", -1);
            boolean declined = f[8].equals("declined");
            if (f[1].equals("sp500-daily") && !Instant.parse(f[0]).isAfter(trainedThrough)) {
                spInSpan++;
                assertThat(declined).as("challenger at %s on sp500", f[0]).isTrue();
            } else if (declined) {
                nasdaqDeclined++;
            }
        }
        assertThat(spInSpan).isPositive();
        assertThat(nasdaqDeclined).isZero();
        assertThat(variants.at("/challenger/bars_declined").asLong()).isEqualTo(spInSpan);
        assertThat(variants.at("/challenger/bars_failed").asLong()).isZero();
        assertThat(variants.at("/champion/bars_declined").asLong()).isZero();
        assertThat(variants.at("/champion/bars_failed").asLong()).isZero();
        assertThat(variants.at("/champion/fit_failures").asInt()).isZero();
        assertThat(variants.at("/challenger/runs").asText()).contains("xgboost.model");
    }

    private static void run(String... args) {
        var out = new StringWriter();
        var err = new StringWriter();
        int code = Cli.execute(new PrintWriter(out), new PrintWriter(err), args);
        assertThat(code).as("quiver %s%n%s%n%s", String.join(" ", args), out, err).isZero();
    }
}
