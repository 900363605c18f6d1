package dev.quiver.host.backtest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.engine.market.BarData;
import dev.quiver.host.cli.Cli;
import dev.quiver.host.data.BundledData;
import dev.quiver.host.plugin.LoadedPlugin;
import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.plugin.TestPluginZips;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Reader;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RELIABILITY.md P14, backtests see no future data: the look-ahead detector ({@link
 * LookaheadCheck}, {@code quiver lookahead}) run over the real first-party prediction plugins,
 * loaded from the built distribution's zips, and a deliberately leaky plugin that uses bar t+1, on
 * the bundled BTC 4h bars: at 500 random cut points every real source gives exactly the full run's
 * signal on history truncated after the cut, the leaky one is flagged, and every fold keeps its
 * embargo.
 */
class LookaheadIT {

    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));
    static final Path CONFIG = DISTRIBUTION.resolve("config/quiver.properties");
    static final int CUTS = 500;
    static final long SEED = 20_261_207L;

    /** 3,000 bars: 4 folds of the default windows, about 1,900 test bars to draw cuts from. */
    static final BarData BTC = BundledData.BTC_USD_4H.load().truncate(3_000);

    @TempDir Path dir;

    @Test
    void realSourcesGiveTheFullRunSignalAtFiveHundredCutsAndTheLeakySourceIsFlagged()
            throws IOException {
        long began = System.nanoTime();
        Path plugins = pluginsWithTheLeakyOne();
        LookaheadCheck.Result r;
        try (var runtime = PluginRuntime.start(plugins, distributionConfig())) {
            assertThat(runtime.refusals()).isEmpty();
            assertThat(runtime.plugins())
                    .extracting(LoadedPlugin::id)
                    .contains("prediction-traditional", "ensemble-gbm", "bad-peeking");
            r =
                    LookaheadCheck.run(
                            BTC,
                            runtime.predictions(),
                            WalkForwardBacktest.Config.defaults(),
                            CUTS,
                            SEED);
        }
        System.out.printf(
                Locale.ROOT,
                "LookaheadIT: %d sources x %d cut points on %d bars, %d folds, in %.1f s%n",
                r.sources().size(),
                r.cuts().size(),
                BTC.size(),
                r.folds().size(),
                (System.nanoTime() - began) / 1e9);
        r.sources()
                .forEach(
                        s ->
                                System.out.printf(
                                        Locale.ROOT,
                                        "LookaheadIT: %-14s %d of %d cut points differ%s%n",
                                        s.source(),
                                        s.mismatches().size(),
                                        s.cutsChecked(),
                                        s.looksAhead() ? ", first " + s.mismatches().get(0) : ""));

        assertThat(r.cuts()).hasSize(CUTS).doesNotHaveDuplicates();
        assertThat(r.folds()).hasSize(4);
        // Training window end + embargo < first test bar, for every fold.
        assertThat(r.foldProblems()).isEmpty();
        for (Fold f : r.folds()) {
            assertThat(f.trainLast() + WalkForwardBacktest.Config.defaults().embargoBars())
                    .isLessThan(f.testFirst());
        }
        assertThat(r.sources())
                .extracting(LookaheadCheck.SourceResult::source)
                .contains("traditional", "random_forest", "peeking");
        for (LookaheadCheck.SourceResult s : r.sources()) {
            assertThat(s.cutsChecked()).as(s.source()).isEqualTo(CUTS);
            if (s.source().equals("peeking")) {
                // Every cut but the series' last bar (no bar t+1 in either run) differs.
                int lastBarCuts = r.cuts().contains(BTC.size() - 1) ? 1 : 0;
                assertThat(s.mismatches()).hasSize(CUTS - lastBarCuts);
                assertThat(s.mismatches().get(0).truncated()).startsWith("p_up=0.5 ");
            } else {
                assertThat(s.mismatches()).as("%s looks ahead", s.source()).isEmpty();
            }
        }
    }

    @Test
    void theCommandNamesTheLeakySourceAndExitsOne() throws IOException {
        // The rule-based source beside the leaky one: the command's wiring, not the sources, here.
        Path plugins = pluginsWithTheLeakyOne("{prediction-traditional,sizing-fixed}-*.zip");
        Path csv = dir.resolve("btc-3000.csv");
        writeCsv(BTC, csv);
        // Two bad rows, read by the audit (P13): bar 1,500 repeated, bar 2,000's close NaN.
        List<String> lines = new ArrayList<>(Files.readAllLines(csv, StandardCharsets.UTF_8));
        lines.set(2_001, lines.get(2_001).replaceFirst(",[^,]+,([^,]+)$", ",NaN,$1"));
        lines.add(1_502, lines.get(1_501));
        Files.write(csv, lines, StandardCharsets.UTF_8);
        Path quarantine = dir.resolve("quarantine");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code =
                Cli.execute(
                        new PrintWriter(stdout),
                        new PrintWriter(stderr),
                        "lookahead",
                        "--data",
                        csv.toString(),
                        "--cuts",
                        "40",
                        "--on-bad-bar",
                        "quarantine",
                        "--quarantine-dir",
                        quarantine.toString(),
                        "--plugins-dir",
                        plugins.toString(),
                        "--config",
                        CONFIG.toString());
        System.out.print(stdout);
        System.out.print(stderr);
        assertThat(code).as(stderr.toString()).isEqualTo(1);
        assertThat(stderr.toString())
                .contains("3001 rows = 2999 accepted + 1 repaired + 1 quarantined")
                .contains("NOT_FINITE=1")
                .contains("DUPLICATE_SAME=1");
        assertThat(Files.readAllLines(quarantine.resolve("btc-3000.csv.quarantine.csv")))
                .hasSize(2)
                .element(1)
                .asString()
                .startsWith("btc-3000.csv line 2003,NOT_FINITE,close is not a finite number");
        assertThat(stdout.toString())
                .contains("btc-3000: 2999 bars")
                .contains("40 cut points")
                .containsPattern("peeking +LOOKS AHEAD: (39|40) of 40 cut points differ")
                .containsPattern("traditional +ok: the same signal at 40 of 40 cut points")
                .contains("folds: training end + embargo 5 < first test bar in all");
    }

    private Path pluginsWithTheLeakyOne() throws IOException {
        return pluginsWithTheLeakyOne("*.zip");
    }

    /** The distribution's plugin zips matching {@code glob}, and the leaky one, in a folder. */
    private Path pluginsWithTheLeakyOne(String glob) throws IOException {
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        try (var zips = Files.newDirectoryStream(DISTRIBUTION.resolve("plugins"), glob)) {
            for (Path z : zips) {
                Files.copy(z, plugins.resolve(z.getFileName()));
            }
        }
        TestPluginZips.oneClass(
                plugins.resolve("bad-peeking.zip"),
                "bad-peeking",
                "1.0.0",
                "quiver.prediction; name=peeking; horizon=1",
                "dev.quiver.host.plugin.misbehaving.PeekingForecaster");
        return plugins;
    }

    private static void writeCsv(BarData bars, Path file) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write("timestamp,open,high,low,close,volume\n");
            for (int i = 0; i < bars.size(); i++) {
                var b = bars.bar(i);
                w.write(
                        b.start()
                                + ","
                                + b.open()
                                + ","
                                + b.high()
                                + ","
                                + b.low()
                                + ","
                                + b.close()
                                + ","
                                + b.volume()
                                + "\n");
            }
        }
    }

    private static Map<String, String> distributionConfig() throws IOException {
        Properties props = new Properties();
        try (Reader r = Files.newBufferedReader(CONFIG, StandardCharsets.UTF_8)) {
            props.load(r);
        }
        Map<String, String> values = new HashMap<>();
        props.forEach((k, v) -> values.put(k.toString(), v.toString().trim()));
        return values;
    }
}
