package dev.quiver.host.cli;

import dev.quiver.api.error.QuiverInputException;
import dev.quiver.engine.market.BarData;
import dev.quiver.engine.risk.CircuitBreakers;
import dev.quiver.engine.trading.CostModel;
import dev.quiver.engine.trading.Stops;
import dev.quiver.host.backtest.CostCheck;
import dev.quiver.host.backtest.WalkForwardBacktest;
import dev.quiver.host.data.BadBarPolicy;
import dev.quiver.host.data.BarAudit;
import dev.quiver.host.data.BarCsvReader;
import dev.quiver.host.data.BundledData;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * The options every walk-forward job shares ({@code backtest}, {@code strategy fit}): the data, the
 * windows, costs, the cap, stops and circuit breakers, so both read them the same way.
 */
abstract class WalkForwardOptions {

    @Option(
            names = "--data",
            paramLabel = "FILE",
            arity = "1..*",
            description =
                    "OHLCV CSV(s) to run on, one series each (default: the bundled --dataset).")
    List<Path> data = List.of();

    @Option(
            names = "--dataset",
            paramLabel = "ID[,ID...]",
            defaultValue = "btc-usd-4h",
            description =
                    "Bundled real series: btc-usd-4h, sp500-daily, nasdaq-daily, a comma-separated"
                            + " list of them, or all (default: ${DEFAULT-VALUE}).")
    String dataset;

    @Option(
            names = "--on-bad-bar",
            paramLabel = "fail|skip|quarantine",
            defaultValue = "fail",
            description =
                    "A malformed CSV row stops the run (fail), is left out and counted (skip), or"
                            + " every row is audited with a reason code (quarantine): bad bars"
                            + " written to --quarantine-dir with their reason, identical repeats"
                            + " merged, gaps flagged and filled by --fill-gaps, all counted.")
    String onBadBar;

    @Option(
            names = "--fill-gaps",
            paramLabel = "none|previous-close",
            defaultValue = "none",
            description =
                    "With --on-bad-bar=quarantine: bars missing in a gap are not filled (none) or"
                            + " filled flat at the previous close with volume 0 (previous-close);"
                            + " either way counted (default: ${DEFAULT-VALUE}).")
    String fillGaps;

    @Option(
            names = "--max-gap-bars",
            defaultValue = "1",
            description =
                    "With --on-bad-bar=quarantine: the largest spacing between bars, in intervals,"
                            + " that is not a gap (daily equity data: 4 for weekends and holidays)"
                            + " (default: ${DEFAULT-VALUE}).")
    int maxGapBars;

    @Option(
            names = "--quarantine-dir",
            paramLabel = "DIR",
            defaultValue = "quiver-out/quarantine",
            description =
                    "With --on-bad-bar=quarantine: each file's quarantined rows go to"
                            + " DIR/<file>.quarantine.csv with their reason (default:"
                            + " ${DEFAULT-VALUE}).")
    Path quarantineDir;

    @Option(
            names = "--progress",
            paramLabel = "auto|bar|lines|none",
            defaultValue = "auto",
            description =
                    "Progress on standard error: a bar redrawn in place (auto picks it when"
                            + " standard error is a terminal), one line per fold (auto's choice"
                            + " for a file, a pipe or a CI log), or none. Circuit-breaker events"
                            + " go to the report, the terminal gets their count (default:"
                            + " ${DEFAULT-VALUE}).")
    String progress;

    @Option(
            names = "--fee-bps",
            defaultValue = "10",
            description =
                    "Fee per side, basis points of traded notional (default: ${DEFAULT-VALUE}).")
    double feeBps;

    @Option(
            names = "--slippage-bps",
            defaultValue = "5",
            description = "Slippage per side, basis points (default: ${DEFAULT-VALUE}).")
    double slippageBps;

    @Option(
            names = "--train-bars",
            defaultValue = "1000",
            description = "Training window, bars (default: ${DEFAULT-VALUE}).")
    int trainBars;

    @Option(
            names = "--embargo-bars",
            defaultValue = "5",
            description = "Gap between training and test, bars (default: ${DEFAULT-VALUE}).")
    int embargoBars;

    @Option(
            names = "--test-bars",
            defaultValue = "500",
            description = "Test window, bars (default: ${DEFAULT-VALUE}).")
    int testBars;

    @Option(
            names = "--max-position",
            defaultValue = "1.0",
            description =
                    "Risk-guard cap, fraction of equity in (0, 1] (default: ${DEFAULT-VALUE}).")
    double maxPosition;

    @Option(
            names = "--stop-loss-atr",
            defaultValue = "2",
            description =
                    "Host stop-loss below the entry, ATRs at entry; 0 = off (default: ${DEFAULT-VALUE}).")
    double stopLossAtr;

    @Option(
            names = "--take-profit-atr",
            defaultValue = "3",
            description =
                    "Host take-profit above the entry, ATRs at entry; 0 = off (default: ${DEFAULT-VALUE}).")
    double takeProfitAtr;

    @Option(
            names = "--trailing-atr",
            defaultValue = "3",
            description =
                    "Host trailing stop below the highest high, ATRs at entry; 0 = off (default: ${DEFAULT-VALUE}).")
    double trailingAtr;

    @Option(
            names = "--max-drawdown",
            defaultValue = "0.15",
            description = "Circuit breaker: drawdown limit, fraction (default: ${DEFAULT-VALUE}).")
    double maxDrawdown;

    @Option(
            names = "--daily-loss",
            defaultValue = "0.05",
            description =
                    "Circuit breaker: loss limit per UTC day, fraction (default: ${DEFAULT-VALUE}).")
    double dailyLoss;

    @Option(
            names = "--min-hit-rate",
            defaultValue = "0.40",
            description =
                    "Circuit breaker: rolling hit-rate floor, fraction (default: ${DEFAULT-VALUE}).")
    double minHitRate;

    @Option(
            names = "--hit-rate-window",
            defaultValue = "50",
            description =
                    "Circuit breaker: closed decisions in the rolling hit rate (default: ${DEFAULT-VALUE}).")
    int hitRateWindow;

    @Option(
            names = "--drawdown-rearm",
            description =
                    "How a tripped max-drawdown breaker re-arms: MANUAL (default; never by itself in"
                            + " a backtest, so the limit holds) or COOLDOWN (after"
                            + " --drawdown-cooldown-days with a fresh peak; the loss from the old"
                            + " peak is then unbounded).")
    CircuitBreakers.DrawdownRearm drawdownRearm = CircuitBreakers.DrawdownRearm.MANUAL;

    @Option(
            names = "--drawdown-cooldown-days",
            description = "Days halted before a COOLDOWN re-arm (default: ${DEFAULT-VALUE}).")
    double drawdownCooldownDays = 30;

    @Option(names = "--no-circuit-breakers", description = "Run without circuit breakers.")
    boolean noBreakers;

    @Option(
            names = "--threads",
            paramLabel = "N",
            description =
                    "Threads for the work that does not depend on the accounts (every source"
                            + " fitted per fold and forecasting the fold's test bars), the account"
                            + " pass's own thread included; 1 runs everything in sequence. The"
                            + " report is the same whatever N (default: the machine's cores).")
    Integer threads;

    /**
     * The threads of {@code --threads}, or the cores.
     *
     * @throws IllegalArgumentException if {@code --threads} is below 1
     */
    int threads() {
        if (threads == null) {
            return Runtime.getRuntime().availableProcessors();
        }
        if (threads < 1) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] --threads must be >= 1, was " + threads);
        }
        return threads;
    }

    /**
     * The progress display of {@code --progress} on standard error. Circuit-breaker state changes
     * are no longer logged one INFO line each (hundreds in a long run drowned the progress): they
     * are in the report ({@code circuit_breaker_events}) and the text report prints their count. A
     * user who wants the lines back sets {@code
     * -Dorg.slf4j.simpleLogger.log.dev.quiver.engine.risk.CircuitBreakers=info} in {@code
     * JAVA_OPTS}.
     */
    TerminalProgress progress() {
        TerminalProgress.Mode mode = TerminalProgress.Mode.parse(progress);
        String key = "org.slf4j.simpleLogger.log." + CircuitBreakers.class.getName();
        if (System.getProperty(key) == null) {
            // slf4j-simple reads a logger's level when the logger is made; the engine's breakers
            // make theirs when the class is first used, which is after this in a CLI run.
            System.setProperty(key, "warn");
        }
        return TerminalProgress.open(mode, System.err);
    }

    /**
     * Warns on {@code stderr} for every series whose costs look wrong for its data ({@link
     * CostCheck}).
     */
    void checkCosts(List<BarData> series, PrintWriter stderr) {
        CostModel costs = new CostModel(feeBps, slippageBps);
        for (BarData bars : series) {
            CostCheck check = CostCheck.of(bars, costs);
            if (check.suspicious()) {
                stderr.println(check.message());
            }
        }
        stderr.flush();
    }

    /** The walk-forward configuration of these options. */
    WalkForwardBacktest.Config config() {
        var defaults = WalkForwardBacktest.Config.defaults();
        return new WalkForwardBacktest.Config(
                trainBars,
                embargoBars,
                testBars,
                defaults.initialEquity(),
                new CostModel(feeBps, slippageBps),
                maxPosition,
                defaults.rebalanceBand(),
                defaults.payoffWindowBars(),
                new Stops(stopLossAtr, takeProfitAtr, trailingAtr),
                noBreakers
                        ? null
                        : new CircuitBreakers.Config(
                                maxDrawdown,
                                dailyLoss,
                                minHitRate,
                                hitRateWindow,
                                drawdownCooldownDays,
                                drawdownRearm));
    }

    /** The series of --data (each file) or --dataset (one, a list, or all). */
    List<BarData> series(BadBarPolicy policy, PrintWriter stderr) {
        List<BarData> series = new ArrayList<>();
        if (!data.isEmpty()) {
            for (Path file : data) {
                if (policy == BadBarPolicy.QUARANTINE) {
                    series.add(audited(file, stderr));
                    continue;
                }
                var result = new BarCsvReader(policy).read(file, stem(file));
                if (!result.skipped().isEmpty()) {
                    stderr.printf(
                            Locale.ROOT,
                            "%s: skipped %d malformed row(s) (--on-bad-bar=skip), first: %s%n",
                            file,
                            result.skipped().size(),
                            result.skipped().get(0).getMessage());
                }
                series.add(result.data());
            }
        } else if (dataset.equals("all")) {
            for (BundledData d : BundledData.values()) {
                series.add(d.load());
            }
        } else {
            for (String id : dataset.split(",", -1)) {
                BundledData d =
                        BundledData.byId(id.trim())
                                .orElseThrow(
                                        () ->
                                                new QuiverInputException(
                                                        "BAD_OPTION",
                                                        "--dataset",
                                                        "command line",
                                                        dataset,
                                                        "'"
                                                                + id
                                                                + "' is not one of "
                                                                + BundledData.ids()
                                                                + " or all"));
                series.add(d.load());
            }
        }
        return series;
    }

    /** Reads one file under the audit (RELIABILITY.md P13), writes its quarantine, says counts. */
    private BarData audited(Path file, PrintWriter stderr) {
        BarAudit.GapFill fill =
                switch (fillGaps) {
                    case "none" -> BarAudit.GapFill.NONE;
                    case "previous-close" -> BarAudit.GapFill.PREVIOUS_CLOSE;
                    default ->
                            throw new QuiverInputException(
                                    "BAD_OPTION",
                                    "--fill-gaps",
                                    "command line",
                                    fillGaps,
                                    "is not one of none, previous-close");
                };
        if (maxGapBars < 1) {
            throw new QuiverInputException(
                    "BAD_OPTION", "--max-gap-bars", "command line", maxGapBars, "must be >= 1");
        }
        BarAudit.Result r =
                BarCsvReader.audit(
                        file, stem(file), new BarAudit.Rules(fill, maxGapBars, null, null, 2));
        Path quarantine = quarantineDir.resolve(file.getFileName() + ".quarantine.csv");
        try {
            java.nio.file.Files.createDirectories(quarantineDir);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(
                    "cannot create the quarantine folder " + quarantineDir + ": " + e, e);
        }
        r.writeQuarantine(quarantine);
        stderr.printf(
                Locale.ROOT,
                "%s: %d rows = %d accepted + %d repaired + %d quarantined (to %s); %d gap bar(s)"
                        + " filled; flagged %s%n",
                file,
                r.rows(),
                r.accepted(),
                r.repaired(),
                r.quarantined(),
                quarantine,
                r.filled(),
                r.countByReason());
        if (r.bars() == null) {
            throw new QuiverInputException(
                    "BAD_CSV",
                    "rows",
                    file.toString(),
                    r.accepted(),
                    "too few valid bars: at least 2 are needed");
        }
        return r.bars();
    }

    BadBarPolicy badBarPolicy() {
        return switch (onBadBar) {
            case "fail" -> BadBarPolicy.FAIL;
            case "skip" -> BadBarPolicy.SKIP;
            case "quarantine" -> BadBarPolicy.QUARANTINE;
            default ->
                    throw new QuiverInputException(
                            "BAD_OPTION",
                            "--on-bad-bar",
                            "command line",
                            onBadBar,
                            "is not one of fail, skip, quarantine");
        };
    }

    static String stem(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }
}
