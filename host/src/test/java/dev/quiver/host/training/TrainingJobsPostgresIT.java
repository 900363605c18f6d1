package dev.quiver.host.training;

import dev.quiver.host.store.LocalPostgres;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The {@link TrainingJobsContract} on the real PostgreSQL server the build starts ({@code
 * postgres/server.sh}): each test gets its own new database.
 */
class TrainingJobsPostgresIT extends TrainingJobsContract {

    private static final AtomicInteger DATABASES = new AtomicInteger();

    private String database;

    @Override
    String freshDatabaseUrl() throws SQLException {
        database =
                "quiver_training_it_"
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
