package dev.quiver.host.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/**
 * The {@link StateStoreContract} on a real PostgreSQL server ({@code postgres/server.sh}, started
 * by the build before failsafe: {@code quiver.postgres.url}). Each test gets its own new database.
 */
class PostgresStateStoreIT extends StateStoreContract {

    private String database;

    @Override
    String freshDatabaseUrl() throws SQLException {
        database = LocalPostgres.uniqueName("quiver_it_");
        return LocalPostgres.freshDatabase(database);
    }

    @Override
    void dropDatabase(String url) throws SQLException {
        LocalPostgres.dropDatabase(database);
    }

    private static void admin(String sql) throws SQLException {
        LocalPostgres.admin(sql);
    }

    @Test
    void commitsWaitForTheWalEvenWhereTheServerSaysOtherwise() throws SQLException {
        admin("ALTER DATABASE " + database + " SET synchronous_commit = off");
        try (StateStore s = open()) {
            assertThat(((PostgresDatabase) s.database()).setting("synchronous_commit"))
                    .isEqualTo("on");
            assertThat(((PostgresDatabase) s.database()).setting("fsync")).isEqualTo("on");
        }
        admin("ALTER DATABASE " + database + " SET synchronous_commit = remote_apply");
        try (StateStore s = open()) {
            assertThat(((PostgresDatabase) s.database()).setting("synchronous_commit"))
                    .isEqualTo("remote_apply");
        }
    }

    @Test
    void thePasswordNeverShows() {
        String url = url() + "&password=hunter2";
        try (StateStore s = StateStore.open(java.util.Optional.of(url), home)) {
            assertThat(s.displayUrl()).endsWith("&password=***").doesNotContain("hunter2");
        }
    }
}
