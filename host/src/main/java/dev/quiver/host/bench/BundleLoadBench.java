package dev.quiver.host.bench;

import dev.quiver.host.plugin.PluginRuntime;
import dev.quiver.host.strategy.BundleLoader;
import dev.quiver.host.strategy.StrategyBundle;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Time to make a strategy bundle servable: {@link StrategyBundle#open} (manifest read, every file's
 * sha256 verified) and {@link BundleLoader#load} (compatibility check, fresh instances created by
 * their plugins, models and states restored), closing the instances after each run (not timed).
 */
public final class BundleLoadBench {

    /**
     * Milliseconds.
     *
     * @param runs timed loads
     * @param firstMs the first load in this JVM (class loading, native libraries, JIT cold)
     * @param p50Ms median of the loads after the first
     * @param minMs fastest load after the first
     */
    public record Result(int runs, double firstMs, double p50Ms, double minMs) {}

    private BundleLoadBench() {}

    /**
     * Loads the bundle {@code runs} times.
     *
     * @param dir the bundle folder
     * @param plugins started plugins the bundle was fitted with
     * @param runs loads, {@code >= 2}
     * @return figures
     */
    public static Result run(Path dir, PluginRuntime plugins, int runs) {
        long[] nanos = new long[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            BundleLoader.Loaded l = BundleLoader.load(StrategyBundle.open(dir), plugins);
            nanos[i] = System.nanoTime() - t0;
            l.close();
        }
        long[] rest = Arrays.copyOfRange(nanos, 1, runs);
        Arrays.sort(rest);
        return new Result(runs, nanos[0] / 1e6, rest[(rest.length - 1) / 2] / 1e6, rest[0] / 1e6);
    }
}
