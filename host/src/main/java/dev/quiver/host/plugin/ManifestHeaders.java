package dev.quiver.host.plugin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.Manifest;
import java.util.zip.ZipFile;

/** Reads a plugin's manifest headers (zip, jar, or expanded folder), the way PF4J lays them out. */
public final class ManifestHeaders {

    private ManifestHeaders() {}

    /**
     * Why an archive cannot be a plugin, or {@code null} if it looks like one.
     *
     * @param archive a {@code .zip} or {@code .jar}
     * @return the problem, e.g. "it is not a zip archive", or null
     */
    static String problemWith(Path archive) {
        try {
            java.util.List<String> escapes = escapingEntries(archive);
            if (!escapes.isEmpty()) {
                return (escapes.size() == 1 ? "its entry '" : "its entries '")
                        + String.join("', '", escapes)
                        + "' would be written outside the plugin's folder (zip slip: an absolute"
                        + " path or '..'); nothing was extracted";
            }
            Map<String, String> headers = read(archive);
            if (headers.isEmpty()) {
                return "it has no manifest (classes/META-INF/MANIFEST.MF)";
            }
            if (!headers.containsKey("Plugin-Id")) {
                return "its manifest has no Plugin-Id";
            }
            return null;
        } catch (UncheckedIOException e) {
            return "it is not a readable zip archive (" + e.getCause().getMessage() + ")";
        }
    }

    /**
     * The entries whose name is absolute (also {@code C:...} or with backslashes) or climbs out
     * with {@code ..}, in archive order.
     */
    static java.util.List<String> escapingEntries(Path archive) {
        try (ZipFile zip = new ZipFile(archive.toFile())) {
            var out = new java.util.ArrayList<String>();
            var entries = zip.entries();
            while (entries.hasMoreElements()) {
                String name = entries.nextElement().getName();
                String n = name.replace('\\', '/');
                if (n.startsWith("/")
                        || n.matches("^[A-Za-z]:.*")
                        || java.util.Arrays.asList(n.split("/")).contains("..")) {
                    out.add(name);
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + archive, e);
        }
    }

    /**
     * A plugin's main manifest attributes ({@code classes/META-INF/MANIFEST.MF} in PF4J's zip
     * layout, else {@code META-INF/MANIFEST.MF}).
     *
     * @param plugin a zip, jar or expanded plugin folder
     * @return header name to value; empty if it has no manifest
     * @throws java.io.UncheckedIOException if it cannot be read
     */
    public static Map<String, String> read(Path plugin) {
        try {
            Manifest manifest;
            if (Files.isDirectory(plugin)) {
                Path mf = plugin.resolve("classes/META-INF/MANIFEST.MF");
                if (!Files.exists(mf)) {
                    mf = plugin.resolve("META-INF/MANIFEST.MF");
                }
                if (!Files.exists(mf)) {
                    return Map.of();
                }
                try (InputStream in = Files.newInputStream(mf)) {
                    manifest = new Manifest(in);
                }
            } else {
                try (ZipFile zip = new ZipFile(plugin.toFile())) {
                    var entry = zip.getEntry("classes/META-INF/MANIFEST.MF");
                    if (entry == null) {
                        entry = zip.getEntry("META-INF/MANIFEST.MF");
                    }
                    if (entry == null) {
                        return Map.of();
                    }
                    try (InputStream in = zip.getInputStream(entry)) {
                        manifest = new Manifest(in);
                    }
                }
            }
            var headers = new TreeMap<String, String>();
            manifest.getMainAttributes().forEach((k, v) -> headers.put(k.toString(), v.toString()));
            return headers;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the manifest of " + plugin, e);
        }
    }
}
