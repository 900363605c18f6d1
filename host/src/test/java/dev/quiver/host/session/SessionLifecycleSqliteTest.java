package dev.quiver.host.session;

import java.nio.file.Files;
import java.nio.file.Path;

/** The {@link SessionLifecycleContract} on SQLite files. */
class SessionLifecycleSqliteTest extends SessionLifecycleContract {

    @Override
    String freshDatabaseUrl() throws Exception {
        Path dir = Files.createTempDirectory(home, "db");
        return "jdbc:sqlite:" + dir.resolve("state.db");
    }
}
