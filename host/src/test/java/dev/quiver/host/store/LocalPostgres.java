package dev.quiver.host.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * The real PostgreSQL server the integration tests use. {@code ./mvnw verify} starts it with {@code
 * postgres/server.sh} before failsafe and passes {@code quiver.postgres.url}; run from an IDE
 * without that property, the first use starts one the same way (once per JVM, stopped at exit).
 * Missing server binaries that cannot be installed fail the test: nothing is skipped.
 */
public final class LocalPostgres {

    private static String url;

    private LocalPostgres() {}

    /**
     * The JDBC URL of the server's {@code postgres} database as the superuser {@code quiver}.
     *
     * @return e.g. {@code jdbc:postgresql://127.0.0.1:41234/postgres?user=quiver}
     */
    public static synchronized String url() {
        if (url != null) {
            return url;
        }
        String given = System.getProperty("quiver.postgres.url");
        if (given != null && !given.isBlank() && !given.contains("${")) {
            url = given;
            return url;
        }
        url = start();
        return url;
    }

    private static final Pattern DATABASE = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    private static final AtomicInteger NAMES = new AtomicInteger();

    /**
     * A database name no other test of any JVM on this server uses: {@code prefix}, this JVM's pid,
     * {@code _}, and a counter of this JVM.
     *
     * @param prefix lower case letters, digits and {@code _}, e.g. {@code quiver_it_}
     * @return the name, for {@link #freshDatabase} and {@link #dropDatabase}
     */
    public static String uniqueName(String prefix) {
        return prefix + ProcessHandle.current().pid() + "_" + NAMES.incrementAndGet();
    }

    /**
     * Creates a new, empty database on the server (dropping one of that name first).
     *
     * @param name the database name: lower case letters, digits and {@code _}
     * @return its JDBC URL, with the server's parameters
     * @throws SQLException if the server refuses
     */
    public static String createDatabase(String name) throws SQLException {
        admin("DROP DATABASE IF EXISTS " + checked(name) + " WITH (FORCE)");
        admin("CREATE DATABASE " + name);
        return withDatabase(url(), name);
    }

    /**
     * Same as {@link #createDatabase}.
     *
     * @param name the database name
     * @return its JDBC URL
     * @throws SQLException if the server refuses
     */
    public static String freshDatabase(String name) throws SQLException {
        return createDatabase(name);
    }

    /**
     * Drops a database made by {@link #createDatabase}, closing its connections.
     *
     * @param name the database name
     * @throws SQLException if the server refuses
     */
    public static void dropDatabase(String name) throws SQLException {
        admin("DROP DATABASE IF EXISTS " + checked(name) + " WITH (FORCE)");
    }

    private static String checked(String name) {
        if (!DATABASE.matcher(name).matches()) {
            throw new IllegalArgumentException("not a plain database name: " + name);
        }
        return name;
    }

    /** Runs one statement on the server's {@code postgres} database. */
    static void admin(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url());
                Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /**
     * The same server and parameters, another database: {@code .../postgres?user=q} to {@code
     * .../db?user=q}.
     */
    static String withDatabase(String url, String database) {
        int query = url.indexOf('?');
        String base = query < 0 ? url : url.substring(0, query);
        String params = query < 0 ? "" : url.substring(query);
        return base.substring(0, base.lastIndexOf('/') + 1) + database + params;
    }

    private static Path script() {
        String given = System.getProperty("quiver.postgres.script");
        Path script =
                given != null && !given.contains("${")
                        ? Path.of(given)
                        : Path.of("..", "postgres", "server.sh").toAbsolutePath().normalize();
        if (!Files.isRegularFile(script)) {
            throw new IllegalStateException(
                    "postgres/server.sh not found at "
                            + script
                            + ": run from the host module or set -Dquiver.postgres.script");
        }
        return script;
    }

    private static String start() {
        Path script = script();
        Path state = Path.of("target", "postgres-server-ide").toAbsolutePath();
        try {
            Process p =
                    new ProcessBuilder(
                                    "bash",
                                    script.toString(),
                                    "start",
                                    "--state-dir",
                                    state.toString())
                            .redirectError(ProcessBuilder.Redirect.INHERIT)
                            .start();
            String out =
                    new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (p.waitFor() != 0) {
                throw new IllegalStateException(
                        "postgres/server.sh start failed (exit "
                                + p.exitValue()
                                + "); see its output above");
            }
            Runtime.getRuntime()
                    .addShutdownHook(
                            new Thread(
                                    () -> {
                                        try {
                                            new ProcessBuilder(
                                                            "bash",
                                                            script.toString(),
                                                            "stop",
                                                            "--state-dir",
                                                            state.toString())
                                                    .inheritIO()
                                                    .start()
                                                    .waitFor();
                                        } catch (IOException e) {
                                            System.err.println(
                                                    "LocalPostgres: cannot run server.sh stop: "
                                                            + e);
                                        } catch (InterruptedException e) {
                                            Thread.currentThread().interrupt();
                                        }
                                    }));
            return out.lines().reduce((a, b) -> b).orElseThrow();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + script, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting PostgreSQL", e);
        }
    }
}
