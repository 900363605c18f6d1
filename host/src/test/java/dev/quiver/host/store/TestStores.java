package dev.quiver.host.store;

import java.nio.file.Path;
import java.util.Optional;

/** State stores for tests of the classes that keep their state in one. */
public final class TestStores {

    private TestStores() {}

    /**
     * A SQLite state store in a folder ({@code dir/state.db}), created if missing; opening it again
     * on the same folder is a restart.
     *
     * @param dir the folder
     * @return the open store; close it
     */
    public static StateStore sqlite(Path dir) {
        return StateStore.open(Optional.of("jdbc:sqlite:" + dir.resolve("state.db")), dir);
    }
}
