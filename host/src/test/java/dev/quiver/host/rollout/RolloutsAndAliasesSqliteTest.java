package dev.quiver.host.rollout;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The {@link RolloutsAndAliasesContract} on SQLite (a file in a temporary folder). */
class RolloutsAndAliasesSqliteTest extends RolloutsAndAliasesContract {

    @TempDir Path dbDir;

    @Override
    String freshDatabaseUrl() {
        return "jdbc:sqlite:" + dbDir.resolve("state.db");
    }
}
