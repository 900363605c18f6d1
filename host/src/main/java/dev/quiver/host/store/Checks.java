package dev.quiver.host.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Objects;
import java.util.Optional;

/** Argument checks of the row records; messages name the record, the field and the value. */
final class Checks {

    static final ObjectMapper JSON = new ObjectMapper();

    private Checks() {}

    static String text(String record, String field, String value) {
        Objects.requireNonNull(value, () -> record + "." + field + " must not be null");
        if (value.isBlank()) {
            throw new IllegalArgumentException(record + "." + field + " must not be blank");
        }
        return value;
    }

    static Optional<String> optionalText(String record, String field, Optional<String> value) {
        Objects.requireNonNull(
                value, () -> record + "." + field + " must not be null (use Optional.empty())");
        value.ifPresent(v -> text(record, field, v));
        return value;
    }

    /**
     * A double the store keeps exactly in both databases: finite (SQLite stores NaN as NULL), and
     * -0.0 becomes 0.0 (SQLite does not keep the sign of zero; the two are equal as numbers).
     */
    static double finite(String record, String field, double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException(
                    record + "." + field + " must be a finite number (value: " + value + ")");
        }
        return value == 0.0 ? 0.0 : value;
    }

    static JsonNode json(String record, String field, String text, boolean object) {
        Objects.requireNonNull(text, () -> record + "." + field + " must not be null");
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(
                    record
                            + "."
                            + field
                            + " is not valid JSON ("
                            + e.getOriginalMessage()
                            + "; value: "
                            + abbreviate(text)
                            + ")",
                    e);
        }
        if (node == null || node.isMissingNode()) {
            throw new IllegalArgumentException(record + "." + field + " is empty: expected JSON");
        }
        if (object && !node.isObject()) {
            throw new IllegalArgumentException(
                    record
                            + "."
                            + field
                            + " must be a JSON object (value: "
                            + abbreviate(text)
                            + ")");
        }
        return node;
    }

    private static String abbreviate(String text) {
        return text.length() <= 80 ? text : text.substring(0, 77) + "...";
    }
}
