package dev.quiver.host.session;

import dev.quiver.host.store.LocalPostgres;
import java.util.List;

/**
 * The {@link PortfolioLifecycleContract} on a real PostgreSQL server ({@code postgres/server.sh},
 * started by the build before failsafe). Each test gets its own new database.
 */
class PortfolioLifecyclePostgresIT extends PortfolioLifecycleContract {

    private String database;

    @Override
    String freshDatabaseUrl() throws Exception {
        database = LocalPostgres.uniqueName("quiver_portfolio_");
        return LocalPostgres.freshDatabase(database);
    }

    @Override
    void dropDatabase(String url) throws Exception {
        LocalPostgres.dropDatabase(database);
    }

    @Override
    List<String> failingTrigger(String name, String table, String event) {
        return List.of(
                "CREATE OR REPLACE FUNCTION quiver_test_fail() RETURNS trigger LANGUAGE plpgsql"
                        + " AS $$ BEGIN RAISE EXCEPTION 'injected: % fails', TG_ARGV[0]; END $$",
                "CREATE TRIGGER "
                        + name
                        + " BEFORE "
                        + event
                        + " ON "
                        + table
                        + " FOR EACH ROW EXECUTE FUNCTION quiver_test_fail('"
                        + table
                        + " "
                        + event
                        + "')",
                "DROP TRIGGER " + name + " ON " + table);
    }
}
