package dev.quiver.host.mlflow;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The real MLflow server the integration tests talk to. {@code ./mvnw verify} starts it with {@code
 * mlflow/server.sh} before failsafe and passes {@code quiver.mlflow.uri}; run from an IDE without
 * that property, the first use starts one the same way (once per JVM, stopped at exit). A missing
 * python3 or venv fails the test: nothing is skipped.
 */
public final class LocalMlflow {

    private static String uri;

    private LocalMlflow() {}

    /**
     * The tracking URI of the running server.
     *
     * @return e.g. {@code http://127.0.0.1:41234}
     */
    public static synchronized String uri() {
        if (uri != null) {
            return uri;
        }
        String given = System.getProperty("quiver.mlflow.uri");
        if (given != null && !given.contains("${")) {
            uri = given;
            return uri;
        }
        uri = start();
        return uri;
    }

    private static String start() {
        Path script = script();
        Path state = Path.of("target", "mlflow-server-ide").toAbsolutePath();
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
                        "mlflow/server.sh start failed (exit "
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
                                        } catch (IOException | InterruptedException e) {
                                            // exiting anyway
                                        }
                                    }));
            return out.lines().reduce((a, b) -> b).orElseThrow();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + script, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static Path script() {
        String given = System.getProperty("quiver.mlflow.script");
        if (given != null && !given.contains("${")) {
            return Path.of(given);
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("mlflow/server.sh");
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException(
                "mlflow/server.sh not found above " + Path.of("").toAbsolutePath());
    }
}
