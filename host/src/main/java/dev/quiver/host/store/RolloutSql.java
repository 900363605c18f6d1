package dev.quiver.host.store;

import com.fasterxml.jackson.databind.JsonNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The SQL of schema 2 (rollouts and alias history) on one connection inside a transaction, for
 * {@link JdbcOperations}. Same SQL for SQLite and PostgreSQL.
 */
final class RolloutSql {

    private RolloutSql() {}

    // ---- rollouts

    private static final String ROLLOUT_COLUMNS =
            "id, kind, capability, spec_json, stage, stage_index, created_ms, stage_since_ms,"
                    + " looks, paired_n, paired_mean, paired_m2, pending_json, pending_dropped,"
                    + " positions_json, updated_ms";

    private static final String FIGURES_COLUMNS =
            "role, n, n_probability, log_loss_sum, brier_sum, hits, pnl_sum, acted, stage_n,"
                    + " stage_mean, stage_m2";

    private static final String TRANSITION_COLUMNS =
            "time_ms, from_stage, to_stage, actor, reason, metric, figures_json, test_json,"
                    + " stage_samples";

    static void save(Connection c, String op, RolloutRow r) throws SQLException {
        Optional<RolloutRow> stored = read(c, r.id());
        if (stored.isEmpty()) {
            try (PreparedStatement ps =
                    c.prepareStatement(
                            "INSERT INTO rollouts ("
                                    + ROLLOUT_COLUMNS
                                    + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, r.id());
                ps.setString(2, r.kind());
                ps.setString(3, r.capability());
                ps.setString(4, r.specJson());
                setState(ps, 5, r);
                ps.executeUpdate();
            }
        } else {
            RolloutRow s = stored.get();
            JdbcOperations.conflictIf(op, "rollout", r.id(), "kind", s.kind(), r.kind());
            JdbcOperations.conflictIf(
                    op, "rollout", r.id(), "capability", s.capability(), r.capability());
            JsonNode storedSpec = Checks.json("rollouts", "spec_json", s.specJson(), true);
            if (!storedSpec.equals(Checks.json("RolloutRow", "specJson", r.specJson(), true))) {
                throw new StoreConflictException(
                        op,
                        "rollout",
                        r.id(),
                        "spec_json",
                        s.specJson(),
                        r.specJson(),
                        "a stored rollout's spec does not change");
            }
            JdbcOperations.conflictIf(
                    op, "rollout", r.id(), "created_ms", s.createdMs(), r.createdMs());
            List<RolloutTransitionRow> had = s.transitions();
            if (had.size() > r.transitions().size()) {
                throw new StoreConflictException(
                        op,
                        "rollout",
                        r.id(),
                        "transitions",
                        had.size() + " transitions",
                        r.transitions().size() + " transitions",
                        "the state to save has fewer transitions than the stored one (an older"
                                + " state saved after a newer one?)");
            }
            for (int i = 0; i < had.size(); i++) {
                RolloutTransitionRow a = had.get(i);
                RolloutTransitionRow b = r.transitions().get(i);
                if (a.timeMs() != b.timeMs()
                        || !a.fromStage().equals(b.fromStage())
                        || !a.toStage().equals(b.toStage())
                        || !a.actor().equals(b.actor())) {
                    throw new StoreConflictException(
                            op,
                            "rollout",
                            r.id(),
                            "transitions",
                            "[" + i + "] " + describe(a),
                            "[" + i + "] " + describe(b),
                            "a stored transition does not change");
                }
            }
            try (PreparedStatement ps =
                    c.prepareStatement(
                            "UPDATE rollouts SET stage = ?, stage_index = ?, created_ms = ?,"
                                    + " stage_since_ms = ?, looks = ?, paired_n = ?, paired_mean"
                                    + " = ?, paired_m2 = ?, pending_json = ?, pending_dropped ="
                                    + " ?, positions_json = ?, updated_ms = ? WHERE id = ?")) {
                setState(ps, 1, r);
                ps.setString(13, r.id());
                if (ps.executeUpdate() != 1) {
                    throw new StoreException(op, "the stored rollout vanished while saving", null);
                }
            }
        }
        try (PreparedStatement ps =
                c.prepareStatement(
                        "INSERT INTO rollout_figures (rollout_id, "
                                + FIGURES_COLUMNS
                                + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT"
                                + " (rollout_id, role) DO UPDATE SET n = excluded.n,"
                                + " n_probability = excluded.n_probability, log_loss_sum ="
                                + " excluded.log_loss_sum, brier_sum = excluded.brier_sum, hits"
                                + " = excluded.hits, pnl_sum = excluded.pnl_sum, acted ="
                                + " excluded.acted, stage_n = excluded.stage_n, stage_mean ="
                                + " excluded.stage_mean, stage_m2 = excluded.stage_m2")) {
            for (RolloutFiguresRow f : r.figures()) {
                ps.setString(1, r.id());
                ps.setString(2, f.role());
                ps.setLong(3, f.n());
                ps.setLong(4, f.nProbability());
                ps.setDouble(5, f.logLossSum());
                ps.setDouble(6, f.brierSum());
                ps.setLong(7, f.hits());
                ps.setDouble(8, f.pnlSum());
                if (f.acted().isPresent()) {
                    ps.setLong(9, f.acted().getAsLong());
                } else {
                    ps.setNull(9, Types.BIGINT);
                }
                if (f.stage().isPresent()) {
                    ps.setLong(10, f.stage().get().n());
                    ps.setDouble(11, f.stage().get().mean());
                    ps.setDouble(12, f.stage().get().m2());
                } else {
                    ps.setNull(10, Types.BIGINT);
                    ps.setNull(11, Types.DOUBLE);
                    ps.setNull(12, Types.DOUBLE);
                }
                ps.executeUpdate();
            }
        }
        int from = stored.map(s -> s.transitions().size()).orElse(0);
        if (from < r.transitions().size()) {
            try (PreparedStatement ps =
                    c.prepareStatement(
                            "INSERT INTO rollout_transitions (rollout_id, idx, "
                                    + TRANSITION_COLUMNS
                                    + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                for (int i = from; i < r.transitions().size(); i++) {
                    RolloutTransitionRow t = r.transitions().get(i);
                    ps.setString(1, r.id());
                    ps.setInt(2, i);
                    ps.setLong(3, t.timeMs());
                    ps.setString(4, t.fromStage());
                    ps.setString(5, t.toStage());
                    ps.setString(6, t.actor());
                    ps.setString(7, t.reason());
                    ps.setString(8, t.metric());
                    ps.setString(9, t.figuresJson());
                    if (t.testJson().isPresent()) {
                        ps.setString(10, t.testJson().get());
                    } else {
                        ps.setNull(10, Types.VARCHAR);
                    }
                    ps.setLong(11, t.stageSamples());
                    ps.executeUpdate();
                }
            }
        }
    }

    private static String describe(RolloutTransitionRow t) {
        return t.fromStage() + " -> " + t.toStage() + " by " + t.actor() + " at " + t.timeMs();
    }

    /** Sets stage .. updated_ms (12 parameters) from {@code first}. */
    private static void setState(PreparedStatement ps, int first, RolloutRow r)
            throws SQLException {
        int i = first;
        ps.setString(i++, r.stage());
        ps.setInt(i++, r.stageIndex());
        ps.setLong(i++, r.createdMs());
        ps.setLong(i++, r.stageSinceMs());
        ps.setInt(i++, r.looks());
        ps.setLong(i++, r.paired().n());
        ps.setDouble(i++, r.paired().mean());
        ps.setDouble(i++, r.paired().m2());
        ps.setString(i++, r.pendingJson());
        ps.setLong(i++, r.pendingDropped());
        ps.setString(i++, r.positionsJson());
        ps.setLong(i, r.updatedMs());
    }

    static Optional<RolloutRow> read(Connection c, String id) throws SQLException {
        List<RolloutRow> found = readRollouts(c, "WHERE id = ?", id);
        return found.stream().findFirst();
    }

    static List<RolloutRow> all(Connection c) throws SQLException {
        return readRollouts(c, "ORDER BY created_ms, id", null);
    }

    private static List<RolloutRow> readRollouts(Connection c, String where, String id)
            throws SQLException {
        List<RolloutRow> out = new ArrayList<>();
        try (PreparedStatement ps =
                c.prepareStatement("SELECT " + ROLLOUT_COLUMNS + " FROM rollouts " + where)) {
            if (id != null) {
                ps.setString(1, id);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String rid = rs.getString(1);
                    out.add(
                            new RolloutRow(
                                    rid,
                                    rs.getString(2),
                                    rs.getString(3),
                                    rs.getString(4),
                                    rs.getString(5),
                                    rs.getInt(6),
                                    rs.getLong(7),
                                    rs.getLong(8),
                                    rs.getInt(9),
                                    new MomentsRow(
                                            rs.getLong(10), rs.getDouble(11), rs.getDouble(12)),
                                    rs.getString(13),
                                    rs.getLong(14),
                                    rs.getString(15),
                                    figures(c, rid),
                                    transitions(c, rid),
                                    rs.getLong(16)));
                }
            }
        }
        return out;
    }

    private static List<RolloutFiguresRow> figures(Connection c, String id) throws SQLException {
        List<RolloutFiguresRow> out = new ArrayList<>();
        try (PreparedStatement ps =
                c.prepareStatement(
                        "SELECT "
                                + FIGURES_COLUMNS
                                + " FROM rollout_figures WHERE rollout_id = ? ORDER BY role")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long acted = rs.getLong(8);
                    OptionalLong a = rs.wasNull() ? OptionalLong.empty() : OptionalLong.of(acted);
                    long stageN = rs.getLong(9);
                    Optional<MomentsRow> stage =
                            rs.wasNull()
                                    ? Optional.empty()
                                    : Optional.of(
                                            new MomentsRow(
                                                    stageN, rs.getDouble(10), rs.getDouble(11)));
                    out.add(
                            new RolloutFiguresRow(
                                    rs.getString(1),
                                    rs.getLong(2),
                                    rs.getLong(3),
                                    rs.getDouble(4),
                                    rs.getDouble(5),
                                    rs.getLong(6),
                                    rs.getDouble(7),
                                    a,
                                    stage));
                }
            }
        }
        return out;
    }

    private static List<RolloutTransitionRow> transitions(Connection c, String id)
            throws SQLException {
        List<RolloutTransitionRow> out = new ArrayList<>();
        try (PreparedStatement ps =
                c.prepareStatement(
                        "SELECT "
                                + TRANSITION_COLUMNS
                                + " FROM rollout_transitions WHERE rollout_id = ? ORDER BY idx")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(
                            new RolloutTransitionRow(
                                    rs.getLong(1),
                                    rs.getString(2),
                                    rs.getString(3),
                                    rs.getString(4),
                                    rs.getString(5),
                                    rs.getString(6),
                                    rs.getString(7),
                                    Optional.ofNullable(rs.getString(8)),
                                    rs.getLong(9)));
                }
            }
        }
        return out;
    }

    // ---- rollout events

    static long appendEvent(Connection c, String op, RolloutEventRow e) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM rollouts WHERE id = ?")) {
            ps.setString(1, e.rolloutId());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new StoreException(
                            op,
                            "no rollout '" + e.rolloutId() + "': save it first (saveRollout)",
                            null);
                }
            }
        }
        try (PreparedStatement ps =
                c.prepareStatement(
                        "INSERT INTO rollout_events (rollout_id, kind, time_ms, detail_json)"
                                + " VALUES (?, ?, ?, ?) RETURNING seq")) {
            ps.setString(1, e.rolloutId());
            ps.setString(2, e.kind());
            ps.setLong(3, e.timeMs());
            ps.setString(4, e.detailJson());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new StoreException(op, "the insert returned no sequence number", null);
                }
                return rs.getLong(1);
            }
        }
    }

    static List<StoredRolloutEvent> events(Connection c) throws SQLException {
        List<StoredRolloutEvent> out = new ArrayList<>();
        try (PreparedStatement ps =
                        c.prepareStatement(
                                "SELECT seq, rollout_id, kind, time_ms, detail_json FROM"
                                        + " rollout_events ORDER BY seq");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(
                        new StoredRolloutEvent(
                                rs.getLong(1),
                                new RolloutEventRow(
                                        rs.getString(2),
                                        rs.getString(3),
                                        rs.getLong(4),
                                        rs.getString(5))));
            }
        }
        return out;
    }

    // ---- rollout series (schema 7)

    private static final String POINT_COLUMNS =
            "bar_ms, time_ms, stage, role, n, n_probability, log_loss_sum, brier_sum, hits,"
                    + " pnl_sum";

    static void recordPoints(
            Connection c, String op, String rolloutId, List<RolloutPointRow> points)
            throws SQLException {
        if (points.isEmpty()) {
            return;
        }
        long last = Long.MIN_VALUE;
        try (PreparedStatement ps =
                c.prepareStatement(
                        "SELECT (SELECT 1 FROM rollouts WHERE id = ?), (SELECT MAX(bar_ms) FROM"
                                + " rollout_series WHERE rollout_id = ?)")) {
            ps.setString(1, rolloutId);
            ps.setString(2, rolloutId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                rs.getInt(1);
                if (rs.wasNull()) {
                    throw new StoreException(
                            op,
                            "no rollout '" + rolloutId + "': save it first (saveRollout)",
                            null);
                }
                long max = rs.getLong(2);
                if (!rs.wasNull()) {
                    last = max;
                }
            }
        }
        try (PreparedStatement ps =
                c.prepareStatement(
                        "INSERT INTO rollout_series (rollout_id, "
                                + POINT_COLUMNS
                                + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT"
                                + " (rollout_id, bar_ms, role) DO UPDATE SET time_ms ="
                                + " excluded.time_ms, stage = excluded.stage, n = excluded.n,"
                                + " n_probability = excluded.n_probability, log_loss_sum ="
                                + " excluded.log_loss_sum, brier_sum = excluded.brier_sum, hits ="
                                + " excluded.hits, pnl_sum = excluded.pnl_sum")) {
            for (RolloutPointRow given : points) {
                RolloutPointRow p = given.barMs() < last ? given.atBar(last) : given;
                last = p.barMs();
                ps.setString(1, rolloutId);
                ps.setLong(2, p.barMs());
                ps.setLong(3, p.timeMs());
                ps.setString(4, p.stage());
                ps.setString(5, p.role());
                ps.setLong(6, p.n());
                ps.setLong(7, p.nProbability());
                ps.setDouble(8, p.logLossSum());
                ps.setDouble(9, p.brierSum());
                ps.setLong(10, p.hits());
                ps.setDouble(11, p.pnlSum());
                ps.executeUpdate();
            }
        }
    }

    static List<RolloutPointRow> series(Connection c, String rolloutId, int bars)
            throws SQLException {
        List<RolloutPointRow> out = new ArrayList<>();
        try (PreparedStatement ps =
                c.prepareStatement(
                        "SELECT "
                                + POINT_COLUMNS
                                + " FROM rollout_series WHERE rollout_id = ? AND bar_ms >="
                                + " (SELECT MIN(bar_ms) FROM (SELECT DISTINCT bar_ms FROM"
                                + " rollout_series WHERE rollout_id = ? ORDER BY bar_ms DESC"
                                + " LIMIT ?) last_bars) ORDER BY bar_ms, role")) {
            ps.setString(1, rolloutId);
            ps.setString(2, rolloutId);
            ps.setInt(3, bars);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(
                            new RolloutPointRow(
                                    rs.getLong(1),
                                    rs.getLong(2),
                                    rs.getString(3),
                                    rs.getString(4),
                                    rs.getLong(5),
                                    rs.getLong(6),
                                    rs.getDouble(7),
                                    rs.getDouble(8),
                                    rs.getLong(9),
                                    rs.getDouble(10)));
                }
            }
        }
        return out;
    }

    // ---- alias moves

    /** Attempts before an alias observed by many writers at once is given up on. */
    private static final int OBSERVE_ATTEMPTS = 10;

    private static final String MOVE_COLUMNS =
            "model, alias, ordinal, observed_ms, from_version, to_version";

    static Optional<AliasMoveRow> observe(
            Connection c, String op, String model, String alias, String version, long observedMs)
            throws SQLException {
        for (int attempt = 0; attempt < OBSERVE_ATTEMPTS; attempt++) {
            Optional<AliasMoveRow> last = lastMove(c, model, alias);
            if (last.isPresent() && last.get().toVersion().equals(version)) {
                return Optional.empty();
            }
            AliasMoveRow move =
                    new AliasMoveRow(
                            model,
                            alias,
                            last.map(m -> m.ordinal() + 1).orElse(1),
                            observedMs,
                            last.map(AliasMoveRow::toVersion),
                            version);
            try (PreparedStatement ps =
                    c.prepareStatement(
                            "INSERT INTO alias_moves ("
                                    + MOVE_COLUMNS
                                    + ") VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (model, alias,"
                                    + " ordinal) DO NOTHING")) {
                ps.setString(1, move.model());
                ps.setString(2, move.alias());
                ps.setInt(3, move.ordinal());
                ps.setLong(4, move.observedMs());
                if (move.fromVersion().isPresent()) {
                    ps.setString(5, move.fromVersion().get());
                } else {
                    ps.setNull(5, Types.VARCHAR);
                }
                ps.setString(6, move.toVersion());
                if (ps.executeUpdate() == 1) {
                    return Optional.of(move);
                }
            }
            // Another writer recorded this ordinal first: compare with what it recorded.
        }
        throw new StoreException(
                op,
                "another writer recorded a move of "
                        + model
                        + "@"
                        + alias
                        + " at every one of "
                        + OBSERVE_ATTEMPTS
                        + " attempts",
                null);
    }

    private static Optional<AliasMoveRow> lastMove(Connection c, String model, String alias)
            throws SQLException {
        return moves(
                        c,
                        "WHERE model = ? AND alias = ? ORDER BY ordinal DESC LIMIT 1",
                        model,
                        alias,
                        null)
                .stream()
                .findFirst();
    }

    static List<AliasMoveRow> moves(
            Connection c, String whereOrder, String model, String alias, Long atMs)
            throws SQLException {
        List<AliasMoveRow> out = new ArrayList<>();
        try (PreparedStatement ps =
                c.prepareStatement("SELECT " + MOVE_COLUMNS + " FROM alias_moves " + whereOrder)) {
            int i = 1;
            if (model != null) {
                ps.setString(i++, model);
                ps.setString(i++, alias);
            }
            if (atMs != null) {
                ps.setLong(i, atMs);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(
                            new AliasMoveRow(
                                    rs.getString(1),
                                    rs.getString(2),
                                    rs.getInt(3),
                                    rs.getLong(4),
                                    Optional.ofNullable(rs.getString(5)),
                                    rs.getString(6)));
                }
            }
        }
        return out;
    }
}
