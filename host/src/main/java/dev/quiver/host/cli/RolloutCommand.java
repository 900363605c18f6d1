package dev.quiver.host.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.host.rollout.RolloutSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code quiver rollout}: start and steer rollouts on a running service, over its HTTP API. */
@Command(
        name = "rollout",
        mixinStandardHelpOptions = true,
        description = {
            "Champion/challenger rollouts on a running `quiver serve`: start SPEC.json (shadow,"
                    + " canary or full), status [ID], promote ID, rollback ID, abort ID."
        },
        subcommands = {
            RolloutCommand.Start.class,
            RolloutCommand.Status.class,
            RolloutCommand.Promote.class,
            RolloutCommand.Rollback.class,
            RolloutCommand.Abort.class
        })
final class RolloutCommand implements Runnable {

    static final ObjectMapper JSON = new ObjectMapper();

    @Option(
            names = "--server",
            paramLabel = "URL",
            defaultValue = "http://127.0.0.1:8080",
            scope = picocli.CommandLine.ScopeType.INHERIT,
            description = "The service (default: ${DEFAULT-VALUE}).")
    String server;

    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * Sends a request; prints the JSON answer; exit 0 on 2xx, 2 on 4xx (bad input), 1 otherwise.
     */
    int call(CommandSpec sub, String method, String path, String body) {
        PrintWriter out = sub.commandLine().getOut();
        PrintWriter err = sub.commandLine().getErr();
        String base = server.endsWith("/") ? server.substring(0, server.length() - 1) : server;
        HttpRequest.Builder b =
                HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60));
        b =
                body == null
                        ? b.method(method, HttpRequest.BodyPublishers.noBody())
                        : b.header("Content-Type", "application/json")
                                .method(method, HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r;
        try {
            r =
                    HttpClient.newBuilder()
                            .connectTimeout(Duration.ofSeconds(5))
                            .build()
                            .send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            err.printf(
                    "[Quiver/SERVER_UNREACHABLE] %s %s: %s (is `quiver serve` running there? --server URL)%n",
                    method, base + path, e.getMessage() == null ? e.toString() : e.getMessage());
            err.flush();
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
        String text = r.body();
        try {
            JsonNode n = JSON.readTree(text);
            text = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n);
        } catch (IOException e) {
            // not JSON: print as is
        }
        if (r.statusCode() / 100 == 2) {
            out.println(text);
            out.flush();
            return 0;
        }
        err.printf(Locale.ROOT, "HTTP %d from %s %s%n%s%n", r.statusCode(), method, path, text);
        err.flush();
        return r.statusCode() / 100 == 4 ? 2 : 1;
    }

    static String reasonQuery(String reason) {
        return reason == null ? "" : "?reason=" + URLEncoder.encode(reason, StandardCharsets.UTF_8);
    }

    @Command(
            name = "start",
            mixinStandardHelpOptions = true,
            description = "Start a rollout from a spec file (checked here first).")
    static final class Start implements Callable<Integer> {
        @ParentCommand RolloutCommand parent;
        @Spec CommandSpec spec;

        @Parameters(paramLabel = "SPEC.json", description = "The rollout spec.")
        Path file;

        @Override
        public Integer call() {
            RolloutSpec s =
                    RolloutSpec.read(file); // refuses a bad spec naming the field, before sending
            return parent.call(spec, "POST", "/v1/rollouts", s.toJson().toString());
        }
    }

    @Command(
            name = "status",
            mixinStandardHelpOptions = true,
            description = "Every rollout, or one: stage, figures per variant, the current test.")
    static final class Status implements Callable<Integer> {
        @ParentCommand RolloutCommand parent;
        @Spec CommandSpec spec;

        @Parameters(paramLabel = "ID", arity = "0..1", description = "Rollout id (default: all).")
        String id;

        @Override
        public Integer call() {
            return parent.call(
                    spec, "GET", id == null ? "/v1/rollouts" : "/v1/rollouts/" + id, null);
        }
    }

    /** An operator's command on one rollout: {@code POST /v1/rollouts/{id}/{action}}. */
    abstract static class OperatorCommand implements Callable<Integer> {
        @ParentCommand RolloutCommand parent;
        @Spec CommandSpec spec;

        @Parameters(paramLabel = "ID")
        String id;

        @Option(names = "--reason", description = "Why, for the audit log.")
        String reason;

        @Override
        public Integer call() {
            return parent.call(
                    spec,
                    "POST",
                    // the subcommand's name is the endpoint's: promote, rollback, abort
                    "/v1/rollouts/" + id + "/" + spec.name() + reasonQuery(reason),
                    null);
        }
    }

    @Command(
            name = "promote",
            mixinStandardHelpOptions = true,
            description = "One stage forward: shadow -> canary -> full -> completed.")
    static final class Promote extends OperatorCommand {}

    @Command(
            name = "rollback",
            mixinStandardHelpOptions = true,
            description = "Back to the champion for every key.")
    static final class Rollback extends OperatorCommand {}

    @Command(
            name = "abort",
            mixinStandardHelpOptions = true,
            description = "Stop without a verdict; the champion serves.")
    static final class Abort extends OperatorCommand {}
}
