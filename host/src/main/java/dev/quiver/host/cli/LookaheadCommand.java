package dev.quiver.host.cli;

import dev.quiver.engine.market.BarData;
import dev.quiver.host.backtest.LookaheadCheck;
import dev.quiver.host.plugin.PluginRefusal;
import dev.quiver.host.plugin.PluginRuntime;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code quiver lookahead}: the look-ahead detector ({@link LookaheadCheck}) over every prediction
 * plugin in the plugins folder, on the series a backtest would run on. Exit code 0 when every
 * source gives the same signal on truncated history at every cut point and the fold layout keeps
 * the embargo; 1 when a source looks ahead (each named with its first differing bars).
 */
@Command(
        name = "lookahead",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Look-ahead check of every prediction plugin (after freqtrade's lookahead-analysis):"
                    + " fitted per walk-forward fold as a backtest fits it, each source forecasts"
                    + " every test bar on the whole series, then again at random cut points on the"
                    + " series truncated after the cut; any difference means the source used later"
                    + " bars. Also checks training end + embargo < first test bar for every fold."
                    + " Exit code 1 if a source looks ahead."
        })
final class LookaheadCommand extends WalkForwardOptions implements Callable<Integer> {

    @Option(
            names = "--cuts",
            defaultValue = "500",
            description = "Random cut points among the test bars (default: ${DEFAULT-VALUE}).")
    int cuts;

    @Option(
            names = "--seed",
            defaultValue = "1",
            description = "Seed of the cut points (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(
            names = "--show",
            defaultValue = "3",
            description = "Differing cut points printed per source (default: ${DEFAULT-VALUE}).")
    int show;

    @Mixin HostOptions host;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        var config = config();
        List<BarData> series = series(badBarPolicy(), stderr);
        boolean clean = true;
        try (PluginRuntime plugins =
                PluginRuntime.start(host.pluginsDir(), host.batchConfiguration())) {
            for (PluginRefusal r : plugins.refusals()) {
                stderr.println("warning: " + r.message());
            }
            for (BarData bars : series) {
                LookaheadCheck.Result r =
                        LookaheadCheck.run(bars, plugins.predictions(), config, cuts, seed);
                stdout.printf(
                        Locale.ROOT,
                        "%s: %d bars, %d folds, %d cut points (seed %d)%n",
                        r.series(),
                        bars.size(),
                        r.folds().size(),
                        r.cuts().size(),
                        seed);
                for (String problem : r.foldProblems()) {
                    stdout.println("  FOLD LAYOUT LEAKS: " + problem);
                }
                if (r.foldProblems().isEmpty()) {
                    stdout.printf(
                            Locale.ROOT,
                            "  folds: training end + embargo %d < first test bar in all %d%n",
                            config.embargoBars(),
                            r.folds().size());
                }
                for (LookaheadCheck.SourceResult s : r.sources()) {
                    if (!s.looksAhead()) {
                        stdout.printf(
                                Locale.ROOT,
                                "  %-24s ok: the same signal at %d of %d cut points%n",
                                s.source(),
                                s.cutsChecked(),
                                s.cutsChecked());
                        continue;
                    }
                    stdout.printf(
                            Locale.ROOT,
                            "  %-24s LOOKS AHEAD: %d of %d cut points differ%n",
                            s.source(),
                            s.mismatches().size(),
                            s.cutsChecked());
                    s.mismatches().stream()
                            .limit(Math.max(0, show))
                            .forEach(
                                    m ->
                                            stdout.printf(
                                                    Locale.ROOT,
                                                    "    bar %d (%s): full run %s; truncated %s%n",
                                                    m.bar(),
                                                    m.time(),
                                                    m.full(),
                                                    m.truncated()));
                }
                clean &= r.clean();
            }
        }
        stdout.flush();
        return clean ? 0 : 1;
    }
}
