package dev.quiver.host.plugin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Keeps PF4J's expanded plugin folders in step with their zips by content, not by time.
 *
 * <p>PF4J expands {@code x.zip} into {@code x/} only when the zip is newer than the folder. Our
 * zips are reproducible (entry and file times fixed by {@code project.build.outputTimestamp}), so a
 * rebuilt or replaced zip can look older than a stale expansion and PF4J would run the old classes.
 * Each expansion is stamped with the sha256 of its zip; a mismatch removes the expansion so PF4J
 * expands the zip afresh.
 */
final class ExpandedZips {

    static final String STAMP = ".quiver-zip-sha256";

    private ExpandedZips() {}

    /**
     * Removes expansions whose zip changed (or that carry no stamp).
     *
     * @param pluginsDir the plugins folder
     * @param seen the archives of the folder as just read, with their sha256 ({@link
     *     PluginArchives#unreadable}); a zip still the same file, size and time is not read again
     *     (the distribution's LSTM plugin is 95 MB: each read was about a second of a start on the
     *     loaded CI machine)
     */
    static void dropStale(Path pluginsDir, Map<Path, PluginArchives.ArchiveStamp> seen) {
        for (Path zip : zips(pluginsDir)) {
            Path expanded = expansionOf(zip);
            if (!Files.isDirectory(expanded)) {
                continue;
            }
            try {
                Path stamp = expanded.resolve(STAMP);
                String recorded =
                        Files.exists(stamp) ? Files.readString(stamp, StandardCharsets.UTF_8) : "";
                if (!recorded.equals(sha256(zip, seen))) {
                    deleteTree(expanded);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot refresh the expansion of " + zip, e);
            }
        }
    }

    /**
     * Stamps every expansion with the sha256 of its zip.
     *
     * @param pluginsDir the plugins folder
     * @param seen as for {@link #dropStale}
     */
    static void markFresh(Path pluginsDir, Map<Path, PluginArchives.ArchiveStamp> seen) {
        for (Path zip : zips(pluginsDir)) {
            Path expanded = expansionOf(zip);
            if (Files.isDirectory(expanded)) {
                try {
                    Files.writeString(
                            expanded.resolve(STAMP), sha256(zip, seen), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot stamp " + expanded, e);
                }
            }
        }
    }

    private static List<Path> zips(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".zip"))
                    .filter(Files::isRegularFile)
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    private static Path expansionOf(Path zip) {
        String name = zip.getFileName().toString();
        return zip.resolveSibling(name.substring(0, name.length() - ".zip".length()));
    }

    /**
     * The sha256 of a zip: the one {@code seen} recorded if the file is still the same file (file
     * key) with the same size and modification time, else read afresh.
     */
    private static String sha256(Path zip, Map<Path, PluginArchives.ArchiveStamp> seen)
            throws IOException {
        PluginArchives.ArchiveStamp s = seen.get(zip);
        if (s != null) {
            var a = Files.readAttributes(zip, BasicFileAttributes.class);
            if (a.size() == s.sizeBytes()
                    && a.lastModifiedTime().equals(s.modified())
                    && Objects.equals(a.fileKey(), s.fileKey())) {
                return s.sha256();
            }
        }
        return sha256(zip);
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in =
                new DigestInputStream(
                        Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
