package dev.quiver.host.store;

import java.util.Objects;
import java.util.Optional;

/**
 * An alias move a service observed (table {@code alias_moves}).
 *
 * @param model registered model name, not blank
 * @param alias the alias, not blank
 * @param ordinal the move's number among the moves of this alias, from 1 (the first observation)
 * @param observedMs when it was observed, epoch milliseconds UTC
 * @param fromVersion the version the move before recorded; empty on the first observation
 * @param toVersion the version the alias pointed at, not blank
 */
public record AliasMoveRow(
        String model,
        String alias,
        int ordinal,
        long observedMs,
        Optional<String> fromVersion,
        String toVersion) {

    /** Checks the fields. */
    public AliasMoveRow {
        Checks.text("AliasMoveRow", "model", model);
        Checks.text("AliasMoveRow", "alias", alias);
        if (ordinal < 1) {
            throw new IllegalArgumentException(
                    "AliasMoveRow.ordinal must be >= 1 (value: " + ordinal + ")");
        }
        Objects.requireNonNull(
                fromVersion, "AliasMoveRow.fromVersion must not be null (use Optional.empty())");
        Checks.optionalText("AliasMoveRow", "fromVersion", fromVersion);
        Checks.text("AliasMoveRow", "toVersion", toVersion);
        if (fromVersion.isEmpty() != (ordinal == 1)) {
            throw new IllegalArgumentException(
                    "AliasMoveRow: fromVersion must be empty exactly for ordinal 1 (ordinal "
                            + ordinal
                            + ", fromVersion "
                            + fromVersion
                            + ")");
        }
    }
}
