package dev.quiver.host.rollout;

import dev.quiver.host.store.LocalPostgres;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The {@link RolloutsAndAliasesContract} on the real PostgreSQL server the build starts ({@code
 * postgres/server.sh}, {@code quiver.postgres.url}): rollouts resume after a restart, every
 * transition is committed with its audit event, the alias history answers as-of queries, two
 * observers take turns, and the files of earlier versions are imported once. Each test gets its own
 * new database.
 */
class RolloutsAndAliasesPostgresIT extends RolloutsAndAliasesContract {

    private static final AtomicInteger DATABASES = new AtomicInteger();

    private String database;

    @Override
    String freshDatabaseUrl() throws SQLException {
        database =
                "quiver_rollouts_it_"
                        + ProcessHandle.current().pid()
                        + "_"
                        + DATABASES.incrementAndGet();
        return LocalPostgres.freshDatabase(database);
    }

    @Override
    void dropDatabase(String url) throws SQLException {
        LocalPostgres.dropDatabase(database);
    }
}
