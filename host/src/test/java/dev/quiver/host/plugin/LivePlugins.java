package dev.quiver.host.plugin;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Plugin zips for the live-lifecycle tests: the template in several versions, a throwing one. */
final class LivePlugins {

    static final Path TEST_PLUGINS = Path.of(System.getProperty("quiver.testPlugins"));
    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));

    /** The template plugin's id. */
    static final String TEMPLATE_ID = "prediction-momentum-template";

    private LivePlugins() {}

    /** The template plugin (pure Java, prediction {@code momentum}) at {@code version}. */
    static void template(String version, Path target) throws IOException {
        template(version, target, Map.of());
    }

    /** The template plugin at {@code version}, with further manifest headers. */
    static void template(String version, Path target, Map<String, String> headers)
            throws IOException {
        var all = new java.util.HashMap<>(headers);
        all.put("Plugin-Version", version);
        Path tmp = Files.createTempFile(target.getParent(), ".tmp-", ".zip");
        PluginRuntimeIT.rewriteManifest(
                TEST_PLUGINS.resolve("quiver-plugin-template-1.0.0.zip"), tmp, all);
        Trusting.trust(tmp); // trusted before it is dropped, as a user would
        // Renamed into place: a watcher never sees a half-written zip under the final name.
        Files.move(
                tmp,
                target,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** A plugin zip holding one class of the test class path, its index and manifest. */
    static void oneClass(Path target, String id, String version, String provides, String className)
            throws IOException {
        String classFile = className.replace('.', '/') + ".class";
        var mf = new Manifest();
        Attributes a = mf.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.put(new Attributes.Name("Plugin-Id"), id);
        a.put(new Attributes.Name("Plugin-Version"), version);
        a.put(new Attributes.Name("Plugin-Requires"), ">=1.0.0 & <2.0.0");
        a.put(new Attributes.Name("Provide-Capability"), provides);
        try (var zos = new ZipOutputStream(Files.newOutputStream(target))) {
            zos.putNextEntry(new ZipEntry("classes/META-INF/MANIFEST.MF"));
            mf.write(zos);
            zos.putNextEntry(new ZipEntry("classes/META-INF/extensions.idx"));
            zos.write((className + "\n").getBytes(StandardCharsets.UTF_8));
            zos.putNextEntry(new ZipEntry("classes/" + classFile));
            try (InputStream in = LivePlugins.class.getResourceAsStream("/" + classFile)) {
                in.transferTo(zos);
            }
            zos.closeEntry();
        }
        Trusting.trust(target);
    }

    /** The sha256 of a file, as the watcher computes it. */
    static String sha(Path file) throws IOException {
        return ExpandedZips.sha256(file);
    }
}
