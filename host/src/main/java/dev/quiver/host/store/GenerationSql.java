package dev.quiver.host.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The SQL of schema 3 (session generations) on one connection inside a transaction, for {@link
 * JdbcOperations}. Same SQL for SQLite and PostgreSQL. The current generation of a symbol stays in
 * {@code sessions} and {@code bars}; a closed one is moved to {@code session_generations} and
 * {@code generation_bars} when the symbol is opened again.
 */
final class GenerationSql {

    private GenerationSql() {}

    private static final String ARCHIVED_COLUMNS =
            "symbol, account_id, settings_json, opened_ms, closed_ms, generation";

    /**
     * Moves the closed current generation of {@code closed.symbol()} out of {@code sessions} and
     * {@code bars} into the history tables.
     */
    static void archive(Connection c, SessionRow closed) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement(
                        "INSERT INTO session_generations ("
                                + ARCHIVED_COLUMNS
                                + ") VALUES (?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, closed.symbol());
            ps.setString(2, closed.accountId());
            ps.setString(3, closed.settingsJson());
            ps.setLong(4, closed.openedMs());
            ps.setLong(5, closed.closedMs().getAsLong());
            ps.setLong(6, closed.generation());
            ps.executeUpdate();
        }
        try (PreparedStatement ps =
                c.prepareStatement(
                        "INSERT INTO generation_bars (symbol, generation, start_ms, open, high,"
                                + " low, close, volume) SELECT symbol, ?, start_ms, open, high,"
                                + " low, close, volume FROM bars WHERE symbol = ?")) {
            ps.setLong(1, closed.generation());
            ps.setString(2, closed.symbol());
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM bars WHERE symbol = ?")) {
            ps.setString(1, closed.symbol());
            ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM sessions WHERE symbol = ?")) {
            ps.setString(1, closed.symbol());
            ps.executeUpdate();
        }
    }

    /** Inserts the open session {@code s} as generation {@code generation}. */
    static void insertOpen(Connection c, SessionRow s, long generation) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement(
                        "INSERT INTO sessions (symbol, account_id, settings_json, opened_ms,"
                                + " closed_ms, generation) VALUES (?, ?, ?, ?, NULL, ?)")) {
            ps.setString(1, s.symbol());
            ps.setString(2, s.accountId());
            ps.setString(3, s.settingsJson());
            ps.setLong(4, s.openedMs());
            ps.setLong(5, generation);
            ps.executeUpdate();
        }
    }

    /** The archived (closed, replaced) generations of a symbol, oldest first. */
    static List<SessionRow> archived(Connection c, String symbol) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement(
                        "SELECT "
                                + ARCHIVED_COLUMNS
                                + " FROM session_generations WHERE symbol = ? ORDER BY"
                                + " generation")) {
            ps.setString(1, symbol);
            List<SessionRow> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(
                            new SessionRow(
                                    rs.getString(1),
                                    rs.getString(2),
                                    rs.getString(3),
                                    rs.getLong(4),
                                    OptionalLong.of(rs.getLong(5)),
                                    rs.getLong(6)));
                }
            }
            return out;
        }
    }

    /** The bars of an archived generation, by start time. */
    static List<BarRow> archivedBars(Connection c, String symbol, long generation)
            throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement(
                        "SELECT start_ms, open, high, low, close, volume FROM generation_bars"
                                + " WHERE symbol = ? AND generation = ? ORDER BY start_ms")) {
            ps.setString(1, symbol);
            ps.setLong(2, generation);
            List<BarRow> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(
                            new BarRow(
                                    rs.getLong(1),
                                    rs.getDouble(2),
                                    rs.getDouble(3),
                                    rs.getDouble(4),
                                    rs.getDouble(5),
                                    rs.getDouble(6)));
                }
            }
            return out;
        }
    }
}
