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
        description = Cli.DESCRIPTION,
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

    static final String DESCRIPTION =
            "Quiver: trading-signal capabilities as plugins, fused, sized and backtested.";

    /**
     * The root command when the first argument names a subcommand: only that subcommand is built.
     * Picocli inspects every command it is given (options, types, descriptions) by reflection; all
     * twelve with their own subcommands took 0.6-0.7 s of CPU on each start, a third of it when
     * only the one that runs is built (RELIABILITY.md P8: the restart of {@code quiver serve}).
     */
    @Command(
            name = "quiver",
            mixinStandardHelpOptions = true,
            versionProvider = Cli.Version.class,
            description = DESCRIPTION)
    static final class One implements Runnable {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(spec.commandLine().getOut());
        }
    }

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
        return commandLine(args).execute(args);
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
        CommandLine cl = commandLine(args);
        cl.setOut(out);
        cl.setErr(err);
        return cl.execute(args);
    }

    static CommandLine commandLine() {
        return handlingErrors(new CommandLine(new Cli()));
    }

    /**
     * The command line for these arguments: when the first names one of {@link Cli}'s subcommands,
     * a root with only that subcommand (the same options, help and errors below it); else the whole
     * command line ({@code quiver --help}, {@code --version}, a mistyped subcommand).
     */
    static CommandLine commandLine(String... args) {
        if (args.length > 0) {
            for (Class<?> sub : Cli.class.getAnnotation(Command.class).subcommands()) {
                Command c = sub.getAnnotation(Command.class);
                if (c != null
                        && (c.name().equals(args[0])
                                || java.util.Arrays.asList(c.aliases()).contains(args[0]))) {
                    CommandLine cl = new CommandLine(new One());
                    cl.addSubcommand(sub);
                    return handlingErrors(cl);
                }
            }
        }
        return commandLine();
    }

    private static CommandLine handlingErrors(CommandLine cl) {
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
