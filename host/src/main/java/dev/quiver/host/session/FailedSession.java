package dev.quiver.host.session;

import dev.quiver.api.error.QuiverInputException;
import dev.quiver.host.store.SessionRow;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An open session whose replay failed at start (a damaged stored row, a command the replay cannot
 * apply): quarantined in state {@code failed_recovery} with the reason, so the other sessions
 * serve. It refuses bars, fills and commands with 409 {@code SESSION_FAILED_RECOVERY}; closing it
 * (DELETE) lets its symbol open as the next generation.
 *
 * @param row the session's stored row
 * @param reason why the replay failed (the exception's messages, outermost first)
 * @param at when it was quarantined
 */
record FailedSession(SessionRow row, String reason, Instant at) {

    /** The state's name in answers. */
    static final String STATE = "failed_recovery";

    static FailedSession of(SessionRow row, Throwable e, Instant at) {
        StringBuilder why = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (why.length() > 0) {
                why.append(": ");
            }
            why.append(t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage());
            if (t.getCause() == t) {
                break;
            }
        }
        return new FailedSession(row, why.toString(), at);
    }

    /** The refusal of any work on the session. */
    QuiverInputException refusal(String field, Object value) {
        return new QuiverInputException(
                "SESSION_FAILED_RECOVERY",
                field,
                "session " + row.symbol(),
                value,
                "could not be replayed at start and is quarantined (generation "
                        + row.generation()
                        + ", account "
                        + row.accountId()
                        + "): "
                        + reason
                        + ". DELETE /v1/sessions/"
                        + row.symbol()
                        + " closes it; its stored inputs stay for inspection");
    }

    /** What GET answers for it. */
    Map<String, Object> state() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("symbol", row.symbol());
        m.put("state", STATE);
        m.put("generation", row.generation());
        m.put("account", row.accountId());
        m.put("reason", reason);
        m.put("since", at.toString());
        return m;
    }
}
