package dev.quiver.host.store;

import java.util.Optional;

/**
 * An operator command or the audit of a derived transition (table {@code events}), e.g. a circuit
 * breaker tripping ({@code breaker_tripped}), re-arming ({@code breaker_rearmed}) or the operator's
 * command to re-arm it ({@code rearm_command}).
 *
 * @param accountId the account, which must exist
 * @param symbol the symbol it concerns, if any
 * @param kind what happened, e.g. {@code breaker_tripped}, not blank
 * @param policy the policy concerned (e.g. the breaker's name), if any
 * @param detailJson details as JSON (any JSON value; {@code {}} when none)
 * @param timeMs when, epoch milliseconds UTC
 * @param actor who: e.g. {@code engine} or an operator's name, not blank
 * @param reason why, in words, if given
 */
public record EventRow(
        String accountId,
        Optional<String> symbol,
        String kind,
        Optional<String> policy,
        String detailJson,
        long timeMs,
        String actor,
        Optional<String> reason) {

    /** Checks the fields. */
    public EventRow {
        Checks.text("EventRow", "accountId", accountId);
        Checks.optionalText("EventRow", "symbol", symbol);
        Checks.text("EventRow", "kind", kind);
        Checks.optionalText("EventRow", "policy", policy);
        Checks.json("EventRow", "detailJson", detailJson, false);
        Checks.text("EventRow", "actor", actor);
        Checks.optionalText("EventRow", "reason", reason);
    }
}
