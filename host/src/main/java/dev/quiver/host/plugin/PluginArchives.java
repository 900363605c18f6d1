package dev.quiver.host.plugin;

import dev.quiver.capabilities.CapabilityHeaders;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.pf4j.PluginDescriptor;
import org.pf4j.PluginWrapper;

/**
 * The archives of a plugins folder and what their manifests say, read before and beside PF4J: which
 * files are archives, what the runtime saw of each (size, time, sha256), which cannot be read or
 * sit on a dependency cycle (refused before PF4J sees them), and a loaded plugin's capability
 * headers.
 */
final class PluginArchives {

    /** Size, modification time and sha256 of an archive the runtime has considered. */
    record ArchiveStamp(long sizeBytes, FileTime modified, Object fileKey, String sha256) {}

    private PluginArchives() {}

    /** A {@code .zip} or {@code .jar} file directly in the plugins folder, not hidden. */
    static boolean isArchive(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return !name.startsWith(".")
                && (name.endsWith(".zip") || name.endsWith(".jar"))
                && Files.isRegularFile(file);
    }

    /**
     * The archive in the plugins folder a plugin path stands for: the path itself for a zip or jar,
     * {@code x.zip} for PF4J's expansion {@code x/}, else the folder (an expanded plugin).
     */
    static Path archiveOf(Path pluginPath) {
        if (Files.isRegularFile(pluginPath)) {
            return pluginPath;
        }
        Path zip = pluginPath.resolveSibling(pluginPath.getFileName() + ".zip");
        return Files.isRegularFile(zip) ? zip : pluginPath;
    }

    /**
     * Size, time and file key of an archive, with the sha256 of {@code content} (the archive
     * itself, or the staged copy that is loaded: the archive may change again meanwhile).
     */
    static ArchiveStamp stamp(Path archive, Path content) throws IOException {
        var a = Files.readAttributes(archive, BasicFileAttributes.class);
        return new ArchiveStamp(
                Files.size(content),
                a.lastModifiedTime(),
                a.fileKey(),
                ExpandedZips.sha256(content));
    }

    /** What resolution needs of a loaded plugin: id, version and its capability headers. */
    static CapabilityResolver.Candidate candidateOf(PluginWrapper plugin) {
        PluginDescriptor d = plugin.getDescriptor();
        Map<String, String> headers = ManifestHeaders.read(plugin.getPluginPath());
        return new CapabilityResolver.Candidate(
                d.getPluginId(),
                d.getVersion(),
                plugin.getPluginPath(),
                headers.get(CapabilityHeaders.PROVIDE),
                headers.get(CapabilityHeaders.REQUIRE));
    }

    /**
     * PF4J expands zips before loading and only logs an archive it cannot open; find those first so
     * each is reported as a refusal. Records what was seen of every archive in {@code archives}.
     */
    static List<PluginRefusal> unreadable(Path root, Map<Path, ArchiveStamp> archives) {
        var out = new ArrayList<PluginRefusal>();
        try (var files = Files.list(root)) {
            List<Path> list = files.sorted().filter(PluginArchives::isArchive).toList();
            // The archives' sha256 on every core: the distribution's zips are about 370 MB, a
            // second of hashing on one core at every start.
            List<ArchiveStamp> stamps =
                    list.parallelStream()
                            .map(
                                    file -> {
                                        try {
                                            return stamp(file, file);
                                        } catch (IOException e) {
                                            throw new UncheckedIOException(e);
                                        }
                                    })
                            .toList();
            for (int i = 0; i < list.size(); i++) {
                Path file = list.get(i);
                archives.put(file, stamps.get(i));
                String problem = ManifestHeaders.problemWith(file);
                if (problem != null) {
                    out.add(QuiverPluginManager.unreadable(file, problem));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list plugins folder", e);
        } catch (UncheckedIOException e) {
            throw new UncheckedIOException("cannot list plugins folder", e.getCause());
        }
        return out;
    }

    /**
     * Plugins on a {@code Plugin-Dependencies} cycle, refused before PF4J sees them (its resolver
     * would otherwise throw and load nothing).
     */
    static List<PluginRefusal> dependencyCycles(Path root, Set<Path> excluded) {
        Map<String, List<String>> dependencies = new TreeMap<>();
        Map<String, Path> paths = new HashMap<>();
        try (var files = Files.list(root)) {
            for (Path file : files.sorted().toList()) {
                String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
                if (!Files.isRegularFile(file)
                        || !(name.endsWith(".zip") || name.endsWith(".jar"))
                        || excluded.contains(file)) {
                    continue;
                }
                Map<String, String> headers = ManifestHeaders.read(file);
                String id = headers.get("Plugin-Id");
                if (id == null || paths.containsKey(id)) {
                    continue; // PF4J refuses these itself (no id, duplicate id)
                }
                paths.put(id, file);
                dependencies.put(id, DependencyCycles.parse(headers.get("Plugin-Dependencies")));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list plugins folder", e);
        }
        var out = new ArrayList<PluginRefusal>();
        DependencyCycles.find(dependencies)
                .forEach((id, cycle) -> out.add(cycleRefusal(id, paths.get(id), cycle)));
        return out;
    }

    private static PluginRefusal cycleRefusal(String id, Path path, String cycle) {
        return new PluginRefusal(
                "DEPENDENCY_CYCLE",
                id,
                path,
                "[Quiver/DEPENDENCY_CYCLE] Plugin '"
                        + id
                        + "' ("
                        + path.getFileName()
                        + ") is on a Plugin-Dependencies cycle "
                        + cycle
                        + "; no load order exists, so every plugin on it is refused. Hint: move"
                        + " what they share into a third plugin, or express one side as a"
                        + " Require-Capability (capabilities may be mutual).");
    }
}
