package dev.quiver.host.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code quiver bench}. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Not wired yet.")
final class BenchCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new UnsupportedOperationException("bench is not wired yet");
    }
}
