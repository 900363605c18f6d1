package dev.quiver.host.rollout;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Where rollouts live on disk: one state file per rollout ({@code state/<id>.json}, a {@link
 * RolloutSnapshot}) and one append-only audit log ({@code audit.jsonl}) for all of them.
 *
 * <p>Durability: a state file is written to a temporary file in the same folder, forced to disk,
 * then renamed over the old one with {@code ATOMIC_MOVE} (POSIX {@code rename(2)}), and the folder
 * is forced so the rename itself survives a crash; a reader sees the old state or the new one,
 * never a torn file. An audit line is appended and forced ({@code fsync}) before the call returns,
 * so a transition the service acted on is on disk. A file system without atomic moves is refused
 * rather than silently written in place.
 *
 * <p>Thread-safe: writes are serialised.
 */
public final class RolloutStore {

    /** JSON of state files and audit lines: snake_case field names. */
    public static final ObjectMapper JSON =
            JsonMapper.builder()
                    .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                    .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                    .build();

    private final Path dir;
    private final Path stateDir;
    private final Path audit;

    /**
     * A store in a folder, created if missing.
     *
     * @param dir the folder
     * @throws UncheckedIOException if it cannot be created
     */
    public RolloutStore(Path dir) {
        this.dir = dir;
        this.stateDir = dir.resolve("state");
        this.audit = dir.resolve("audit.jsonl");
        try {
            Files.createDirectories(stateDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the rollouts folder " + stateDir, e);
        }
    }

    /**
     * The folder.
     *
     * @return the folder
     */
    public Path dir() {
        return dir;
    }

    /**
     * The audit log.
     *
     * @return {@code dir/audit.jsonl}
     */
    public Path auditLog() {
        return audit;
    }

    /**
     * Writes a rollout's state atomically.
     *
     * @param snapshot the state
     * @throws UncheckedIOException if it cannot be written (the previous state file is intact)
     */
    public synchronized void save(RolloutSnapshot snapshot) {
        String id = RolloutSpec.parse(snapshot.spec(), "snapshot", null).id();
        Path target = stateDir.resolve(id + ".json");
        Path tmp = stateDir.resolve("." + id + ".json.tmp");
        try {
            byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(snapshot);
            try (FileChannel ch =
                    FileChannel.open(
                            tmp,
                            StandardOpenOption.CREATE,
                            StandardOpenOption.WRITE,
                            StandardOpenOption.TRUNCATE_EXISTING)) {
                writeFully(ch, bytes);
                ch.force(true);
            }
            try {
                Files.move(
                        tmp,
                        target,
                        StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException(
                        "the file system of "
                                + stateDir
                                + " cannot rename atomically; rollout state needs it",
                        e);
            }
            forceDirectory(stateDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write rollout state " + target, e);
        }
    }

    /**
     * Reads every saved rollout.
     *
     * @return the snapshots, by id
     * @throws UncheckedIOException if a state file cannot be read or parsed (naming it)
     */
    public synchronized List<RolloutSnapshot> loadAll() {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(stateDir, "*.json")) {
            ds.forEach(files::add);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + stateDir, e);
        }
        files.sort(null);
        List<RolloutSnapshot> out = new ArrayList<>();
        for (Path f : files) {
            try {
                out.add(JSON.readValue(f.toFile(), RolloutSnapshot.class));
            } catch (IOException e) {
                throw new UncheckedIOException(
                        "cannot read rollout state " + f + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    /**
     * Appends one event to the audit log and forces it to disk.
     *
     * @param event a JSON-serialisable object (a {@link Transition} or a map)
     * @throws UncheckedIOException if it cannot be written
     */
    public synchronized void appendAudit(Object event) {
        try {
            byte[] line = (JSON.writeValueAsString(event) + "\n").getBytes(StandardCharsets.UTF_8);
            try (FileChannel ch =
                    FileChannel.open(
                            audit,
                            StandardOpenOption.CREATE,
                            StandardOpenOption.WRITE,
                            StandardOpenOption.APPEND)) {
                writeFully(ch, line);
                ch.force(true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to the rollout audit log " + audit, e);
        }
    }

    /**
     * The audit log's lines.
     *
     * @return lines, oldest first; empty if there is no log yet
     * @throws UncheckedIOException if it cannot be read
     */
    public synchronized List<String> auditLines() {
        if (!Files.exists(audit)) {
            return List.of();
        }
        try {
            return Files.readAllLines(audit, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + audit, e);
        }
    }

    private static void writeFully(FileChannel ch, byte[] bytes) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /** Forces a folder's entries (the rename) to disk; a no-op where folders cannot be opened. */
    private static void forceDirectory(Path folder) throws IOException {
        try (FileChannel ch = FileChannel.open(folder, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (UnsupportedOperationException | java.nio.file.AccessDeniedException e) {
            // Windows cannot open a folder as a channel; its rename is durable on return.
        }
    }
}
