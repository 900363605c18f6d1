package dev.quiver.host.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.quiver.host.store.AliasMoveRow;
import dev.quiver.host.store.StateStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every alias move the host observed, append-only, in the state store (table {@code alias_moves};
 * {@code docs/state-store.md}), so a backtest can ask which version an alias named at a past time.
 *
 * <p>{@code from} is the version the previous move of the same model and alias recorded (empty on
 * the first observation). A move is recorded when it is seen (the registry keeps no alias history
 * of its own), whether or not the host then serves the new version: the record says where the alias
 * pointed, not what served. Times are the observer's clock, kept to the millisecond; a move between
 * two polls is seen up to one poll interval late, and a move there and back between two polls is
 * not seen at all.
 *
 * <p>Earlier versions kept the history in {@code alias-history.jsonl} in the model cache; {@link
 * #importFile} brings such a file into a store that has no alias moves yet, once.
 *
 * <p>Thread-safe; every move is committed before {@link #observe} returns.
 */
public final class AliasHistory {

    private static final Logger LOG = LoggerFactory.getLogger(AliasHistory.class);

    /** The file of earlier versions, inside the model cache root. */
    public static final String FILE_NAME = "alias-history.jsonl";

    /** The file {@link #importFile} leaves beside an imported {@value #FILE_NAME}. */
    public static final String IMPORTED_MARKER = FILE_NAME + ".IMPORTED-INTO-STATE-STORE.txt";

    private final StateStore store;

    /**
     * The alias history in a state store.
     *
     * @param store the open store (the caller closes it)
     */
    public AliasHistory(StateStore store) {
        this.store = Objects.requireNonNull(store, "store");
    }

    /**
     * One observed move.
     *
     * @param observedAt when the host saw the alias at {@code to}, to the millisecond
     * @param model registered model name
     * @param alias alias
     * @param from previous version recorded for the alias, empty on the first observation
     * @param to the version it pointed at
     */
    public record Move(
            Instant observedAt, String model, String alias, Optional<String> from, String to) {}

    /**
     * Where the history is.
     *
     * @return the state store's URL, without password
     */
    public String where() {
        return store.displayUrl();
    }

    /**
     * Records that the alias was seen at {@code version}, if that differs from the last record.
     *
     * @param model registered model name
     * @param alias alias
     * @param version the version seen
     * @param observedAt when (kept to the millisecond)
     * @return the move recorded, or empty if the alias was already recorded at that version
     * @throws dev.quiver.host.store.StoreException if the store fails
     */
    public Optional<Move> observe(String model, String alias, String version, Instant observedAt) {
        return store.observeAlias(model, alias, version, observedAt.toEpochMilli())
                .map(AliasHistory::move);
    }

    private static Move move(AliasMoveRow r) {
        return new Move(
                Instant.ofEpochMilli(r.observedMs()),
                r.model(),
                r.alias(),
                r.fromVersion(),
                r.toVersion());
    }

    /**
     * Every move recorded, oldest first.
     *
     * @return the moves, in the order they were recorded
     */
    public List<Move> moves() {
        return store.aliasMoves().stream().map(AliasHistory::move).toList();
    }

    /**
     * The moves of one alias.
     *
     * @param model registered model name
     * @param alias alias
     * @return its moves, oldest first; empty if it was never observed
     */
    public List<Move> moves(String model, String alias) {
        return store.aliasMoves(model, alias).stream().map(AliasHistory::move).toList();
    }

    /**
     * The last move recorded for an alias.
     *
     * @param model registered model name
     * @param alias alias
     * @return the move, or empty if the alias was never observed
     */
    public Optional<Move> latest(String model, String alias) {
        List<Move> all = moves(model, alias);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /**
     * Where an alias pointed at a time, as observed: the last move recorded at or before {@code
     * at}.
     *
     * @param model registered model name
     * @param alias alias
     * @param at the time asked about (to the millisecond)
     * @return the move in force at {@code at}, or empty if the alias had not been observed by then
     */
    public Optional<Move> asOf(String model, String alias, Instant at) {
        return store.aliasAsOf(model, alias, at.toEpochMilli()).map(AliasHistory::move);
    }

    /**
     * What {@link #importFile} brought in.
     *
     * @param file the file
     * @param moves moves imported
     * @param marker the file left beside it saying so
     */
    public record Import(Path file, int moves, Path marker) {}

    /**
     * Imports the {@value #FILE_NAME} of a model cache of an earlier Quiver into the store, once:
     * only when the file exists, has no {@value #IMPORTED_MARKER} beside it, and the store has no
     * alias moves yet. The lines are recorded in order, in one transaction (all or nothing), then
     * the marker is written; the file is left as it was and no longer read. A file skipped because
     * the store already has alias moves is logged as a warning naming both.
     *
     * @param cacheRoot the model cache (or local model directory) root; need not exist
     * @return what was imported, or empty when nothing was
     * @throws IllegalStateException with code {@code BAD_ALIAS_HISTORY} naming the file and line if
     *     a line is not a move record; nothing is imported then
     * @throws dev.quiver.host.store.StoreException if the store fails (nothing is imported)
     */
    public Optional<Import> importFile(Path cacheRoot) {
        Path file = cacheRoot.toAbsolutePath().normalize().resolve(FILE_NAME);
        Path marker = file.resolveSibling(IMPORTED_MARKER);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        if (Files.exists(marker)) {
            LOG.debug("{} was imported before ({})", file, marker);
            return Optional.empty();
        }
        List<Move> moves = readFile(file);
        int existing =
                store.inTransaction(
                        tx -> {
                            int stored = tx.aliasMoves().size();
                            if (stored > 0) {
                                return stored;
                            }
                            for (Move m : moves) {
                                tx.observeAlias(
                                        m.model(),
                                        m.alias(),
                                        m.to(),
                                        m.observedAt().toEpochMilli());
                            }
                            return 0;
                        });
        if (existing > 0) {
            LOG.warn(
                    "{} ({} move(s)) was NOT imported: {} already holds {} alias move(s). The file"
                            + " is not read; to keep it, import it into an empty store",
                    file,
                    moves.size(),
                    store.displayUrl(),
                    existing);
            return Optional.empty();
        }
        String note =
                "Imported into the Quiver state store "
                        + store.displayUrl()
                        + " at "
                        + Instant.now()
                        + ": "
                        + moves.size()
                        + " alias move(s) from "
                        + FILE_NAME
                        + ".\nThe alias history lives in the state store now (docs/state-store.md);"
                        + " the file is no longer read.\n";
        try {
            Files.writeString(marker, note, StandardCharsets.UTF_8);
        } catch (IOException e) {
            // The import is committed; the store holds moves now, so the file is never imported
            // again either way. Only the note to the reader of the folder is missing.
            LOG.warn("alias history imported, but cannot write {}: {}", marker, e.toString(), e);
        }
        LOG.info(
                "imported {} alias move(s) from {} into {}",
                moves.size(),
                file,
                store.displayUrl());
        return Optional.of(new Import(file, moves.size(), marker));
    }

    /** The moves of a file of earlier versions, in file order. */
    private static List<Move> readFile(Path file) {
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
                                required(n, "model"),
                                required(n, "alias"),
                                from.isNull() || from.isMissingNode()
                                        ? Optional.empty()
                                        : Optional.of(from.asText()),
                                required(n, "to")));
            } catch (IOException | RuntimeException e) {
                throw new IllegalStateException(
                        "[Quiver/BAD_ALIAS_HISTORY] "
                                + file
                                + " line "
                                + (i + 1)
                                + " is not a move record: "
                                + e.getMessage()
                                + "; nothing was imported (fix or remove the line, then start"
                                + " again)",
                        e);
            }
        }
        return out;
    }

    private static String required(JsonNode n, String field) {
        String v = n.path(field).asText("");
        if (v.isBlank()) {
            throw new IllegalArgumentException("field '" + field + "' is missing");
        }
        return v;
    }
}
