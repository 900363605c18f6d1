package dev.quiver.host.store;

import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A rollout's whole state (tables {@code rollouts}, {@code rollout_figures} and {@code
 * rollout_transitions}), as a rollout controller's snapshot holds it.
 *
 * @param id the rollout id, not blank
 * @param kind the capability kind, {@code prediction}, {@code sizing} or {@code strategy} (a whole
 *     strategy bundle, schema 4)
 * @param capability the capability rolled out, not blank
 * @param specJson the spec, a JSON object; fixed once stored (compared as JSON)
 * @param stage the current stage, not blank
 * @param stageIndex transitions so far, {@code >= 0}
 * @param createdMs when the rollout started, epoch milliseconds UTC; fixed once stored
 * @param stageSinceMs when the current stage began, epoch milliseconds UTC
 * @param looks tests taken in the current stage, {@code >= 0}
 * @param paired per-bar loss differences challenger minus champion in the current stage
 * @param pendingJson forecasts awaiting their outcome, a JSON array
 * @param pendingDropped forecasts dropped unscored, {@code >= 0}
 * @param positionsJson each routing key's last scored positions, a JSON object
 * @param figures one row each for {@code champion}, {@code challenger} and {@code served}, kept in
 *     that order
 * @param transitions every transition, oldest first; a save may add to the stored ones, never
 *     change or drop one
 * @param updatedMs when this state was saved, epoch milliseconds UTC
 */
public record RolloutRow(
        String id,
        String kind,
        String capability,
        String specJson,
        String stage,
        int stageIndex,
        long createdMs,
        long stageSinceMs,
        int looks,
        MomentsRow paired,
        String pendingJson,
        long pendingDropped,
        String positionsJson,
        List<RolloutFiguresRow> figures,
        List<RolloutTransitionRow> transitions,
        long updatedMs) {

    private static final List<String> ROLES =
            List.of("champion", "challenger", RolloutFiguresRow.SERVED);

    /** Checks the fields; puts the figures in role order. */
    public RolloutRow {
        Checks.text("RolloutRow", "id", id);
        if (!"prediction".equals(kind) && !"sizing".equals(kind) && !"strategy".equals(kind)) {
            throw new IllegalArgumentException(
                    "RolloutRow.kind must be prediction, sizing or strategy (value: " + kind + ")");
        }
        Checks.text("RolloutRow", "capability", capability);
        Checks.json("RolloutRow", "specJson", specJson, true);
        Checks.text("RolloutRow", "stage", stage);
        if (stageIndex < 0 || looks < 0 || pendingDropped < 0) {
            throw new IllegalArgumentException(
                    "RolloutRow "
                            + id
                            + ": stageIndex, looks and pendingDropped must be >= 0 ("
                            + stageIndex
                            + ", "
                            + looks
                            + ", "
                            + pendingDropped
                            + ")");
        }
        Objects.requireNonNull(paired, "RolloutRow.paired must not be null");
        if (!Checks.json("RolloutRow", "pendingJson", pendingJson, false).isArray()) {
            throw new IllegalArgumentException("RolloutRow.pendingJson must be a JSON array");
        }
        Checks.json("RolloutRow", "positionsJson", positionsJson, true);
        figures = List.copyOf(Objects.requireNonNull(figures, "RolloutRow.figures"));
        Set<String> roles = new HashSet<>();
        for (RolloutFiguresRow f : figures) {
            roles.add(f.role());
        }
        if (figures.size() != 3 || !roles.equals(Set.of("champion", "challenger", "served"))) {
            throw new IllegalArgumentException(
                    "RolloutRow "
                            + id
                            + ": figures must have one row each for champion, challenger and"
                            + " served (roles given: "
                            + figures.stream().map(RolloutFiguresRow::role).toList()
                            + ")");
        }
        figures =
                figures.stream()
                        .sorted(Comparator.comparingInt(f -> ROLES.indexOf(f.role())))
                        .toList();
        transitions = List.copyOf(Objects.requireNonNull(transitions, "RolloutRow.transitions"));
    }
}
