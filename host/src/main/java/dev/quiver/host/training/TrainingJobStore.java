package dev.quiver.host.training;

import dev.quiver.host.store.StoreException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import javax.sql.DataSource;

/**
 * The {@code training_jobs} table (schema 6): every change is one auto-committed statement, so a
 * job's state is durable when a method returns. State changes are compare-and-set on the state a
 * job is expected to be in, so two schedulers (or a late cancel) never both win.
 */
final class TrainingJobStore {

    private static final String COLUMNS =
            "id, kind, params_json, trigger_kind, actor, reason, state, progress, progress_note,"
                    + " result_json, error, cancel_asked, attempts, created_ms, started_ms,"
                    + " finished_ms";

    private final DataSource source;

    TrainingJobStore(DataSource source) {
        this.source = source;
    }

    @FunctionalInterface
    private interface Sql<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> T run(String operation, Sql<T> sql) {
        try (Connection c = source.getConnection()) {
            c.setAutoCommit(true);
            return sql.run(c);
        } catch (SQLException e) {
            throw new StoreException(operation, "training jobs: " + operation + " failed", e);
        }
    }

    /** Stores a new queued job. */
    void insert(TrainingJob j) {
        run(
                "insert training job",
                c -> {
                    try (PreparedStatement s =
                            c.prepareStatement(
                                    "INSERT INTO training_jobs ("
                                            + COLUMNS
                                            + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                                            + " ?, ?)")) {
                        s.setString(1, j.id());
                        s.setString(2, j.kind());
                        s.setString(3, j.paramsJson());
                        s.setString(4, j.trigger());
                        s.setString(5, j.actor());
                        s.setString(6, j.reason());
                        s.setString(7, j.state().label());
                        s.setDouble(8, j.progress());
                        s.setString(9, j.progressNote());
                        setText(s, 10, j.resultJson());
                        setText(s, 11, j.error());
                        s.setInt(12, j.cancelAsked() ? 1 : 0);
                        s.setInt(13, j.attempts());
                        s.setLong(14, j.createdMs());
                        setLong(s, 15, j.startedMs());
                        setLong(s, 16, j.finishedMs());
                        s.executeUpdate();
                    }
                    return null;
                });
    }

    /** The job, if stored. */
    Optional<TrainingJob> get(String id) {
        return run(
                "read training job",
                c -> {
                    try (PreparedStatement s =
                            c.prepareStatement(
                                    "SELECT " + COLUMNS + " FROM training_jobs WHERE id = ?")) {
                        s.setString(1, id);
                        try (ResultSet r = s.executeQuery()) {
                            return r.next() ? Optional.of(row(r)) : Optional.empty();
                        }
                    }
                });
    }

    /** The most recent jobs first, at most {@code limit}. */
    List<TrainingJob> recent(int limit) {
        return list("ORDER BY created_ms DESC, id DESC LIMIT ?", s -> s.setInt(1, limit));
    }

    private List<TrainingJob> list(String rest, Binder binder) {
        return run(
                "list training jobs",
                c -> {
                    try (PreparedStatement s =
                            c.prepareStatement(
                                    "SELECT " + COLUMNS + " FROM training_jobs " + rest)) {
                        binder.bind(s);
                        List<TrainingJob> out = new ArrayList<>();
                        try (ResultSet r = s.executeQuery()) {
                            while (r.next()) {
                                out.add(row(r));
                            }
                        }
                        return out;
                    }
                });
    }

    /** queued → running, attempts + 1; false when the job was not queued (cancelled meanwhile). */
    boolean start(String id, long nowMs) {
        return update(
                "UPDATE training_jobs SET state = 'running', attempts = attempts + 1, started_ms"
                        + " = ?, progress_note = 'started' WHERE id = ? AND state = 'queued'",
                s -> {
                    s.setLong(1, nowMs);
                    s.setString(2, id);
                });
    }

    /** Progress of a running job. */
    void progress(String id, double fraction, String note) {
        update(
                "UPDATE training_jobs SET progress = ?, progress_note = ? WHERE id = ? AND state ="
                        + " 'running'",
                s -> {
                    s.setDouble(1, fraction);
                    s.setString(2, note);
                    s.setString(3, id);
                });
    }

    /** Marks a cancel asked for a running or queued job; false when it was already over. */
    boolean askCancel(String id) {
        return update(
                "UPDATE training_jobs SET cancel_asked = 1 WHERE id = ? AND state IN ('queued',"
                        + " 'running')",
                s -> s.setString(1, id));
    }

    /** Whether a cancel was asked. */
    boolean cancelAsked(String id) {
        return get(id).map(TrainingJob::cancelAsked).orElse(false);
    }

    /**
     * Ends a job that is in state {@code from}: succeeded with a result, or failed/cancelled with
     * an error; false when it was not in {@code from}.
     */
    boolean finish(
            String id,
            TrainingJob.State from,
            TrainingJob.State to,
            Optional<String> result,
            Optional<String> error,
            long nowMs) {
        return update(
                "UPDATE training_jobs SET state = ?, result_json = ?, error = ?, finished_ms = ?,"
                        + " progress = CASE WHEN ? = 'succeeded' THEN 1.0 ELSE progress END"
                        + " WHERE id = ? AND state = ?",
                s -> {
                    s.setString(1, to.label());
                    setText(s, 2, result);
                    setText(s, 3, error);
                    s.setLong(4, nowMs);
                    s.setString(5, to.label());
                    s.setString(6, id);
                    s.setString(7, from.label());
                });
    }

    @FunctionalInterface
    private interface Binder {
        void bind(PreparedStatement s) throws SQLException;
    }

    private boolean update(String sql, Binder binder) {
        return run(
                "update training job",
                c -> {
                    try (PreparedStatement s = c.prepareStatement(sql)) {
                        binder.bind(s);
                        return s.executeUpdate() == 1;
                    }
                });
    }

    private static TrainingJob row(ResultSet r) throws SQLException {
        return new TrainingJob(
                r.getString(1),
                r.getString(2),
                r.getString(3),
                r.getString(4),
                r.getString(5),
                r.getString(6),
                TrainingJob.State.of(r.getString(7)),
                r.getDouble(8),
                r.getString(9),
                Optional.ofNullable(r.getString(10)),
                Optional.ofNullable(r.getString(11)),
                r.getInt(12) == 1,
                r.getInt(13),
                r.getLong(14),
                optionalLong(r, 15),
                optionalLong(r, 16));
    }

    private static OptionalLong optionalLong(ResultSet r, int column) throws SQLException {
        long v = r.getLong(column);
        return r.wasNull() ? OptionalLong.empty() : OptionalLong.of(v);
    }

    private static void setText(PreparedStatement s, int i, Optional<String> v)
            throws SQLException {
        if (v.isPresent()) {
            s.setString(i, v.get());
        } else {
            s.setNull(i, Types.VARCHAR);
        }
    }

    private static void setLong(PreparedStatement s, int i, OptionalLong v) throws SQLException {
        if (v.isPresent()) {
            s.setLong(i, v.getAsLong());
        } else {
            s.setNull(i, Types.BIGINT);
        }
    }
}
