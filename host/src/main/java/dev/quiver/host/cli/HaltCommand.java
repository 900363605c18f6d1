package dev.quiver.host.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code quiver halt} and {@code quiver resume}: the kill switch (RELIABILITY.md P12) of a running
 * service, over its HTTP API ({@code POST /v1/halt}, {@code POST /v1/resume}), like {@code quiver
 * rollout}. Exit 0 on success, 2 when the service refuses the input, 1 when it cannot be reached.
 */
final class HaltCommand {

    private HaltCommand() {}

    /** What both commands take: the service, who and why. */
    abstract static class Switch implements Callable<Integer> {
        @Mixin ServiceClient service;

        @Option(
                names = "--reason",
                required = true,
                description = "Why, for the audit trail (required).")
        String reason;

        @Option(
                names = "--actor",
                defaultValue = "${sys:user.name}",
                description = "Who, for the audit trail (default: the OS user, ${DEFAULT-VALUE}).")
        String actor;

        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            ObjectNode body = RolloutCommand.JSON.createObjectNode();
            body.put("actor", actor);
            body.put("reason", reason);
            return service.call(spec, "POST", "/v1/" + spec.name(), body.toString());
        }
    }

    /** {@code quiver halt}. */
    @Command(
            name = "halt",
            mixinStandardHelpOptions = true,
            description = {
                "Kill switch: stop all new risk in every session of a running `quiver serve` at"
                        + " once. From each session's next bar on, decisions may only keep or"
                        + " reduce a position (nothing is flattened). Stored and audited; it"
                        + " survives a restart and is cleared only by `quiver resume`."
            })
    static final class Halt extends Switch {}

    /** {@code quiver resume}. */
    @Command(
            name = "resume",
            mixinStandardHelpOptions = true,
            description = {
                "Lift the kill switch: from each session's next bar on, decisions may add risk"
                        + " again. Audited."
            })
    static final class Resume extends Switch {}
}
