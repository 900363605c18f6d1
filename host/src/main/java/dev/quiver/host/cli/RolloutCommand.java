package dev.quiver.host.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.host.rollout.RolloutSpec;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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

    @Mixin ServiceClient service;

    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * Sends a request; prints the JSON answer; exit 0 on 2xx, 2 on 4xx (bad input), 1 otherwise.
     */
    int call(CommandSpec sub, String method, String path, String body) {
        return service.call(sub, method, path, body);
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
