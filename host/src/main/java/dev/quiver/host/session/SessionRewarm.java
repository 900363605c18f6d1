package dev.quiver.host.session;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.quiver.api.error.QuiverInputException;
import dev.quiver.api.market.Bar;
import dev.quiver.engine.session.SymbolSession;
import dev.quiver.host.store.BarRow;
import dev.quiver.host.store.EventRow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A checked re-warm of a session in {@code rewarm_required} ({@link SessionManager#rewarm}): the
 * bars it feeds the features (those after the session's last bar, continuous within {@code
 * max_gap_bars}), their rows and the audited {@code session_rewarmed} event to store in one
 * transaction. Checking changes nothing: a refused re-warm stores nothing.
 *
 * @param window the bars the features restart from, oldest first
 * @param rows the same bars as rows
 * @param event the {@code session_rewarmed} event ({@code from_ms}, {@code to_ms}, {@code bars},
 *     {@code skipped}, {@code after_bar_ms}; actor and reason)
 * @param skipped bars given at or before the session's last bar, not used
 */
record SessionRewarm(List<Bar> window, List<BarRow> rows, EventRow event, int skipped) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Checks a re-warm against the session as it is.
     *
     * @param s the session (its monitor held)
     * @param symbol its symbol
     * @param bars the history given, oldest first
     * @param actor who asks, or null for {@code operator}
     * @param reason why, or null for the gap's reason
     * @param nowMs the event's time, epoch ms
     * @return the plan
     * @throws QuiverInputException as {@link SessionManager#rewarm}
     */
    static SessionRewarm plan(
            LiveSession s, String symbol, List<Bar> bars, String actor, String reason, long nowMs) {
        String where = "re-warm " + symbol;
        if (s.session.state() != SymbolSession.State.REWARM_REQUIRED) {
            throw new QuiverInputException(
                    "SESSION_NOT_REWARM_REQUIRED",
                    "state",
                    where,
                    s.session.state().name().toLowerCase(java.util.Locale.ROOT),
                    "a re-warm is for a session in rewarm_required (after a refused gap)");
        }
        Bar last = s.session.lastBar();
        long lastMs = last == null ? Long.MIN_VALUE : last.start().toEpochMilli();
        List<Bar> window = new ArrayList<>();
        int skipped = 0;
        Duration maxGap = s.settings.interval().multipliedBy(s.settings.maxGapBars());
        for (int i = 0; i < bars.size(); i++) {
            Bar b = bars.get(i);
            String field = "warmup.bars[" + i + "].timestamp";
            if (i > 0 && !b.start().isAfter(bars.get(i - 1).start())) {
                throw new QuiverInputException(
                        "BAR_OUT_OF_ORDER",
                        field,
                        where,
                        b.start(),
                        "is not after the previous bar " + bars.get(i - 1).start());
            }
            if (b.start().toEpochMilli() <= lastMs) {
                skipped++;
                continue;
            }
            if (!window.isEmpty()) {
                Duration gap = Duration.between(window.get(window.size() - 1).start(), b.start());
                if (gap.compareTo(maxGap) > 0) {
                    throw new QuiverInputException(
                            "BAR_GAP",
                            field,
                            where,
                            b.start(),
                            "is "
                                    + gap
                                    + " after the bar before it, more than max_gap_bars "
                                    + s.settings.maxGapBars()
                                    + " x "
                                    + s.settings.interval()
                                    + "; a re-warm's bars must be continuous");
                }
            }
            window.add(b);
        }
        if (window.isEmpty()) {
            throw new QuiverInputException(
                    "BAD_REWARM",
                    "warmup",
                    where,
                    bars.size() + " bars",
                    "has no bar after the session's last bar "
                            + (last == null ? null : last.start())
                            + "; a re-warm needs history after it");
        }
        String who = actor == null || actor.isBlank() ? "operator" : actor;
        String why =
                reason == null || reason.isBlank()
                        ? "re-warm after: " + s.session.rewarmReason()
                        : reason;
        List<BarRow> rows = new ArrayList<>(window.size());
        for (Bar b : window) {
            rows.add(SessionManager.row(b));
        }
        ObjectNode d = JSON.createObjectNode();
        d.put("from_ms", window.get(0).start().toEpochMilli());
        d.put("to_ms", window.get(window.size() - 1).start().toEpochMilli());
        d.put("bars", window.size());
        d.put("skipped", skipped);
        d.put("after_bar_ms", lastMs);
        EventRow event =
                new EventRow(
                        s.account.id(),
                        Optional.of(symbol),
                        SessionManager.REWARMED,
                        Optional.empty(),
                        d.toString(),
                        nowMs,
                        who,
                        Optional.of(why));
        return new SessionRewarm(List.copyOf(window), List.copyOf(rows), event, skipped);
    }

    /** What the answer says the re-warm used. */
    Map<String, Object> answer() {
        Map<String, Object> used = new LinkedHashMap<>();
        used.put("bars", window.size());
        used.put("from", window.get(0).start().toString());
        used.put("to", window.get(window.size() - 1).start().toString());
        used.put("skipped_bars", skipped);
        used.put("actor", event.actor());
        used.put("reason", event.reason().orElse(null));
        return used;
    }
}
