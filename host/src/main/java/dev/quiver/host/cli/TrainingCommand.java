package dev.quiver.host.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code quiver training}: training jobs of a running service over its HTTP API ({@code
 * /v1/training/jobs}), like {@code quiver rollout}. Exit 0 on success, 2 when the service refuses
 * the input, 1 when it cannot be reached.
 */
@Command(
        name = "training",
        mixinStandardHelpOptions = true,
        description = {
            "Training jobs on a running `quiver serve`: start KIND (fit-strategy, train-source,"
                    + " evolve-params), status [ID],"
                    + " cancel ID. A finished fit registers a challenger; the rollout rules,"
                    + " not training, decide whether it becomes the champion."
        },
        subcommands = {
            TrainingCommand.Start.class,
            TrainingCommand.Status.class,
            TrainingCommand.Cancel.class
        })
final class TrainingCommand implements Runnable {

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

    int call(CommandSpec sub, String method, String path, String body) {
        RolloutCommand client = new RolloutCommand();
        client.server = server;
        return client.call(sub, method, path, body);
    }

    /** {@code quiver training start KIND}. */
    @Command(
            name = "start",
            mixinStandardHelpOptions = true,
            description = {
                "Ask for a job; prints it (queued). Parameters of fit-strategy: --dataset ID or"
                        + " --data CSV, --until TIME, --register NAME (moves @challenger),"
                        + " --max-age DURATION. Of train-source: --source xgboost|lightgbm|catboost|lstm,"
                        + " --register NAME. Of evolve-params: --param population=12, --param"
                        + " seed=42, --until TIME, ... Any parameter as --param KEY=VALUE, or all of"
                        + " them as --params FILE.json."
            })
    static final class Start implements Callable<Integer> {
        @ParentCommand TrainingCommand parent;

        @Spec CommandSpec spec;

        @Parameters(
                index = "0",
                paramLabel = "KIND",
                description = "The job kind: fit-strategy, train-source or evolve-params.")
        String kind;

        @Option(names = "--dataset", paramLabel = "ID", description = "A bundled data set.")
        String dataset;

        @Option(names = "--data", paramLabel = "CSV", description = "A CSV file of bars.")
        Path data;

        @Option(
                names = "--until",
                paramLabel = "TIME",
                description = "Fit only on bars at or before this ISO-8601 instant.")
        String until;

        @Option(
                names = "--register",
                paramLabel = "NAME",
                description =
                        "Register the result as a new version of this model and point"
                                + " @challenger (or --alias) at it.")
        String register;

        @Option(
                names = "--alias",
                paramLabel = "ALIAS",
                description = "With --register: aliases to move (default: challenger).")
        List<String> aliases;

        @Option(
                names = "--max-age",
                paramLabel = "DURATION",
                description = "The bundle's maximum age (ISO-8601, default P30D).")
        String maxAge;

        @Option(
                names = "--source",
                paramLabel = "NAME",
                description = "train-source: xgboost, lightgbm (Java), catboost or lstm (Python).")
        String source;

        @Option(
                names = {"-p", "--param"},
                paramLabel = "KEY=VALUE",
                description =
                        "A parameter (repeatable); VALUE is read as JSON when it is JSON (42,"
                                + " [\"traditional\"], true), else as text.")
        java.util.Map<String, String> param;

        @Option(
                names = "--params",
                paramLabel = "FILE",
                description = "The parameters as a JSON object (options given here override it).")
        Path params;

        @Option(names = "--reason", required = true, description = "Why (required, audited).")
        String reason;

        @Option(
                names = "--actor",
                defaultValue = "${sys:user.name}",
                description = "Who (default: the OS user, ${DEFAULT-VALUE}).")
        String actor;

        @Override
        public Integer call() throws IOException {
            ObjectNode p;
            if (params != null) {
                JsonNode n = RolloutCommand.JSON.readTree(Files.readString(params));
                if (!n.isObject()) {
                    throw new IllegalArgumentException(
                            "[Quiver/BAD_OPTION] --params " + params + " is not a JSON object");
                }
                p = (ObjectNode) n;
            } else {
                p = RolloutCommand.JSON.createObjectNode();
            }
            if (dataset != null) {
                p.put("dataset", dataset);
            }
            if (data != null) {
                p.put("data", data.toAbsolutePath().toString());
            }
            if (until != null) {
                p.put("until", until);
            }
            if (register != null) {
                p.put("register", register);
            }
            if (aliases != null) {
                aliases.forEach(p.putArray("aliases")::add);
            }
            if (maxAge != null) {
                p.put("max_age", maxAge);
            }
            if (source != null) {
                p.put("source", source);
            }
            if (param != null) {
                for (var e : param.entrySet()) {
                    JsonNode v;
                    try {
                        v = RolloutCommand.JSON.readTree(e.getValue());
                    } catch (com.fasterxml.jackson.core.JsonProcessingException notJson) {
                        v = RolloutCommand.JSON.getNodeFactory().textNode(e.getValue());
                    }
                    p.set(
                            e.getKey(),
                            v == null || v.isMissingNode()
                                    ? RolloutCommand.JSON.getNodeFactory().textNode(e.getValue())
                                    : v);
                }
            }
            ObjectNode body = RolloutCommand.JSON.createObjectNode();
            body.put("kind", kind);
            body.set("params", p);
            body.put("actor", actor);
            body.put("reason", reason);
            return parent.call(spec, "POST", "/v1/training/jobs", body.toString());
        }
    }

    /** {@code quiver training status [ID]}. */
    @Command(
            name = "status",
            mixinStandardHelpOptions = true,
            description = "One job (state, progress, result or error), or the most recent ones.")
    static final class Status implements Callable<Integer> {
        @ParentCommand TrainingCommand parent;

        @Spec CommandSpec spec;

        @Parameters(index = "0", arity = "0..1", paramLabel = "ID", description = "A job id.")
        String id;

        @Override
        public Integer call() {
            return parent.call(
                    spec,
                    "GET",
                    id == null ? "/v1/training/jobs" : "/v1/training/jobs/" + id,
                    null);
        }
    }

    /** {@code quiver training cancel ID}. */
    @Command(
            name = "cancel",
            mixinStandardHelpOptions = true,
            description = "Cancel a queued or running job (a running fit stops within a fold).")
    static final class Cancel implements Callable<Integer> {
        @ParentCommand TrainingCommand parent;

        @Spec CommandSpec spec;

        @Parameters(index = "0", paramLabel = "ID", description = "The job id.")
        String id;

        @Option(names = "--reason", required = true, description = "Why (required, audited).")
        String reason;

        @Option(
                names = "--actor",
                defaultValue = "${sys:user.name}",
                description = "Who (default: the OS user, ${DEFAULT-VALUE}).")
        String actor;

        @Override
        public Integer call() {
            ObjectNode body = RolloutCommand.JSON.createObjectNode();
            body.put("actor", actor);
            body.put("reason", reason);
            return parent.call(
                    spec, "POST", "/v1/training/jobs/" + id + "/cancel", body.toString());
        }
    }
}
