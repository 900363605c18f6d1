package dev.quiver.host.session;

import dev.quiver.host.store.LocalPostgres;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The {@link SessionLifecycleContract} on a real PostgreSQL server ({@code postgres/server.sh},
 * started by the build before failsafe). Each test gets its own new database.
 */
class SessionLifecyclePostgresIT extends SessionLifecycleContract {

    private static final AtomicInteger DATABASES = new AtomicInteger();

    private String database;

    @Override
    String freshDatabaseUrl() throws Exception {
        database =
                "quiver_lifecycle_"
                        + ProcessHandle.current().pid()
                        + "_"
                        + DATABASES.incrementAndGet();
        return LocalPostgres.freshDatabase(database);
    }

    @Override
    void dropDatabase(String url) throws Exception {
        LocalPostgres.dropDatabase(database);
    }
}
