package dev.quiver.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.management.UnixOperatingSystemMXBean;
import dev.quiver.api.feature.FeatureFrame;
import dev.quiver.api.prediction.PredictionCapability;
import dev.quiver.engine.feature.FeatureMatrix;
import dev.quiver.engine.feature.FeaturePipeline;
import dev.quiver.host.data.BundledData;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Release after unload (RELIABILITY.md P3): the pure-Java template plugin is reloaded 200 times
 * through {@link PluginRuntime#apply} (new version in a PF4J manager of its own, old one retired);
 * every old class loader must be collected and the process's open file descriptors must come back
 * to where they were.
 */
class ReloadLeakIT {

    static final int RELOADS = 200;
    static final int CALLS_PER_LOAD = 100;

    /**
     * Open descriptors allowed above the baseline after the reloads: the JDK opens a few on its own
     * (e.g. a jar of the class path read lazily, the GC log or JIT files); a leak of one per reload
     * would show as 200.
     */
    static final int FD_TOLERANCE = 3;

    /**
     * Metaspace growth allowed from reload 20 to reload 200 (RELIABILITY.md P3): one template
     * version's classes take tens of kB, so 180 leaked versions would pass it.
     */
    static final long METASPACE_TOLERANCE_BYTES = 5_000_000;

    /** Full collections attempted before a class loader still reachable counts as leaked. */
    static final int GC_ATTEMPTS = 20;

    @TempDir Path dir;

    @Test
    void twoHundredReloadsLeaveNoClassLoaderAndNoFileBehind() throws IOException {
        FeatureMatrix features =
                FeaturePipeline.compute(BundledData.BTC_USD_4H.load().truncate(400));
        Path zip = dir.resolve("momentum.zip");
        Path v1 = dir.resolve(".v1");
        Path v2 = dir.resolve(".v2");
        LivePlugins.template("1.0.0", v1);
        LivePlugins.template("1.0.1", v2);
        Files.copy(v1, zip);

        var retired = new ArrayList<WeakReference<ClassLoader>>();
        long baselineFds = -1;
        long metaspaceAt20 = -1;
        try (var runtime = PluginRuntime.start(dir, Map.of())) {
            assertThat(runtime.plugins()).hasSize(1);
            for (int i = 1; i <= RELOADS; i++) {
                retired.addAll(reload(runtime, zip, i % 2 == 1 ? v2 : v1, features));
                if (i == 20) {
                    // Baseline once the JDK and PF4J have opened what they keep open for good.
                    collect(retired);
                    baselineFds = openFds();
                    metaspaceAt20 = metaspaceBytes();
                }
            }
            assertThat(retired).hasSize(RELOADS);
            int leaked = collect(retired);
            for (int i = 0; i < retired.size(); i++) {
                if (retired.get(i).get() != null) {
                    System.out.println(
                            "ReloadLeakIT: still reachable: the loader retired by reload "
                                    + (i + 1));
                }
            }
            long fds = openFds();
            long metaspace = metaspaceBytes();
            System.out.printf(
                    "ReloadLeakIT: %d reloads, %d class loaders still reachable after %d GCs; open"
                            + " fds %d after reload 20, %d after reload %d; metaspace %+.1f MB"
                            + " from reload 20 to %d%n",
                    RELOADS,
                    leaked,
                    GC_ATTEMPTS,
                    baselineFds,
                    fds,
                    RELOADS,
                    (metaspace - metaspaceAt20) / 1e6,
                    RELOADS);
            assertThat(leaked)
                    .as("class loaders of retired plugin versions still reachable")
                    .isZero();
            assertThat(fds)
                    .as("open file descriptors after %d reloads vs after 20", RELOADS)
                    .isLessThanOrEqualTo(baselineFds + FD_TOLERANCE);
            // RELIABILITY.md P3: the classes of 180 retired versions must not pile up.
            assertThat(metaspace - metaspaceAt20)
                    .as("Metaspace growth from reload 20 to %d, bytes", RELOADS)
                    .isLessThan(METASPACE_TOLERANCE_BYTES);
            // Every expansion of a retired version was deleted: only the running one is staged.
            try (var staged = Files.list(runtime.stagingDir())) {
                assertThat(staged.toList()).hasSize(1);
            }
            assertThat(runtime.plugins())
                    .extracting(LoadedPlugin::version)
                    .containsExactly("1.0.0");
        }
    }

    /**
     * One reload: the other version copied over the archive, applied, called, the old one retired.
     * A method of its own, so no local of the caller's frame keeps the last version reachable.
     *
     * @return the class loader of the version retired
     */
    private static List<WeakReference<ClassLoader>> reload(
            PluginRuntime runtime, Path zip, Path next, FeatureMatrix features) throws IOException {
        Files.copy(next, zip, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        PluginTransition t = runtime.apply(Map.of(zip, LivePlugins.sha(zip)), Set.of());
        String version = next.getFileName().toString().equals(".v2") ? "1.0.1" : "1.0.0";
        assertThat(t.added())
                .singleElement()
                .satisfies(p -> assertThat(p.version()).isEqualTo(version));
        PredictionCapability p = t.addedPredictions().get(0);
        for (int c = 0; c < CALLS_PER_LOAD; c++) {
            FeatureFrame frame = features.frame(399 - c);
            assertThat(p.forecast(frame).probabilityUp()).isBetween(0.0, 1.0);
        }
        t.retire();
        return t.retiredClassLoaders();
    }

    /**
     * Runs full collections until every reference is cleared, at most {@link #GC_ATTEMPTS} times.
     *
     * @return references still set
     */
    static int collect(List<WeakReference<ClassLoader>> refs) {
        for (int attempt = 0; attempt < GC_ATTEMPTS && !allCleared(refs); attempt++) {
            System.gc();
        }
        return (int) refs.stream().filter(r -> r.get() != null).count();
    }

    private static boolean allCleared(List<WeakReference<ClassLoader>> refs) {
        return refs.stream().allMatch(r -> r.get() == null);
    }

    static long openFds() {
        return ((UnixOperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getOpenFileDescriptorCount();
    }

    private static long metaspaceBytes() {
        return ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getName().equals("Metaspace"))
                .mapToLong(p -> p.getUsage().getUsed())
                .sum();
    }
}
