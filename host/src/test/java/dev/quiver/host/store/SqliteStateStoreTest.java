package dev.quiver.host.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@link StateStoreContract} on SQLite (a file in a temporary folder), and SQLite's settings.
 */
class SqliteStateStoreTest extends StateStoreContract {

    @TempDir Path dbDir;

    @Override
    String freshDatabaseUrl() {
        return "jdbc:sqlite:" + dbDir.resolve("state.db");
    }

    @Test
    void sqliteRunsInWalModeWithFullSyncForeignKeysAndABusyTimeout() throws Exception {
        try (StateStore s = open()) {
            assertThat(((SqliteDatabase) s.database()).pragmas())
                    .containsEntry("journal_mode", "wal")
                    .containsEntry("synchronous", "2")
                    .containsEntry("foreign_keys", "1")
                    .containsEntry("busy_timeout", "10000");
        }
    }

    @Test
    void synchronousNormalIsTakenOnlyWhenTheUrlDeclaresItAndNoOtherValueIs() throws Exception {
        String url = "jdbc:sqlite:" + dbDir.resolve("normal.db");
        try (StateStore s = StateStore.open(Optional.of(url + "?synchronous=NORMAL"), home)) {
            assertThat(((SqliteDatabase) s.database()).pragmas())
                    .containsEntry("journal_mode", "wal")
                    .containsEntry("synchronous", "1");
            s.createAccount(ACCOUNT);
        }
        try (StateStore s = StateStore.open(Optional.of(url), home)) {
            assertThat(((SqliteDatabase) s.database()).pragmas()).containsEntry("synchronous", "2");
            assertThat(s.account("acct-1")).contains(ACCOUNT);
        }
        assertThatThrownBy(() -> StateStore.open(Optional.of(url + "?synchronous=OFF"), home))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("synchronous=OFF is not taken")
                .hasMessageContaining("normal.db");
    }

    @Test
    void withoutAUrlTheStoreIsStateDbInQuiverHome() {
        Path quiverHome = home.resolve("not-yet-created");
        try (StateStore s = StateStore.open(Optional.empty(), quiverHome)) {
            s.createAccount(ACCOUNT);
            assertThat(s.displayUrl())
                    .isEqualTo("jdbc:sqlite:" + quiverHome.resolve("state.db").toAbsolutePath());
        }
        assertThat(quiverHome.resolve("state.db")).isRegularFile();
        try (StateStore s = StateStore.open(Optional.empty(), quiverHome)) {
            assertThat(s.accounts()).containsExactly(ACCOUNT);
        }
    }

    @Test
    void anInMemoryDatabaseIsRefused() {
        for (String url :
                List.of("jdbc:sqlite::memory:", "jdbc:sqlite:", "jdbc:sqlite:file:x?mode=memory")) {
            assertThatThrownBy(() -> StateStore.open(Optional.of(url), home))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("in-memory SQLite database");
        }
    }

    @Test
    void anUnknownUrlIsRefusedNamingWhatWorks() {
        assertThatThrownBy(
                        () ->
                                StateStore.open(
                                        Optional.of("jdbc:mysql://h/db?password=hunter2"), home))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(
                        "[Quiver/STATE_STORE] state store URL 'jdbc:mysql://h/db?password=***' is not"
                                + " supported: expected jdbc:sqlite:FILE or"
                                + " jdbc:postgresql://HOST:PORT/DB (from --state-url or"
                                + " QUIVER_STATE_URL)");
    }

    @Test
    void anUnreachablePostgresFailsAtOpenWithoutShowingThePassword() {
        assertThatThrownBy(
                        () ->
                                StateStore.open(
                                        Optional.of(
                                                "jdbc:postgresql://127.0.0.1:1/quiver?user=q&password=hunter2&connectTimeout=2"),
                                        home))
                .isExactlyInstanceOf(StoreException.class)
                .hasMessageStartingWith(
                        "[Quiver/STATE_STORE] open: cannot open the state store at"
                                + " jdbc:postgresql://127.0.0.1:1/quiver?user=q&password=***&connectTimeout=2")
                .hasMessageNotContaining("hunter2")
                .hasMessageContaining("SQL state 08001");
    }

    @Test
    void aFileThatIsNotADatabaseFailsClearly() throws Exception {
        Path bad = dbDir.resolve("garbage.db");
        Files.writeString(bad, "this is not an SQLite database, it is a text file. ".repeat(100));
        assertThatThrownBy(() -> StateStore.open(Optional.of("jdbc:sqlite:" + bad), home))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining(bad.toString());
    }
}
