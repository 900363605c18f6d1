package dev.quiver.host.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Every alias move the host observed, append-only: one JSON object per line in {@code
 * ROOT/alias-history.jsonl} of the model cache, so a backtest can ask which version an alias named
 * at a past time.
 *
 * <pre>
 * {"observed_at": "2026-11-27T10:00:03.120Z", "model": "quiver-lstm", "alias": "champion",
 *  "from": "2", "to": "3"}
 * </pre>
 *
 * <p>{@code from} is the version the previous line for the same model and alias recorded (null on
 * the first observation). A move is recorded when it is seen (the registry keeps no alias history
 * of its own), whether or not the host then serves the new version: the record says where the alias
 * pointed, not what served. Times are the observer's clock; a move between two polls is seen up to
 * one poll interval late, and a move there and back between two polls is not seen at all.
 *
 * <p>Thread-safe within one process; lines are appended with one write each and never rewritten.
 */
public final class AliasHistory {

    /** File name inside the cache root. */
    public static final String FILE_NAME = "alias-history.jsonl";

    private final Path file;

    /**
     * The history of a model cache.
     *
     * @param cacheRoot the cache (or local model directory) root
     */
    public AliasHistory(Path cacheRoot) {
        this.file = cacheRoot.toAbsolutePath().normalize().resolve(FILE_NAME);
    }

    /**
     * One observed move.
     *
     * @param observedAt when the host saw the alias at {@code to}
     * @param model registered model name
     * @param alias alias
     * @param from previous version recorded for the alias, empty on the first observation
     * @param to the version it pointed at
     */
    public record Move(
            Instant observedAt, String model, String alias, Optional<String> from, String to) {}

    /**
     * The file.
     *
     * @return {@code ROOT/alias-history.jsonl}
     */
    public Path file() {
        return file;
    }

    /**
     * Records that the alias was seen at {@code version}, if that differs from the last record.
     *
     * @param model registered model name
     * @param alias alias
     * @param version the version seen
     * @param observedAt when
     * @return the move recorded, or empty if the alias was already recorded at that version
     * @throws UncheckedIOException if the file cannot be read or appended to
     */
    public synchronized Optional<Move> observe(
            String model, String alias, String version, Instant observedAt) {
        Optional<String> last = latest(model, alias).map(Move::to);
        if (last.isPresent() && last.get().equals(version)) {
            return Optional.empty();
        }
        Move move = new Move(observedAt, model, alias, last, version);
        ObjectNode line = ModelStore.JSON.createObjectNode();
        line.put("observed_at", observedAt.toString());
        line.put("model", model);
        line.put("alias", alias);
        if (last.isPresent()) {
            line.put("from", last.get());
        } else {
            line.putNull("from");
        }
        line.put("to", version);
        try {
            Files.createDirectories(file.getParent());
            Files.write(
                    file,
                    (line + "\n").getBytes(StandardCharsets.UTF_8),
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND,
                    StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + file, e);
        }
        return Optional.of(move);
    }

    /**
     * Every move recorded, oldest first.
     *
     * @return the moves
     * @throws IllegalStateException naming the file and line if a line is not a valid record
     */
    public synchronized List<Move> moves() {
        if (!Files.isRegularFile(file)) {
            return List.of();
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        List<Move> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.isBlank()) {
                continue;
            }
            try {
                JsonNode n = ModelStore.JSON.readTree(l);
                JsonNode from = n.path("from");
                out.add(
                        new Move(
                                Instant.parse(n.path("observed_at").asText()),
                                n.path("model").asText(),
                                n.path("alias").asText(),
                                from.isNull() || from.isMissingNode()
                                        ? Optional.empty()
                                        : Optional.of(from.asText()),
                                n.path("to").asText()));
            } catch (IOException | RuntimeException e) {
                throw new IllegalStateException(
                        "[Quiver/BAD_ALIAS_HISTORY] "
                                + file
                                + " line "
                                + (i + 1)
                                + " is not a move record: "
                                + e.getMessage(),
                        e);
            }
        }
        return out;
    }

    /**
     * The last move recorded for an alias.
     *
     * @param model registered model name
     * @param alias alias
     * @return the move, or empty if the alias was never observed
     */
    public Optional<Move> latest(String model, String alias) {
        Move found = null;
        for (Move m : moves()) {
            if (m.model().equals(model) && m.alias().equals(alias)) {
                found = m;
            }
        }
        return Optional.ofNullable(found);
    }

    /**
     * Where an alias pointed at a time, as observed: the last move recorded at or before {@code
     * at}.
     *
     * @param model registered model name
     * @param alias alias
     * @param at the time asked about
     * @return the move in force at {@code at}, or empty if the alias had not been observed by then
     */
    public Optional<Move> asOf(String model, String alias, Instant at) {
        Move found = null;
        for (Move m : moves()) {
            if (m.model().equals(model) && m.alias().equals(alias) && !m.observedAt().isAfter(at)) {
                found = m;
            }
        }
        return Optional.ofNullable(found);
    }
}
