package dev.quiver.host.plugin;

import java.io.IOException;
import java.nio.file.Path;

/** {@link LivePlugins}' one-class test plugin zips, for tests outside this package. */
public final class TestPluginZips {

    private TestPluginZips() {}

    /**
     * A trusted plugin zip holding one class of the test class path.
     *
     * @see LivePlugins#oneClass
     */
    public static void oneClass(
            Path target, String id, String version, String provides, String className)
            throws IOException {
        LivePlugins.oneClass(target, id, version, provides, className);
    }
}
