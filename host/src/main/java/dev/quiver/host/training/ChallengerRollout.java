package dev.quiver.host.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.host.rollout.RolloutController;
import dev.quiver.host.rollout.RolloutSpec;
import dev.quiver.host.rollout.RolloutSpecException;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A job kind that registers a strategy bundle (e.g. {@code fit-strategy}) feeding its challenger to
 * the rollout rules (issue 12, item 2): with the parameter {@code rollout}, a job that registered a
 * version starts a strategy rollout of that version against the served bundle, and from there the
 * existing rules decide (significance tests, automatic promotion or rollback). Training never moves
 * {@code @champion}: only a completed rollout does.
 *
 * <pre>{@code
 * "rollout": {"mode": "shadow", "routing": {"key": "symbol", "canary_percent": 10},
 *             "rules": {"metric": "log_loss", "min_samples": 200, "automatic": true}}
 * }</pre>
 *
 * <p>{@code mode} is {@code shadow} (default) or {@code canary}; {@code routing} and {@code rules}
 * are those of a rollout spec ({@link RolloutSpec}), checked when the job is asked for (a bad one
 * is refused naming {@code rollout.rules.min_samples} and the like). {@code rollout} needs {@code
 * register}. The rollout's id is {@code training-<job id>}, its challenger {@code
 * models:/NAME/VERSION} (pinned); its start is in the rollout audit log with actor {@code training}
 * and the job as the reason. A rollout that cannot start (another strategy rollout is live, the
 * service serves no bundle, the version is refused) leaves the registered version as it is; the
 * job's result says why under {@code rollout.refused}.
 */
public final class ChallengerRollout implements JobKind {

    private static final Logger LOG = LoggerFactory.getLogger(ChallengerRollout.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Starts a rollout, auditing who and why (the service's rollouts). */
    @FunctionalInterface
    public interface Starter {
        /**
         * Starts it.
         *
         * @param spec the rollout
         * @param actor who
         * @param reason why
         * @return the started rollout
         */
        RolloutController start(RolloutSpec spec, String actor, String reason);
    }

    private final JobKind inner;
    private final Optional<Starter> starter;

    /**
     * The kind.
     *
     * @param inner the kind that registers (its result has {@code registered}: {@code
     *     models:/NAME/VERSION})
     * @param starter the service's rollouts, or empty when it has none (then {@code rollout} is
     *     refused)
     */
    public ChallengerRollout(JobKind inner, Optional<Starter> starter) {
        this.inner = inner;
        this.starter = starter;
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public ObjectNode validate(ObjectNode params) {
        JsonNode rollout = params.remove("rollout");
        ObjectNode checked = inner.validate(params);
        if (rollout == null || rollout.isNull()) {
            return checked;
        }
        if (starter.isEmpty()) {
            throw TrainingService.bad("rollout", rollout, "needs a service with rollouts");
        }
        if (!checked.hasNonNull("register")) {
            throw TrainingService.bad(
                    "rollout", rollout, "needs register: a rollout's challenger is a version");
        }
        if (!rollout.isObject()) {
            throw TrainingService.bad(
                    "rollout", rollout, "is not an object {\"mode\", \"routing\", \"rules\"}");
        }
        ObjectNode r = ((ObjectNode) rollout).deepCopy();
        for (var it = r.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!List.of("mode", "routing", "rules").contains(f)) {
                throw TrainingService.bad(
                        "rollout." + f, r.get(f), "is not one of [mode, routing, rules]");
            }
        }
        if (!r.has("mode")) {
            r.put("mode", "shadow");
        }
        if (!List.of("shadow", "canary").contains(r.path("mode").asText())) {
            throw TrainingService.bad(
                    "rollout.mode",
                    r.get("mode"),
                    "is not shadow or canary: a challenger from training starts beside the"
                            + " champion, the rules promote it");
        }
        try {
            RolloutSpec.parse(
                    spec(r, "probe", "models:/" + checked.get("register").asText() + "/1"),
                    "params.rollout",
                    null);
        } catch (RolloutSpecException e) {
            throw TrainingService.bad("rollout." + e.field(), r, e.getMessage());
        }
        checked.set("rollout", r);
        return checked;
    }

    private static ObjectNode spec(ObjectNode rollout, String id, String version) {
        ObjectNode s = JSON.createObjectNode();
        s.put("id", id);
        s.putObject("challenger").put("strategy", version);
        rollout.properties().forEach(e -> s.set(e.getKey(), e.getValue().deepCopy()));
        return s;
    }

    @Override
    public ObjectNode run(ObjectNode params, JobContext context) throws Exception {
        ObjectNode p = params.deepCopy();
        JsonNode rollout = p.remove("rollout");
        ObjectNode result = inner.run(p, context);
        if (rollout == null || !result.hasNonNull("registered")) {
            return result;
        }
        String version = result.get("registered").asText();
        String id = "training-" + context.jobId();
        ObjectNode r = result.putObject("rollout");
        r.put("id", id);
        r.put("challenger", version);
        context.progress(0.995, "starting rollout " + id + " of " + version);
        try {
            RolloutSpec spec =
                    RolloutSpec.parse(spec((ObjectNode) rollout, id, version), "job " + id, null);
            RolloutController c =
                    starter.orElseThrow()
                            .start(
                                    spec,
                                    "training",
                                    "training job "
                                            + context.jobId()
                                            + " registered "
                                            + version
                                            + " (@challenger); the rollout rules decide");
            r.put("stage", c.stage().id());
            LOG.info("training job {}: rollout {} of {} started", context.jobId(), id, version);
        } catch (RuntimeException e) {
            // The version is registered and @challenger points at it; only the rollout is not
            // running. The job succeeded at what it did; the result says what it could not do.
            r.put("refused", e.getMessage());
            LOG.warn(
                    "training job {}: rollout {} of {} refused: {}",
                    context.jobId(),
                    id,
                    version,
                    e.getMessage());
        }
        return result;
    }
}
