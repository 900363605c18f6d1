package dev.quiver.host.session;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The {@link PortfolioLifecycleContract} on SQLite files. */
class PortfolioLifecycleSqliteTest extends PortfolioLifecycleContract {

    @Override
    String freshDatabaseUrl() throws Exception {
        Path dir = Files.createTempDirectory(home, "db");
        return "jdbc:sqlite:" + dir.resolve("state.db");
    }

    @Override
    List<String> failingTrigger(String name, String table, String event) {
        return List.of(
                "CREATE TRIGGER "
                        + name
                        + " BEFORE "
                        + event
                        + " ON "
                        + table
                        + " BEGIN SELECT RAISE(ABORT, 'injected: "
                        + table
                        + " "
                        + event
                        + " fails'); END",
                "DROP TRIGGER " + name);
    }
}
