package dev.quiver.host.rollout;

import dev.quiver.host.store.LocalPostgres;
import java.sql.SQLException;

/**
 * The {@link RolloutsAndAliasesContract} on the real PostgreSQL server the build starts ({@code
 * postgres/server.sh}, {@code quiver.postgres.url}): rollouts resume after a restart, every
 * transition is committed with its audit event, the alias history answers as-of queries, two
 * observers take turns, and the files of earlier versions are imported once. Each test gets its own
 * new database.
 */
class RolloutsAndAliasesPostgresIT extends RolloutsAndAliasesContract {

    private String database;

    @Override
    String freshDatabaseUrl() throws SQLException {
        database = LocalPostgres.uniqueName("quiver_rollouts_it_");
        return LocalPostgres.freshDatabase(database);
    }

    @Override
    void dropDatabase(String url) throws SQLException {
        LocalPostgres.dropDatabase(database);
    }
}
