package dev.quiver.host.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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
                    + " evolve-params), status [ID], cancel ID, config [--set FILE] (the"
                    + " schedules), trigger SCHEDULE (run a schedule's job now), triggers [--set"
                    + " FILE | --check] (drift and bundle-age triggers), drift (PSI and KS per"
                    + " feature and session). A finished fit registers a challenger; the rollout"
                    + " rules, not training, decide whether it becomes the champion."
        },
        subcommands = {
            TrainingCommand.Start.class,
            TrainingCommand.Status.class,
            TrainingCommand.Cancel.class,
            TrainingCommand.Config.class,
            TrainingCommand.Trigger.class,
            TrainingCommand.Triggers.class,
            TrainingCommand.Drift.class
        })
final class TrainingCommand implements Runnable {

    @Mixin ServiceClient service;

    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    int call(CommandSpec sub, String method, String path, String body) {
        return service.call(sub, method, path, body);
    }

    /** A JSON file given to an option: its content, or a refusal naming the option. */
    static JsonNode jsonFile(String option, Path file) {
        try {
            return RolloutCommand.JSON.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "[Quiver/BAD_OPTION] "
                            + option
                            + " "
                            + file
                            + ": not a readable JSON file ("
                            + e.getMessage()
                            + ")",
                    e);
        }
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
                JsonNode n = jsonFile("--params", params);
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

    /** Who and why, for the audit trail: what every change asks for. */
    static final class Audit {
        @Option(names = "--reason", description = "Why (required with a change, audited).")
        String reason;

        @Option(
                names = "--actor",
                defaultValue = "${sys:user.name}",
                description = "Who (default: the OS user, ${DEFAULT-VALUE}).")
        String actor;

        ObjectNode body(String option) {
            if (reason == null || reason.isBlank()) {
                throw new IllegalArgumentException(
                        "[Quiver/BAD_OPTION] --reason: required with " + option);
            }
            ObjectNode b = RolloutCommand.JSON.createObjectNode();
            b.put("actor", actor);
            b.put("reason", reason);
            return b;
        }
    }

    /** {@code quiver training config [--set FILE]}. */
    @Command(
            name = "config",
            mixinStandardHelpOptions = true,
            description = {
                "The job kinds and schedules (GET /v1/training/config); with --set FILE, replace"
                        + " the schedules (PUT): FILE is a JSON array of schedules {name, kind,"
                        + " params, cron | every}, or an object with one, \"schedules\". A bad"
                        + " schedule is refused naming its field, e.g. schedules[0].cron."
            })
    static final class Config implements Callable<Integer> {
        @ParentCommand TrainingCommand parent;

        @Spec CommandSpec spec;

        @Option(names = "--set", paramLabel = "FILE", description = "The schedules to set.")
        Path set;

        @Mixin Audit audit;

        @Override
        public Integer call() {
            if (set == null) {
                return parent.call(spec, "GET", "/v1/training/config", null);
            }
            JsonNode n = jsonFile("--set", set);
            JsonNode schedules = n.isObject() && n.has("schedules") ? n.get("schedules") : n;
            ObjectNode body = audit.body("--set");
            body.set("schedules", schedules);
            return parent.call(spec, "PUT", "/v1/training/config", body.toString());
        }
    }

    /** {@code quiver training trigger SCHEDULE}. */
    @Command(
            name = "trigger",
            mixinStandardHelpOptions = true,
            description =
                    "Run a configured schedule's job now, by hand (POST /v1/training/trigger); its"
                            + " next scheduled run stays as it was. Prints the queued job.")
    static final class Trigger implements Callable<Integer> {
        @ParentCommand TrainingCommand parent;

        @Spec CommandSpec spec;

        @Parameters(index = "0", paramLabel = "SCHEDULE", description = "The schedule's name.")
        String schedule;

        @Mixin Audit audit;

        @Override
        public Integer call() {
            ObjectNode body = audit.body("trigger");
            body.put("schedule", schedule);
            return parent.call(spec, "POST", "/v1/training/trigger", body.toString());
        }
    }

    /** {@code quiver training triggers [--set FILE | --check]}. */
    @Command(
            name = "triggers",
            mixinStandardHelpOptions = true,
            description = {
                "The drift and bundle-age triggers with each one's last outcome (GET"
                        + " /v1/training/triggers); --set FILE replaces them (a JSON array, or an"
                        + " object with \"triggers\"; see docs/training.md); --check checks them"
                        + " now."
            })
    static final class Triggers implements Callable<Integer> {
        @ParentCommand TrainingCommand parent;

        @Spec CommandSpec spec;

        @Option(names = "--set", paramLabel = "FILE", description = "The triggers to set.")
        Path set;

        @Option(names = "--check", description = "Check the triggers now.")
        boolean check;

        @Mixin Audit audit;

        @Override
        public Integer call() {
            if (set != null && check) {
                throw new IllegalArgumentException(
                        "[Quiver/BAD_OPTION] --set and --check: give one of them");
            }
            if (check) {
                return parent.call(
                        spec,
                        "POST",
                        "/v1/training/triggers/check",
                        audit.body("--check").toString());
            }
            if (set == null) {
                return parent.call(spec, "GET", "/v1/training/triggers", null);
            }
            JsonNode n = jsonFile("--set", set);
            ObjectNode body = audit.body("--set");
            body.set("triggers", n.isObject() && n.has("triggers") ? n.get("triggers") : n);
            return parent.call(spec, "PUT", "/v1/training/triggers", body.toString());
        }
    }

    /** {@code quiver training drift [--bars N] [--symbol S]}. */
    @Command(
            name = "drift",
            mixinStandardHelpOptions = true,
            description =
                    "Per open session and feature: the population stability index and the"
                            + " Kolmogorov-Smirnov statistic between the served bundle's training"
                            + " window and the session's last N bars (GET /v1/training/drift).")
    static final class Drift implements Callable<Integer> {
        @ParentCommand TrainingCommand parent;

        @Spec CommandSpec spec;

        @Option(
                names = "--bars",
                paramLabel = "N",
                description = "Live bars per session (the service's default: 300).")
        Integer bars;

        @Option(names = "--symbol", paramLabel = "SYMBOL", description = "One session only.")
        String symbol;

        @Override
        public Integer call() {
            StringBuilder q = new StringBuilder();
            if (bars != null) {
                q.append("bars=").append(bars);
            }
            if (symbol != null) {
                q.append(q.length() == 0 ? "" : "&")
                        .append("symbol=")
                        .append(
                                java.net.URLEncoder.encode(
                                        symbol, java.nio.charset.StandardCharsets.UTF_8));
            }
            return parent.call(
                    spec, "GET", "/v1/training/drift" + (q.length() == 0 ? "" : "?" + q), null);
        }
    }
}
