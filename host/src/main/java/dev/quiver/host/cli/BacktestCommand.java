package dev.quiver.host.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code quiver backtest}. */
@Command(name = "backtest", mixinStandardHelpOptions = true, description = "Not wired yet.")
final class BacktestCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new UnsupportedOperationException("backtest is not wired yet");
    }
}
