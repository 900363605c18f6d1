package dev.quiver.host.session;

import dev.quiver.host.store.LocalPostgres;

/**
 * The {@link SessionLifecycleContract} on a real PostgreSQL server ({@code postgres/server.sh},
 * started by the build before failsafe). Each test gets its own new database.
 */
class SessionLifecyclePostgresIT extends SessionLifecycleContract {

    private String database;

    @Override
    String freshDatabaseUrl() throws Exception {
        database = LocalPostgres.uniqueName("quiver_lifecycle_");
        return LocalPostgres.freshDatabase(database);
    }

    @Override
    void dropDatabase(String url) throws Exception {
        LocalPostgres.dropDatabase(database);
    }
}
