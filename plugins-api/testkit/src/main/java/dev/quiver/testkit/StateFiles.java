package dev.quiver.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.quiver.api.CapabilityDescriptor;
import dev.quiver.api.feature.FeatureFrame;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;

/** What the state round-trip tests of the contracts share: temp folders, file checks, probes. */
final class StateFiles {

    /** Extensions of executable or Java-serialised formats, never allowed in a state export. */
    static final List<String> FORBIDDEN_EXTENSIONS =
            List.of(".ser", ".pkl", ".pickle", ".joblib", ".class", ".jar");

    private StateFiles() {}

    /** A new, empty temp folder. */
    static Path tempDir() {
        try {
            return Files.createTempDirectory("quiver-state-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temp folder for a state export", e);
        }
    }

    /** Deletes a temp folder and what is in it. */
    static void delete(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the temp folder " + dir, e);
        }
    }

    /**
     * Checks an export: at least one file, the first {@code <name>.state.json}, every file written
     * directly in {@code dir}, non-empty, named {@code <name>.*}, in no executable or serialised
     * format; the state file names the capability and its version.
     */
    static void checkExport(List<java.nio.file.Path> files, Path dir, CapabilityDescriptor d) {
        String what = "exportState of '" + d.name() + "'";
        assertThat(files).as("%s: files written", what).isNotEmpty();
        assertThat(files.get(0).getFileName().toString())
                .as("%s: the first file is the JSON state file", what)
                .isEqualTo(d.name() + ".state.json");
        for (Path f : files) {
            assertThat(f.toAbsolutePath().normalize().getParent())
                    .as("%s: %s is written directly in the folder", what, f)
                    .isEqualTo(dir.toAbsolutePath().normalize());
            assertThat(f).as("%s: %s", what, f).isRegularFile();
            String name = f.getFileName().toString();
            assertThat(name)
                    .as("%s: %s is named after the capability", what, f)
                    .startsWith(d.name() + ".");
            assertThat(FORBIDDEN_EXTENSIONS)
                    .as("%s: %s is in a non-executable format", what, f)
                    .noneMatch(name::endsWith);
            assertThat(size(f)).as("%s: %s is not empty", what, f).isPositive();
        }
        String state = read(files.get(0));
        assertThat(state)
                .as("%s: the state file records the capability's name and version", what)
                .contains(d.name())
                .contains(d.version());
    }

    /**
     * Copies an export into a new temp folder with file {@code which} truncated to half its bytes.
     *
     * @return the new folder
     */
    static Path copyWithTruncated(List<Path> files, int which) {
        Path dir = tempDir();
        try {
            for (int i = 0; i < files.size(); i++) {
                byte[] bytes = Files.readAllBytes(files.get(i));
                Path to = dir.resolve(files.get(i).getFileName().toString());
                Files.write(
                        to, i == which ? java.util.Arrays.copyOf(bytes, bytes.length / 2) : bytes);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy the export " + files, e);
        }
        return dir;
    }

    /**
     * What a call gave: its value, or the exception it threw as text, so that two instances can be
     * compared on inputs one of them declines.
     */
    static Object outcome(Supplier<?> call) {
        try {
            return call.get();
        } catch (RuntimeException e) {
            return "threw " + e.getClass().getName() + ": " + e.getMessage();
        }
    }

    /** Every frame of the fixture, oldest first, one chain (as the host builds them). */
    static List<FeatureFrame> frames(FixtureSeries fx) {
        var out = new ArrayList<FeatureFrame>(fx.size());
        for (FeatureFrame f = fx.frame(fx.size() - 1); f != null; f = f.previous()) {
            out.add(f);
        }
        Collections.reverse(out);
        return out;
    }

    private static long size(Path f) {
        try {
            return Files.size(f);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the size of " + f, e);
        }
    }

    private static String read(Path f) {
        try {
            return Files.readString(f, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f, e);
        }
    }
}
