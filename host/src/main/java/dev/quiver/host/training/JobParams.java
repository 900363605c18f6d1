package dev.quiver.host.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.host.registry.ModelUri;
import dev.quiver.host.session.Text;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Collection;

/**
 * The checks every job kind makes of its parameters (a JSON object), each refusal a {@link
 * TrainingService#bad} naming the parameter: known names, integers in range with their defaults,
 * non-empty strings, instants, and the registration pair {@code register} + {@code aliases}.
 */
final class JobParams {

    private JobParams() {}

    /**
     * Refuses a parameter the kind does not take, and with {@code refuseNull} a {@code null} one.
     *
     * @param p the parameters
     * @param known the kind's parameter names
     * @param kind the kind's name, for the message
     * @param refuseNull whether a {@code null} value is refused (else it means "the default")
     */
    static void requireKnown(
            ObjectNode p, Collection<String> known, String kind, boolean refuseNull) {
        for (var it = p.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!known.contains(f)) {
                throw TrainingService.bad(f, p.get(f), "is not a parameter of " + kind);
            }
            if (refuseNull && p.get(f).isNull()) {
                throw TrainingService.bad(f, null, "is null: leave it out for its default");
            }
        }
    }

    /** An integer parameter {@code >= min}, set to its default when absent or null. */
    static void count(ObjectNode p, String field, int defaultValue, int min) {
        count(p, field, defaultValue, min, Integer.MAX_VALUE);
    }

    /** An integer parameter in {@code [min, max]}, set to its default when absent or null. */
    static void count(ObjectNode p, String field, int defaultValue, int min, int max) {
        if (!p.hasNonNull(field)) {
            p.put(field, defaultValue);
            return;
        }
        JsonNode v = p.get(field);
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < min || v.asInt() > max) {
            throw TrainingService.bad(
                    field,
                    v,
                    max == Integer.MAX_VALUE
                            ? "must be an integer >= " + min
                            : "must be an integer in [" + min + ", " + max + "]");
        }
    }

    /** A present parameter's value as a non-empty string. */
    static String text(JsonNode p, String field) {
        JsonNode v = p.get(field);
        if (!v.isTextual() || Text.blank(v.asText())) {
            throw TrainingService.bad(field, v, "is not a non-empty string");
        }
        return v.asText();
    }

    /** {@code until}, when given, as an ISO-8601 instant. */
    static void instantIfPresent(JsonNode p, String field) {
        if (p.hasNonNull(field)) {
            try {
                Instant.parse(text(p, field));
            } catch (DateTimeParseException e) {
                throw TrainingService.bad(
                        field, p.get(field), "is not an ISO-8601 instant (2024-01-01T00:00:00Z)");
            }
        }
    }

    /**
     * {@code register} (a registered model name) and {@code aliases} (default {@code
     * ["challenger"]}; never {@code champion}: training registers challengers and the rollout rules
     * promote them), or neither.
     *
     * @param p the parameters; {@code aliases} is set to its default when {@code register} is given
     *     without it
     * @param hasRegistry whether the service has an MLflow registry to register in
     */
    static void registration(ObjectNode p, boolean hasRegistry) {
        if (!p.hasNonNull("register")) {
            if (p.has("aliases")) {
                throw TrainingService.bad(
                        "aliases",
                        p.get("aliases"),
                        "needs register: an alias points at a version");
            }
            return;
        }
        if (!hasRegistry) {
            throw TrainingService.bad(
                    "register",
                    p.get("register"),
                    "needs an MLflow registry: start the service with --tracking-uri or"
                            + " MLFLOW_TRACKING_URI");
        }
        String name = text(p, "register");
        registryName("register", p.get("register"), "models:/" + name + "/1");
        if (!p.has("aliases")) {
            p.set("aliases", JsonNodeFactory.instance.arrayNode().add("challenger"));
        }
        if (!p.get("aliases").isArray()) {
            throw TrainingService.bad("aliases", p.get("aliases"), "is not an array of names");
        }
        for (JsonNode a : p.get("aliases")) {
            if (!a.isTextual()) {
                throw TrainingService.bad("aliases", a, "is not a name");
            }
            if (a.asText().equals("champion")) {
                throw TrainingService.bad(
                        "aliases",
                        a,
                        "training never moves @champion: register a challenger, the rollout"
                                + " rules promote it");
            }
            registryName("aliases", a, "models:/" + name + "@" + a.asText());
        }
    }

    /** A registry reference built from a parameter, refused naming it when it does not parse. */
    private static void registryName(String field, JsonNode value, String uri) {
        try {
            ModelUri.parse(uri);
        } catch (IllegalArgumentException e) {
            throw TrainingService.bad(
                    field, value, "is not a name of letters, digits, '.', '_', '-'");
        }
    }
}
