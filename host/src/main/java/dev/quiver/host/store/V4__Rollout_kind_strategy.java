package dev.quiver.host.store;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * Schema 4: a rollout's {@code kind} may be {@code strategy} (a whole strategy bundle against the
 * served one, {@code dev.quiver.host.rollout.RolloutSpec.Kind#STRATEGY}) besides {@code prediction}
 * and {@code sizing}. Only the CHECK constraint of {@code rollouts.kind} changes; no row is
 * rewritten.
 *
 * <p>A Java migration because the two databases change a CHECK differently: PostgreSQL drops and
 * re-adds the constraint ({@code rollouts_kind_check}, the name PostgreSQL gave the column
 * constraint of schema 2); SQLite cannot alter a constraint, and widens it in the stored table
 * definition by the procedure SQLite documents for changes that leave the on-disk content valid
 * ("ALTER TABLE", section "Making Other Kinds Of Table Schema Changes": {@code writable_schema},
 * then {@code schema_version} incremented, then {@code integrity_check}). Every existing row
 * satisfies the wider constraint, so the stored content stays valid.
 */
public class V4__Rollout_kind_strategy extends BaseJavaMigration {

    static final String OLD = "CHECK (kind IN ('prediction', 'sizing'))";
    static final String NEW = "CHECK (kind IN ('prediction', 'sizing', 'strategy'))";

    /** Flyway creates it. */
    public V4__Rollout_kind_strategy() {}

    @Override
    public void migrate(Context context) throws SQLException {
        Connection c = context.getConnection();
        String product = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT);
        try (Statement s = c.createStatement()) {
            if (product.contains("postgres")) {
                s.execute("ALTER TABLE rollouts DROP CONSTRAINT rollouts_kind_check");
                s.execute("ALTER TABLE rollouts ADD CONSTRAINT rollouts_kind_check " + NEW);
                return;
            }
            if (!product.contains("sqlite")) {
                throw new SQLException("schema 4: unsupported database " + product);
            }
            int version;
            try (ResultSet r = s.executeQuery("PRAGMA schema_version")) {
                r.next();
                version = r.getInt(1);
            }
            s.execute("PRAGMA writable_schema = ON");
            int changed =
                    s.executeUpdate(
                            "UPDATE sqlite_master SET sql = replace(sql, '"
                                    + OLD.replace("'", "''")
                                    + "', '"
                                    + NEW.replace("'", "''")
                                    + "') WHERE type = 'table' AND name = 'rollouts'");
            s.execute("PRAGMA schema_version = " + (version + 1));
            s.execute("PRAGMA writable_schema = OFF");
            if (changed != 1) {
                throw new SQLException(
                        "schema 4: the rollouts table of schema 2 was not found (" + changed + ")");
            }
            try (ResultSet r = s.executeQuery("PRAGMA integrity_check")) {
                r.next();
                if (!"ok".equals(r.getString(1))) {
                    throw new SQLException("schema 4: integrity_check says " + r.getString(1));
                }
            }
        }
    }
}
