package dev.quiver.host.rollout;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.quiver.host.store.MomentsRow;
import dev.quiver.host.store.RolloutEventRow;
import dev.quiver.host.store.RolloutFiguresRow;
import dev.quiver.host.store.RolloutPointRow;
import dev.quiver.host.store.RolloutRow;
import dev.quiver.host.store.RolloutTransitionRow;
import dev.quiver.host.store.StateOperations;
import dev.quiver.host.store.StateStore;
import dev.quiver.host.store.StoredRolloutEvent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where rollouts live: the {@link StateStore} (tables {@code rollouts}, {@code rollout_figures},
 * {@code rollout_transitions} and the audit log {@code rollout_events}; see {@code
 * docs/state-store.md}).
 *
 * <p>Durability: every method that writes commits before it returns; {@link #save(RolloutSnapshot,
 * List)} writes a state and the audit events it implies in one transaction, so a transition is
 * never audited without its state, or the other way round. Times are kept to the millisecond (as
 * {@link RolloutController} keeps them).
 *
 * <p>Rollouts used to live in files ({@code QUIVER_HOME/rollouts/state/<id>.json} and {@code
 * audit.jsonl}); {@link #importFiles} brings such a folder into a store that has no rollouts yet,
 * once.
 *
 * <p>Thread-safe.
 */
public final class RolloutStore {

    private static final Logger LOG = LoggerFactory.getLogger(RolloutStore.class);

    /** JSON of states and audit lines: snake_case field names. */
    public static final ObjectMapper JSON =
            JsonMapper.builder()
                    .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                    .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                    .build();

    /**
     * The file {@link #importFiles} leaves in a folder it imported: what went where, and that the
     * folder's rollout files are no longer read.
     */
    public static final String IMPORTED_MARKER = "IMPORTED-INTO-STATE-STORE.txt";

    private final StateStore store;

    /**
     * Rollouts in a state store.
     *
     * @param store the open store (the caller closes it, after the rollouts)
     */
    public RolloutStore(StateStore store) {
        this.store = Objects.requireNonNull(store, "store");
    }

    /**
     * The state store.
     *
     * @return the store
     */
    public StateStore stateStore() {
        return store;
    }

    /**
     * Saves a rollout's state, committed when this returns.
     *
     * @param snapshot the state
     * @throws dev.quiver.host.store.StoreException if it cannot be stored (the stored state is
     *     intact), including a {@link dev.quiver.host.store.StoreConflictException} when it
     *     contradicts the stored one (another spec, or fewer transitions)
     */
    public void save(RolloutSnapshot snapshot) {
        save(snapshot, List.of());
    }

    /**
     * Saves a rollout's state and appends audit events, all in one transaction: both are stored
     * when this returns, or neither.
     *
     * @param snapshot the state
     * @param auditEvents JSON-serialisable objects (a map, an {@code ObjectNode}), each with the
     *     fields {@code event}, {@code rollout} and an ISO-8601 {@code time}; appended in order
     * @throws dev.quiver.host.store.StoreException if it cannot be stored (nothing of it is)
     * @throws IllegalArgumentException if an event lacks a field
     */
    public void save(RolloutSnapshot snapshot, List<?> auditEvents) {
        save(snapshot, auditEvents, List.of());
    }

    /**
     * Saves a rollout's state, appends audit events and records points of its figures over time
     * (table {@code rollout_series}), all in one transaction.
     *
     * @param snapshot the state
     * @param auditEvents as {@link #save(RolloutSnapshot, List)} takes them
     * @param points points scored since the last save ({@link RolloutController#unsavedSeries}),
     *     oldest first
     * @throws dev.quiver.host.store.StoreException if it cannot be stored (nothing of it is)
     * @throws IllegalArgumentException if an event lacks a field
     */
    public void save(RolloutSnapshot snapshot, List<?> auditEvents, List<SeriesPoint> points) {
        long now = System.currentTimeMillis();
        RolloutRow row = toRow(snapshot, now);
        List<RolloutEventRow> events = new ArrayList<>();
        for (Object e : auditEvents) {
            events.add(eventRow(e));
        }
        List<RolloutPointRow> rows = new ArrayList<>();
        for (SeriesPoint p : points) {
            long bar = p.bar().toEpochMilli();
            for (Role r : Role.values()) {
                rows.add(point(bar, now, p.stage(), r.id(), p.totals().get(r.id())));
            }
            rows.add(point(bar, now, p.stage(), RolloutFiguresRow.SERVED, p.served()));
        }
        store.inTransaction(
                tx -> {
                    tx.saveRollout(row);
                    for (RolloutEventRow e : events) {
                        tx.appendRolloutEvent(e);
                    }
                    tx.recordRolloutPoints(row.id(), rows);
                    return null;
                });
    }

    private static RolloutPointRow point(
            long bar, long now, String stage, String role, VariantTotals t) {
        VariantTotals v = t == null ? VariantTotals.EMPTY : t;
        return new RolloutPointRow(
                bar,
                now,
                stage,
                role,
                v.n(),
                v.nProbability(),
                v.logLossSum(),
                v.brierSum(),
                v.hits(),
                v.pnlSum());
    }

    /**
     * A rollout's figures over time, as committed (the points of the last {@link
     * RolloutManager#FLUSH_MILLIS} ms may not be yet).
     *
     * @param id the rollout
     * @param bars the most outcome bars wanted (the newest), {@code >= 1}
     * @return per outcome bar and role the running sums, by bar then role; empty when none
     * @throws IllegalArgumentException if {@code bars < 1}
     */
    public List<RolloutPointRow> series(String id, int bars) {
        return store.rolloutSeries(id, bars);
    }

    /**
     * Reads every stored rollout.
     *
     * @return the snapshots, in start order
     * @throws dev.quiver.host.store.StoreException if the store cannot be read
     * @throws IllegalStateException naming the rollout if a stored state cannot be read back
     */
    public List<RolloutSnapshot> loadAll() {
        List<RolloutSnapshot> out = new ArrayList<>();
        for (RolloutRow r : store.rollouts()) {
            out.add(fromRow(r));
        }
        return out;
    }

    /**
     * Appends one event to the audit log, committed when this returns.
     *
     * @param event a JSON-serialisable object (a map, an {@code ObjectNode}) with the fields {@code
     *     event}, {@code rollout} (a stored rollout) and an ISO-8601 {@code time}
     * @throws dev.quiver.host.store.StoreException if it cannot be stored
     * @throws IllegalArgumentException if a field is missing
     */
    public void appendAudit(Object event) {
        store.appendRolloutEvent(eventRow(event));
    }

    /**
     * The audit log: every event as one line of JSON, as appended.
     *
     * @return lines, oldest first; empty if there are none
     */
    public List<String> auditLines() {
        List<String> out = new ArrayList<>();
        for (StoredRolloutEvent e : store.rolloutEvents()) {
            out.add(e.event().detailJson());
        }
        return out;
    }

    // ---- rows

    private static RolloutEventRow eventRow(Object event) {
        Objects.requireNonNull(event, "event");
        String line;
        try {
            line = JSON.writeValueAsString(event);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("rollout audit event is not JSON: " + event, e);
        }
        return eventRow(line, JSON.valueToTree(event), "rollout audit event " + line);
    }

    private static RolloutEventRow eventRow(String line, JsonNode n, String where) {
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException(where + " is not a JSON object");
        }
        String kind = n.path("event").asText("");
        String rollout = n.path("rollout").asText("");
        if (kind.isBlank() || rollout.isBlank()) {
            throw new IllegalArgumentException(
                    where + ": fields 'event' and 'rollout' are required");
        }
        return new RolloutEventRow(rollout, kind, millis(n.path("time").asText(""), where), line);
    }

    private static long millis(String iso, String where) {
        try {
            return Instant.parse(iso).toEpochMilli();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(
                    where + ": 'time' must be an ISO-8601 instant (value: '" + iso + "')", e);
        }
    }

    private static String iso(long ms) {
        return Instant.ofEpochMilli(ms).toString();
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write rollout state as JSON: " + value, e);
        }
    }

    /** A snapshot as the store's rows. */
    static RolloutRow toRow(RolloutSnapshot s, long updatedMs) {
        RolloutSpec spec = RolloutSpec.parse(s.spec(), "snapshot", null);
        String where = "rollout " + spec.id();
        List<RolloutFiguresRow> figures = new ArrayList<>();
        for (Role r : Role.values()) {
            VariantTotals t = s.totals().getOrDefault(r.id(), VariantTotals.EMPTY);
            Moments m = r == Role.CHAMPION ? s.stageChampion() : s.stageChallenger();
            figures.add(
                    figures(
                            r.id(),
                            t,
                            OptionalLong.of(s.acted().getOrDefault(r.id(), 0L)),
                            Optional.of(moments(m))));
        }
        figures.add(
                figures(
                        RolloutFiguresRow.SERVED,
                        s.served(),
                        OptionalLong.empty(),
                        Optional.empty()));
        List<RolloutTransitionRow> transitions = new ArrayList<>();
        for (Transition t : s.transitions()) {
            transitions.add(
                    new RolloutTransitionRow(
                            millis(t.time(), where + " transition"),
                            t.from(),
                            t.to(),
                            t.actor(),
                            t.reason() == null ? "" : t.reason(),
                            t.metric(),
                            json(t.figures()),
                            Optional.ofNullable(t.test()).map(RolloutStore::json),
                            t.stageSamples()));
        }
        return new RolloutRow(
                spec.id(),
                spec.kind().id(),
                spec.capability(),
                json(s.spec()),
                s.stage(),
                s.stageIndex(),
                millis(s.created(), where + " created"),
                millis(s.stageSince(), where + " stage_since"),
                s.looks(),
                moments(s.stagePaired()),
                json(s.pending()),
                s.pendingDropped(),
                json(s.positions()),
                figures,
                transitions,
                updatedMs);
    }

    private static RolloutFiguresRow figures(
            String role, VariantTotals t, OptionalLong acted, Optional<MomentsRow> stage) {
        return new RolloutFiguresRow(
                role,
                t.n(),
                t.nProbability(),
                t.logLossSum(),
                t.brierSum(),
                t.hits(),
                t.pnlSum(),
                acted,
                stage);
    }

    private static MomentsRow moments(Moments m) {
        return new MomentsRow(m.n(), m.mean(), m.m2());
    }

    private static Moments moments(MomentsRow m) {
        return new Moments(m.n(), m.mean(), m.m2());
    }

    /** The rows of a rollout as the snapshot they were made from. */
    static RolloutSnapshot fromRow(RolloutRow r) {
        try {
            Map<String, VariantTotals> totals = new LinkedHashMap<>();
            Map<String, Long> acted = new LinkedHashMap<>();
            VariantTotals served = VariantTotals.EMPTY;
            Moments champion = Moments.EMPTY;
            Moments challenger = Moments.EMPTY;
            for (RolloutFiguresRow f : r.figures()) {
                VariantTotals t =
                        new VariantTotals(
                                f.n(),
                                f.nProbability(),
                                f.logLossSum(),
                                f.brierSum(),
                                f.hits(),
                                f.pnlSum());
                if (f.role().equals(RolloutFiguresRow.SERVED)) {
                    served = t;
                    continue;
                }
                totals.put(f.role(), t);
                acted.put(f.role(), f.acted().orElseThrow());
                Moments m = moments(f.stage().orElseThrow());
                if (f.role().equals(Role.CHAMPION.id())) {
                    champion = m;
                } else {
                    challenger = m;
                }
            }
            List<Transition> transitions = new ArrayList<>();
            for (RolloutTransitionRow t : r.transitions()) {
                transitions.add(
                        new Transition(
                                iso(t.timeMs()),
                                r.id(),
                                t.fromStage(),
                                t.toStage(),
                                t.actor(),
                                t.reason(),
                                t.metric(),
                                JSON.readValue(
                                        t.figuresJson(),
                                        new TypeReference<
                                                LinkedHashMap<String, VariantFigures>>() {}),
                                t.testJson().isEmpty()
                                        ? null
                                        : JSON.readValue(
                                                t.testJson().get(), Transition.TestFigures.class),
                                t.stageSamples()));
            }
            return new RolloutSnapshot(
                    RolloutSnapshot.FORMAT,
                    JSON.readTree(r.specJson()),
                    r.stage(),
                    r.stageIndex(),
                    iso(r.stageSinceMs()),
                    iso(r.createdMs()),
                    totals,
                    served,
                    acted,
                    champion,
                    challenger,
                    moments(r.paired()),
                    r.looks(),
                    JSON.readValue(r.pendingJson(), new TypeReference<List<PendingForecast>>() {}),
                    r.pendingDropped(),
                    JSON.readValue(
                            r.positionsJson(),
                            new TypeReference<LinkedHashMap<String, double[]>>() {}),
                    transitions);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException(
                    "[Quiver/BAD_ROLLOUT_STATE] the stored state of rollout '"
                            + r.id()
                            + "' cannot be read back: "
                            + e.getMessage(),
                    e);
        }
    }

    // ---- the files of earlier versions

    /**
     * What {@link #importFiles} brought in.
     *
     * @param dir the folder
     * @param rollouts rollouts imported (one per state file)
     * @param auditLines audit lines imported
     * @param marker the file left in the folder saying so
     */
    public record Import(Path dir, int rollouts, int auditLines, Path marker) {}

    /**
     * Imports a rollouts folder of an earlier Quiver ({@code state/<id>.json} and {@code
     * audit.jsonl}) into the store, once: only when the folder has rollout files, has no {@value
     * #IMPORTED_MARKER}, and the store has no rollouts yet. Everything is imported in one
     * transaction (all or nothing), then the marker is written into the folder; the files are left
     * as they were and no longer read. A folder skipped because the store already holds rollouts is
     * logged as a warning naming both.
     *
     * @param dir the rollouts folder ({@code QUIVER_HOME/rollouts}, or {@code serve
     *     --rollouts-dir}); need not exist
     * @return what was imported, or empty when nothing was
     * @throws IllegalStateException with code {@code ROLLOUT_IMPORT} naming the file (and line) if
     *     a state file or audit line cannot be read, or an audit line names a rollout without a
     *     state file; nothing is imported then
     * @throws dev.quiver.host.store.StoreException if the store fails (nothing is imported)
     */
    public Optional<Import> importFiles(Path dir) {
        Path stateDir = dir.resolve("state");
        Path audit = dir.resolve("audit.jsonl");
        Path marker = dir.resolve(IMPORTED_MARKER);
        List<Path> files = new ArrayList<>();
        if (Files.isDirectory(stateDir)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(stateDir, "*.json")) {
                ds.forEach(files::add);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list the rollout files in " + stateDir, e);
            }
        }
        files.sort(null);
        boolean hasAudit = Files.isRegularFile(audit);
        if (files.isEmpty() && !hasAudit) {
            return Optional.empty();
        }
        if (Files.exists(marker)) {
            LOG.debug("rollout files in {} were imported before ({})", dir, marker);
            return Optional.empty();
        }
        List<RolloutRow> rows = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        long now = System.currentTimeMillis();
        for (Path f : files) {
            RolloutRow row;
            try {
                row = toRow(JSON.readValue(f.toFile(), RolloutSnapshot.class), now);
            } catch (IOException | RuntimeException e) {
                throw importFailure(f + " cannot be read as rollout state: " + e.getMessage(), e);
            }
            rows.add(row);
            ids.add(row.id());
        }
        List<RolloutEventRow> events = new ArrayList<>();
        if (hasAudit) {
            List<String> lines;
            try {
                lines = Files.readAllLines(audit, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + audit, e);
            }
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).strip();
                if (line.isEmpty()) {
                    continue;
                }
                String where = audit + " line " + (i + 1);
                RolloutEventRow e;
                try {
                    e = eventRow(line, JSON.readTree(line), where);
                } catch (IOException | RuntimeException x) {
                    throw importFailure(where + " is not an audit event: " + x.getMessage(), x);
                }
                if (!ids.contains(e.rolloutId())) {
                    throw importFailure(
                            where
                                    + " names rollout '"
                                    + e.rolloutId()
                                    + "', which has no state file in "
                                    + stateDir,
                            null);
                }
                events.add(e);
            }
        }
        int existing =
                store.inTransaction(
                        tx -> {
                            int stored = tx.rollouts().size();
                            if (stored > 0) {
                                return stored;
                            }
                            importRows(tx, rows, events);
                            return 0;
                        });
        if (existing > 0) {
            LOG.warn(
                    "rollout files in {} ({} state file(s), {}) were NOT imported: {} already holds"
                            + " {} rollout(s). The files are not read; to keep them, import them"
                            + " into an empty store",
                    dir,
                    files.size(),
                    hasAudit ? "an audit log" : "no audit log",
                    store.displayUrl(),
                    existing);
            return Optional.empty();
        }
        String note =
                "Imported into the Quiver state store "
                        + store.displayUrl()
                        + " at "
                        + Instant.ofEpochMilli(now)
                        + ": "
                        + rows.size()
                        + " rollout(s) "
                        + ids.stream().sorted().toList()
                        + " from state/, "
                        + events.size()
                        + " audit line(s) from audit.jsonl.\n"
                        + "Rollouts live in the state store now (docs/state-store.md); the files"
                        + " here are no longer read.\n";
        try {
            Files.writeString(marker, note, StandardCharsets.UTF_8);
        } catch (IOException e) {
            // The import is committed; the store holds rollouts now, so the folder is never
            // imported again either way. Only the note to the reader of the folder is missing.
            LOG.warn("rollouts imported, but cannot write {}: {}", marker, e.toString(), e);
        }
        LOG.info(
                "imported {} rollout(s) and {} audit line(s) from {} into {}",
                rows.size(),
                events.size(),
                dir,
                store.displayUrl());
        return Optional.of(new Import(dir, rows.size(), events.size(), marker));
    }

    private static void importRows(
            StateOperations tx, List<RolloutRow> rows, List<RolloutEventRow> events) {
        for (RolloutRow r : rows) {
            tx.saveRollout(r);
        }
        for (RolloutEventRow e : events) {
            tx.appendRolloutEvent(e);
        }
    }

    private static IllegalStateException importFailure(String what, Throwable cause) {
        return new IllegalStateException(
                "[Quiver/ROLLOUT_IMPORT] "
                        + what
                        + "; nothing was imported (fix or remove it, then start again)",
                cause);
    }
}
