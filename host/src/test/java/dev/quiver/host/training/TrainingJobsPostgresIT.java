package dev.quiver.host.training;

import dev.quiver.host.store.LocalPostgres;
import java.sql.SQLException;

/**
 * The {@link TrainingJobsContract} on the real PostgreSQL server the build starts ({@code
 * postgres/server.sh}): each test gets its own new database.
 */
class TrainingJobsPostgresIT extends TrainingJobsContract {

    private String database;

    @Override
    String freshDatabaseUrl() throws SQLException {
        database = LocalPostgres.uniqueName("quiver_training_it_");
        return LocalPostgres.freshDatabase(database);
    }

    @Override
    void dropDatabase(String url) throws SQLException {
        LocalPostgres.dropDatabase(database);
    }
}
