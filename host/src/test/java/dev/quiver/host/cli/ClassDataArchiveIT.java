package dev.quiver.host.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution's class data sharing archive (RELIABILITY.md P8: restart within 10 s): the build
 * writes {@code lib/quiver.jsa} and {@code bin/quiver} starts with it; with an archive that does
 * not match (a changed jar, a damaged file) or none, it starts without it and says nothing on
 * stdout or stderr. Classes mapped from the archive are counted from the JVM's own class-loading
 * log ({@code -Xlog:class+load}, source {@code shared objects file (top)}).
 */
class ClassDataArchiveIT {

    static final Path DISTRIBUTION = Path.of(System.getProperty("quiver.distribution"));

    record Run(int exit, String out, String err, long fromArchive) {}

    @Test
    void theLauncherUsesTheBuiltArchiveAndStartsSilentlyWithoutAMatchingOne(@TempDir Path tmp)
            throws Exception {
        Path archive = DISTRIBUTION.resolve("lib/quiver.jsa");
        assertThat(archive)
                .as("written by the build (execution class-data-archive)")
                .isNotEmptyFile();
        Run plain = run(DISTRIBUTION, tmp.resolve("plain.log"), Map.of("QUIVER_CDS", "off"));
        Run shared = run(DISTRIBUTION, tmp.resolve("shared.log"), Map.of());
        assertThat(shared.fromArchive()).as("classes from the archive").isGreaterThan(500);
        assertThat(plain.fromArchive()).isZero();
        assertThat(shared.out()).isEqualTo(plain.out()).startsWith("quiver host");
        assertThat(shared.err()).isEqualTo(plain.err()).isEmpty();

        // A distribution whose jars are not those the archive was made from (here: links to the
        // same jars, one of them replaced by a copy, which has another modification time): the JVM
        // refuses the archive, and the launcher starts without it, silently.
        Path moved = Files.createDirectories(tmp.resolve("moved"));
        Files.createDirectories(moved.resolve("bin"));
        Files.copy(DISTRIBUTION.resolve("bin/quiver"), moved.resolve("bin/quiver"));
        Files.createDirectories(moved.resolve("lib"));
        List<Path> jars;
        try (Stream<Path> files = Files.list(DISTRIBUTION.resolve("lib"))) {
            jars = files.filter(f -> f.toString().endsWith(".jar")).toList();
        }
        Path smallest =
                jars.stream()
                        .min(java.util.Comparator.comparingLong(ClassDataArchiveIT::size))
                        .orElseThrow();
        for (Path jar : jars) {
            Path to = moved.resolve("lib").resolve(jar.getFileName());
            if (jar.equals(smallest)) {
                Files.copy(jar, to);
                Files.setLastModifiedTime(
                        to,
                        java.nio.file.attribute.FileTime.fromMillis(
                                Files.getLastModifiedTime(jar).toMillis() + 60_000));
            } else {
                Files.createSymbolicLink(to, jar);
            }
        }
        Files.copy(archive, moved.resolve("lib/quiver.jsa"));
        Run relocated = run(moved, tmp.resolve("moved.log"), Map.of());
        assertThat(relocated.out()).isEqualTo(plain.out());
        assertThat(relocated.err()).isEmpty();
        assertThat(relocated.fromArchive()).isZero();

        // A damaged archive: ignored, silently.
        Path jsa = moved.resolve("lib/quiver.jsa");
        jsa.toFile().setWritable(true);
        byte[] b = Files.readAllBytes(jsa);
        for (int i = 0; i < 4096; i++) {
            b[i] ^= 0x5A;
        }
        Files.write(jsa, b);
        Run damaged = run(moved, tmp.resolve("damaged.log"), Map.of());
        assertThat(damaged.out()).isEqualTo(plain.out());
        assertThat(damaged.err()).isEmpty();
        assertThat(damaged.fromArchive()).isZero();
        System.out.printf(
                "class data archive: %d classes from it on `quiver --version`; ignored silently"
                        + " with a changed jar (%d) or damaged (%d)%n",
                shared.fromArchive(), relocated.fromArchive(), damaged.fromArchive());
    }

    private static long size(Path f) {
        try {
            return Files.size(f);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Run run(Path dist, Path classLog, Map<String, String> env)
            throws IOException, InterruptedException {
        List<String> cmd =
                new ArrayList<>(List.of(dist.resolve("bin/quiver").toString(), "--version"));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().remove("QUIVER_CDS");
        pb.environment().put("JAVA_OPTS", "-Xlog:class+load=info:file=" + classLog);
        pb.environment().putAll(env);
        Path out = classLog.resolveSibling(classLog.getFileName() + ".out");
        Path err = classLog.resolveSibling(classLog.getFileName() + ".err");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        long shared;
        try (Stream<String> lines = Files.lines(classLog, StandardCharsets.UTF_8)) {
            shared = lines.filter(l -> l.contains("source: shared objects file (top)")).count();
        }
        Run r =
                new Run(
                        p.exitValue(),
                        Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8),
                        shared);
        assertThat(r.exit()).as(r.toString()).isZero();
        return r;
    }
}
