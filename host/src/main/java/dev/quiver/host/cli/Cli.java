package dev.quiver.host.cli;

import dev.quiver.api.QuiverApi;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.host.strategy.StrategyRefusedException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code quiver} command line: one subcommand per job. */
@Command(
        name = "quiver",
        mixinStandardHelpOptions = true,
        versionProvider = Cli.Version.class,
        description =
                "Quiver: trading-signal capabilities as plugins, fused, sized and backtested.",
        subcommands = {
            BacktestCommand.class,
            BenchCommand.class,
            FeaturesCommand.class,
            LookaheadCommand.class,
            HaltCommand.Halt.class,
            HaltCommand.Resume.class,
            ModelsCommand.class,
            PluginsCommand.class,
            RolloutCommand.class,
            ServeCommand.class,
            StrategyCommand.class,
            TrainingCommand.class
        })
public final class Cli implements Runnable {

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * Runs the command line.
     *
     * @param args arguments
     * @return exit code: 0 ok, 1 failure, 2 bad input or usage
     */
    public static int execute(String... args) {
        return commandLine().execute(args);
    }

    /**
     * Runs the command line with its output and error text going to the given writers (usage,
     * reports, error messages, warnings); progress lines still go to {@code System.err}.
     *
     * @param out standard output
     * @param err error output
     * @param args arguments
     * @return exit code: 0 ok, 1 failure, 2 bad input or usage
     */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cl = commandLine();
        cl.setOut(out);
        cl.setErr(err);
        return cl.execute(args);
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Cli());
        cl.setExecutionExceptionHandler(
                (e, commandLine, parseResult) -> {
                    PrintWriter err = commandLine.getErr();
                    if (e instanceof QuiverInputException
                            || e instanceof IllegalArgumentException
                            || e instanceof StrategyRefusedException
                            || e instanceof dev.quiver.host.registry.ModelRefusedException) {
                        // The message names what was wrong and where; a stack trace adds nothing.
                        err.println(e.getMessage());
                        err.flush();
                        return 2;
                    }
                    throw e;
                });
        return cl;
    }

    /** Version line: host version and the plugins-api version plugins are checked against. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String host = Cli.class.getPackage().getImplementationVersion();
            return new String[] {
                "quiver host "
                        + (host == null ? "dev" : host)
                        + ", plugins-api "
                        + QuiverApi.VERSION
            };
        }
    }
}
