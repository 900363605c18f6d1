package dev.quiver.host;

import dev.quiver.host.cli.Cli;

/** Entry point of {@code bin/quiver}. */
public final class QuiverMain {

    private QuiverMain() {}

    /**
     * Runs one command and exits with its code (0 ok, 1 failure, 2 bad input or usage).
     *
     * @param args command line, e.g. {@code backtest --data bars.csv}
     */
    public static void main(String[] args) {
        System.exit(Cli.execute(args));
    }
}
