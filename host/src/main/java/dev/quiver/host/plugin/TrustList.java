package dev.quiver.host.plugin;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * The plugin allow-list: a text file of the sha256s of plugin archives the operator trusts ({@code
 * QUIVER_HOME/config/trusted-plugins} by default), managed by {@code quiver plugins
 * trust|untrust|list}. One archive a line: {@code <sha256> <plugin-id> <plugin-version>
 * <file-name>}; lines starting with {@code #} are comments. Only the sha256 decides; the other
 * fields say what was trusted (and let a refusal say "this plugin is trusted, but as another
 * build").
 *
 * <p>Changes are written to a temporary file and moved into place under a lock, so a reader never
 * sees half a list and two writers never lose each other's entry.
 */
public final class TrustList {

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private static final String HEADER =
            "# Quiver trusted plugins (RELIABILITY.md P5): <sha256> <plugin-id> <plugin-version>"
                    + " <file-name>\n"
                    + "# Managed by `quiver plugins trust|untrust|list`; see docs/plugin-trust.md.\n";

    /**
     * One trusted archive.
     *
     * @param sha256 the archive's sha256, 64 lower-case hex digits
     * @param pluginId its {@code Plugin-Id} when it was trusted ({@code -} if unknown)
     * @param version its {@code Plugin-Version} when it was trusted ({@code -} if unknown)
     * @param fileName its file name when it was trusted
     */
    public record Entry(String sha256, String pluginId, String version, String fileName) {

        /**
         * Validates the fields.
         *
         * @throws IllegalArgumentException if {@code sha256} is not 64 lower-case hex digits, or an
         *     id, version or file name is blank or holds a line break
         */
        public Entry {
            if (sha256 == null || !SHA256.matcher(sha256).matches()) {
                throw new IllegalArgumentException(
                        "[Quiver/BAD_TRUST_ENTRY] sha256 must be 64 lower-case hex digits, got '"
                                + sha256
                                + "'");
            }
            for (String field : new String[] {pluginId, version, fileName}) {
                if (field == null || field.isBlank() || field.contains("\n")) {
                    throw new IllegalArgumentException(
                            "[Quiver/BAD_TRUST_ENTRY] plugin id, version and file name must be one"
                                    + " non-blank line each, got '"
                                    + field
                                    + "'");
                }
            }
        }

        String line() {
            return sha256
                    + " "
                    + pluginId.replace(' ', '_')
                    + " "
                    + version.replace(' ', '_')
                    + " "
                    + fileName;
        }
    }

    private TrustList() {}

    /**
     * Whether a text is a sha256 as the list writes it.
     *
     * @param text any text
     * @return true for 64 hex digits (either case)
     */
    public static boolean isSha256(String text) {
        return text != null && SHA256.matcher(text.toLowerCase(Locale.ROOT)).matches();
    }

    /**
     * The entries of a list.
     *
     * @param file the list; a missing file is an empty list
     * @return the entries in file order
     * @throws UncheckedIOException if the file exists and cannot be read
     * @throws IllegalArgumentException if a line is not an entry, naming the file and line
     */
    public static List<Entry> read(Path file) {
        if (!Files.exists(file)) {
            return List.of();
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the plugin trust list " + file, e);
        }
        var out = new ArrayList<Entry>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\\s+", 4);
            try {
                out.add(
                        new Entry(
                                f[0].toLowerCase(Locale.ROOT),
                                f.length > 1 ? f[1] : "-",
                                f.length > 2 ? f[2] : "-",
                                f.length > 3 ? f[3] : "-"));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        "[Quiver/BAD_TRUST_LIST] "
                                + file
                                + " line "
                                + (i + 1)
                                + " is not '<sha256> <plugin-id> <version> <file-name>': "
                                + e.getMessage(),
                        e);
            }
        }
        return List.copyOf(out);
    }

    /**
     * Adds an entry unless its sha256 is already listed.
     *
     * @param file the list (created with its folder if missing)
     * @param entry the archive to trust
     * @return true if added, false if that sha256 was already trusted
     * @throws UncheckedIOException if the list cannot be written
     */
    public static boolean add(Path file, Entry entry) {
        return update(
                file,
                entries -> {
                    if (entries.stream().anyMatch(e -> e.sha256().equals(entry.sha256()))) {
                        return false;
                    }
                    entries.add(entry);
                    return true;
                });
    }

    /**
     * Removes every entry that matches.
     *
     * @param file the list
     * @param match which entries to remove
     * @return the removed entries (empty if none matched)
     * @throws UncheckedIOException if the list cannot be written
     */
    public static List<Entry> remove(Path file, Predicate<Entry> match) {
        var removed = new ArrayList<Entry>();
        update(
                file,
                entries -> {
                    entries.removeIf(
                            e -> {
                                if (match.test(e)) {
                                    removed.add(e);
                                    return true;
                                }
                                return false;
                            });
                    return !removed.isEmpty();
                });
        return removed;
    }

    private interface Change {
        boolean apply(List<Entry> entries);
    }

    // One writer per JVM too: a second FileChannel.lock in the same JVM would throw.
    private static synchronized boolean update(Path file, Change change) {
        Path abs = file.toAbsolutePath();
        try {
            Files.createDirectories(abs.getParent());
            Path lockFile = abs.resolveSibling("." + abs.getFileName() + ".lock");
            try (FileChannel ch =
                            FileChannel.open(
                                    lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    FileLock lock = ch.lock()) {
                assert lock.isValid();
                var entries = new ArrayList<>(read(abs));
                if (!change.apply(entries)) {
                    return false;
                }
                var text = new StringBuilder(HEADER);
                entries.forEach(e -> text.append(e.line()).append('\n'));
                Path tmp = Files.createTempFile(abs.getParent(), "." + abs.getFileName(), ".tmp");
                Files.writeString(tmp, text, StandardCharsets.UTF_8);
                Files.move(
                        tmp,
                        abs,
                        StandardCopyOption.REPLACE_EXISTING,
                        StandardCopyOption.ATOMIC_MOVE);
                return true;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the plugin trust list " + abs, e);
        }
    }
}
