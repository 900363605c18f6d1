package dev.quiver.host.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Expansions follow their zip's content, and the sha256 the folder scan read is reused only while
 * the zip is still the file that was read.
 */
class ExpandedZipsTest {

    @TempDir Path dir;

    static final FileTime SAME_TIME = FileTime.from(Instant.parse("1980-02-01T00:00:00Z"));

    Path zip(String content) throws Exception {
        Path zip = dir.resolve("p-1.0.0.zip");
        Files.writeString(zip, content, StandardCharsets.UTF_8);
        // Reproducible builds: every version of the zip carries the same time.
        Files.setLastModifiedTime(zip, SAME_TIME);
        return zip;
    }

    Path expansion() throws Exception {
        return Files.createDirectories(dir.resolve("p-1.0.0"));
    }

    Map<Path, PluginArchives.ArchiveStamp> scan(Path zip) throws Exception {
        var seen = new HashMap<Path, PluginArchives.ArchiveStamp>();
        seen.put(zip, PluginArchives.stamp(zip, zip));
        return seen;
    }

    @Test
    void anExpansionOfTheSameZipIsKeptAndOneOfAnotherIsDroppedThoughItLooksNewer()
            throws Exception {
        Path zip = zip("version one");
        Path expanded = expansion();
        ExpandedZips.markFresh(dir, scan(zip));
        assertThat(Files.readString(expanded.resolve(ExpandedZips.STAMP)))
                .isEqualTo(ExpandedZips.sha256(zip));

        ExpandedZips.dropStale(dir, scan(zip));
        assertThat(expanded).isDirectory();

        zip("version two");
        ExpandedZips.dropStale(dir, scan(zip));
        assertThat(expanded).doesNotExist();
    }

    @Test
    void aZipChangedAfterTheScanIsReadAgainNotTakenFromTheScan() throws Exception {
        Path zip = zip("version one");
        Path expanded = expansion();
        Map<Path, PluginArchives.ArchiveStamp> scannedBefore = scan(zip);
        ExpandedZips.markFresh(dir, scannedBefore);

        // Replaced after the scan: same name and time, other content and size.
        zip("version two, longer");
        ExpandedZips.dropStale(dir, scannedBefore);
        assertThat(expanded).as("stamped with the old zip's sha256").doesNotExist();

        Files.createDirectories(expanded);
        ExpandedZips.markFresh(dir, scannedBefore);
        assertThat(Files.readString(expanded.resolve(ExpandedZips.STAMP)))
                .as("the stamp is the sha256 of the zip now there")
                .isEqualTo(ExpandedZips.sha256(zip));
    }
}
