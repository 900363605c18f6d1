package dev.quiver.host.session;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.engine.market.BarData;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.mlflow.LocalMlflow;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The user's path through the registry, against the real MLflow server: two bundles fitted and
 * registered by {@code strategy fit --register}, {@code serve --strategy models:/NAME@champion}
 * follows the alias; moving it with {@code models alias} swaps the live session to the new version
 * between two bars, and the decisions name the version that made them.
 */
class StrategyAliasIT {

    @TempDir Path work;

    @Test
    void movingTheAliasSwapsTheServedBundleAndTheDecisionsNameIt() throws Exception {
        String uri = LocalMlflow.uri();
        String name = "it-alias-strategy-" + System.nanoTime();
        BarData bars = BundledData.SP500_DAILY.load();
        int liveFrom = bars.size() - 200;
        String v1 = register(uri, name, bars.bar(liveFrom - 400).start().toString(), true);
        String v2 = register(uri, name, bars.bar(liveFrom - 1).start().toString(), false);
        assertThat(v2).isNotEqualTo(v1);

        try (ServeProcess serve =
                ServeProcess.start(
                        work,
                        "serve",
                        "--strategy",
                        "models:/" + name + "@champion",
                        "--tracking-uri",
                        uri,
                        "--poll-interval",
                        "1s",
                        "--model-cache",
                        work.resolve("cache").toString(),
                        "--state-url",
                        "jdbc:sqlite:" + work.resolve("state.db"))) {
            assertThat(serve.ok("GET", "/v1/strategy", null).path("bundle").asText())
                    .isEqualTo(name + "/" + v1);
            Map<String, Object> open = new LinkedHashMap<>();
            open.put("account", "alias");
            open.put("interval", "P1D");
            open.put("max_gap_bars", 10);
            open.put(
                    "warmup",
                    Map.of(
                            "dataset",
                            "sp500-daily",
                            "until",
                            bars.bar(liveFrom - 1).start().toString()));
            serve.ok("PUT", "/v1/sessions/SPX", open);
            int i = liveFrom;
            for (; i < liveFrom + 50; i++) {
                JsonNode d = post(serve, bars, i);
                assertThat(d.at("/provenance/bundle").asText()).isEqualTo(name + "/" + v1);
                assertThat(d.at("/provenance/version").asText()).isEqualTo(v1);
            }
            ServeProcess.run(
                    work,
                    "alias",
                    "models",
                    "alias",
                    "--tracking-uri",
                    uri,
                    "--name",
                    name,
                    "--alias",
                    "champion",
                    "--version",
                    v2);
            long moved = System.nanoTime();
            String serving = "";
            while (System.nanoTime() - moved < 60_000_000_000L) {
                serving = serve.ok("GET", "/v1/strategy", null).path("bundle").asText();
                if (serving.equals(name + "/" + v2)) {
                    break;
                }
                Thread.sleep(100);
            }
            assertThat(serving).as(serve.stderr()).isEqualTo(name + "/" + v2);
            JsonNode after = post(serve, bars, i++);
            System.out.printf(
                    "alias move to first decision by the new version: %.1f s%n",
                    (System.nanoTime() - moved) / 1e9);
            assertThat(after.at("/provenance/bundle").asText()).isEqualTo(name + "/" + v2);
            for (; i < bars.size(); i++) {
                assertThat(post(serve, bars, i).at("/provenance/version").asText()).isEqualTo(v2);
            }
        }
    }

    private JsonNode post(ServeProcess serve, BarData bars, int i) throws Exception {
        return serve.ok(
                "POST",
                "/v1/sessions/SPX/bars",
                Map.of("bars", List.of(StrategyParityIT.bar(bars.bar(i)))));
    }

    private String register(String uri, String name, String until, boolean champion)
            throws Exception {
        String tag = champion ? "first" : "second";
        List<String> args =
                new java.util.ArrayList<>(
                        List.of(
                                "strategy",
                                "fit",
                                "--dataset",
                                "sp500-daily",
                                "--until",
                                until,
                                "--train-bars",
                                "750",
                                "--test-bars",
                                "500",
                                "--max-age",
                                "P36500D",
                                "--out",
                                work.resolve(tag).toString(),
                                "--tracking-uri",
                                uri,
                                "--register",
                                name));
        if (champion) {
            args.addAll(List.of("--alias", "champion"));
        }
        String out = ServeProcess.run(work, "fit-" + tag, args.toArray(String[]::new));
        Matcher m =
                Pattern.compile("registered models:/" + Pattern.quote(name) + "/(\\d+)")
                        .matcher(out);
        assertThat(m.find()).as(out).isTrue();
        return m.group(1);
    }
}
