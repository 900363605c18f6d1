package dev.quiver.plugins.gbm;

import dev.quiver.api.error.CapabilityException;
import io.github.metarank.lightgbm4j.LGBMBooster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Loads LightGBM's native libraries once per plugin class loader, each time into a folder of its
 * own.
 *
 * <p>lightgbm4j 4.3.0-1 extracts its libraries into {@code java.io.tmpdir} under fixed names
 * ({@code lib_lightgbm.so}) when {@link LGBMBooster} is initialised. A second class loader of this
 * plugin in the same JVM (a reload, a second runtime) would overwrite that file while the first
 * copy is mapped, which crashes the JVM on the next {@code dlopen}, and the JVM refuses to bind one
 * library path to two class loaders anyway. So each class loader initialises lightgbm4j with {@code
 * java.io.tmpdir} pointing, for that moment only, at a fresh folder of its own: the libraries land
 * at a path no other class loader uses.
 */
final class LightGbmNative {

    private static boolean loaded;

    private LightGbmNative() {}

    /**
     * Initialises lightgbm4j (and its native libraries) in this class loader if not yet done.
     *
     * @throws CapabilityException if the libraries do not load
     */
    static void ensureLoaded() {
        synchronized (LightGbmNative.class) {
            if (loaded) {
                return;
            }
            // One class loader at a time across the JVM: the property is global.
            synchronized (System.class) {
                String tmp = System.getProperty("java.io.tmpdir");
                try {
                    Path dir = Files.createTempDirectory("quiver-lightgbm-");
                    dir.toFile().deleteOnExit();
                    System.setProperty("java.io.tmpdir", dir.toString());
                    Class.forName(
                            LGBMBooster.class.getName(),
                            true,
                            LightGbmNative.class.getClassLoader());
                    LGBMBooster.loadNative();
                    try (var files = Files.list(dir)) {
                        // Registered after the folder, so deleted before it at exit.
                        files.forEach(f -> f.toFile().deleteOnExit());
                    }
                } catch (IOException | ClassNotFoundException | LinkageError e) {
                    throw new CapabilityException(
                            "lightgbm", "LightGBM native libraries did not load: " + e, e);
                } finally {
                    System.setProperty("java.io.tmpdir", tmp);
                }
            }
            if (!LGBMBooster.isNativeLoaded()) {
                throw new CapabilityException(
                        "lightgbm",
                        "LightGBM native libraries did not load in this class loader (see the"
                                + " lightgbm4j log line above)",
                        null);
            }
            loaded = true;
        }
    }
}
