package dev.quiver.host.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.quiver.api.error.QuiverInputException;
import io.javalin.http.Context;
import java.io.IOException;

/**
 * A route family's request bodies: a JSON object (an empty body reads as {@code {}}) and its
 * optional string fields, each refusal a {@link QuiverInputException} with the family's error code.
 *
 * @param code the error code of a refusal, e.g. {@code BAD_TRAINING_JOB}
 * @param what what the routes handle, for the message, e.g. {@code training jobs}
 */
record JsonBody(String code, String what) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The request's body as a JSON object.
     *
     * @throws QuiverInputException naming {@code body} if it is not JSON or not an object
     */
    JsonNode object(Context ctx) {
        String raw = ctx.body();
        if (raw.isBlank()) {
            return JSON.createObjectNode();
        }
        try {
            JsonNode n = JSON.readTree(raw);
            if (n == null || !n.isObject()) {
                throw new QuiverInputException(code, "body", what, raw, "is not a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw new QuiverInputException(
                    code,
                    "body",
                    what,
                    raw.length() > 80 ? raw.substring(0, 80) + "..." : raw,
                    "is not JSON: " + e.getMessage());
        }
    }

    /**
     * An optional string field.
     *
     * @return its text, or null when absent or JSON null
     * @throws QuiverInputException naming the field if it is present and not a string
     */
    String text(JsonNode b, String field) {
        JsonNode v = b.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new QuiverInputException(code, field, what, v, "is not a string");
        }
        return v.asText();
    }
}
