package dev.quiver.host.training;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The {@link TrainingJobsContract} on SQLite (a file in a temporary folder). */
class TrainingJobsSqliteTest extends TrainingJobsContract {

    @TempDir Path dbDir;

    @Override
    String freshDatabaseUrl() {
        return "jdbc:sqlite:" + dbDir.resolve("state.db");
    }
}
